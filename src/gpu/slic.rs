//! SLIC in four stages.
//!
//! - WGSL: `shaders/slic_{range,lab,assign,update}.wgsl`, with
//!   `shaders/shared/slic_params.wgsl` (the params struct) and
//!   `shaders/shared/slic.wgsl` (cluster table, windows);
//! - params: [`SlicParams`], here;
//! - launch: [`slic_lab`] (range and Lab), [`slic_assign`], [`slic_update`],
//!   here (called by `SegmentationBackend` in `src/backend/segmentation.rs`,
//!   driven by `src/segment/slic.rs`);
//! - CPU twin: the functions of the same names in `src/cpu/slic.rs`.

use burn::backend::DType;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::Shape;
use bytemuck::{Pod, Zeroable};

use super::launch::{cast, chain, empty, fill, float, int, launch, launch_into, lines, loop_budget, tiles, workgroups};

/// Keep in sync with `struct SlicParams` in `shaders/shared/slic_params.wgsl`
/// (tests/params.rs compares the layouts).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct SlicParams {
    pub width: u32,
    pub height: u32,
    pub images: u32,
    /// Clusters per image.
    pub clusters: u32,
    /// A cluster considers pixels within `2 * window` of its centre.
    pub window: u32,
    /// Weight of the squared distance in 1/16 px (`m²` in 1/256 units).
    pub w_space: u32,
    /// Weight of the squared Lab distance in 1/4 units (`16 S²` in 1/256 units).
    pub w_color: u32,
    /// Update: the band of window rows this dispatch adds up (when `finish` is 0).
    pub band: u32,
    /// Update: 1 for the last dispatch, which turns the sums into means.
    pub finish: u32,
    /// Iterate: this dispatch's first k-means round (set by the launch).
    pub first_round: u32,
    /// Iterate: rounds in this dispatch (set by the launch).
    pub round_count: u32,
    /// Iterate: rounds in all (`max_num_iter`; the most of any setting).
    pub rounds: u32,
    /// Iterate: settings in its table (see [`SETTING_FIELDS`]).
    pub settings: u32,
}

/// Columns of `slic_iterate`'s settings table, one row per setting: cluster
/// count K, first row of its `[N, K, 8]` block in the cluster table, window,
/// w_space, w_color, rounds, then two unused. Keep in sync with
/// `SETTING_FIELDS` in `shaders/shared/slic.wgsl`.
pub const SETTING_FIELDS: usize = 8;

/// Window rows one update dispatch adds up: at most about 60,000 pixels per
/// cluster, as lavapipe stops an invocation's loops after 65,535 iterations.
pub fn band_rows(window: u32) -> u32 {
    (60_000 / (4 * window + 2)).max(1)
}

/// The update's dispatches for one k-means round: every band of the widest
/// window (`4 · window + 1` rows), then the means.
pub fn update_bands(params: &SlicParams) -> impl Iterator<Item = SlicParams> + '_ {
    let bands = (4 * params.window + 1).div_ceil(band_rows(params.window));
    let sums = (0..bands).map(|band| SlicParams { band, finish: 0, ..*params });
    sums.chain([SlicParams { band: 0, finish: 1, ..*params }])
}

/// Columns of a cluster row: centre y, x (1/16 px), L, a, b (1/4 units), pixel
/// count. Keep in sync with `C_STRIDE` in `shaders/shared/slic.wgsl`.
pub const CLUSTER_STRIDE: usize = 8;

const RANGE: &str = include_str!("../../shaders/slic_range.wgsl");
const LAB: &str = include_str!("../../shaders/slic_lab.wgsl");
const ASSIGN: &str = include_str!("../../shaders/slic_assign.wgsl");
const UPDATE: &str = include_str!("../../shaders/slic_update.wgsl");
const ITERATE: &str = include_str!("../../shaders/slic_iterate.wgsl");

/// Invocations per workgroup of `shaders/slic_iterate.wgsl`.
const THREADS: u32 = 256;

/// Loop iterations one k-means round of `slic_iterate` takes per thread: each
/// of its pixels scans every cluster, then adds itself to its cluster's sums.
fn round_iterations(params: &SlicParams) -> u64 {
    let span = (params.width * params.height).div_ceil(THREADS) as u64;
    span * (params.clusters as u64 + 3) + 8 * (params.clusters.div_ceil(THREADS) as u64 + 1)
}

