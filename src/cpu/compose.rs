//! CPU twin of `shaders/compose.wgsl`.

use crate::gpu::compose::ComposeParams;

fn inside(parts: &[i32], labels: &[i32], part: usize, x: i32, y: i32, p: &ComposeParams) -> bool {
    let [a, b, c, d] = [parts[part * 4], parts[part * 4 + 1], parts[part * 4 + 2], parts[part * 4 + 3]];
    match p.kind {
        0 => {
            let (dx, dy) = (x - a, y - b);
            dx * dx + dy * dy <= c * c
        }
        1 => (x - a).abs() <= c && (y - b).abs() <= d,
        _ => {
            if a < 0 || a as u32 >= p.runs {
                return false;
            }
            let plane = (p.width * p.height) as usize;
            labels[a as usize * plane + y as usize * p.width as usize + x as usize] == b
        }
    }
}

/// Writes `normalise(inside != invert ? image : baseline)` for each part of
/// the batch: returns `[p.batch, 3, H, W]`.
pub fn compose(image: &[f32], baseline: &[f32], parts: &[i32], labels: &[i32], p: &ComposeParams) -> Vec<f32> {
    let (w, h) = (p.width as usize, p.height as usize);
    let plane = w * h;
    let mut out = vec![0.0f32; p.batch as usize * 3 * plane];
    for b in 0..p.batch as usize {
        for y in 0..h {
            for x in 0..w {
                let keep = inside(parts, labels, p.first as usize + b, x as i32, y as i32, p) != (p.invert == 1);
                let pixel = y * w + x;
                for c in 0..3 {
                    let i = c * plane + pixel;
                    let v = if keep { image[i] } else { baseline[i] };
                    out[b * 3 * plane + i] = (v - p.mean[c]) / p.std[c];
                }
            }
        }
    }
    out
}
