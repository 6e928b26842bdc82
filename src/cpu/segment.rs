//! CPU twins of `shaders/segment_sizes.wgsl` and `shaders/segment_merge.wgsl`.

use crate::gpu::segment::SegmentParams;

pub fn segment_sizes(labels: &[i32], sizes: &mut [u32], first: &mut [u32], p: &SegmentParams) {
    let plane = (p.width * p.height) as usize;
    for n in 0..p.images as usize {
        for pixel in 0..plane {
            let slot = n * plane + labels[n * plane + pixel] as usize;
            sizes[slot] += 1;
            first[slot] = first[slot].min(pixel as u32);
        }
    }
}

fn target_of(labels: &[i32], first: &[u32], n: usize, s: usize, p: &SegmentParams) -> usize {
    let plane = (p.width * p.height) as usize;
    let r = first[n * plane + s] as usize;
    let t = if s == 0 {
        first[n * plane + 1] as usize
    } else if r >= p.width as usize {
        r - p.width as usize
    } else {
        r - 1
    };
    labels[n * plane + t] as usize
}

pub fn segment_merge(labels: &[i32], sizes: &[u32], first: &[u32], counts: &[i32], output: &mut [i32], p: &SegmentParams) {
    let plane = (p.width * p.height) as usize;
    let small = |n: usize, s: usize| sizes[n * plane + s] < p.min_size;
    for n in 0..p.images as usize {
        for pixel in 0..plane {
            let s = labels[n * plane + pixel] as usize;
            let mut out = s;
            if counts[n] > 1 && small(n, s) {
                out = target_of(labels, first, n, s, p);
                if s == 0 && small(n, 1) && target_of(labels, first, n, 1, p) == 0 {
                    out = 0;
                }
            }
            output[n * plane + pixel] = out as i32;
        }
    }
}
