//! CPU twin of `shaders/blur.wgsl`: one pass of a separable blur.

use crate::gpu::blur::{AXIS_X, BlurParams, PADDING_ZERO};

/// Mirror index `c` into `[0, n)` without repeating the edge sample.
fn reflect(c: i64, n: i64) -> i64 {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let m = c.abs() % period;
    if m >= n { period - m } else { m }
}

/// One pass along `p.axis` over `p.planes` planes of `p.height × p.width`.
pub fn blur(src: &[f32], weights: &[f32], p: &BlurParams) -> Vec<f32> {
    let (w, h) = (p.width as usize, p.height as usize);
    let radius = p.radius as i64;
    let along_x = p.axis == AXIS_X;
    let n = if along_x { w } else { h } as i64;
    let mut dst = vec![0.0f32; w * h * p.planes as usize];
    for plane in 0..p.planes as usize {
        let base = plane * w * h;
        for y in 0..h {
            for x in 0..w {
                let pos = if along_x { x } else { y } as i64;
                let mut sum = 0.0f32;
                for k in -radius..=radius {
                    let mut c = pos + k;
                    if c < 0 || c >= n {
                        if p.padding == PADDING_ZERO {
                            continue;
                        }
                        c = reflect(c, n);
                    }
                    let idx = if along_x {
                        base + y * w + c as usize
                    } else {
                        base + c as usize * w + x
                    };
                    sum += weights[(k + radius) as usize] * src[idx];
                }
                dst[base + y * w + x] = sum;
            }
        }
    }
    dst
}
