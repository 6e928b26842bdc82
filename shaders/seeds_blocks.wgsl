// SEEDS, stage 2: one chunk of OpenCV's updateBlocks(level, req), req being
// `params.confidence`: the horizontal or vertical sweep (`params.sweep`)
// over the blocks of one level, one invocation per image. Each move changes
// the top-level histograms the next decision reads, so the sweep runs in
// OpenCV's order; a block moved backwards skips the next position (carried
// across chunks).
// CPU twin: seeds_blocks in src/cpu/seeds.rs.

@group(0) @binding(0) var<storage, read_write> table: array<u32>;   // Layout::table
@group(0) @binding(1) var<storage, read_write> state: array<u32>;   // [N, S]
@group(0) @binding(2) var<storage, read_write> params: SeedsParams;
// import shared/seeds_params.wgsl
// import shared/seeds.wgsl
// import shared/seeds_sweep.wgsl

var<private> s: u32;       // this image's state row
var<private> level: u32;

fn owner(x: u32, y: u32) -> u32 {
    return state[s + parent_at(level, y * nw(level) + x)];
}

// OpenCV's intersectConf(top, x, y, level, block) in float32, step by step.
fn confidence(x: u32, y: u32, block: u32) -> f32 {
    let t = top();
    let c_x = f32(state[s + count_at(t, x)]);
    let c_2 = f32(state[s + count_at(level, block)]);
    let c_y = f32(state[s + count_at(t, y)]) - c_2;
    var sum_a = 0.0;
    var sum_b = 0.0;
    for (var c = 0u; c < CELLS; c++) {
        let h_x = f32(state[s + hist(t, x) + c]);
        let h_2 = f32(state[s + hist(level, block) + c]);
        let h_y = f32(state[s + hist(t, y) + c]);
        var a = h_x * c_2;
        var b = h_2 * c_x;
        sum_a += select(b, a, a < b);
        a = (h_y - h_2) * c_2;
        b = h_2 * c_y;
        sum_b += select(b, a, a < b);
    }
    return sum_a / (c_x * c_2) - sum_b / (c_y * c_2);
}

fn move_block(block: u32, giver: u32, taker: u32) {
    let t = top();
    for (var c = 0u; c < CELLS; c++) {
        let v = state[s + hist(level, block) + c];
        state[s + hist(t, giver) + c] -= v;
        state[s + hist(t, taker) + c] += v;
    }
    let v = state[s + count_at(level, block)];
    state[s + count_at(t, giver)] -= v;
    state[s + count_at(t, taker)] += v;
    state[s + partitions() + giver] -= 1u;
    state[s + partitions() + taker] += 1u;
    state[s + parent_at(level, block)] = taker;
}

@compute @workgroup_size(1, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>) {
    s = wg.x * words();
    level = params.level;
    let w = nw(level);
    let grid = sweep(w, nh(level), params.sweep);
    let row = grid.y;
    let first = params.first;
    begin_chunk(first);
    let vertical = params.sweep == SWEEP_VERTICAL;
    for (var k = first; k < min(first + params.count, grid.x * row); k++) {
        if skipped(k) {
            continue;
        }
        let cell = sweep_cell(k, row, vertical);
        let x = cell.x;
        let y = cell.y;
        let here = y * w + x;
        let there = select(here + 1u, here + w, vertical);
        let a = owner(x, y);
        let b = state[s + parent_at(level, there)];
        if a == b {
            continue;
        }
        let pa = state[s + partitions() + a];
        let pb = state[s + partitions() + b];
        var forward_ok: bool;
        var backward_ok: bool;
        if !vertical {
            forward_ok = split_hf(owner(x - 1u, y - 1u), owner(x, y - 1u), owner(x - 1u, y), a, owner(x - 1u, y + 1u), owner(x, y + 1u));
            backward_ok = split_hb(owner(x + 1u, y - 1u), owner(x + 2u, y - 1u), b, owner(x + 2u, y), owner(x + 1u, y + 1u), owner(x + 2u, y + 1u));
        } else {
            forward_ok = split_vf(owner(x - 1u, y - 1u), owner(x, y - 1u), owner(x + 1u, y - 1u), owner(x - 1u, y), a, owner(x + 1u, y));
            backward_ok = split_vb(owner(x - 1u, y + 1u), b, owner(x + 1u, y + 1u), owner(x - 1u, y + 2u), owner(x, y + 2u), owner(x + 1u, y + 2u));
        }
        if pa == 2u || (pa > 2u && forward_ok) {
            if confidence(b, a, here) > params.confidence {
                move_block(here, a, b);
                continue;
            }
        }
        if pb > 1u && (pb <= 2u || backward_ok) && confidence(a, b, there) > params.confidence {
            move_block(there, b, a);
            skip_next(k, row);
        }
    }
}
