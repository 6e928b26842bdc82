// The chunked sweeps of seeds_blocks and seeds_pixels (after
// shared/seeds.wgsl): position k of a sweep whose rows have `row` positions,
// and the skip OpenCV makes after a backward move, carried across chunks in
// the state row. Uses the kernel's `state` and `s` (this image's row).

// A sweep's first chunk clears the skip.
fn begin_chunk(first: u32) {
    if first == 0u {
        state[s + skip_at()] = NONE;
    }
}

// True, clearing the skip, if position k is the one to skip.
fn skipped(k: u32) -> bool {
    if state[s + skip_at()] == k {
        state[s + skip_at()] = NONE;
        return true;
    }
    return false;
}

// (x, y) of position k: rows run along y (horizontal) or x (vertical), from 1.
fn sweep_cell(k: u32, row: u32, vertical: bool) -> vec2<u32> {
    let major = 1u + k / row;
    let minor = 1u + k % row;
    if vertical {
        return vec2<u32>(major, minor);
    }
    return vec2<u32>(minor, major);
}

// After a backward move at position k, the next position is skipped if it is in the same row.
fn skip_next(k: u32, row: u32) {
    if k % row + 1u < row {
        state[s + skip_at()] = k + 1u;
    }
}
