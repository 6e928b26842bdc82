// The parallel sweeps of seeds_blocks and seeds_pixels (after
// shared/seeds.wgsl). OpenCV sweeps positions one by one; pami splits a
// sweep's positions into classes whose positions never read what another
// writes: a position (x, y) decides whether x, y or its neighbour (x + 1, y)
// (horizontal) or (x, y + 1) (vertical) changes owner, reading owners in
// columns x − 1..x + 2 and rows y − 1..y + 1 (horizontal) or rows
// y − 1..y + 2 (vertical). Positions 3 apart along x and 2 (horizontal) or
// 3 (vertical) apart along y are independent: 6 or 9 classes, swept in
// order. Within a class every position decides from the state as the class
// found it, then the moves are applied (integer histogram updates, in any
// order): the result does not depend on the schedule of invocations.
// Uses the kernel's `state` (atomic words) and `s` (this image's row).

const THREADS: u32 = 256u;

fn word(i: u32) -> u32 {
    return atomicLoad(&state[s + i]);
}

fn put(i: u32, v: u32) {
    atomicStore(&state[s + i], v);
}

fn classes(vertical: bool) -> u32 {
    return select(6u, 9u, vertical);
}

// Class c's positions on a w × h grid: (along a row, rows). A sweep's rows
// run along x (horizontal: x in 1..=w−3, y in 1..=h−2) or along y
// (vertical: y in 1..=h−3, x in 1..=w−2), OpenCV's loop bounds.
fn class_extent(w: u32, h: u32, vertical: bool, c: u32) -> vec2<u32> {
    var row = max(w, 3u) - 3u;
    var rows = max(h, 2u) - 2u;
    if vertical {
        row = max(h, 3u) - 3u;
        rows = max(w, 2u) - 2u;
    }
    let stride = select(2u, 3u, vertical);
    let u = c % 3u;
    let v = c / 3u;
    return vec2<u32>(select(0u, (row - u + 2u) / 3u, row > u), select(0u, (rows - v + stride - 1u) / stride, rows > v));
}

// (x, y) of the m-th position of class c, whose rows hold `along` positions.
fn class_cell(c: u32, m: u32, along: u32, vertical: bool) -> vec2<u32> {
    let u = 1u + c % 3u + 3u * (m % along);
    let v = 1u + c / 3u + select(2u, 3u, vertical) * (m / along);
    if vertical {
        return vec2<u32>(v, u);
    }
    return vec2<u32>(u, v);
}
