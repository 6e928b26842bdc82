//! CPU twins of `shaders/felzenszwalb_{smooth,costs,sort,merge,label}.wgsl`.

use rayon::prelude::*;

use super::isqrt;
use crate::gpu::felzenszwalb::{COUNTS, DIGIT_BITS, DIGITS, FelzenszwalbParams, MERGE_JOIN, NO_EDGE, SORT_THREADS, TOTAL};

/// scipy's 'reflect' (d c b a | a b c d | d c b a) for any offset.
fn reflect(i: i64, n: i64) -> usize {
    let m = i.rem_euclid(2 * n);
    (if m >= n { 2 * n - 1 - m } else { m }) as usize
}

pub fn felzenszwalb_smooth(image: &[f32], weights: &[i32], p: &FelzenszwalbParams) -> Vec<u32> {
    let (w, h, r) = (p.width as usize, p.height as usize, p.radius as i64);
    let plane = w * h;
    let mut smooth = vec![0u32; image.len()];
    for base in (0..p.images as usize * 3).map(|plane_index| plane_index * plane) {
        for y in 0..h {
            for x in 0..w {
                let mut sum = 0u32;
                for dy in -r..=r {
                    let yy = reflect(y as i64 + dy, h as i64);
                    let mut row = 0u32;
                    for dx in -r..=r {
                        let xx = reflect(x as i64 + dx, w as i64);
                        let v = image[base + yy * w + xx].round().clamp(0.0, 255.0) as u32;
                        row += weights[(dx + r) as usize] as u32 * v;
                    }
                    sum += weights[(dy + r) as usize] as u32 * row;
                }
                smooth[base + y * w + x] = (sum + 128) >> 8;
            }
        }
    }
    smooth
}

/// The two pixels of edge `e` (see `edge_ends` in `shaders/shared/felzenszwalb_params.wgsl`).
pub fn edge_ends(e: usize, width: usize, plane: usize) -> (usize, usize) {
    let p = e % plane;
    match e / plane {
        0 => (p, p + 1),
        1 => (p, p + width),
        2 => (p, p + width + 1),
        _ => (p + 1, p + width),
    }
}

/// Returns the costs `[N, 4, H, W]`; every pixel of every setting's tree in
/// `forest [N·settings, 3, H, W]` becomes its own segment.
pub fn felzenszwalb_costs(smooth: &[u32], forest: &mut [u32], p: &FelzenszwalbParams) -> Vec<u32> {
    let (w, h) = (p.width as usize, p.height as usize);
    let plane = w * h;
    let images = p.images as usize;
    let mut costs = vec![NO_EDGE; images * 4 * plane];
    for n in 0..images {
        let settings = p.settings as usize;
        for tree in forest[n * settings * 3 * plane..(n + 1) * settings * 3 * plane].chunks_mut(3 * plane) {
            for q in 0..plane {
                tree[q] = q as u32;
                tree[plane + q] = 1;
                tree[2 * plane + q] = 0;
            }
        }
        for y in 0..h {
            for x in 0..w {
                let (right, down) = (x + 1 < w, y + 1 < h);
                for (kind, exists) in [right, down, right && down, right && down].into_iter().enumerate() {
                    if !exists {
                        continue;
                    }
                    let e = kind * plane + y * w + x;
                    let (a, b) = edge_ends(e, w, plane);
                    let d2: u64 = (0..3)
                        .map(|c| {
                            let base = (n * 3 + c) * plane;
                            let d = smooth[base + a] as i64 - smooth[base + b] as i64;
                            (d * d) as u64
                        })
                        .sum();
                    costs[n * 4 * plane + e] = isqrt(d2);
                }
            }
        }
    }
    costs
}

