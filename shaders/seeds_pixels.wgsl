// SEEDS, stage 4: OpenCV's pixel updates (updatePixels), `iterations` times
// a horizontal sweep, a vertical sweep and the border fix-up, each sweep in
// parallel classes of independent positions (shared/seeds_phases.wgsl); the
// forward order (first pixel tried first) on even iterations, the backward
// one on odd, as OpenCV alternates.
//
// One 256-invocation workgroup per image runs steps first..first + steps (a
// step: one sweep or one fix-up). A pixel moves when OpenCV's probability()
// says so, compared exactly in integers: p1 = h1·t2, p2 = h2·t1 (times t2,
// t1 again for prior ≥ 2) and q = (n1 / n2)^(2^(prior − 1)) from the prior
// windows' neighbour counts give p2·n2^e > p1·n1^e (128-bit products).
// CPU twin: seeds_pixels in src/cpu/seeds.rs.

@group(0) @binding(0) var<storage, read_write> table: array<u32>;           // Layout::table
@group(0) @binding(1) var<storage, read_write> state: array<atomic<u32>>;   // [N, S]
@group(0) @binding(2) var<uniform> params: SeedsParams;
// import shared/seeds_params.wgsl
// import shared/seeds.wgsl
// import shared/seeds_phases.wgsl
// import shared/wide.wgsl
// import shared/steps.wgsl

var<private> thread: u32;
var<private> w: u32;

fn label(x: u32, y: u32) -> u32 {
    return word(labels_at() + y * w + x);
}

// v^(2^(prior − 1)) for a neighbour count v ≤ 10 and prior 1..=5: at most 10^16.
fn power(v: u32, prior: u32) -> vec2<u32> {
    let v2 = v * v;
    let v4 = v2 * v2;
    let v8 = v4 * v4;
    switch prior {
        case 1u: { return vec2<u32>(v, 0u); }
        case 2u: { return vec2<u32>(v2, 0u); }
        case 3u: { return vec2<u32>(v4, 0u); }
        case 4u: { return vec2<u32>(v8, 0u); }
        default: { return wide_mul(v8, v8); }
    }
}

// OpenCV's probability(): true if pixel i should move from l1 to l2, with
// n1, n2 the neighbours of l1, l2 in the prior window.
fn probability(i: u32, l1: u32, l2: u32, n1: u32, n2: u32) -> bool {
    let t = top();
    let cell = word(bins_at() + i);
    let t1 = word(count_at(t, l1));
    let t2 = word(count_at(t, l2));
    var p1 = long(wide_mul(word(hist(t, l1) + cell), t2));
    var p2 = long(wide_mul(word(hist(t, l2) + cell), t1));
    let prior = params.prior;
    if prior >= 2u {
        p1 = long_mul(p1, t2);
        p2 = long_mul(p2, t1);
    }
    if prior != 0u && n2 != 0u {
        p1 = long_mul_wide(p1, power(n1, prior));
        p2 = long_mul_wide(p2, power(n2, prior));
    }
    return long_less(p1, p2);
}

fn move_pixel(i: u32, giver: u32, taker: u32) {
    let t = top();
    let cell = word(bins_at() + i);
    atomicSub(&state[s + hist(t, giver) + cell], 1u);
    atomicSub(&state[s + count_at(t, giver)], 1u);
    atomicAdd(&state[s + hist(t, taker) + cell], 1u);
    atomicAdd(&state[s + count_at(t, taker)], 1u);
    put(labels_at() + i, taker);
}

fn has(base: u32, offset: i32, lab: u32) -> u32 {
    return select(0u, 1u, word(labels_at() + u32(i32(base) + offset)) == lab);
}

