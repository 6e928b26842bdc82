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
pub(crate) use preset::segment_all_pending;
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

/// A condition the device checked: `count` (`[1]`) must be 0, else the
/// segmentation fails with `message`. Checks ride along with a read the host
/// makes anyway, so they cost no readback of their own.
#[derive(Clone, Debug)]
pub(crate) struct Check {
    pub count: Tensor<1, Int>,
    pub message: String,
}

/// Label maps whose segment counts (and checks) are still on the device:
/// [`resolve`] reads those of many segmentations at once.
#[derive(Clone, Debug)]
pub struct Pending {
    pub labels: Tensor<3, Int>,
    /// `[N]`.
    pub counts: Tensor<1, Int>,
    checks: Vec<Check>,
}

impl Pending {
    pub fn resolve(self) -> Result<Segmentation, Error> {
        Ok(resolve(vec![self])?.pop().expect("one segmentation"))
    }
}

/// The segmentations of `pending`, their counts read in one blocking readback.
pub fn resolve(pending: Vec<Pending>) -> Result<Vec<Segmentation>, Error> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let sizes: Vec<usize> = pending.iter().map(|p| p.counts.dims()[0]).collect();
    let mut values = Vec::with_capacity(pending.len());
    let mut checks = Vec::new();
    for p in pending.iter() {
        values.push(p.counts.clone());
        checks.extend(p.checks.iter().cloned());
    }
    let counts = read_checked("segment counts", Tensor::cat(values, 0), checks)?;
    let mut counts = counts.into_iter();
    Ok(pending
        .into_iter()
        .zip(sizes)
        .map(|(p, n)| Segmentation { labels: p.labels, counts: counts.by_ref().take(n).map(|c| c as usize).collect() })
        .collect())
}

/// Reads `values` and every check's count in one blocking readback (counted
/// as one for `what`); the first failed check is the error.
fn read_checked(what: &'static str, values: Tensor<1, Int>, checks: Vec<Check>) -> Result<Vec<i64>, Error> {
    let len = values.dims()[0];
    let mut all = vec![values];
    all.extend(checks.iter().map(|c| c.count.clone()));
    let read = read_ints(what, Tensor::cat(all, 0))?;
    if let Some((check, _)) = checks.iter().zip(&read[len..]).find(|(_, v)| **v != 0) {
        return Err(Error::Device(check.message.clone()));
    }
    Ok(read[..len].to_vec())
}

/// Relabels every label map of `labels [N, H, W]` so that each label is one
/// 4-connected region, numbered 0..n in order of first appearance in raster
/// order. Regions of equal input labels that touch only diagonally are split.
pub fn connected_components(labels: Tensor<3, Int>) -> Result<Segmentation, Error> {
    components(labels)?.resolve()
}

/// [`connected_components`] with the counts left on the device.
fn components(labels: Tensor<3, Int>) -> Result<Pending, Error> {
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
    Ok(Pending { labels: Tensor::from_dispatch(components), counts: Tensor::from_dispatch(counts), checks: Vec::new() })
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
    check_binding(method, "the image batch", (n * c * h * w * 4) as u64)
}

/// A clear error when a buffer of `bytes` would not fit in one storage
/// binding of the devices in use (wgpu would stop with a validation error).
pub(crate) fn check_binding(method: &str, what: &str, bytes: u64) -> Result<(), Error> {
    match crate::gpu::launch::max_binding() {
        Some(limit) if bytes > limit => Err(Error::InvalidParameter(format!(
            "{method}: {what} needs a {} MiB buffer, over the device's {} MiB storage binding limit; segment fewer or smaller images at once",
            bytes >> 20,
            limit >> 20
        ))),
        _ => Ok(()),
    }
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
    min_size_pending(labels, min_size, Vec::new())?.resolve()
}

/// [`enforce_min_size`] with the counts left on the device.
pub(crate) fn min_size_pending(labels: Tensor<3, Int>, min_size: usize, checks: Vec<Check>) -> Result<Pending, Error> {
    Ok(min_size_all(vec![Raw { labels, min_size, checks }])?.remove(0))
}

/// What several settings of one batch derive from the images alike, made by
/// the first setting that needs it: SLIC's quantised CIE Lab image and the
/// watershed's Sobel gradient.
#[derive(Default)]
pub(crate) struct Shared {
    pub lab: Option<Tensor<4, Int>>,
    pub gradient: Option<Tensor<3, Int>>,
}

/// Label maps `[N, H, W]` straight from a segmenter, before connected
/// components and the minimum segment size.
pub(crate) struct Raw {
    pub labels: Tensor<3, Int>,
    pub min_size: usize,
    pub checks: Vec<Check>,
}

