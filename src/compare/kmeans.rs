//! k-means with k-means++ seeding (Arthur & Vassilvitskii 2007) on the
//! device: distances, assignments and centroid updates are tensor ops on the
//! points where they lie; the host reads one count per Lloyd step (has any
//! assignment changed?) and, while seeding, the distances it samples from.
//! Several restarts from seeds `seed, seed + 1, …`; the one of least inertia
//! wins, as scikit-learn's `n_init`.

use burn::tensor::{Int, Tensor, TensorData, ops::IndexingUpdateOp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::Error;

/// How to cluster.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct KMeans {
    pub clusters: usize,
    pub restarts: usize,
    /// Lloyd steps per restart at most (each stops early once no point moves).
    pub max_iter: usize,
    pub seed: u64,
}

impl Default for KMeans {
    fn default() -> Self {
        KMeans { clusters: 20, restarts: 4, max_iter: 100, seed: 0 }
    }
}

/// The best restart's clusters.
#[derive(Clone, Debug, PartialEq)]
pub struct Clustering {
    /// Each point's cluster, `0..clusters`.
    pub assignments: Vec<usize>,
    /// Each point's squared distance to its cluster's centroid.
    pub distances: Vec<f32>,
    /// Sum of `distances`.
    pub inertia: f32,
    /// The restart that won.
    pub restart: usize,
}

fn floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, Error> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::Device(format!("{e:?}")))
}

/// Squared distances `[n, k]` of the points `x [n, d]` (with their squared
/// norms `x2 [n, 1]`) to the centres `c [k, d]`, clamped at 0 (rounding).
fn distances(x: &Tensor<2>, x2: &Tensor<2>, c: Tensor<2>) -> Tensor<2> {
    let c2 = c.clone().powi_scalar(2).sum_dim(1).transpose();
    (x2.clone() - x.clone().matmul(c.transpose()) * 2.0 + c2).clamp_min(0.0)
}

/// Clusters the rows of `x [n, d]`.
pub fn kmeans(x: &Tensor<2>, config: &KMeans) -> Result<Clustering, Error> {
    let [n, _] = x.dims();
    if config.clusters == 0 {
        return Err(Error::InvalidParameter("--clusters must be at least 1".into()));
    }
    if config.clusters > n {
        return Err(Error::InvalidParameter(format!("more clusters ({}) than features ({n})", config.clusters)));
    }
    if config.restarts == 0 || config.max_iter == 0 {
        return Err(Error::InvalidParameter("k-means needs at least one restart and one step".into()));
    }
    let x2 = x.clone().powi_scalar(2).sum_dim(1);
    let mut best: Option<Clustering> = None;
    for restart in 0..config.restarts {
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed.wrapping_add(restart as u64));
        let centres = seed_centres(x, &x2, config.clusters, &mut rng)?;
        let run = lloyd(x, &x2, centres, config.max_iter)?;
        if best.as_ref().is_none_or(|b| run.0 < b.inertia) {
            let (inertia, assignments, distances) = run;
            best = Some(Clustering { assignments, distances, inertia, restart });
        }
    }
    Ok(best.expect("at least one restart"))
}

/// k-means++: the first centre uniformly, each next with probability
/// proportional to the squared distance to the nearest centre so far.
fn seed_centres(x: &Tensor<2>, x2: &Tensor<2>, k: usize, rng: &mut ChaCha8Rng) -> Result<Tensor<2>, Error> {
    let [n, d] = x.dims();
    let device = x.device();
    let row = |i: usize| x.clone().slice([i..i + 1, 0..d]);
    let mut chosen = vec![rng.random_range(0..n)];
    let mut nearest = distances(x, x2, row(chosen[0]));
    while chosen.len() < k {
        let d2 = floats(nearest.clone())?;
        let total: f64 = d2.iter().map(|&v| v as f64).sum();
        let next = if total > 0.0 {
            let mut r = rng.random::<f64>() * total;
            let mut pick = n - 1;
            for (i, &v) in d2.iter().enumerate() {
                r -= v as f64;
                if r < 0.0 && v > 0.0 {
                    pick = i;
                    break;
                }
            }
            pick
        } else {
            // Every point sits on a centre: any point not chosen yet.
            (0..n).find(|i| !chosen.contains(i)).expect("k ≤ n")
        };
        chosen.push(next);
        nearest = Tensor::cat(vec![nearest, distances(x, x2, row(next))], 1).min_dim(1);
    }
    let ids: Vec<i64> = chosen.iter().map(|&i| i as i64).collect();
    Ok(x.clone().select(0, Tensor::<1, Int>::from_data(TensorData::new(ids, [k]), &device)))
}

