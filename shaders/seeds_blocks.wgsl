// SEEDS, stage 2: OpenCV's block updates, level by level from the one below
// the top down to the smallest blocks — on each level a horizontal and a
// vertical sweep (twice with double_step, the first requiring confidence
// 0.1), then down one level (goDownOneLevel) — in parallel classes of
// independent positions (shared/seeds_phases.wgsl).
//
// One 256-invocation workgroup per image runs steps first..first + steps of
// that schedule (a step: one sweep, or one descent), a barrier between
// phases. A block moves when OpenCV's intersectConf beats the requirement,
// compared exactly in integers: with S_a = Σ min(h_x·c_b, h_b·c_x) and
// S_b = Σ min((h_y − h_b)·c_b, h_b·c_y'), OpenCV's
//   S_a / (c_x·c_b) − S_b / (c_y'·c_b) > req
// is 1000·S_a·c_y' > 1000·S_b·c_x + req‰·c_x·c_y'·c_b. A superpixel's blocks
// that would all leave in one phase (its partition count) stay.
// CPU twin: seeds_blocks in src/cpu/seeds.rs.

@group(0) @binding(0) var<storage, read_write> table: array<u32>;           // Layout::table
@group(0) @binding(1) var<storage, read_write> state: array<atomic<u32>>;   // [N, S]
@group(0) @binding(2) var<uniform> params: SeedsParams;
// import shared/seeds_params.wgsl
// import shared/seeds.wgsl
// import shared/seeds_phases.wgsl
// import shared/wide.wgsl

// The schedule, read by one invocation and broadcast with
// workgroupUniformLoad, so every barrier sits in uniform control flow.
struct Schedule {
    live: u32,
    first: u32,
    last: u32,
    levels: u32,
    sweeps: u32,   // sweeps per direction and level: 1, or 2 with double_step
}

var<workgroup> schedule: Schedule;
var<private> thread: u32;

fn owner(level: u32, x: u32, y: u32) -> u32 {
    return word(parent_at(level, y * nw(level) + x));
}

// OpenCV's intersectConf(top, x, y, level, block) > req‰, exactly: does
// `block` of `level` fit superpixel x better than its owner y?
fn confident(level: u32, x: u32, y: u32, block: u32, req: u32) -> bool {
    let t = top();
    let c_x = word(count_at(t, x));
    let c_b = word(count_at(level, block));
    let c_y = word(count_at(t, y)) - c_b;
    var sum_a = vec2<u32>(0u, 0u);
    var sum_b = vec2<u32>(0u, 0u);
    for (var c = 0u; c < CELLS; c++) {
        let h_x = word(hist(t, x) + c);
        let h_b = word(hist(level, block) + c);
        let h_y = word(hist(t, y) + c) - h_b;
        var a = wide_mul(h_x, c_b);
        var b = wide_mul(h_b, c_x);
        sum_a = wide_add(sum_a, select(b, a, wide_less(a, b)));
        a = wide_mul(h_y, c_b);
        b = wide_mul(h_b, c_y);
        sum_b = wide_add(sum_b, select(b, a, wide_less(a, b)));
    }
    let left = long_mul(long_mul(long(sum_a), c_y), 1000u);
    let right = long_add(long_mul(long_mul(long(sum_b), c_x), 1000u), long_mul(long_mul(long(wide_mul(c_x, c_y)), c_b), req));
    return long_less(right, left);
}

// Position (x, y)'s decision: 0 (none), or 1 (block here moves to its right
// or lower neighbour's owner) or 2 (that neighbour's block moves here), with
// the giver's partitions above the two bits; counts the giver's moves of
// this phase in `outs`.
fn decide(level: u32, x: u32, y: u32, vertical: bool, req: u32, outs: u32) -> u32 {
    let w = nw(level);
    let here = y * w + x;
    let there = select(here + 1u, here + w, vertical);
    let a = owner(level, x, y);
    let b = word(parent_at(level, there));
    if a == b {
        return 0u;
    }
    let pa = word(partitions() + a);
    let pb = word(partitions() + b);
    var forward_ok: bool;
    var backward_ok: bool;
    if vertical {
        forward_ok = split_vf(owner(level, x - 1u, y - 1u), owner(level, x, y - 1u), owner(level, x + 1u, y - 1u), owner(level, x - 1u, y), a, owner(level, x + 1u, y));
        backward_ok = split_vb(owner(level, x - 1u, y + 1u), b, owner(level, x + 1u, y + 1u), owner(level, x - 1u, y + 2u), owner(level, x, y + 2u), owner(level, x + 1u, y + 2u));
    } else {
        forward_ok = split_hf(owner(level, x - 1u, y - 1u), owner(level, x, y - 1u), owner(level, x - 1u, y), a, owner(level, x - 1u, y + 1u), owner(level, x, y + 1u));
        backward_ok = split_hb(owner(level, x + 1u, y - 1u), owner(level, x + 2u, y - 1u), b, owner(level, x + 2u, y), owner(level, x + 1u, y + 1u), owner(level, x + 2u, y + 1u));
    }
    if (pa == 2u || (pa > 2u && forward_ok)) && confident(level, b, a, here, req) {
        atomicAdd(&state[s + outs + a], 1u);
        return 1u | (pa << 2u);
    }
    if pb > 1u && (pb <= 2u || backward_ok) && confident(level, a, b, there, req) {
        atomicAdd(&state[s + outs + b], 1u);
        return 2u | (pb << 2u);
    }
    return 0u;
}

