//! CPU twin of `shaders/aggregate.wgsl`.

use crate::gpu::aggregate::AggregateParams;

fn covers(parts: &[i32], j: usize, x: i32, y: i32, kind: u32) -> bool {
    let dx = x - parts[j * 4];
    let dy = y - parts[j * 4 + 1];
    let rx = parts[j * 4 + 2];
    if kind == 0 {
        return dx * dx + dy * dy <= rx * rx;
    }
    dx.abs() <= rx && dy.abs() <= parts[j * 4 + 3]
}

/// Gathers `scores [P, T]` onto the pixels of the parts: returns `[T, H, W]`,
/// each pixel the mean score of the parts covering it (0 where none does).
pub fn aggregate(scores: &[f32], parts: &[i32], labels: &[i32], offsets: &[i32], p: &AggregateParams) -> Vec<f32> {
    let (w, h, targets) = (p.width as usize, p.height as usize, p.targets as usize);
    let plane = w * h;
    let mut maps = vec![0.0f32; targets * plane];
    for t in 0..targets {
        for y in 0..h {
            for x in 0..w {
                let pixel = y * w + x;
                let mut sum = 0.0f32;
                let mut count = 0u32;
                if p.kind <= 1 {
                    for j in 0..p.parts as usize {
                        if covers(parts, j, x as i32, y as i32, p.kind) {
                            sum += scores[j * targets + t];
                            count += 1;
                        }
                    }
                } else {
                    for r in 0..p.runs as usize {
                        let part = offsets[r] + labels[r * plane + pixel];
                        if part >= 0 && part < p.parts as i32 {
                            sum += scores[part as usize * targets + t];
                        }
                    }
                    count = p.runs;
                }
                maps[t * plane + pixel] = if count > 0 { sum / count as f32 } else { 0.0 };
            }
        }
    }
    maps
}
