//! DEPICT's permutation: one concept's column shuffled across the dataset's
//! lines (its multiset kept), every other column and every label untouched.
//! The images are then regenerated from the permuted captions with the same
//! per-line seeds, so only that concept moves.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// The seed of permutation `k` of column `column` under `seed`.
fn stream(seed: u64, column: usize, k: usize) -> u64 {
    // splitmix64 of the three, so neighbouring (column, k) draw unrelated shuffles.
    let mut z = seed ^ (column as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (k as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `counts` with column `column` shuffled across the rows (permutation `k`
/// of `seed`).
pub fn permute_column(counts: &[Vec<u32>], column: usize, seed: u64, k: usize) -> Vec<Vec<u32>> {
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(stream(seed, column, k)));
    let mut out = counts.to_vec();
    for (row, &from) in out.iter_mut().zip(&order) {
        row[column] = counts[from][column];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permutation_keeps_the_columns_multiset_and_leaves_the_rest() {
        let counts: Vec<Vec<u32>> = (0..50u32).map(|i| vec![i % 3, i % 7, i]).collect();
        let p = permute_column(&counts, 2, 4, 0);
        for (a, b) in counts.iter().zip(&p) {
            assert_eq!(a[..2], b[..2]);
        }
        let mut column: Vec<u32> = p.iter().map(|r| r[2]).collect();
        assert_ne!(column, (0..50).collect::<Vec<_>>(), "not shuffled");
        column.sort_unstable();
        assert_eq!(column, (0..50).collect::<Vec<_>>());
        assert_eq!(permute_column(&counts, 2, 4, 0), p);
        assert_ne!(permute_column(&counts, 2, 4, 1), p);
    }
}
