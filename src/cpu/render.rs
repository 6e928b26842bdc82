//! CPU twin of `shaders/render.wgsl`: the procedural concept renderer's
//! rasteriser, in the same integer arithmetic (half-pixel coordinates).

use crate::gpu::render::RenderParams;

const STAR_X: [i32; 10] = [0, 588, 951, 951, 588, 0, -588, -951, -951, -588];
const STAR_Y: [i32; 10] = [-1000, -809, -309, 309, 809, 1000, 809, 309, -309, -809];

/// Columns of a row of the object table.
pub const OBJECT_FIELDS: usize = 6;
/// Columns of a row of the background table.
pub const BACKGROUND_FIELDS: usize = 4;

fn pcg(v: u32) -> u32 {
    let state = v.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

fn background(row: &[i32], x: i32, y: i32, w: i32, h: i32) -> i32 {
    let (texture, period, direction, seed) = (row[0], row[1].max(1), row[2], row[3] as u32);
    let bands = |on: bool| if on { 170 } else { 70 };
    match texture {
        1 => 180,
        2 => {
            let t = match direction {
                1 => x,
                2 => x + y,
                _ => y,
            };
            bands((t / period) % 2 == 0)
        }
        3 => bands((x / period + y / period) % 2 == 0),
        4 => 60 + (pcg(seed ^ (y * w + x) as u32) % 131) as i32,
        5 => {
            let (t, n) = match direction {
                1 => (w - 1 - x, w),
                2 => (y, h),
                3 => (h - 1 - y, h),
                _ => (x, w),
            };
            30 + t * 190 / (n - 1).max(1)
        }
        _ => 110,
    }
}

fn edge(ux: i32, uy: i32, vx: i32, vy: i32, px: i32, py: i32) -> i32 {
    (vx - ux) * (py - uy) - (vy - uy) * (px - ux)
}

/// Whether offset `(dx, dy)` from an object's centre lies in shape `shape` of radius `r`.
pub fn inside(shape: i32, dx: i32, dy: i32, r: i32) -> bool {
    let d2 = dx * dx + dy * dy;
    let (ax, ay) = (dx.abs(), dy.abs());
    match shape {
        0 => d2 <= r * r,
        1 => ax.max(ay) <= r * 4 / 5,
        2 => {
            let hx = r * 866 / 1000;
            let e = [edge(0, -r, -hx, r / 2, dx, dy), edge(-hx, r / 2, hx, r / 2, dx, dy), edge(hx, r / 2, 0, -r, dx, dy)];
            e.iter().all(|&v| v >= 0) || e.iter().all(|&v| v <= 0)
        }
        3 => (ax <= r / 3 && ay <= r) || (ay <= r / 3 && ax <= r),
        4 => {
            let mut odd = false;
            for j in 0..10 {
                let k = (j + 1) % 10;
                let rj = if j % 2 == 0 { r } else { r * 2 / 5 };
                let rk = if k % 2 == 0 { r } else { r * 2 / 5 };
                let (xj, yj) = (rj * STAR_X[j] / 1000, rj * STAR_Y[j] / 1000);
                let (xk, yk) = (rk * STAR_X[k] / 1000, rk * STAR_Y[k] / 1000);
                if (yj > dy) != (yk > dy) {
                    let lhs = (dx - xj) * (yk - yj);
                    let rhs = (dy - yj) * (xk - xj);
                    if (yk > yj && lhs < rhs) || (yk < yj && lhs > rhs) {
                        odd = !odd;
                    }
                }
            }
            odd
        }
        5 => d2 <= r * r && 25 * d2 > 9 * r * r,
        _ => false,
    }
}

/// Renders `p.images` scenes: `objects [O, 6]` (shape, packed RGB, centre x
/// and y, radius, unused; half pixels), `offsets [I + 1]` (each image's
/// first object), `backgrounds [I, 4]` (texture, period, direction, seed).
/// Returns `[I, 3, H, W]` values 0..255.
pub fn render(objects: &[i32], offsets: &[i32], backgrounds: &[i32], p: &RenderParams) -> Vec<f32> {
    let (w, h) = (p.width as usize, p.height as usize);
    let plane = w * h;
    let mut out = vec![0.0f32; p.images as usize * 3 * plane];
    for i in 0..p.images as usize {
        let row = &backgrounds[i * BACKGROUND_FIELDS..(i + 1) * BACKGROUND_FIELDS];
        for y in 0..h {
            for x in 0..w {
                let grey = background(row, x as i32, y as i32, w as i32, h as i32);
                let mut rgb = [grey; 3];
                let (px, py) = (2 * x as i32 + 1, 2 * y as i32 + 1);
                for o in offsets[i]..offsets[i + 1] {
                    let object = &objects[o as usize * OBJECT_FIELDS..(o as usize + 1) * OBJECT_FIELDS];
                    if inside(object[0], px - object[2], py - object[3], object[4]) {
                        let c = object[1];
                        rgb = [(c >> 16) & 255, (c >> 8) & 255, c & 255];
                    }
                }
                for c in 0..3 {
                    out[(i * 3 + c) * plane + y * w + x] = rgb[c] as f32;
                }
            }
        }
    }
    out
}
