//! CPU twins of `shaders/watershed_{gradient,init,flood,label}.wgsl`.

use super::isqrt;
use crate::gpu::watershed::{MARKER_FIELDS, UNREACHED, WatershedParams, distances};

fn grey(image: &[f32], n: usize, y: i64, x: i64, p: &WatershedParams) -> i64 {
    let (w, h) = (p.width as i64, p.height as i64);
    let (yy, xx) = (y.clamp(0, h - 1), x.clamp(0, w - 1));
    let plane = (w * h) as usize;
    let at = n * 3 * plane + (yy * w + xx) as usize;
    let [r, g, b] = [image[at], image[at + plane], image[at + 2 * plane]].map(|v| v.round() as i64);
    (2125 * r + 7154 * g + 721 * b + 50) / 100
}


pub fn watershed_gradient(image: &[f32], p: &WatershedParams) -> Vec<u32> {
    let (w, h) = (p.width as usize, p.height as usize);
    let mut gradient = vec![0; p.batch as usize * w * h];
    for n in 0..p.batch as usize {
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                let (mut gx, mut gy) = (0i64, 0i64);
                for d in -1..=1i64 {
                    let weight = 2 - d.abs();
                    gx += weight * (grey(image, n, y + d, x + 1, p) - grey(image, n, y + d, x - 1, p));
                    gy += weight * (grey(image, n, y + 1, x + d, p) - grey(image, n, y - 1, x + d, p));
                }
                gradient[n * w * h + y as usize * w + x as usize] = isqrt((gx * gx + gy * gy) as u64);
            }
        }
    }
    gradient
}

pub fn watershed_init(gradient: &[u32], markers: &[i32], p: &WatershedParams) -> Vec<u32> {
    let (w, h) = (p.width as usize, p.height as usize);
    let plane = w * h;
    let mut level = vec![UNREACHED; p.images as usize * plane];
    for z in 0..p.images as usize {
        let (n, m) = (z / p.group as usize, p.first as usize + z % p.group as usize);
        let (my, mx) = (markers[MARKER_FIELDS * m] as usize, markers[MARKER_FIELDS * m + 1] as usize);
        level[z * plane + my * w + mx] = gradient[n * plane + my * w + mx];
    }
    level
}

/// The read-only inputs of a flooding round.
struct Terrain<'a> {
    gradient: &'a [u32],
    markers: &'a [i32],
    distance: &'a [u32],
}

/// One relaxation of pixel (x, y) of map z (its levels `level`); true if its level dropped.
fn relax(t: &Terrain, level: &mut [u32], (z, y, x): (usize, usize, usize), p: &WatershedParams) -> bool {
    let Terrain { gradient, markers, distance } = *t;
    let (w, h) = (p.width as usize, p.height as usize);
    let plane = w * h;
    let (n, m) = (z / p.group as usize, p.first as usize + z % p.group as usize);
    let marker = &markers[MARKER_FIELDS * m..MARKER_FIELDS * (m + 1)];
    let (dy, dx) = (y as i64 - marker[0] as i64, x as i64 - marker[1] as i64);
    if dy == 0 && dx == 0 {
        return false;
    }
    let pixel = y * w + x;
    let mut best = UNREACHED;
    if x > 0 {
        best = best.min(level[pixel - 1]);
    }
    if x + 1 < w {
        best = best.min(level[pixel + 1]);
    }
    if y > 0 {
        best = best.min(level[pixel - w]);
    }
    if y + 1 < h {
        best = best.min(level[pixel + w]);
    }
    if best == UNREACHED {
        return false;
    }
    let table = marker[2] as usize * distances(p.width, p.height);
    let cost = gradient[n * plane + pixel] + distance[table + (dy * dy + dx * dx) as usize];
    let candidate = cost.max(best);
    if candidate < level[pixel] {
        level[pixel] = candidate;
        return true;
    }
    false
}

/// Every map relaxed to its fixed point in at most `p.rounds` rounds of four
/// passes, the maps in parallel; returns the state `[N·G, 2]` (1 where a map
/// settled, then the drops in its last round). The shader walks each pass
/// by anti-diagonals; here a pass is a raster scan in the same direction
/// (↘: rows down, x up; ↖: the reverse; ↗: rows up, x up; ↙: the reverse),
/// in which every pixel sees the same neighbours already updated as on the
/// wavefront, so both take the same rounds.
pub fn watershed_flood(gradient: &[u32], markers: &[i32], distance: &[u32], level: &mut [u32], p: &WatershedParams) -> Vec<u32> {
    use rayon::prelude::*;
    let (w, h) = (p.width as usize, p.height as usize);
    let terrain = Terrain { gradient, markers, distance };
    let mut state = vec![0u32; 2 * p.images as usize];
    level.par_chunks_mut(w * h).zip(state.par_chunks_mut(2)).enumerate().for_each(|(z, (level, state))| {
        for _ in 0..p.rounds {
            let mut drops = 0;
            for pass in 0..4 {
                for row in 0..h {
                    let y = if pass == 0 || pass == 3 { row } else { h - 1 - row };
                    for column in 0..w {
                        let x = if pass == 0 || pass == 2 { column } else { w - 1 - column };
                        drops += relax(&terrain, level, (z, y, x), p) as u32;
                    }
                }
            }
            state[1] = drops;
            if drops == 0 {
                state[0] = 1;
                break;
            }
        }
    });
    state
}

pub fn watershed_label(level: &[u32], markers: &[i32], best: &mut [u32], labels: &mut [i32], p: &WatershedParams) {
    let plane = (p.width * p.height) as usize;
    let (group, batch) = (p.group as usize, p.batch as usize);
    for n in 0..batch {
        for pixel in 0..plane {
            for g in 0..group {
                let marker = &markers[MARKER_FIELDS * (p.first as usize + g)..][..MARKER_FIELDS];
                let at = (marker[2] as usize * batch + n) * plane + pixel;
                let t = level[(n * group + g) * plane + pixel];
                if t < best[at] {
                    best[at] = t;
                    labels[at] = marker[3];
                }
            }
        }
    }
}