/// Connected components and small-segment removal of every raw
/// segmentation (all the same map size), the counts left on the device: the
/// maps of all of them in one dispatch where the adapter allows
/// (`segment_min_size`; on llvmpipe, maps too large for its loop budget go
/// through [`min_size_on_host`] instead).
pub(crate) fn min_size_all(raw: Vec<Raw>) -> Result<Vec<Pending>, Error> {
    let Some(first) = raw.first() else { return Ok(Vec::new()) };
    let [_, h, w] = first.labels.dims();
    if !crate::gpu::segment::min_size_fits(h, w) {
        return raw.into_iter().map(|r| min_size_on_host(r.labels, r.min_size, r.checks)).collect();
    }
    let sizes: Vec<usize> = raw.iter().map(|r| r.labels.dims()[0]).collect();
    let maps: usize = sizes.iter().sum();
    if maps == 0 || h == 0 || w == 0 || raw.iter().any(|r| r.labels.dims()[1..] != [h, w]) {
        return Err(Error::InvalidParameter(format!("label maps to merge must be one size and not empty, got {h}×{w}")));
    }
    if maps > MAX_BATCH || h * w > i32::MAX as usize {
        return Err(Error::InvalidParameter(format!("{maps} label maps of {w}×{h} in one batch")));
    }
    let device = first.labels.device();
    // Table rows: the map's minimum size, then its count, done flag and rounds (outputs).
    let rows: Vec<i32> =
        raw.iter().zip(&sizes).flat_map(|(r, &n)| (0..n).flat_map(|_| [r.min_size.min(i32::MAX as usize) as i32, 0, 0, 0])).collect();
    let table = Tensor::<2, Int>::from_data(TensorData::new(rows, [maps, 4]), &device);
    let (labels, checks): (Vec<_>, Vec<_>) = raw.into_iter().map(|r| (r.labels, r.checks)).unzip();
    let labels = Tensor::cat(labels, 0);
    // Maps per launch: its largest buffer (two scratch planes per map) within 64 MiB.
    let group = ((64 << 20) / (8 * h * w)).max(1);
    let (mut all_labels, mut all_tables) = (Vec::new(), Vec::new());
    for start in (0..maps).step_by(group) {
        let range = start..(start + group).min(maps);
        let params =
            SegmentParams { width: w as u32, height: h as u32, images: range.len() as u32, min_size: 0, rounds: MAX_MERGE_ROUNDS as u32 };
        let (l, t) = Dispatch::segment_min_size(
            labels.clone().slice([range.clone(), 0..h, 0..w]).into_dispatch(),
            table.clone().slice([range, 0..4]).into_dispatch(),
            params,
        );
        all_labels.push(Tensor::<3, Int>::from_dispatch(l));
        all_tables.push(Tensor::<2, Int>::from_dispatch(t));
    }
    let (labels, table) = (Tensor::cat(all_labels, 0), Tensor::cat(all_tables, 0));
    let counts = table.clone().slice([0..maps, 1..2]).reshape([maps]);
    let unfinished = table.slice([0..maps, 2..3]).equal_elem(0).int().sum();
    let mut at = 0;
    Ok(sizes
        .into_iter()
        .zip(checks)
        .enumerate()
        .map(|(i, (n, mut checks))| {
            let range = at..at + n;
            at += n;
            if i == 0 {
                checks.push(Check {
                    count: unfinished.clone(),
                    message: format!(
                        "small segments left after {MAX_MERGE_ROUNDS} merge rounds (at most {} on llvmpipe)",
                        crate::gpu::segment::BUDGET_ROUNDS
                    ),
                });
            }
            Pending { labels: labels.clone().slice([range.clone(), 0..h, 0..w]), counts: counts.clone().slice([range]), checks }
        })
        .collect())
}

/// Connected components, then rounds of small-segment merging driven by the
/// host, which reads how many small segments are left after each round
/// (a blocking readback per round; `checks` ride along with the first).
fn min_size_on_host(labels: Tensor<3, Int>, min_size: usize, mut checks: Vec<Check>) -> Result<Pending, Error> {
    let [n, h, w] = labels.dims();
    let mut seg = components(labels)?;
    if min_size <= 1 {
        seg.checks = checks;
        return Ok(seg);
    }
    let params = SegmentParams { width: w as u32, height: h as u32, images: n as u32, min_size: min_size as u32, rounds: 0 };
    for _ in 0..MAX_MERGE_ROUNDS {
        let (sizes, first) = Dispatch::segment_sizes(seg.labels.clone().into_dispatch(), params);
        let sizes = Tensor::<2, Int>::from_dispatch(sizes);
        let small = sizes.clone().greater_elem(0).int() * sizes.clone().lower_elem(min_size as i64).int();
        // Small segments of maps with more than one segment, summed over the batch.
        let left = (small.sum_dim(1).reshape([n]) * seg.counts.clone().greater_elem(1).int()).sum();
        // A tiny, blocking readback (the host needs it to go on): how many small segments are left.
        if read_checked("small segments", left, std::mem::take(&mut checks))?[0] == 0 {
            return Ok(seg);
        }
        let merged = Dispatch::segment_merge(
            seg.labels.into_dispatch(),
            sizes.into_dispatch(),
            first,
            seg.counts.into_dispatch(),
            params,
        );
        seg = components(Tensor::from_dispatch(merged))?;
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
