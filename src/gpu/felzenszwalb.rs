//! Felzenszwalb–Huttenlocher graph segmentation in five stages (see
//! `shaders/felzenszwalb_*.wgsl`): integer smoothing, 8-connected edge costs,
//! a stable radix sort of the edges by cost, Kruskal's two passes over the
//! sorted edges, and each pixel's root.
//!
//! The sort is three counting passes of one 256-invocation workgroup per
//! image, each invocation counting and placing a contiguous chunk, in one
//! dispatch (a chain within llvmpipe's loop budget). The merge decides
//! windows of 256 sorted edges per round by deterministic reservations, one
//! workgroup per image and setting, its rounds inside the dispatch (a chain
//! of them within llvmpipe's budget).
//!
//! - WGSL: `shaders/felzenszwalb_{smooth,costs,sort,merge,label}.wgsl`, with
//!   `shaders/shared/felzenszwalb_params.wgsl` (the params struct, constants
//!   and edge slots);
//! - params: [`FelzenszwalbParams`], here;
//! - launch: [`felzenszwalb`], here (called by
//!   `SegmentationBackend::felzenszwalb` in `src/backend/segmentation.rs`);
//! - CPU twin: the functions of the same names in `src/cpu/felzenszwalb.rs`.

use burn::backend::DType;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::Shape;
use bytemuck::{Pod, Zeroable};

use super::launch::{cast, chain, empty, fill, float, int, launch, launch_into, tiles, workgroups};

/// Keep in sync with `struct FelzenszwalbParams` in
/// `shaders/shared/felzenszwalb_params.wgsl` (tests/params.rs compares the layouts).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct FelzenszwalbParams {
    pub width: u32,
    pub height: u32,
    pub images: u32,
    /// Radius of the smoothing kernel (the weights have `2·radius + 1` taps).
    pub radius: u32,
    /// Settings per image, each with its own merge (see the `settings` table of
    /// the merge: per setting `ceil(scale · COST_UNIT)` and min_size).
    pub settings: u32,
    /// Sort: the first step (pass · 3 + phase, of [`SORT_STEPS`]) of this dispatch.
    pub sort_first: u32,
    /// Merge: [`MERGE_JOIN`] or [`MERGE_MIN_SIZE`].
    pub merge_pass: u32,
    /// Sort: steps in this dispatch.
    pub sort_steps: u32,
    /// Merge: rounds this dispatch may run (set by the launch).
    pub rounds: u32,
}

/// Merge passes ([`FelzenszwalbParams::merge_pass`]): joins by internal
/// difference, then joins of segments under min_size. Keep in sync with
/// `shaders/shared/felzenszwalb_params.wgsl`.
pub const MERGE_JOIN: u32 = 0;
pub const MERGE_MIN_SIZE: u32 = 1;

/// Costs are in 1/4096 of a grey level (smoothed values carry that precision:
/// coarser units merge the faint gradients of skies and walls differently).
pub const COST_UNIT: u32 = 4096;
/// Weights of the smoothing kernel sum to this, on each axis.
pub const WEIGHT_SUM: u32 = 1024;
/// Costs (below 2^21) sort by three radix digits of this many bits.
pub const DIGIT_BITS: u32 = 7;
/// Values of one radix digit.
pub const DIGITS: u32 = 1 << DIGIT_BITS;
/// Invocations of the sort per image, each owning a contiguous chunk of a pass.
pub const SORT_THREADS: u32 = 256;
/// Steps of the sort: three passes of count, scan and scatter.
pub const SORT_STEPS: u32 = 9;
/// Per image: a pass's digit counts per invocation `[DIGITS, SORT_THREADS]`,
/// then the edge count (at [`TOTAL`]).
pub const COUNTS: u32 = DIGITS * SORT_THREADS + 1;
/// Where the edge count sits in an image's row of the counts.
pub const TOTAL: u32 = DIGITS * SORT_THREADS;
/// Cost of an edge slot past the image border.
pub const NO_EDGE: u32 = u32::MAX;

/// Loop iterations one sort step takes in an invocation (llvmpipe's budget):
/// a chunk of the edges, or the scan's two walks over DIGITS entries.
pub fn sort_step_iterations(width: u32, height: u32) -> u64 {
    (4 * width as u64 * height as u64).div_ceil(SORT_THREADS as u64) + 2 * DIGITS as u64 + 16
}

/// Loop iterations one merge round takes in an invocation (llvmpipe's
/// budget): the round itself and two walks to a root. Trees are joined by
/// size, so a tree of s pixels is at most floor(log2 s) high, and a walk
/// loops once per step up plus the pass that finds the root.
pub fn merge_round_iterations(width: u32, height: u32) -> u64 {
    let height_bound = (width * height).max(1).ilog2() as u64;
    1 + 2 * (height_bound + 1)
}

