// What a part keeps of pixel (x, y): a weight in [0, 1]. Windows, segments and
// rank prefixes are binary; a RISE mask is a bilinearly upsampled random grid.
// Rows of `parts` ([P, 5] i32) are (image, a, b, c, d); (a, b, c, d) by kind:
//   circle  (cx, cy, r, r):       dx² + dy² ≤ r²
//   rect    (x0, y0, x1, y1):     x0 ≤ x < x1 and y0 ≤ y < y1
//   segment (run, label, 0, 0):   labels[run, y, x] == label
//   rise    (dx, dy, s, grid):    grid `grid` of `labels` ([N, s, s] of 0/1),
//                                 upsampled to (s + 1)·ceil(size / s) per axis,
//                                 read at (x + dx, y + dy)
//   rank    (map, k, 0, 0):       labels[map, y, x] < k (the k first pixels)
// Integer arithmetic wherever a mask is binary, so masks are bit-identical on
// every device. Needs bindings named `parts` and `labels`.
// CPU twin: src/cpu/parts.rs.

const KIND_CIRCLE: u32 = 0u;
const KIND_RECT: u32 = 1u;
const KIND_SEGMENT: u32 = 2u;
const KIND_RISE: u32 = 3u;
const KIND_RANK: u32 = 4u;

// scipy.ndimage's "mirror" edge (d c b | a b c d | c b a), as scikit-image's
// resize(mode="reflect") uses it.
fn mirror(i: i32, n: i32) -> i32 {
    var j = abs(i);
    if j >= n {
        j = 2 * (n - 1) - j;
    }
    return clamp(j, 0, n - 1);
}

struct Lerp {
    lo: i32,
    hi: i32,
    t: f32,
}

// One axis of the upsampling: pixel p of an axis upsampled from s cells to
// `up` pixels reads grid coordinate (p + 0.5)·s/up − 0.5 (pixel-area
// alignment, scikit-image's resize), as the exact fraction
// ((2p + 1)·s − up) / (2·up).
fn rise_axis(p: i32, s: i32, size: i32) -> Lerp {
    let up = (s + 1) * ((size + s - 1) / s);
    let num = (2 * p + 1) * s - up;
    let den = 2 * up;
    var lo = num / den;
    if num < 0 && lo * den != num {
        lo -= 1;
    }
    let t = f32(num - lo * den) / f32(den);
    return Lerp(mirror(lo, s), mirror(lo + 1, s), t);
}

fn grid_cell(base: u32, s: i32, row: i32, column: i32) -> f32 {
    return f32(labels[base + u32(row * s + column)]);
}

fn part_weight(part: u32, x: i32, y: i32, kind: u32, runs: u32, width: u32, height: u32) -> f32 {
    let row = part * 5u;
    let a = parts[row + 1u];
    let b = parts[row + 2u];
    let c = parts[row + 3u];
    let d = parts[row + 4u];
    var inside = false;
    if kind == KIND_CIRCLE {
        let dx = x - a;
        let dy = y - b;
        inside = dx * dx + dy * dy <= c * c;
    } else if kind == KIND_RECT {
        inside = x >= a && x < c && y >= b && y < d;
    } else if kind == KIND_RISE {
        if d < 0 || u32(d) >= runs || c < 2 {
            return 0.0;
        }
        let base = u32(d) * u32(c * c);
        let u = rise_axis(x + a, c, i32(width));
        let v = rise_axis(y + b, c, i32(height));
        let top = (1.0 - u.t) * grid_cell(base, c, v.lo, u.lo) + u.t * grid_cell(base, c, v.lo, u.hi);
        let bottom = (1.0 - u.t) * grid_cell(base, c, v.hi, u.lo) + u.t * grid_cell(base, c, v.hi, u.hi);
        return (1.0 - v.t) * top + v.t * bottom;
    } else {
        if a < 0 || u32(a) >= runs {
            return 0.0;
        }
        let value = labels[u32(a) * width * height + u32(y) * width + u32(x)];
        inside = select(value < b, value == b, kind == KIND_SEGMENT);
    }
    return select(0.0, 1.0, inside);
}
