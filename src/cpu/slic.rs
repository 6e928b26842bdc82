//! CPU twins of `shaders/slic_{range,lab,assign,update,iterate}.wgsl`.

use crate::gpu::slic::{CLUSTER_STRIDE, SETTING_FIELDS, SlicParams, band_rows};

/// XYZ-from-linear-RGB rows divided by the D65 white point, in 2^14 units.
/// Keep in sync with `XYZ` in `shaders/slic_lab.wgsl`.
pub const XYZ: [[i32; 3]; 3] = [[7110, 6164, 3110], [3484, 11717, 1182], [291, 1794, 14298]];

const C_Y: usize = 0;
const C_X: usize = 1;
const C_L: usize = 2;
const C_COUNT: usize = 5;

pub fn slic_range(image: &[f32], p: &SlicParams) -> Vec<i32> {
    let len = 3 * (p.width * p.height) as usize;
    let mut range = Vec::with_capacity(2 * p.images as usize);
    for n in 0..p.images as usize {
        let values = image[n * len..(n + 1) * len].iter().map(|v| v.round() as i32);
        let (lo, hi) = values.fold((255, 0), |(lo, hi), v| (lo.min(v), hi.max(v)));
        range.extend([lo, hi]);
    }
    range
}

pub fn slic_lab(image: &[f32], range: &[i32], linear: &[i32], cbrt: &[i32], p: &SlicParams) -> Vec<i32> {
    let plane = (p.width * p.height) as usize;
    let f = |t: i32| cbrt[t.clamp(0, 65536) as usize];
    let mut lab = vec![0; p.images as usize * 3 * plane];
    for n in 0..p.images as usize {
        let lo = range[2 * n];
        let span = range[2 * n + 1] - lo;
        for pixel in 0..plane {
            let mut rgb = [0i32; 3];
            for (c, v) in rgb.iter_mut().enumerate() {
                let value = image[(n * 3 + c) * plane + pixel].round() as i32 - lo;
                *v = linear[(span * 256 + value) as usize];
            }
            let dot = |row: [i32; 3]| row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2];
            let fx = f((dot(XYZ[0]) + 8192) >> 14);
            let fy = f((dot(XYZ[1]) + 8192) >> 14);
            let fz = f((dot(XYZ[2]) + 8192) >> 14);
            let out = n * 3 * plane + pixel;
            lab[out] = (464 * fy - 64 * 65536 + 32768) >> 16;
            lab[out + plane] = (2000 * (fx - fy) + 32768) >> 16;
            lab[out + 2 * plane] = (800 * (fy - fz) + 32768) >> 16;
        }
    }
    lab
}

/// Rows `[lo, hi)` a cluster centred at `c16` (1/16 px) sees.
fn window(c16: i32, size: u32, p: &SlicParams) -> (u32, u32) {
    let s16 = 32 * p.window as i32;
    let lo = (c16 - s16).max(0) / 16;
    let hi = (c16 + s16 + 16).min(16 * size as i32) / 16;
    (lo as u32, hi.max(0) as u32)
}

/// Every pixel's nearest cluster (rows of pixels in parallel). The shader
/// tests every cluster's window at every pixel; here each live cluster's
/// window is found once and each row keeps the clusters whose rows it is
/// in, in index order, so the candidates, their order and the ties are the
/// same.
pub fn slic_assign(lab: &[i32], clusters: &[i32], p: &SlicParams) -> Vec<i32> {
    use rayon::prelude::*;
    let (w, h) = (p.width as usize, p.height as usize);
    let plane = w * h;
    let k_count = p.clusters as usize;
    // (index, row, rows seen, columns seen) of every live cluster, per image.
    type Seen<'a> = (usize, &'a [i32], (u32, u32), (u32, u32));
    let windows: Vec<Vec<Seen>> = (0..p.images as usize)
        .map(|n| {
            clusters[n * k_count * CLUSTER_STRIDE..][..k_count * CLUSTER_STRIDE]
                .chunks(CLUSTER_STRIDE)
                .enumerate()
                .filter(|(_, row)| row[C_COUNT] != 0)
                .map(|(k, row)| (k, row, window(row[C_Y], p.height, p), window(row[C_X], p.width, p)))
                .collect()
        })
        .collect();
    let mut labels = vec![-1; p.images as usize * plane];
    labels.par_chunks_mut(w).enumerate().for_each(|(r, row_labels)| {
        let (n, y) = (r / h, r % h);
        let yy = y as u32;
        let near: Vec<_> = windows[n].iter().filter(|(_, _, rows, _)| yy >= rows.0 && yy < rows.1).collect();
        for (x, label) in row_labels.iter_mut().enumerate() {
            let at = n * 3 * plane + y * w + x;
            let colour = [lab[at], lab[at + plane], lab[at + 2 * plane]];
            let xx = x as u32;
            let mut best = u64::MAX;
            for &&(k, row, _, cols) in &near {
                if xx < cols.0 || xx >= cols.1 {
                    continue;
                }
                let dy = 16 * y as i32 - row[C_Y];
                let dx = 16 * x as i32 - row[C_X];
                let dc: [i32; 3] = std::array::from_fn(|c| colour[c] - row[C_L + c]);
                let space = (dy * dy + dx * dx) as u32 as u64;
                let color = (dc[0] * dc[0] + dc[1] * dc[1] + dc[2] * dc[2]) as u32 as u64;
                let d = space * p.w_space as u64 + color * p.w_color as u64;
                if d < best {
                    best = d;
                    *label = k as i32;
                }
            }
        }
    });
    labels
}

fn mean(sum: i32, count: i32) -> i32 {
    let q = (2 * sum.abs() + count) / (2 * count);
    if sum < 0 { -q } else { q }
}

