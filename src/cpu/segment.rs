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

/// Every map of `labels [M, H, W]` through at most `p.rounds` rounds of
/// connected components, sizes and one merge, until no segment is smaller
/// than its row of `table [M, 4]` (min size, count, done, rounds) or the map
/// is one segment; the maps in parallel. The same rounds as the shader.
pub fn segment_min_size(labels: &mut [i32], table: &mut [i32], p: &SegmentParams) {
    use rayon::prelude::*;
    let plane = (p.width * p.height) as usize;
    let components = crate::gpu::components::ComponentsParams::new(1, p.height as usize, p.width as usize);
    labels.par_chunks_mut(plane).zip(table.par_chunks_mut(4)).for_each(|(map, row)| {
        let one = SegmentParams { images: 1, min_size: row[0] as u32, ..*p };
        for _ in 0..p.rounds {
            if row[2] != 0 {
                break;
            }
            let (numbered, counts) = super::components::connected_components(map, &components);
            map.copy_from_slice(&numbered);
            row[1] = counts[0];
            let (mut sizes, mut first) = (vec![0; plane], vec![u32::MAX; plane]);
            segment_sizes(map, &mut sizes, &mut first, &one);
            let small = sizes[..counts[0] as usize].iter().filter(|&&s| s < one.min_size).count();
            if counts[0] <= 1 || small == 0 {
                row[2] = 1;
                break;
            }
            let mut merged = vec![0; plane];
            segment_merge(map, &sizes, &first, &counts, &mut merged, &one);
            map.copy_from_slice(&merged);
            row[3] += 1;
        }
    });
}
