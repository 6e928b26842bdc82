//! Segmentation on the device: label maps `[N, H, W]` (i32, labels 0..n per
//! image, each label one 4-connected region) and their segment counts.

pub mod felzenszwalb;
pub mod metrics;
pub mod preset;
pub mod seeds;
pub mod slic;
pub mod watershed;

pub use felzenszwalb::Felzenszwalb;
pub use preset::{Segmenter, paper, segment_all};
pub use seeds::Seeds;
pub use slic::Slic;
pub use watershed::Watershed;

use burn::backend::Dispatch;
use burn::tensor::{Int, Tensor, TensorData};

use crate::Error;
use crate::backend::SegmentationBackend;
use crate::gpu::segment::SegmentParams;

/// Images per batch: the kernels put images on the z axis of the dispatch grid,
/// which WebGPU caps at 65,535 workgroups.
pub const MAX_BATCH: usize = 65_535;

/// Label maps of a batch of images on the device, with each map's segment count.
#[derive(Clone, Debug)]
pub struct Segmentation {
    /// `[N, H, W]`, labels `0..counts[i]` for image `i`.
    pub labels: Tensor<3, Int>,
    pub counts: Vec<usize>,
}

/// Relabels every label map of `labels [N, H, W]` so that each label is one
/// 4-connected region, numbered 0..n in order of first appearance in raster
/// order. Regions of equal input labels that touch only diagonally are split.
pub fn connected_components(labels: Tensor<3, Int>) -> Result<Segmentation, Error> {
    let [n, h, w] = labels.dims();
    if n == 0 || h == 0 || w == 0 {
        return Err(Error::InvalidParameter(format!("empty label maps [{n}, {h}, {w}]")));
    }
    if h * w > i32::MAX as usize {
        return Err(Error::InvalidParameter(format!("a {w}×{h} label map has too many pixels")));
    }
    if n > MAX_BATCH {
        return Err(Error::InvalidParameter(format!("{n} label maps in one batch; at most {MAX_BATCH}")));
    }
    let (components, counts) = Dispatch::connected_components(labels.into_dispatch());
    let counts = Tensor::<1, Int>::from_dispatch(counts);
    // A tiny, blocking readback (the host needs it to go on): one segment count per map, which
    // sizes the part tables built from these labels.
    let counts = read_ints("segment counts", counts)?.into_iter().map(|c| c as usize).collect();
    Ok(Segmentation { labels: Tensor::from_dispatch(components), counts })
}

/// The checks every segmenter makes of its input `[N, 3, H, W]`, its errors
/// prefixed with `method`: RGB, not empty, at most [`MAX_BATCH`] images.
pub(crate) fn check_batch(method: &str, [n, c, h, w]: [usize; 4]) -> Result<(), Error> {
    let bad = |m: String| Err(Error::InvalidParameter(format!("{method}: {m}")));
    if c != 3 {
        return bad(format!("expected RGB images [N, 3, H, W], got {c} channels"));
    }
    if n == 0 || h == 0 || w == 0 {
        return bad(format!("empty image batch [{n}, {c}, {h}, {w}]"));
    }
    if n > MAX_BATCH {
        return bad(format!("{n} images in one batch; at most {MAX_BATCH}"));
    }
    Ok(())
}

/// Reads `t` to the host, counted as a readback for `what`.
pub(crate) fn read_ints(what: &'static str, t: Tensor<1, Int>) -> Result<Vec<i64>, Error> {
    crate::counters::read(what);
    t.into_data().convert::<i64>().try_into_vec::<i64>().map_err(|e| Error::Device(format!("{e:?}")))
}

/// Every round merges each small segment into a neighbour, so the segment count
/// falls with each round; real maps settle in a few. This bound catches a bug.
const MAX_MERGE_ROUNDS: usize = 256;

/// Connected components of `labels [N, H, W]`, then segments smaller than
/// `min_size` pixels merged into a neighbour until none is left (an image
/// that is one segment stays one segment).
pub fn enforce_min_size(labels: Tensor<3, Int>, min_size: usize) -> Result<Segmentation, Error> {
    let [n, h, w] = labels.dims();
    let mut seg = connected_components(labels)?;
    if min_size <= 1 {
        return Ok(seg);
    }
    let params = SegmentParams { width: w as u32, height: h as u32, images: n as u32, min_size: min_size as u32 };
    for _ in 0..MAX_MERGE_ROUNDS {
        let (sizes, first) = Dispatch::segment_sizes(seg.labels.clone().into_dispatch(), params);
        let sizes = Tensor::<2, Int>::from_dispatch(sizes);
        let small = sizes.clone().greater_elem(0).int() * sizes.clone().lower_elem(min_size as i64).int();
        // A tiny, blocking readback (the host needs it to go on): how many small segments each map has left.
        let small = read_ints("small segments", small.sum_dim(1).reshape([n]))?;
        if small.iter().zip(&seg.counts).all(|(&s, &c)| s == 0 || c <= 1) {
            return Ok(seg);
        }
        let counts: Vec<i32> = seg.counts.iter().map(|&c| c as i32).collect();
        let counts = Tensor::<1, Int>::from_data(TensorData::new(counts, [n]), &sizes.device());
        let merged = Dispatch::segment_merge(
            seg.labels.into_dispatch(),
            sizes.into_dispatch(),
            first,
            counts.into_dispatch(),
            params,
        );
        seg = connected_components(Tensor::from_dispatch(merged))?;
    }
    Err(Error::Device(format!("small segments left after {MAX_MERGE_ROUNDS} merge rounds")))
}

/// scikit-image's `util.regular_grid(shape, n_points)`: per axis (start, step)
/// of a grid of about `n_points` seeds spread evenly over `shape`.
pub fn regular_grid(shape: &[usize], n_points: usize) -> Vec<(usize, usize)> {
    let ndim = shape.len();
    let dims: Vec<f64> = shape.iter().map(|&d| d as f64).collect();
    let space: f64 = dims.iter().product();
    if space <= n_points as f64 {
        return vec![(0, 1); ndim];
    }
    let mut order: Vec<usize> = (0..ndim).collect();
    order.sort_by(|&a, &b| dims[a].total_cmp(&dims[b]));
    let sorted: Vec<f64> = order.iter().map(|&i| dims[i]).collect();
    let mut steps = vec![(space / n_points as f64).powf(1.0 / ndim as f64); ndim];
    if sorted.iter().zip(&steps).any(|(d, s)| d < s) {
        for dim in 0..ndim {
            steps[dim] = sorted[dim];
            let rest: f64 = sorted[dim + 1..].iter().product();
            for s in steps.iter_mut().skip(dim + 1) {
                *s = (rest / n_points as f64).powf(1.0 / (ndim - dim - 1) as f64);
            }
            if sorted.iter().zip(&steps).all(|(d, s)| d >= s) {
                break;
            }
        }
    }
    let mut out = vec![(0usize, 1usize); ndim];
    for (k, &axis) in order.iter().enumerate() {
        out[axis] = ((steps[k] / 2.0).floor() as usize, steps[k].round_ties_even() as usize);
    }
    out
}