/// One band of window rows added into `sums [N, K, 8]` (count, y, x, L, a, b),
/// or with `p.finish == 1` the means written into `clusters` (clusters in
/// parallel: each adds up only its own window and writes only its own rows).
pub fn slic_update(lab: &[i32], labels: &[i32], clusters: &mut [i32], sums: &mut [u32], p: &SlicParams) {
    use rayon::prelude::*;
    let w = p.width as usize;
    let plane = w * p.height as usize;
    let k_count = p.clusters as usize;
    let rows = clusters.par_chunks_mut(CLUSTER_STRIDE).zip(sums.par_chunks_mut(CLUSTER_STRIDE)).take(p.images as usize * k_count);
    rows.enumerate().for_each(|(i, (cluster, sum))| {
        let (n, k) = (i / k_count, i % k_count);
        if cluster[C_COUNT] == 0 {
            return;
        }
        if p.finish == 0 {
            let rows = window(cluster[C_Y], p.height, p);
            let cols = window(cluster[C_X], p.width, p);
            let first = rows.0 + p.band * band_rows(p.window);
            for y in first..(first + band_rows(p.window)).min(rows.1) {
                for x in cols.0..cols.1 {
                    let pixel = y as usize * w + x as usize;
                    if labels[n * plane + pixel] != k as i32 {
                        continue;
                    }
                    sum[0] += 1;
                    sum[1] += y;
                    sum[2] += x;
                    let at = n * 3 * plane + pixel;
                    for c in 0..3 {
                        sum[3 + c] = (sum[3 + c] as i32 + lab[at + c * plane]) as u32;
                    }
                }
            }
            return;
        }
        move_cluster(cluster, sum[0], sum[1], sum[2], [3, 4, 5].map(|c| sum[c] as i32));
    });
}

/// A cluster row moved to the mean of its `count` pixels, given their
/// coordinate and Lab sums (`move_cluster` in `shaders/shared/slic_nearest.wgsl`).
fn move_cluster(cluster: &mut [i32], count: u32, sum_y: u32, sum_x: u32, sum_c: [i32; 3]) {
    cluster[C_COUNT] = count as i32;
    if count == 0 {
        return;
    }
    let half = count / 2;
    cluster[C_Y] = (16 * (sum_y / count) + (16 * (sum_y % count) + half) / count) as i32;
    cluster[C_X] = (16 * (sum_x / count) + (16 * (sum_x % count) + half) / count) as i32;
    for c in 0..3 {
        cluster[C_L + c] = mean(sum_c[c], count as i32);
    }
}

/// `slic_iterate`'s update: every image's pixels added into their cluster's
/// sums in one pass (rows in parallel; integer sums, so any order gives the
/// same), then every live cluster moved to its mean.
fn move_clusters(lab: &[i32], labels: &[i32], clusters: &mut [i32], p: &SlicParams) {
    use rayon::prelude::*;
    let w = p.width as usize;
    let plane = w * p.height as usize;
    let k_count = p.clusters as usize;
    let rows = p.images as usize * k_count;
    let add = |mut sums: Vec<[i64; 6]>, (r, row): (usize, &[i32])| {
        let (n, y) = (r / p.height as usize, r % p.height as usize);
        for (x, &k) in row.iter().enumerate() {
            if k < 0 {
                continue;
            }
            let at = n * 3 * plane + y * w + x;
            let sum = &mut sums[n * k_count + k as usize];
            for (s, v) in sum.iter_mut().zip([1, y as i64, x as i64, lab[at] as i64, lab[at + plane] as i64, lab[at + 2 * plane] as i64]) {
                *s += v;
            }
        }
        sums
    };
    let merge = |mut a: Vec<[i64; 6]>, b: Vec<[i64; 6]>| {
        a.iter_mut().zip(b).for_each(|(a, b)| a.iter_mut().zip(b).for_each(|(a, b)| *a += b));
        a
    };
    let sums = labels.par_chunks(w).enumerate().fold(|| vec![[0; 6]; rows], add).reduce(|| vec![[0; 6]; rows], merge);
    for (cluster, sum) in clusters.chunks_mut(CLUSTER_STRIDE).zip(sums) {
        if cluster[C_COUNT] != 0 {
            move_cluster(cluster, sum[0] as u32, sum[1] as u32, sum[2] as u32, [sum[3] as i32, sum[4] as i32, sum[5] as i32]);
        }
    }
}

/// The k-means rounds `p.first_round..p.first_round + p.round_count` of
/// every setting of `settings` (`[S, SETTING_FIELDS]`), each stopping at
/// its own rounds: every round assigns, every round but the setting's last
/// updates its block of `clusters`; `labels [S, N, H, W]` take each
/// setting's last round run.
pub fn slic_iterate(lab: &[i32], clusters: &mut [i32], settings: &[u32], labels: &mut [i32], p: &SlicParams) {
    let n = p.images as usize;
    let plane = (p.width * p.height) as usize;
    for (s, row) in settings.chunks(SETTING_FIELDS).take(p.settings as usize).enumerate() {
        let [k, first, window, w_space, w_color, rounds, ..] = *row else { unreachable!("setting rows have SETTING_FIELDS columns") };
        let one = SlicParams { clusters: k, window, w_space, w_color, rounds, settings: 1, ..*p };
        let block = &mut clusters[first as usize * CLUSTER_STRIDE..][..n * k as usize * CLUSTER_STRIDE];
        for round in p.first_round..(p.first_round + p.round_count).min(rounds) {
            let assigned = slic_assign(lab, block, &one);
            labels[s * n * plane..][..n * plane].copy_from_slice(&assigned);
            if round + 1 >= rounds {
                break;
            }
            move_clusters(lab, &assigned, block, &one);
        }
    }
}
