//! CPU twin of `shaders/compose.wgsl`.

use super::parts::part_weight;
use crate::gpu::compose::ComposeParams;

/// Writes `normalise(w·image + (1 − w)·baseline)` for each part of the batch,
/// `w` the part's weight (inverted on request): returns `[p.batch, 3, H, W]`.
pub fn compose(image: &[f32], baseline: &[f32], parts: &[i32], labels: &[i32], p: &ComposeParams) -> Vec<f32> {
    let (w, h) = (p.width as usize, p.height as usize);
    let plane = w * h;
    let mut out = vec![0.0f32; p.batch as usize * 3 * plane];
    for b in 0..p.batch as usize {
        for y in 0..h {
            for x in 0..w {
                let part = p.first as usize + b;
                let source = parts[part * 5];
                if source < 0 || source as u32 >= p.images {
                    continue;
                }
                let mut weight = part_weight(parts, labels, part, x as i32, y as i32, p.kind, p.runs, p.width, p.height);
                if p.invert == 1 {
                    weight = 1.0 - weight;
                }
                let pixel = y * w + x;
                for c in 0..3 {
                    let i = c * plane + pixel;
                    let j = source as usize * 3 * plane + i;
                    let v = weight * image[j] + (1.0 - weight) * baseline[j];
                    out[b * 3 * plane + i] = (v - p.mean[c]) / p.deviation[c];
                }
            }
        }
    }
    out
}