/// Steps `p.sort_first..p.sort_first + p.sort_steps` of the edge sort, as
/// the kernel's 256 invocations take them one after another: three passes of
/// 7-bit digits, each counting every invocation's contiguous chunk into its
/// column of `counts [N, COUNTS]`, scanning the table in digit-major order
/// into cursors, and placing each chunk in order (pass 0 from the edge
/// indices into `order`, then into `spare`, then `order`). Images in parallel.
pub fn felzenszwalb_sort(
    costs: &[u32],
    counts: &mut [u32],
    spare: &mut [u32],
    order: &mut [u32],
    p: &FelzenszwalbParams,
) {
    let edges = 4 * (p.width * p.height) as usize;
    let (digits, threads) = (DIGITS as usize, SORT_THREADS as usize);
    let images = p.images as usize;
    counts[..images * COUNTS as usize]
        .par_chunks_mut(COUNTS as usize)
        .zip(spare[..images * edges].par_chunks_mut(edges))
        .zip(order[..images * edges].par_chunks_mut(edges))
        .zip(costs[..images * edges].par_chunks(edges))
        .for_each(|(((counts, spare), order), costs)| {
            for step in p.sort_first..p.sort_first + p.sort_steps {
                let (pass, phase) = (step / 3, step % 3);
                let len = if pass == 0 { edges } else { counts[TOTAL as usize] as usize };
                let chunk = len.div_ceil(threads);
                let shift = DIGIT_BITS * pass;
                if phase == 1 {
                    let mut cursor = 0;
                    for count in &mut counts[..digits * threads] {
                        (*count, cursor) = (cursor, cursor + *count);
                    }
                    if pass == 0 {
                        counts[TOTAL as usize] = cursor;
                    }
                    continue;
                }
                for t in 0..threads {
                    if phase == 0 {
                        for d in 0..digits {
                            counts[d * threads + t] = 0;
                        }
                    }
                    let lo = (t * chunk).min(len);
                    for i in lo..(lo + chunk).min(len) {
                        let e = match pass {
                            0 => i as u32,
                            1 => order[i],
                            _ => spare[i],
                        };
                        let cost = costs[e as usize];
                        if cost == NO_EDGE {
                            continue;
                        }
                        let cell = ((cost >> shift) & (DIGITS - 1)) as usize * threads + t;
                        if phase == 2 {
                            let target = if pass == 1 { &mut *spare } else { &mut *order };
                            target[counts[cell] as usize] = e;
                        }
                        counts[cell] += 1;
                    }
                }
            }
        });
}

/// Root of `x` in one image's parent table, halving the path.
fn root(parent: &mut [u32], x: u32) -> u32 {
    let mut r = x;
    while parent[r as usize] != r {
        let grand = parent[parent[r as usize] as usize];
        parent[r as usize] = grand;
        r = grand;
    }
    r
}

/// scikit-image's pass `p.merge_pass` over the sorted edges, edge by edge,
/// for every image and setting (in parallel) on `forest [N·settings, 3, H,
/// W]`; `settings [settings, 2]` holds each setting's limit and min_size.
/// The shader reaches the same forest by reservation rounds.
pub fn felzenszwalb_merge(
    costs: &[u32],
    order: &[u32],
    counts: &[u32],
    forest: &mut [u32],
    settings: &[u32],
    p: &FelzenszwalbParams,
) {
    let (w, plane) = (p.width as usize, (p.width * p.height) as usize);
    let edges = 4 * plane;
    let items = (p.images * p.settings) as usize;
    // Images and settings in parallel, each its own forest.
    forest[..items * 3 * plane].par_chunks_mut(3 * plane).enumerate().for_each(|(item, tree)| {
        let (n, setting) = (item / p.settings as usize, item % p.settings as usize);
        let (limit, min_size) = (settings[2 * setting], settings[2 * setting + 1]);
        let (parent, rest) = tree.split_at_mut(plane);
        let (size, inner) = rest.split_at_mut(plane);
        let total = counts[n * COUNTS as usize + TOTAL as usize];
        for i in 0..total {
            let e = order[n * edges + i as usize] as usize;
            let (x, y) = edge_ends(e, w, plane);
            let (a, b) = (root(parent, x as u32) as usize, root(parent, y as u32) as usize);
            if a == b {
                continue;
            }
            let cost = costs[n * edges + e];
            let joins = |r: usize| limit > 0 && (cost <= inner[r] || cost - inner[r] <= (limit - 1) / size[r]);
            let join = if p.merge_pass == MERGE_JOIN { joins(a) && joins(b) } else { size[a] < min_size || size[b] < min_size };
            if join {
                let keep = if size[a] == size[b] { a.min(b) } else if size[a] > size[b] { a } else { b };
                let gone = if keep == a { b } else { a };
                size[keep] = size[a] + size[b];
                if p.merge_pass == MERGE_JOIN {
                    inner[keep] = cost;
                }
                parent[gone] = keep as u32;
            }
        }
    });
}

/// Every pixel's root in `forest [N·settings, 3, H, W]`.
pub fn felzenszwalb_label(forest: &[u32], p: &FelzenszwalbParams) -> Vec<i32> {
    let plane = (p.width * p.height) as usize;
    let mut labels = vec![0i32; (p.images * p.settings) as usize * plane];
    for n in 0..(p.images * p.settings) as usize {
        let parent = &forest[n * 3 * plane..n * 3 * plane + plane];
        for q in 0..plane {
            let mut r = q;
            while parent[r] as usize != r {
                r = parent[r] as usize;
            }
            labels[n * plane + q] = r as i32;
        }
    }
    labels
}
