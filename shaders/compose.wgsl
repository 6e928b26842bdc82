// Masked-batch composition: for each part b of a batch, writes
// normalise(inside(b, p) != invert ? image : baseline) into the model's input
// tensor [B, 3, H, W]. A part is a window (circle or rectangle) or a segment of
// a label map. CPU twin: src/cpu/compose.rs. Params: keep in sync with
// ComposeParams in src/gpu/compose.rs.

@group(0) @binding(0) var<storage, read_write> image: array<f32>;     // [3, H, W]
@group(0) @binding(1) var<storage, read_write> baseline: array<f32>;  // [3, H, W]
@group(0) @binding(2) var<storage, read_write> parts: array<i32>;     // [P, 4]
@group(0) @binding(3) var<storage, read_write> labels: array<i32>;    // [R, H, W]
@group(0) @binding(4) var<storage, read_write> output: array<f32>;    // [B, 3, H, W]
@group(0) @binding(5) var<storage, read_write> params: array<u32>;

const P_WIDTH: u32 = 0u;
const P_HEIGHT: u32 = 1u;
const P_BATCH: u32 = 2u;
const P_FIRST: u32 = 3u;   // index of the batch's first part in `parts`
const P_KIND: u32 = 4u;    // 0: circle, 1: rectangle, 2: segment
const P_INVERT: u32 = 5u;  // 1: keep everything but the part (occlusion)
const P_RUNS: u32 = 6u;    // number of label maps (segment kind)
const P_MEAN: u32 = 7u;    // 3 x f32 bits
const P_STD: u32 = 10u;    // 3 x f32 bits

const KIND_CIRCLE: u32 = 0u;
const KIND_RECT: u32 = 1u;

// Window parts are (cx, cy, rx, ry) in pixels; integer arithmetic keeps the
// mask bit-identical on every device. Segment parts are (run, label, 0, 0).
fn inside(part: u32, x: i32, y: i32, width: u32, height: u32) -> bool {
    let a = parts[part * 4u];
    let b = parts[part * 4u + 1u];
    let c = parts[part * 4u + 2u];
    let d = parts[part * 4u + 3u];
    let kind = params[P_KIND];
    if kind == KIND_CIRCLE {
        let dx = x - a;
        let dy = y - b;
        return dx * dx + dy * dy <= c * c;
    }
    if kind == KIND_RECT {
        return abs(x - a) <= c && abs(y - b) <= d;
    }
    if a < 0 || u32(a) >= params[P_RUNS] {
        return false;
    }
    let plane = width * height;
    return labels[u32(a) * plane + u32(y) * width + u32(x)] == b;
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let width = params[P_WIDTH];
    let height = params[P_HEIGHT];
    let b = gid.z;
    if gid.x >= width || gid.y >= height || b >= params[P_BATCH] {
        return;
    }
    let keep = inside(params[P_FIRST] + b, i32(gid.x), i32(gid.y), width, height) != (params[P_INVERT] == 1u);
    let plane = width * height;
    let pixel = gid.y * width + gid.x;
    for (var c = 0u; c < 3u; c++) {
        let i = c * plane + pixel;
        let v = select(baseline[i], image[i], keep);
        let mean = bitcast<f32>(params[P_MEAN + c]);
        let deviation = bitcast<f32>(params[P_STD + c]);
        output[b * 3u * plane + i] = (v - mean) / deviation;
    }
}
