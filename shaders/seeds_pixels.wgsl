// SEEDS, stage 5: one chunk of OpenCV's updatePixels(), one invocation per
// image: the horizontal or vertical sweep (`params.sweep`) in the forward
// (`params.forward` 1) or backward order, or (SWEEP_BORDER) the border
// fix-up. Pixel moves change the histograms the next decision reads, so the
// sweep runs in OpenCV's order; float32 arithmetic step by step as OpenCV's.
// CPU twin: seeds_pixels in src/cpu/seeds.rs.

@group(0) @binding(0) var<storage, read_write> table: array<u32>;   // Layout::table
@group(0) @binding(1) var<storage, read_write> state: array<u32>;   // [N, S]
@group(0) @binding(2) var<storage, read_write> params: SeedsParams;
// import shared/seeds_params.wgsl
// import shared/seeds.wgsl
// import shared/seeds_sweep.wgsl

var<private> s: u32;
var<private> w: u32;

fn label(x: u32, y: u32) -> u32 {
    return state[s + labels_at() + y * w + x];
}

// OpenCV's probability(): true if pixel i should move giver l1 taker l2.
fn probability(i: u32, l1: u32, l2: u32, prior1: u32, prior2: u32) -> bool {
    let t = top();
    let cell = state[s + bins_at() + i];
    let t1 = f32(state[s + count_at(t, l1)]);
    let t2 = f32(state[s + count_at(t, l2)]);
    var p1 = f32(state[s + hist(t, l1) + cell]) * t2;
    var p2 = f32(state[s + hist(t, l2) + cell]) * t1;
    let prior = params.prior;
    if prior != 0u {
        var q = 1.0;
        if prior2 != 0u {
            q = f32(prior1) / f32(prior2);
        }
        // OpenCV's switch falls through: prior k ≥ 2 squares q k − 1 times.
        if prior >= 5u {
            q *= q;
        }
        if prior >= 4u {
            q *= q;
        }
        if prior >= 3u {
            q *= q;
        }
        if prior >= 2u {
            q *= q;
            p1 *= t2;
            p2 *= t1;
        }
        p1 *= q;
    }
    return p2 > p1;
}

fn move_pixel(i: u32, giver: u32, taker: u32) {
    let t = top();
    let cell = state[s + bins_at() + i];
    state[s + hist(t, giver) + cell] -= 1u;
    state[s + count_at(t, giver)] -= 1u;
    state[s + hist(t, taker) + cell] += 1u;
    state[s + count_at(t, taker)] += 1u;
    state[s + labels_at() + i] = taker;
}

fn has(base: u32, offset: i32, lab: u32) -> u32 {
    return select(0u, 1u, state[s + labels_at() + u32(i32(base) + offset)] == lab);
}

// Pixels with `lab` among OpenCV's 3×4 (horizontal) or 4×3 (vertical, with
// its x + 2 columns) prior windows around flat index `base`; written out, as
// every loop iteration counts against lavapipe's per-invocation limit.
fn neighbours(base: u32, lab: u32, vertical: bool) -> u32 {
    let r = i32(w);
    let around = has(base, -r - 1, lab) + has(base, -r, lab) + has(base, -r + 1, lab) + has(base, -1, lab)
        + has(base, 2, lab) + has(base, r - 1, lab);
    if vertical {
        return around + has(base, r + 2, lab) + has(base, 2 * r - 1, lab) + has(base, 2 * r, lab) + has(base, 2 * r + 1, lab);
    }
    return around + has(base, -r + 2, lab) + has(base, r, lab) + has(base, r + 1, lab) + has(base, r + 2, lab);
}

@compute @workgroup_size(1, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>) {
    s = wg.x * words();
    w = params.width;
    let h = params.height;
    if params.sweep == SWEEP_BORDER {
        for (var x = 0u; x < w; x++) {
            if label(x, 0u) != label(x, 1u) {
                move_pixel(x, label(x, 0u), label(x, 1u));
            }
            if label(x, h - 1u) != label(x, h - 2u) {
                move_pixel((h - 1u) * w + x, label(x, h - 1u), label(x, h - 2u));
            }
        }
        for (var y = 0u; y < h; y++) {
            if label(0u, y) != label(1u, y) {
                move_pixel(y * w, label(0u, y), label(1u, y));
            }
            if label(w - 1u, y) != label(w - 2u, y) {
                move_pixel(y * w + w - 1u, label(w - 1u, y), label(w - 2u, y));
            }
        }
        return;
    }
    let vertical = params.sweep == SWEEP_VERTICAL;
    let forward = params.forward == 1u;
    let grid = sweep(w, h, params.sweep);
    let row = grid.y;
    let first = params.first;
    begin_chunk(first);
    for (var k = first; k < min(first + params.count, grid.x * row); k++) {
        if skipped(k) {
            continue;
        }
        let cell = sweep_cell(k, row, vertical);
        let x = cell.x;
        let y = cell.y;
        let i = y * w + x;
        let j = select(i + 1u, i + w, vertical);
        let a = state[s + labels_at() + i];
        let b = state[s + labels_at() + j];
        if a == b {
            continue;
        }
        var first_ok: bool;
        var second_ok: bool;
        if vertical {
            first_ok = split_vf(label(x - 1u, y - 1u), label(x, y - 1u), label(x + 1u, y - 1u), label(x - 1u, y), a, label(x + 1u, y));
            second_ok = split_vb(label(x - 1u, y + 1u), b, label(x + 1u, y + 1u), label(x - 1u, y + 2u), label(x, y + 2u), label(x + 1u, y + 2u));
        } else {
            first_ok = split_hf(label(x - 1u, y - 1u), label(x, y - 1u), label(x - 1u, y), a, label(x - 1u, y + 1u), label(x, y + 1u));
            second_ok = split_hb(label(x + 1u, y - 1u), label(x + 2u, y - 1u), b, label(x + 2u, y), label(x + 1u, y + 1u), label(x + 2u, y + 1u));
        }
        if !select(second_ok, first_ok, forward) {
            continue;
        }
        var prior_a = 0u;
        var prior_b = 0u;
        if params.prior != 0u {
            prior_a = neighbours(i, a, vertical);
            prior_b = neighbours(i, b, vertical);
        }
        var second_moved = false;
        if forward {
            if probability(i, a, b, prior_a, prior_b) {
                move_pixel(i, a, b);
            } else if second_ok && probability(j, b, a, prior_b, prior_a) {
                move_pixel(j, b, a);
                second_moved = true;
            }
        } else {
            if probability(j, b, a, prior_b, prior_a) {
                move_pixel(j, b, a);
                second_moved = true;
            } else if first_ok && probability(i, a, b, prior_a, prior_b) {
                move_pixel(i, a, b);
            }
        }
        if second_moved {
            skip_next(k, row);
        }
    }
}
