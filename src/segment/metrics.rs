//! Partition metrics for comparing a segmentation with a reference one
//! (host-side; label maps are row-major `h × w`, any non-negative labels).

use std::collections::HashMap;

/// Number of distinct labels.
pub fn segment_count(labels: &[i32]) -> usize {
    let mut seen: Vec<i32> = labels.to_vec();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// Whether every label is one 4-connected region.
pub fn is_four_connected(labels: &[i32], width: usize) -> bool {
    let height = labels.len() / width;
    let p = crate::gpu::components::ComponentsParams::new(1, height, width);
    let (_, counts) = crate::cpu::components::connected_components(labels, &p);
    counts[0] as usize == segment_count(labels)
}

fn choose2(n: u64) -> f64 {
    (n * n.saturating_sub(1)) as f64 / 2.0
}

/// Adjusted Rand index (Hubert & Arabie) between two partitions of the same pixels.
pub fn adjusted_rand_index(a: &[i32], b: &[i32]) -> f64 {
    assert_eq!(a.len(), b.len(), "partitions of different sizes");
    let mut pairs: HashMap<(i32, i32), u64> = HashMap::new();
    let mut rows: HashMap<i32, u64> = HashMap::new();
    let mut cols: HashMap<i32, u64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *pairs.entry((x, y)).or_default() += 1;
        *rows.entry(x).or_default() += 1;
        *cols.entry(y).or_default() += 1;
    }
    let index: f64 = pairs.values().map(|&n| choose2(n)).sum();
    let sum_a: f64 = rows.values().map(|&n| choose2(n)).sum();
    let sum_b: f64 = cols.values().map(|&n| choose2(n)).sum();
    let expected = sum_a * sum_b / choose2(a.len() as u64);
    let max = (sum_a + sum_b) / 2.0;
    if max == expected {
        return 1.0; // both partitions trivial (one segment, or all singletons) and equal in kind
    }
    (index - expected) / (max - expected)
}

/// Pixels on a boundary: those with a 4-neighbour of another label to the right or below
/// (and that neighbour), as scikit-image's `find_boundaries(mode="thick")` marks them.
pub fn boundaries(labels: &[i32], width: usize) -> Vec<bool> {
    let height = labels.len() / width;
    let mut edge = vec![false; labels.len()];
    for y in 0..height {
        for x in 0..width {
            let p = y * width + x;
            if x + 1 < width && labels[p + 1] != labels[p] {
                edge[p] = true;
                edge[p + 1] = true;
            }
            if y + 1 < height && labels[p + width] != labels[p] {
                edge[p] = true;
                edge[p + width] = true;
            }
        }
    }
    edge
}

/// Fraction of the reference's boundary pixels that lie within `tolerance`
/// pixels (Chebyshev distance) of a boundary pixel of `labels`. 1 when the
/// reference has no boundary.
pub fn boundary_recall(labels: &[i32], reference: &[i32], width: usize, tolerance: usize) -> f64 {
    let height = labels.len() / width;
    let ours = boundaries(labels, width);
    let theirs = boundaries(reference, width);
    let t = tolerance as isize;
    let (mut hit, mut total) = (0usize, 0usize);
    for y in 0..height as isize {
        for x in 0..width as isize {
            if !theirs[y as usize * width + x as usize] {
                continue;
            }
            total += 1;
            let near = (-t..=t).any(|dy| {
                (-t..=t).any(|dx| {
                    let (yy, xx) = (y + dy, x + dx);
                    yy >= 0 && xx >= 0 && (yy as usize) < height && (xx as usize) < width
                        && ours[yy as usize * width + xx as usize]
                })
            });
            hit += near as usize;
        }
    }
    if total == 0 { 1.0 } else { hit as f64 / total as f64 }
}

/// Under-segmentation error (Neubert & Protzel's corrected form): for every
/// reference segment, the pixels of each overlapping segment of `labels` that
/// fall outside it, counting each overlap's smaller side; summed and divided
/// by the number of pixels. 0 when `labels` refines the reference.
pub fn undersegmentation_error(labels: &[i32], reference: &[i32]) -> f64 {
    assert_eq!(labels.len(), reference.len(), "partitions of different sizes");
    let mut overlap: HashMap<(i32, i32), u64> = HashMap::new();
    let mut size: HashMap<i32, u64> = HashMap::new();
    for (&s, &g) in labels.iter().zip(reference) {
        *overlap.entry((g, s)).or_default() += 1;
        *size.entry(s).or_default() += 1;
    }
    let error: u64 = overlap.iter().map(|(&(_, s), &inside)| inside.min(size[&s] - inside)).sum();
    error as f64 / labels.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ari_is_one_for_the_same_partition_and_known_for_a_small_case() {
        let a = [0, 0, 1, 1, 2, 2];
        let relabelled = [5, 5, 3, 3, 9, 9];
        assert!((adjusted_rand_index(&a, &relabelled) - 1.0).abs() < 1e-12);
        // sklearn.metrics.adjusted_rand_score([0,0,0,1,1,1], [0,0,1,1,2,2]) = 0.24242424...
        let ari = adjusted_rand_index(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]);
        assert!((ari - 0.242_424_242_424).abs() < 1e-9, "{ari}");
    }

    #[test]
    fn boundary_recall_and_undersegmentation() {
        // 4×4: reference splits left | right; ours splits at column 1 | 2 and again at column 3.
        let reference = [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1];
        let ours = [0, 0, 1, 2, 0, 0, 1, 2, 0, 0, 1, 2, 0, 0, 1, 2];
        assert_eq!(boundary_recall(&ours, &reference, 4, 0), 1.0);
        assert_eq!(undersegmentation_error(&ours, &reference), 0.0);
        // Shifting our boundary by one column: recall 0.5 at tolerance 0, 1 at tolerance 1.
        let shifted = [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1];
        assert_eq!(boundary_recall(&shifted, &reference, 4, 0), 0.5);
        assert_eq!(boundary_recall(&shifted, &reference, 4, 1), 1.0);
        // Segment 0 of `shifted` (12 px) straddles both reference segments: its smaller
        // side counts in each, 4 + 4 pixels.
        assert_eq!(undersegmentation_error(&shifted, &reference), 8.0 / 16.0);
        assert!(is_four_connected(&shifted, 4));
        assert!(!is_four_connected(&[0, 1, 1, 0], 2));
        assert_eq!(segment_count(&ours), 3);
    }
}
