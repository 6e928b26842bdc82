//! Small-segment removal on connected label maps.
//!
//! - WGSL: `shaders/segment_sizes.wgsl` and `shaders/segment_merge.wgsl`,
//!   with `shaders/shared/segment_params.wgsl` (the params struct);
//! - params: [`SegmentParams`], here;
//! - launch: [`segment_sizes`] and [`segment_merge`], here (called by
//!   `SegmentationBackend` in `src/backend/segmentation.rs`, driven by
//!   `enforce_min_size` in `src/segment/mod.rs`);
//! - CPU twin: `src/cpu/segment.rs`.

use burn::backend::DType;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::Shape;
use bytemuck::{Pod, Zeroable};

use super::launch::{cast, chain, empty, fill, int, launch, launch_into, loop_budget, tiles, workgroups};

/// Keep in sync with `struct SegmentParams` in `shaders/shared/segment_params.wgsl`
/// (tests/params.rs compares the layouts).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct SegmentParams {
    pub width: u32,
    pub height: u32,
    pub images: u32,
    /// Segments with fewer pixels merge into a neighbour.
    pub min_size: u32,
    /// `segment_min_size`: rounds one dispatch may run (set by the launch).
    pub rounds: u32,
}

const SIZES: &str = include_str!("../../shaders/segment_sizes.wgsl");
const MERGE: &str = include_str!("../../shaders/segment_merge.wgsl");
const MIN_SIZE: &str = include_str!("../../shaders/segment_min_size.wgsl");

/// Invocations per workgroup of `shaders/segment_min_size.wgsl`.
const THREADS: u32 = 256;

/// Loop iterations one round of `segment_min_size` may take per pixel a
/// thread owns (seven passes over its pixels and the union–find walks),
/// budgeted at about four times what the fixtures take: llvmpipe ends a loop
/// silently when the budget runs out.
const ITERATIONS_PER_PIXEL: u32 = 96;

/// Rounds a map may take on an adapter with a loop budget, where every few
/// rounds cost a dispatch; elsewhere the caller's bound holds.
pub const BUDGET_ROUNDS: u32 = 32;

/// Whether `segment_min_size` can run a round of an `h × w` map within the
/// adapter's loop budget (always, on adapters without one).
pub fn min_size_fits(h: usize, w: usize) -> bool {
    let span = (h * w).div_ceil(THREADS as usize) as u64;
    loop_budget().is_none_or(|budget| span * ITERATIONS_PER_PIXEL as u64 <= budget as u64)
}

/// Size and first pixel of every segment of `labels [N, H, W]`, each
/// `[N, H·W]` indexed by label, in the labels' int dtype.
pub fn segment_sizes(labels: CubeTensor, params: SegmentParams) -> (CubeTensor, CubeTensor) {
    let dtype = labels.dtype;
    let labels = int(labels);
    let plane = (params.width * params.height) as usize;
    let shape = Shape::new([params.images as usize, plane]);
    let sizes = empty(&labels, shape.clone(), DType::I32);
    let first = empty(&labels, shape, DType::I32);
    fill(&sizes, 0);
    fill(&first, u32::MAX);
    let grid = tiles(params.width, params.height, params.images);
    launch("segment_sizes", SIZES, grid, &[&labels, &sizes, &first], &params);
    (cast(sizes, dtype), cast(first, dtype))
}

/// One round of small-segment removal (see `shaders/segment_merge.wgsl`).
pub fn segment_merge(
    labels: CubeTensor,
    sizes: CubeTensor,
    first: CubeTensor,
    counts: CubeTensor,
    params: SegmentParams,
) -> CubeTensor {
    let dtype = labels.dtype;
    let (labels, sizes, first, counts) = (int(labels), int(sizes), int(first), int(counts));
    let shape = labels.meta.shape().clone();
    let grid = tiles(params.width, params.height, params.images);
    let inputs = [&labels, &sizes, &first, &counts];
    cast(launch_into("segment_merge", MERGE, grid, &inputs, (shape, DType::I32), &params), dtype)
}

/// Connected components and small-segment removal of every map of `labels
/// [M, H, W]` in one dispatch (see `shaders/segment_min_size.wgsl`): the
/// numbered maps and the table `[M, 4]` (minimum size in, then segment
/// count, done flag and merge rounds), both in the labels' int dtype. At
/// most `params.rounds` rounds ([`BUDGET_ROUNDS`] on an adapter with a loop
/// budget, several rounds per dispatch within it).
pub fn segment_min_size(labels: CubeTensor, table: CubeTensor, params: SegmentParams) -> (CubeTensor, CubeTensor) {
    let dtype = labels.dtype;
    let labels = int(labels);
    let labels = if labels.can_mut() { labels } else { labels.copy() };
    let table = int(table).copy();
    let [m, plane] = [params.images as usize, (params.width * params.height) as usize];
    let parent = empty(&labels, Shape::new([m, plane]), DType::I32);
    let sizes = empty(&labels, Shape::new([m, plane]), DType::I32);
    let scratch = empty(&labels, Shape::new([m, 2, plane]), DType::I32);
    let total = if loop_budget().is_some() { params.rounds.min(BUDGET_ROUNDS) } else { params.rounds };
    let span = plane.div_ceil(THREADS as usize) as u64;
    chain(total as u64, span * ITERATIONS_PER_PIXEL as u64, |_, rounds| {
        let buffers = [&labels, &parent, &sizes, &scratch, &table];
        launch("segment_min_size", MIN_SIZE, workgroups(params.images, THREADS), &buffers, &SegmentParams { rounds, ..params });
    });
    (cast(labels, dtype), cast(table, dtype))
}
