//! CPU twin of `shaders/shared/parts.wgsl`: what a part keeps of a pixel.

pub const KIND_CIRCLE: u32 = 0;
pub const KIND_RECT: u32 = 1;
pub const KIND_SEGMENT: u32 = 2;
pub const KIND_RISE: u32 = 3;

fn mirror(i: i32, n: i32) -> i32 {
    let mut j = i.abs();
    if j >= n {
        j = 2 * (n - 1) - j;
    }
    j.clamp(0, n - 1)
}

struct Lerp {
    lo: i32,
    hi: i32,
    t: f32,
}

fn rise_axis(p: i32, s: i32, size: i32) -> Lerp {
    let up = (s + 1) * ((size + s - 1) / s);
    let num = (2 * p + 1) * s - up;
    let den = 2 * up;
    let lo = num.div_euclid(den);
    let t = (num - lo * den) as f32 / den as f32;
    Lerp { lo: mirror(lo, s), hi: mirror(lo + 1, s), t }
}

/// The weight in `[0, 1]` part `part` gives pixel `(x, y)`.
#[allow(clippy::too_many_arguments)]
pub fn part_weight(parts: &[i32], labels: &[i32], part: usize, x: i32, y: i32, kind: u32, runs: u32, width: u32, height: u32) -> f32 {
    let row = &parts[part * 5..part * 5 + 5];
    let [a, b, c, d] = [row[1], row[2], row[3], row[4]];
    let inside = match kind {
        KIND_CIRCLE => {
            let (dx, dy) = (x - a, y - b);
            dx * dx + dy * dy <= c * c
        }
        KIND_RECT => x >= a && x < c && y >= b && y < d,
        KIND_RISE => {
            if d < 0 || d as u32 >= runs || c < 2 {
                return 0.0;
            }
            let base = d as usize * (c * c) as usize;
            let cell = |row: i32, column: i32| labels[base + (row * c + column) as usize] as f32;
            let u = rise_axis(x + a, c, width as i32);
            let v = rise_axis(y + b, c, height as i32);
            let top = (1.0 - u.t) * cell(v.lo, u.lo) + u.t * cell(v.lo, u.hi);
            let bottom = (1.0 - u.t) * cell(v.hi, u.lo) + u.t * cell(v.hi, u.hi);
            return (1.0 - v.t) * top + v.t * bottom;
        }
        _ => {
            if a < 0 || a as u32 >= runs {
                return 0.0;
            }
            let value = labels[a as usize * (width * height) as usize + y as usize * width as usize + x as usize];
            if kind == KIND_SEGMENT { value == b } else { value < b }
        }
    };
    if inside { 1.0 } else { 0.0 }
}
