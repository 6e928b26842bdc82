//! CPU twin of `shaders/rank_init.wgsl`, `rank_sort.wgsl` and `rank_scatter.wgsl`.

use crate::gpu::rank::RankParams;

pub fn rank_init(p: &RankParams) -> Vec<u32> {
    let span = p.span as usize;
    (0..p.maps as usize * span).map(|i| (i % span) as u32).collect()
}

fn before(values: &[f32], p: &RankParams, m: usize, a: u32, b: u32) -> bool {
    let plane = p.plane;
    if a >= plane || b >= plane {
        return a < b;
    }
    let (va, vb) = (values[m * plane as usize + a as usize], values[m * plane as usize + b as usize]);
    va > vb || (va == vb && a < b)
}

/// One compare-exchange step (`p.block`, `p.step`) over every pair of every map.
pub fn rank_sort(values: &[f32], keys: &mut [u32], p: &RankParams) {
    let span = p.span as usize;
    let (j, k) = (p.step as usize, p.block as usize);
    for m in 0..p.maps as usize {
        for pair in 0..span / 2 {
            let i = (pair / j) * 2 * j + pair % j;
            let l = i + j;
            let (a, b) = (keys[m * span + i], keys[m * span + l]);
            let forward = i & k == 0;
            if before(values, p, m, b, a) == forward {
                keys[m * span + i] = b;
                keys[m * span + l] = a;
            }
        }
    }
}

pub fn rank_scatter(keys: &[u32], p: &RankParams) -> Vec<i32> {
    let (plane, span) = (p.plane as usize, p.span as usize);
    let mut ranks = vec![0i32; p.maps as usize * plane];
    for m in 0..p.maps as usize {
        for r in 0..plane {
            let pixel = keys[m * span + r] as usize;
            if pixel < plane {
                ranks[m * plane + pixel] = r as i32;
            }
        }
    }
    ranks
}

/// The three stages: ranks `[M, plane]` of `values [M, plane]`.
pub fn rank(values: &[f32], p: &RankParams) -> Vec<i32> {
    let mut keys = rank_init(p);
    for (block, step) in p.steps() {
        rank_sort(values, &mut keys, &RankParams { block, step, ..*p });
    }
    rank_scatter(&keys, p)
}
