//! Felzenszwalb–Huttenlocher graph segmentation in five stages (see
//! `shaders/felzenszwalb_*.wgsl`): integer smoothing, 8-connected edge costs
//! with their digit histograms, a stable radix sort of the edges by cost,
//! Kruskal's two passes over the sorted edges, and each pixel's root.
//!
//! The sort and the merge are sequential per image (one invocation each,
//! images in parallel) and run in chunks of at most [`SORT_CHUNK`] and
//! [`MERGE_CHUNK`] edges per dispatch: Mesa's lavapipe stops every loop of an
//! invocation after 65,535 iterations in all, so no invocation may loop more.

use bytemuck::{Pod, Zeroable};

/// Keep in sync with the `P_*` constants in `shaders/shared/felzenszwalb_params.wgsl`.
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
    /// Sort: 0 scans the digit counts, 1 places by the low digit, 2 by the high one.
    /// Merge: the pass (0 or 1).
    pub step: u32,
    /// First edge (sort) or sorted position (merge) of this dispatch's chunk.
    pub first: u32,
}

/// Edges one sort dispatch places per image.
pub const SORT_CHUNK: u32 = 32_768;
/// Sorted edges one merge dispatch takes per image: two root walks of at
/// most 21 steps each (union by size keeps trees under log2(2^20) + 1 deep).
pub const MERGE_CHUNK: u32 = 1_024;

/// Costs are in 1/4096 of a grey level (smoothed values carry that precision:
/// coarser units merge the faint gradients of skies and walls differently).
pub const COST_UNIT: u32 = 4096;
/// Weights of the smoothing kernel sum to this, on each axis.
pub const WEIGHT_SUM: u32 = 1024;
/// Costs (below 2^21) sort by two radix digits of this many values.
pub const DIGITS: u32 = 2048;
/// Per image: the histograms of the low and high digits, then the edge count.
pub const COUNTS: u32 = 2 * DIGITS + 1;
/// Cost of an edge slot past the image border.
pub const NO_EDGE: u32 = u32::MAX;

/// The sort's dispatches: the digit scan, then chunks by low and by high digit.
pub fn sort_chunks(params: &FelzenszwalbParams) -> Vec<FelzenszwalbParams> {
    let edges = 4 * params.width * params.height;
    let mut chunks = vec![FelzenszwalbParams { step: 0, first: 0, ..*params }];
    for step in 1..=2 {
        chunks.extend((0..edges).step_by(SORT_CHUNK as usize).map(|first| FelzenszwalbParams { step, first, ..*params }));
    }
    chunks
}

/// A setting's row of the merge's settings table: an edge joins two segments
/// when `(cost − internal) · size < limit` holds for both; segments under
/// `min_size` pixels join a neighbour in the second pass.
pub fn setting_row(scale: f32, min_size: usize) -> [u32; 2] {
    [(scale as f64 * COST_UNIT as f64).ceil() as u32, min_size as u32]
}

/// The merge's dispatches: both passes, chunk by chunk.
pub fn merge_chunks(params: &FelzenszwalbParams) -> Vec<FelzenszwalbParams> {
    let edges = 4 * params.width * params.height;
    (0..2)
        .flat_map(|step| (0..edges).step_by(MERGE_CHUNK as usize).map(move |first| FelzenszwalbParams { step, first, ..*params }))
        .collect()
}

pub(crate) const SMOOTH: &str = include_str!("../../shaders/felzenszwalb_smooth.wgsl");
pub(crate) const EDGE_COSTS: &str = include_str!("../../shaders/felzenszwalb_costs.wgsl");
pub(crate) const SORT: &str = include_str!("../../shaders/felzenszwalb_sort.wgsl");
pub(crate) const MERGE: &str = include_str!("../../shaders/felzenszwalb_merge.wgsl");
pub(crate) const LABEL: &str = include_str!("../../shaders/felzenszwalb_label.wgsl");
