// The procedural concept renderer (pami concepts): each pixel of each image
// is its background's grey, then the colour of the last object that covers
// it. The scene tables come from the host (src/concepts/render.rs lays out
// every object in its own cell); everything here is integer arithmetic, so
// the CPU twin (src/cpu/render.rs) gives the same bytes.
// Coordinates are in half pixels: pixel (x, y) is the point (2x + 1, 2y + 1).

@group(0) @binding(0) var<storage, read_write> objects: array<i32>;      // [O, 6]: shape, rgb, cx, cy, r, 0
@group(0) @binding(1) var<storage, read_write> offsets: array<i32>;      // [I + 1]: each image's first object
@group(0) @binding(2) var<storage, read_write> backgrounds: array<i32>;  // [I, 4]: texture, period, direction, seed
@group(0) @binding(3) var<storage, read_write> output: array<f32>;       // [I, 3, H, W], values 0..255
@group(0) @binding(4) var<uniform> params: RenderParams;
// import shared/render_params.wgsl

// cos and sin of −90° + 36°·j, × 1000: the star's outer (even j) and inner (odd j) vertices.
const STAR_X = array<i32, 10>(0, 588, 951, 951, 588, 0, -588, -951, -951, -588);
const STAR_Y = array<i32, 10>(-1000, -809, -309, 309, 809, 1000, 809, 309, -309, -809);

fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn background(i: u32, x: i32, y: i32) -> i32 {
    let texture = backgrounds[i * 4u];
    let period = max(backgrounds[i * 4u + 1u], 1);
    let direction = backgrounds[i * 4u + 2u];
    let seed = u32(backgrounds[i * 4u + 3u]);
    let w = i32(params.width);
    let h = i32(params.height);
    switch texture {
        case 1: { return 180; }
        case 2: {
            var t = y;
            if direction == 1 { t = x; } else if direction == 2 { t = x + y; }
            return select(70, 170, (t / period) % 2 == 0);
        }
        case 3: { return select(70, 170, (x / period + y / period) % 2 == 0); }
        case 4: { return 60 + i32(pcg(seed ^ u32(y * w + x)) % 131u); }
        case 5: {
            var t = x;
            var n = w;
            if direction == 1 { t = w - 1 - x; } else if direction == 2 { t = y; n = h; } else if direction == 3 { t = h - 1 - y; n = h; }
            return 30 + t * 190 / max(n - 1, 1);
        }
        default: { return 110; }
    }
}

// Edge function of P against the edge U → V (sign: which side).
fn edge(ux: i32, uy: i32, vx: i32, vy: i32, px: i32, py: i32) -> i32 {
    return (vx - ux) * (py - uy) - (vy - uy) * (px - ux);
}

fn inside(shape: i32, dx: i32, dy: i32, r: i32) -> bool {
    let d2 = dx * dx + dy * dy;
    let ax = abs(dx);
    let ay = abs(dy);
    switch shape {
        case 0: { return d2 <= r * r; }
        case 1: { return max(ax, ay) <= r * 4 / 5; }
        case 2: {
            let hx = r * 866 / 1000;
            let e0 = edge(0, -r, -hx, r / 2, dx, dy);
            let e1 = edge(-hx, r / 2, hx, r / 2, dx, dy);
            let e2 = edge(hx, r / 2, 0, -r, dx, dy);
            return (e0 >= 0 && e1 >= 0 && e2 >= 0) || (e0 <= 0 && e1 <= 0 && e2 <= 0);
        }
        case 3: { return (ax <= r / 3 && ay <= r) || (ay <= r / 3 && ax <= r); }
        case 4: {
            // Even–odd rule over the ten vertices (outer r, inner 2r/5).
            var odd = false;
            var star_x = STAR_X;
            var star_y = STAR_Y;
            for (var j = 0; j < 10; j++) {
                let k = (j + 1) % 10;
                let rj = select(r * 2 / 5, r, j % 2 == 0);
                let rk = select(r * 2 / 5, r, k % 2 == 0);
                let xj = rj * star_x[j] / 1000;
                let yj = rj * star_y[j] / 1000;
                let xk = rk * star_x[k] / 1000;
                let yk = rk * star_y[k] / 1000;
                if (yj > dy) != (yk > dy) {
                    // dx < xj + (dy − yj)(xk − xj)/(yk − yj), without the division.
                    let lhs = (dx - xj) * (yk - yj);
                    let rhs = (dy - yj) * (xk - xj);
                    if (yk > yj && lhs < rhs) || (yk < yj && lhs > rhs) {
                        odd = !odd;
                    }
                }
            }
            return odd;
        }
        case 5: { return d2 <= r * r && 25 * d2 > 9 * r * r; }
        default: { return false; }
    }
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.z;
    if gid.x >= params.width || gid.y >= params.height || i >= params.images {
        return;
    }
    let x = i32(gid.x);
    let y = i32(gid.y);
    let grey = background(i, x, y);
    var rgb = vec3<i32>(grey, grey, grey);
    let px = 2 * x + 1;
    let py = 2 * y + 1;
    for (var o = offsets[i]; o < offsets[i + 1u]; o++) {
        let row = u32(o) * 6u;
        if inside(objects[row], px - objects[row + 2u], py - objects[row + 3u], objects[row + 4u]) {
            let c = objects[row + 1u];
            rgb = vec3<i32>((c >> 16u) & 255, (c >> 8u) & 255, c & 255);
        }
    }
    let plane = params.width * params.height;
    let pixel = gid.y * params.width + gid.x;
    for (var c = 0u; c < 3u; c++) {
        output[(i * 3u + c) * plane + pixel] = f32(rgb[c]);
    }
}