// Pixels with `lab` among OpenCV's 3×4 (horizontal) or 4×3 (vertical, with
// its x + 2 columns) prior windows around flat index `base`; written out,
// as every loop iteration counts against lavapipe's per-invocation limit.
fn neighbours(base: u32, lab: u32, vertical: bool) -> u32 {
    let r = i32(w);
    let around = has(base, -r - 1, lab) + has(base, -r, lab) + has(base, -r + 1, lab) + has(base, -1, lab)
        + has(base, 2, lab) + has(base, r - 1, lab);
    if vertical {
        return around + has(base, r + 2, lab) + has(base, 2 * r - 1, lab) + has(base, 2 * r, lab) + has(base, 2 * r + 1, lab);
    }
    return around + has(base, -r + 2, lab) + has(base, r, lab) + has(base, r + 1, lab) + has(base, r + 2, lab);
}

// Position (x, y)'s decision: 0 (none), 1 (pixel (x, y) takes its
// neighbour's superpixel) or 2 (the neighbour takes (x, y)'s).
fn decide(x: u32, y: u32, vertical: bool, forward: bool) -> u32 {
    let i = y * w + x;
    let j = select(i + 1u, i + w, vertical);
    let a = word(labels_at() + i);
    let b = word(labels_at() + j);
    if a == b {
        return 0u;
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
        return 0u;
    }
    var n_a = 0u;
    var n_b = 0u;
    if params.prior != 0u {
        n_a = neighbours(i, a, vertical);
        n_b = neighbours(i, b, vertical);
    }
    if forward {
        if probability(i, a, b, n_a, n_b) {
            return 1u;
        }
        if second_ok && probability(j, b, a, n_b, n_a) {
            return 2u;
        }
    } else {
        if probability(j, b, a, n_b, n_a) {
            return 2u;
        }
        if first_ok && probability(i, a, b, n_a, n_b) {
            return 1u;
        }
    }
    return 0u;
}

fn sweep(vertical: bool, forward: bool) {
    let h = params.height;
    for (var c = 0u; c < classes(vertical); c++) {
        let extent = class_extent(w, h, vertical, c);
        for (var m = thread; m < extent.x * extent.y; m += THREADS) {
            let cell = class_cell(c, m, extent.x, vertical);
            put(slots_at() + cell.y * w + cell.x, decide(cell.x, cell.y, vertical, forward));
        }
        storageBarrier();
        for (var m = thread; m < extent.x * extent.y; m += THREADS) {
            let cell = class_cell(c, m, extent.x, vertical);
            let i = cell.y * w + cell.x;
            let slot = word(slots_at() + i);
            if slot != 0u {
                let j = select(i + 1u, i + w, vertical);
                let a = word(labels_at() + i);
                let b = word(labels_at() + j);
                if slot == 1u {
                    move_pixel(i, a, b);
                } else {
                    move_pixel(j, b, a);
                }
            }
        }
        storageBarrier();
    }
}

// OpenCV's border fix-up: the top and bottom rows take the rows inside
// them, then the left and right columns the columns inside (each pass reads
// only what it does not write, so it is OpenCV's sequential result).
fn border() {
    let h = params.height;
    for (var x = thread; x < w; x += THREADS) {
        if label(x, 0u) != label(x, 1u) {
            move_pixel(x, label(x, 0u), label(x, 1u));
        }
        if label(x, h - 1u) != label(x, h - 2u) {
            move_pixel((h - 1u) * w + x, label(x, h - 1u), label(x, h - 2u));
        }
    }
    storageBarrier();
    for (var y = thread; y < h; y += THREADS) {
        if label(0u, y) != label(1u, y) {
            move_pixel(y * w, label(0u, y), label(1u, y));
        }
        if label(w - 1u, y) != label(w - 2u, y) {
            move_pixel(y * w + w - 1u, label(w - 1u, y), label(w - 2u, y));
        }
    }
    storageBarrier();
}

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) invocation: u32,
) {
    let item = group.y * groups.x + group.x;
    thread = invocation;
    let plan = plan_steps(invocation, item < params.items, params.first, params.steps);
    if plan.live == 0u {
        return;
    }
    enter(item);
    w = params.width;
    for (var step = plan.first; step < plan.last; step++) {
        let kind = step % 3u;
        if kind == 2u {
            border();
        } else {
            sweep(kind == 1u, (step / 3u) % 2u == 0u);
        }
    }
}