// Block `block` of `level` moves from superpixel `giver` to `taker`.
fn move_block(level: u32, block: u32, giver: u32, taker: u32) {
    let t = top();
    for (var c = 0u; c < CELLS; c++) {
        let v = word(hist(level, block) + c);
        atomicSub(&state[s + hist(t, giver) + c], v);
        atomicAdd(&state[s + hist(t, taker) + c], v);
    }
    let v = word(count_at(level, block));
    atomicSub(&state[s + count_at(t, giver)], v);
    atomicAdd(&state[s + count_at(t, taker)], v);
    atomicSub(&state[s + partitions() + giver], 1u);
    atomicAdd(&state[s + partitions() + taker], 1u);
    put(parent_at(level, block), taker);
}

// Applies position (x, y)'s decision unless its giver would lose every partition.
fn apply(level: u32, x: u32, y: u32, vertical: bool, slot: u32, outs: u32) {
    let w = nw(level);
    let here = y * w + x;
    let there = select(here + 1u, here + w, vertical);
    let a = owner(level, x, y);
    let b = word(parent_at(level, there));
    if (slot & 3u) == 1u {
        if word(outs + a) < slot >> 2u {
            move_block(level, here, a, b);
        }
    } else if word(outs + b) < slot >> 2u {
        move_block(level, there, b, a);
    }
}

// One sweep over the blocks of `level`, class by class.
fn sweep(level: u32, req: u32, vertical: bool) {
    let w = nw(level);
    let h = nh(level);
    let k = nw(top()) * nh(top());
    for (var i = thread; i < 2u * k; i += THREADS) {
        put(outs_at() + i, 0u);
    }
    storageBarrier();
    for (var c = 0u; c < classes(vertical); c++) {
        let extent = class_extent(w, h, vertical, c);
        let outs = outs_at() + (c % 2u) * k;
        for (var m = thread; m < extent.x * extent.y; m += THREADS) {
            let cell = class_cell(c, m, extent.x, vertical);
            put(slots_at() + cell.y * w + cell.x, decide(level, cell.x, cell.y, vertical, req, outs));
        }
        storageBarrier();
        for (var m = thread; m < extent.x * extent.y; m += THREADS) {
            let cell = class_cell(c, m, extent.x, vertical);
            let slot = word(slots_at() + cell.y * w + cell.x);
            if slot != 0u {
                apply(level, cell.x, cell.y, vertical, slot, outs);
            }
        }
        // The other parity's counts, last read by the previous class, start the next one at zero.
        let other = outs_at() + ((c + 1u) % 2u) * k;
        for (var i = thread; i < k; i += THREADS) {
            put(other + i, 0u);
        }
        storageBarrier();
    }
}

// OpenCV's goDownOneLevel from `upper` to the level below: each lower block
// takes its parent's superpixel; partitions are recounted (4 per block, 1 on
// level 0).
fn descend(upper: u32) {
    let lower = upper - 1u;
    let t = top();
    for (var i = thread; i < nw(t) * nh(t); i += THREADS) {
        put(partitions() + i, 0u);
    }
    storageBarrier();
    let part = select(1u, 4u, lower != 0u);
    for (var block = thread; block < nw(lower) * nh(lower); block += THREADS) {
        let up = word(parent_at(upper, word(parent_at(lower, block))));
        put(parent_at(lower, block), up);
        atomicAdd(&state[s + partitions() + up], part);
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
    if invocation == 0u {
        schedule = Schedule(0u, 0u, 0u, 0u, 0u);
        if item < params.items {
            enter(item);
            schedule = Schedule(1u, params.first, params.first + params.steps, levels(), select(1u, 2u, params.double_step != 0u));
        }
    }
    let plan = workgroupUniformLoad(&schedule);
    if plan.live == 0u {
        return;
    }
    enter(item);
    var step = 0u;
    for (var upper = plan.levels - 1u; upper > 0u; upper--) {
        let level = upper - 1u;
        for (var r = 0u; r < plan.sweeps; r++) {
            let req = select(0u, 100u, r + 1u < plan.sweeps);
            for (var v = 0u; v < 2u; v++) {
                if step >= plan.first && step < plan.last {
                    sweep(level, req, v == 1u);
                }
                step++;
            }
        }
        if level > 0u {
            if step >= plan.first && step < plan.last {
                descend(level);
            }
            step++;
        }
    }
}
