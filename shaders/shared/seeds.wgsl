// Layout of the seeds_* stages' table and state (after
// shared/seeds_params.wgsl; reads `params` and `table`). Keep in sync with
// Layout::table, group_table and the constants in src/gpu/seeds.rs.
//
// `table` holds a directory — settings S, state words per image, then per
// setting the offset of its layout table and of its state in an image's row
// — and the settings' layout tables. A launch works on items (image,
// setting), item = image · S + setting; `enter` points `tb` at the item's
// layout table and `s` at its state.
const BINS: u32 = 5u;
const CELLS: u32 = 125u;
const NONE: u32 = 0xffffffffu;
const HEADER: u32 = 9u;
const LEVEL_FIELDS: u32 = 6u;

var<private> tb: u32;   // the item's layout table in `table`
var<private> s: u32;    // the item's state in `state`

fn enter(item: u32) {
    let settings = table[0];
    let setting = item % settings;
    tb = table[2u + 2u * setting];
    s = (item / settings) * table[1] + table[3u + 2u * setting];
}

fn levels() -> u32 { return table[tb]; }
fn top() -> u32 { return table[tb] - 1u; }
fn words() -> u32 { return table[tb + 3u]; }
fn partitions() -> u32 { return table[tb + 4u]; }
fn bins_at() -> u32 { return table[tb + 5u]; }
fn labels_at() -> u32 { return table[tb + 6u]; }
fn slots_at() -> u32 { return table[tb + 7u]; }
fn outs_at() -> u32 { return table[tb + 8u]; }
fn field(level: u32, f: u32) -> u32 { return table[tb + HEADER + LEVEL_FIELDS * level + f]; }
fn nw(level: u32) -> u32 { return field(level, 0u); }
fn nh(level: u32) -> u32 { return field(level, 1u); }
fn hist(level: u32, label: u32) -> u32 { return field(level, 2u) + label * CELLS; }
fn count_at(level: u32, label: u32) -> u32 { return field(level, 3u) + label; }
fn parent_at(level: u32, label: u32) -> u32 { return field(level, 4u) + label; }
fn initial_parent(level: u32, label: u32) -> u32 { return table[tb + field(level, 5u) + label]; }

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