/// Lloyd's steps from `centres` until no point changes cluster (or
/// `max_iter`): the inertia, the assignments and each point's distance.
/// A cluster left empty keeps its centre.
fn lloyd(x: &Tensor<2>, x2: &Tensor<2>, mut centres: Tensor<2>, max_iter: usize) -> Result<(f32, Vec<usize>, Vec<f32>), Error> {
    let [n, d] = x.dims();
    let k = centres.dims()[0];
    let device = x.device();
    let ones = Tensor::<2>::ones([n, 1], &device);
    let mut previous: Option<Tensor<1, Int>> = None;
    let (mut nearest, mut assignment);
    let mut step = 0;
    loop {
        let (min, index) = distances(x, x2, centres.clone()).min_dim_with_indices(1);
        nearest = min.reshape([n]);
        assignment = index.reshape([n]);
        step += 1;
        let moved = match &previous {
            None => n,
            Some(p) => p.clone().not_equal(assignment.clone()).int().sum().into_scalar::<i64>() as usize,
        };
        if moved == 0 || step > max_iter {
            break;
        }
        let sums = Tensor::<2>::zeros([k, d], &device).select_assign(0, assignment.clone(), x.clone(), IndexingUpdateOp::Add);
        let counts = Tensor::<2>::zeros([k, 1], &device).select_assign(0, assignment.clone(), ones.clone(), IndexingUpdateOp::Add);
        let filled = counts.clone().greater_elem(0.0).expand([k, d]);
        centres = centres.mask_where(filled, sums / counts.clamp_min(1.0));
        previous = Some(assignment.clone());
    }
    let distances = floats(nearest)?;
    let ids = assignment.into_data().convert::<i64>().try_into_vec::<i64>().map_err(|e| Error::Device(format!("{e:?}")))?;
    let inertia = distances.iter().map(|&v| v as f64).sum::<f64>() as f32;
    Ok((inertia, ids.into_iter().map(|i| i as usize).collect(), distances))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    /// Three tight blobs far apart, shuffled.
    fn blobs(device: &Device) -> (Tensor<2>, Vec<usize>) {
        let centres = [[0.0, 0.0, 0.0], [10.0, 0.0, 5.0], [0.0, 10.0, -5.0]];
        let mut rows = Vec::new();
        let mut truth = Vec::new();
        for i in 0..60usize {
            let c = (i * 7) % 3;
            let jitter = ((i * 37) % 11) as f32 / 11.0 - 0.5;
            rows.extend(centres[c].iter().map(|v| v + jitter * 0.3));
            truth.push(c);
        }
        (Tensor::from_data(TensorData::new(rows, [60, 3]), device), truth)
    }

    #[test]
    fn separated_blobs_are_recovered_and_the_same_seed_repeats_exactly() {
        let device = Device::flex();
        let (x, truth) = blobs(&device);
        let config = KMeans { clusters: 3, restarts: 3, max_iter: 50, seed: 7 };
        let c = kmeans(&x, &config).unwrap();
        // The clusters are the blobs, up to naming.
        for i in 0..60 {
            for j in 0..60 {
                assert_eq!(truth[i] == truth[j], c.assignments[i] == c.assignments[j], "points {i} and {j}");
            }
        }
        assert!(c.inertia < 60.0 * 0.3 * 0.3, "inertia {}", c.inertia);
        assert_eq!(kmeans(&x, &config).unwrap(), c);
    }

    #[test]
    fn too_many_clusters_and_zero_clusters_are_errors() {
        let device = Device::flex();
        let (x, _) = blobs(&device);
        let too_many = kmeans(&x, &KMeans { clusters: 61, ..Default::default() }).unwrap_err().to_string();
        assert!(too_many.contains("more clusters (61) than features (60)"), "{too_many}");
        assert!(kmeans(&x, &KMeans { clusters: 0, ..Default::default() }).is_err());
        // As many clusters as points: every point its own, inertia 0.
        let all = kmeans(&x.clone().slice([0..5, 0..3]), &KMeans { clusters: 5, ..Default::default() }).unwrap();
        assert_eq!(all.inertia, 0.0);
    }
}