/// Rounds one `slic_iterate` dispatch may run: all of them, or on an adapter
/// with a loop budget (llvmpipe) as many as fit in it (0: not even one, the
/// caller dispatches `slic_assign` and `slic_update` instead).
pub fn rounds_per_dispatch(params: &SlicParams) -> u32 {
    match loop_budget() {
        Some(budget) => (budget as u64 / round_iterations(params)).min(params.rounds as u64) as u32,
        None => params.rounds,
    }
}

/// SLIC's Lab image `[N, 3, H, W]` of `image [N, 3, H, W]`: `slic_range`
/// then `slic_lab`, in `linear`'s int dtype.
pub fn slic_lab(image: CubeTensor, linear: CubeTensor, cbrt: CubeTensor, params: SlicParams) -> CubeTensor {
    let dtype = linear.dtype;
    let image = float(image);
    let (linear, cbrt) = (int(linear), int(cbrt));
    // Burn's min_dim/max_dim gave a wrong row minimum on lavapipe (0.22.1); this is exact.
    let range_shape = (Shape::new([params.images as usize, 2]), DType::I32);
    let range = launch_into("slic_range", RANGE, lines(64, params.images), &[&image], range_shape, &params);
    let shape = Shape::new([params.images as usize, 3, params.height as usize, params.width as usize]);
    let grid = tiles(params.width, params.height, params.images);
    let inputs = [&image, &range, &linear, &cbrt];
    cast(launch_into("slic_lab", LAB, grid, &inputs, (shape, DType::I32), &params), dtype)
}

/// SLIC's assignment step: labels `[N, H, W]` of the nearest cluster, in `lab`'s int dtype.
pub fn slic_assign(lab: CubeTensor, clusters: CubeTensor, params: SlicParams) -> CubeTensor {
    let dtype = lab.dtype;
    let (lab, clusters) = (int(lab), int(clusters));
    let shape = Shape::new([params.images as usize, params.height as usize, params.width as usize]);
    let grid = tiles(params.width, params.height, params.images);
    cast(launch_into("slic_assign", ASSIGN, grid, &[&lab, &clusters], (shape, DType::I32), &params), dtype)
}

/// SLIC's update step: a copy of `clusters [N, K, 8]` moved to their pixels'
/// means, every band of [`update_bands`] in turn.
pub fn slic_update(lab: CubeTensor, labels: CubeTensor, clusters: CubeTensor, params: SlicParams) -> CubeTensor {
    let dtype = clusters.dtype;
    let (lab, labels) = (int(lab), int(labels));
    // The kernel updates in place: work on a copy, the input may be shared.
    let clusters = int(clusters).copy();
    let sums = empty(&clusters, clusters.meta.shape().clone(), DType::I32);
    fill(&sums, 0);
    for band in update_bands(&params) {
        let grid = lines(params.clusters, params.images);
        launch("slic_update", UPDATE, grid, &[&lab, &labels, &clusters, &sums], &band);
    }
    cast(clusters, dtype)
}

/// Every setting's k-means rounds (assign, then update except after the
/// last) in one launch: the labels `[S·N, H, W]` and a copy of the cluster
/// table (`[Σ N·K_s, 8]`, each setting's block `[N, K_s, 8]`) moved, in
/// `lab`'s int dtype. `params.clusters` and `params.rounds` are the most of
/// any setting. One dispatch, or a chain of [`rounds_per_dispatch`] rounds
/// each (which must be at least 1).
pub fn slic_iterate(lab: CubeTensor, clusters: CubeTensor, settings: CubeTensor, params: SlicParams) -> (CubeTensor, CubeTensor) {
    let dtype = lab.dtype;
    let (lab, settings) = (int(lab), int(settings));
    let clusters = int(clusters).copy();
    let [n, h, w, s] = [params.images, params.height, params.width, params.settings].map(|v| v as usize);
    let rows = clusters.meta.shape()[0];
    let labels = empty(&lab, Shape::new([s * n, h, w]), DType::I32);
    let sums = empty(&lab, Shape::new([rows, 6]), DType::I32);
    chain(params.rounds as u64, round_iterations(&params), |first_round, round_count| {
        let chunk = SlicParams { first_round, round_count, ..params };
        let buffers = [&lab, &clusters, &labels, &sums, &settings];
        launch("slic_iterate", ITERATE, workgroups(params.images * params.settings, THREADS), &buffers, &chunk);
    });
    (cast(labels, dtype), cast(clusters, dtype))
}
