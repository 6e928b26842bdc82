//! CPU twin of `shaders/aggregate.wgsl`.

use super::parts::{KIND_SEGMENT, part_weight};
use crate::gpu::aggregate::AggregateParams;

/// One chunk of the gather: `[T, H, W]` sums of the chunk's parts' weighted
/// scores (windows, RISE) or of each run's segment score (segments).
pub fn aggregate(scores: &[f32], parts: &[i32], labels: &[i32], offsets: &[i32], p: &AggregateParams) -> Vec<f32> {
    let (w, h, targets) = (p.width as usize, p.height as usize, p.targets as usize);
    let plane = w * h;
    let last = p.first + p.count;
    let mut sums = vec![0.0f32; targets * plane];
    for t in 0..targets {
        for y in 0..h {
            for x in 0..w {
                let pixel = y * w + x;
                let mut sum = 0.0f32;
                if p.kind == KIND_SEGMENT {
                    for r in p.first..last.min(p.runs) {
                        let part = offsets[r as usize] + labels[r as usize * plane + pixel];
                        if part >= 0 && (part as u32) < p.parts {
                            sum += scores[part as usize * targets + t];
                        }
                    }
                } else {
                    for j in p.first..last.min(p.parts) {
                        let weight = part_weight(parts, labels, j as usize, x as i32, y as i32, p.kind, p.runs, p.width, p.height);
                        if weight > 0.0 {
                            sum += weight * scores[j as usize * targets + t];
                        }
                    }
                }
                sums[t * plane + pixel] = sum;
            }
        }
    }
    sums
}
