//! The performance DEPICT measures: AUROC of one class's probability against
//! the labels (one class against the rest), or accuracy.

use crate::Error;

/// How performance is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    Auroc,
    Accuracy,
}

impl std::str::FromStr for Metric {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        match text {
            "auroc" => Ok(Metric::Auroc),
            "accuracy" => Ok(Metric::Accuracy),
            _ => Err(Error::InvalidParameter(format!("metric `{text}`: use auroc or accuracy"))),
        }
    }
}

/// Ranks from 1, ties sharing their mean rank.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            out[o] = mean;
        }
        i = j + 1;
    }
    out
}

/// The area under the ROC curve of `scores` for the `positive` rows
/// (Mann–Whitney U with tied scores counted half, as scikit-learn's
/// `roc_auc_score`). Both classes must be present.
pub fn auroc(scores: &[f32], positive: &[bool]) -> Result<f64, Error> {
    let p = positive.iter().filter(|&&b| b).count();
    let n = positive.len() - p;
    if p == 0 || n == 0 {
        return Err(Error::InvalidParameter("AUROC needs both the target class and other classes among the labels".into()));
    }
    let r = ranks(&scores.iter().map(|&s| s as f64).collect::<Vec<_>>());
    let sum: f64 = r.iter().zip(positive).filter(|(_, b)| **b).map(|(r, _)| r).sum();
    Ok((sum - (p * (p + 1)) as f64 / 2.0) / (p * n) as f64)
}

/// Share of `predicted` equal to `labels`.
pub fn accuracy(predicted: &[usize], labels: &[usize]) -> f64 {
    predicted.iter().zip(labels).filter(|(a, b)| a == b).count() as f64 / labels.len().max(1) as f64
}

/// Spearman's ρ: Pearson's correlation of the tie-averaged ranks.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let (va, vb): (f64, f64) = (ra.iter().map(|x| (x - ma).powi(2)).sum(), rb.iter().map(|y| (y - mb).powi(2)).sum());
    cov / (va * vb).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_matches_hand_counts_with_ties() {
        // Pairs (positive, negative): 0.9>0.1, 0.9>0.5, 0.5=0.5 (half), 0.5>0.1 → 3.5 of 4.
        let a = auroc(&[0.9, 0.5, 0.5, 0.1], &[true, true, false, false]).unwrap();
        assert!((a - 0.875).abs() < 1e-12, "{a}");
        assert_eq!(auroc(&[0.1, 0.2], &[false, true]).unwrap(), 1.0);
        assert!(auroc(&[0.1, 0.2], &[true, true]).is_err());
        assert_eq!(accuracy(&[1, 2, 3], &[1, 0, 3]), 2.0 / 3.0);
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 30.0, 20.0]) - 0.5).abs() < 1e-12);
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
    }
}
