// Layout of the seeds_* stages' table and state (after
// shared/seeds_params.wgsl; reads `params` and `table`). Keep in sync with
// Layout::table and the constants in src/gpu/seeds.rs.
const BINS: u32 = 5u;
const CELLS: u32 = 125u;
const NONE: u32 = 0xffffffffu;
const HEADER: u32 = 9u;
const LEVEL_FIELDS: u32 = 6u;

fn levels() -> u32 { return table[0]; }
fn top() -> u32 { return table[0] - 1u; }
fn words() -> u32 { return table[3]; }
fn partitions() -> u32 { return table[4]; }
fn bins_at() -> u32 { return table[5]; }
fn labels_at() -> u32 { return table[6]; }
fn slots_at() -> u32 { return table[7]; }
fn outs_at() -> u32 { return table[8]; }
fn field(level: u32, f: u32) -> u32 { return table[HEADER + LEVEL_FIELDS * level + f]; }
fn nw(level: u32) -> u32 { return field(level, 0u); }
fn nh(level: u32) -> u32 { return field(level, 1u); }
fn hist(level: u32, label: u32) -> u32 { return field(level, 2u) + label * CELLS; }
fn count_at(level: u32, label: u32) -> u32 { return field(level, 3u) + label; }
fn parent_at(level: u32, label: u32) -> u32 { return field(level, 4u) + label; }
fn initial_parent(level: u32, label: u32) -> u32 { return table[field(level, 5u) + label]; }

// OpenCV's computeLabel: the level's grid cell of pixel (x, y).
fn grid_label(level: u32, x: u32, y: u32) -> u32 {
    let w = nw(level);
    let h = nh(level);
    return min(y * h / params.height, h - 1u) * w + min(x * w / params.width, w - 1u);
}

// OpenCV's split checks: false when moving the centre (a22) would cut its superpixel.
fn split_hf(a11: u32, a12: u32, a21: u32, a22: u32, a31: u32, a32: u32) -> bool {
    return !((a22 != a21 && a22 == a12 && a22 == a32) || (a22 != a11 && a22 == a12 && a22 == a21)
        || (a22 != a31 && a22 == a32 && a22 == a21));
}
fn split_hb(a12: u32, a13: u32, a22: u32, a23: u32, a32: u32, a33: u32) -> bool {
    return !((a22 != a23 && a22 == a12 && a22 == a32) || (a22 != a13 && a22 == a12 && a22 == a23)
        || (a22 != a33 && a22 == a32 && a22 == a23));
}
fn split_vf(a11: u32, a12: u32, a13: u32, a21: u32, a22: u32, a23: u32) -> bool {
    return !((a22 != a12 && a22 == a21 && a22 == a23) || (a22 != a11 && a22 == a21 && a22 == a12)
        || (a22 != a13 && a22 == a23 && a22 == a12));
}
fn split_vb(a21: u32, a22: u32, a23: u32, a31: u32, a32: u32, a33: u32) -> bool {
    return !((a22 != a32 && a22 == a21 && a22 == a23) || (a22 != a31 && a22 == a21 && a22 == a32)
        || (a22 != a33 && a22 == a23 && a22 == a32));
}