/// The sort's dispatches: all [`SORT_STEPS`] in one, or a chain within the
/// adapter's loop budget.
pub fn sort_dispatches(params: &FelzenszwalbParams) -> Vec<FelzenszwalbParams> {
    let mut dispatches = Vec::new();
    chain(SORT_STEPS as u64, sort_step_iterations(params.width, params.height), |sort_first, sort_steps| {
        dispatches.push(FelzenszwalbParams { sort_first, sort_steps, ..*params })
    });
    dispatches
}

/// A setting's row of the merge's settings table: an edge joins two segments
/// when `(cost − internal) · size < limit` holds for both; segments under
/// `min_size` pixels join a neighbour in the second pass.
pub fn setting_row(scale: f32, min_size: usize) -> [u32; 2] {
    [(scale as f64 * COST_UNIT as f64).ceil() as u32, min_size as u32]
}

const SMOOTH: &str = include_str!("../../shaders/felzenszwalb_smooth.wgsl");
const EDGE_COSTS: &str = include_str!("../../shaders/felzenszwalb_costs.wgsl");
const SORT: &str = include_str!("../../shaders/felzenszwalb_sort.wgsl");
const MERGE: &str = include_str!("../../shaders/felzenszwalb_merge.wgsl");
const LABEL: &str = include_str!("../../shaders/felzenszwalb_label.wgsl");

/// Invocations per workgroup of `shaders/felzenszwalb_merge.wgsl`: its window of sorted positions.
const MERGE_THREADS: u32 = 256;


/// Felzenszwalb's roots `[N·S, H, W]` (in `weights`' int dtype) of `image
/// [N, 3, H, W]` for every row of `settings [S, 2]`: all five stages; and
/// `[N·S]`, 1 where a merge pass did not finish within its rounds.
pub fn felzenszwalb(image: CubeTensor, weights: CubeTensor, settings: CubeTensor, params: FelzenszwalbParams) -> (CubeTensor, CubeTensor) {
    let dtype = weights.dtype;
    let (image, weights, settings) = (float(image), int(weights), int(settings));
    let items = params.images * params.settings;
    let [n, h, w] = [params.images, params.height, params.width].map(|v| v as usize);
    let grid = || tiles(params.width, params.height, params.images);
    let table_of = |rows: usize, columns: usize| empty(&weights, Shape::new([rows, columns]), DType::I32);
    let table = |columns: usize| table_of(n, columns);
    let smooth_shape = (Shape::new([n, 3, h, w]), DType::I32);
    let smooth = launch_into("felzenszwalb_smooth", SMOOTH, grid(), &[&image, &weights], smooth_shape, &params);
    let counts = table(COUNTS as usize);
    let (costs, forest) = (table(4 * h * w), table(params.settings as usize * 3 * h * w));
    launch("felzenszwalb_costs", EDGE_COSTS, grid(), &[&smooth, &costs, &forest], &params);
    let (spare, order) = (table(4 * h * w), table(4 * h * w));
    for sort in sort_dispatches(&params) {
        let grid = workgroups(params.images, SORT_THREADS);
        launch("felzenszwalb_sort", SORT, grid, &[&costs, &counts, &spare, &order], &sort);
    }
    // The merge: deterministic reservations, rounds inside the dispatch.
    let progress = table_of(items as usize, 1 + 4 * h * w);
    let reserve = table_of(items as usize, h * w);
    fill(&reserve, u32::MAX);
    // Every round decides at least one edge (the window's first), so a pass
    // ends within `edges` rounds: natural 224² images take 2,000–6,000, a
    // flat one about one per edge (its chains of joins serialise). Dispatches
    // after the end return at once.
    let rounds = 4 * params.width * params.height + 1;
    for merge_pass in [MERGE_JOIN, MERGE_MIN_SIZE] {
        fill(&progress, 0);
        chain(rounds as u64, merge_round_iterations(params.width, params.height), |_, rounds| {
            let buffers = [&costs, &order, &counts, &forest, &settings, &progress, &reserve];
            launch("felzenszwalb_merge", MERGE, workgroups(items, MERGE_THREADS), &buffers, &FelzenszwalbParams { merge_pass, rounds, ..params });
        });
    }
    let labels_shape = (Shape::new([items as usize, h, w]), DType::I32);
    let grid = tiles(params.width, params.height, items);
    let unfinished = empty(&weights, Shape::new([items as usize]), DType::I32);
    let labels = launch_into("felzenszwalb_label", LABEL, grid, &[&forest, &progress, &counts, &unfinished], labels_shape, &params);
    (cast(labels, dtype), cast(unfinished, dtype))
}
