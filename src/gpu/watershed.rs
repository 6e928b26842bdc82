//! Compact watershed in four stages.
//!
//! - WGSL: `shaders/watershed_{gradient,init,flood,label}.wgsl`, with
//!   `shaders/shared/watershed_params.wgsl` (the params struct);
//! - params: [`WatershedParams`], here;
//! - launch: the functions of the same names, here (called by
//!   `SegmentationBackend` in `src/backend/segmentation.rs`, driven by
//!   `src/segment/watershed.rs`);
//! - CPU twin: the functions of the same names in `src/cpu/watershed.rs`.

use burn::backend::DType;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::Shape;
use bytemuck::{Pod, Zeroable};

use super::launch::{cast, chain, empty, fill, float, int, launch, launch_into, loop_budget, tiles, workgroups};

/// Keep in sync with `struct WatershedParams` in
/// `shaders/shared/watershed_params.wgsl` (tests/params.rs compares the layouts).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct WatershedParams {
    pub width: u32,
    pub height: u32,
    /// Images × markers of this group: the z extent of the per-marker stages.
    pub images: u32,
    /// Markers in this group.
    pub group: u32,
    /// Index of the group's first marker.
    pub first: u32,
    /// Images in the batch.
    pub batch: u32,
    /// Flooding: at most this many rounds of four wavefront passes (the GPU
    /// launch may cap it further, see [`watershed_flood`]).
    pub rounds: u32,
    /// Flooding: the first step (pass, diagonal) of one dispatch; set by the launch.
    pub step: u32,
    /// Flooding: steps in one dispatch; set by the launch.
    pub steps: u32,
}

/// Columns of the markers table: y, x, the marker's setting and its index
/// within the setting. Keep in sync with `MARKER_FIELDS` in
/// `shaders/shared/watershed_params.wgsl`.
pub const MARKER_FIELDS: usize = 4;

/// Entries of one setting's distance table on a `width × height` image:
/// every squared distance, `(W−1)² + (H−1)² + 1`.
pub fn distances(width: u32, height: u32) -> usize {
    let (w, h) = (width as usize - 1, height as usize - 1);
    w * w + h * h + 1
}

/// A flooding level no path has reached. Keep in sync with `UNREACHED` in
/// `shaders/shared/watershed_params.wgsl`.
pub const UNREACHED: u32 = u32::MAX;

const GRADIENT: &str = include_str!("../../shaders/watershed_gradient.wgsl");
const INIT: &str = include_str!("../../shaders/watershed_init.wgsl");
const FLOOD: &str = include_str!("../../shaders/watershed_flood.wgsl");
const LABEL: &str = include_str!("../../shaders/watershed_label.wgsl");

/// The integer Sobel gradient `[N, H, W]` (i32) of `image [N, 3, H, W]`.
pub fn watershed_gradient(image: CubeTensor, params: WatershedParams) -> CubeTensor {
    let image = float(image);
    let shape = Shape::new([params.batch as usize, params.height as usize, params.width as usize]);
    let grid = tiles(params.width, params.height, params.batch);
    launch_into("watershed_gradient", GRADIENT, grid, &[&image], (shape, DType::I32), &params)
}

/// Flooding levels `[N·G, H, W]` of one group of markers, before any sweep,
/// in `gradient`'s int dtype.
pub fn watershed_init(gradient: CubeTensor, markers: CubeTensor, params: WatershedParams) -> CubeTensor {
    let dtype = gradient.dtype;
    let (gradient, markers) = (int(gradient), int(markers));
    let shape = Shape::new([params.images as usize, params.height as usize, params.width as usize]);
    let grid = tiles(params.width, params.height, params.images);
    let inputs = [&gradient, &markers];
    cast(launch_into("watershed_init", INIT, grid, &inputs, (shape, DType::I32), &params), dtype)
}

/// Rounds a flooding may take on an adapter with a loop budget (llvmpipe),
/// where every round costs dispatches; elsewhere `params.rounds` holds.
pub const BUDGET_ROUNDS: u32 = 64;

/// Invocations per workgroup of `shaders/watershed_flood.wgsl`.
const THREADS: u32 = 256;

/// Relaxes the levels of every map to their fixed point, at most
/// `params.rounds` rounds (in place when unshared), one workgroup per map:
/// the levels and the state `[N·G, 2]` (settled flag, drops in the last
/// round). One dispatch on most adapters; on an adapter with a loop budget,
/// a chain of dispatches each within it (the later ones return at once
/// once their maps settle), at most [`BUDGET_ROUNDS`] rounds.
pub fn watershed_flood(
    gradient: CubeTensor,
    markers: CubeTensor,
    distance: CubeTensor,
    level: CubeTensor,
    params: WatershedParams,
) -> (CubeTensor, CubeTensor) {
    let dtype = level.dtype;
    let (gradient, markers, distance) = (int(gradient), int(markers), int(distance));
    let level = int(level);
    let level = if level.can_mut() { level } else { level.copy() };
    let state = empty(&level, Shape::new([params.images as usize, 2]), DType::I32);
    fill(&state, 0);
    let per_round = 4 * (params.width + params.height - 1) as u64;
    let rounds = if loop_budget().is_some() { params.rounds.min(BUDGET_ROUNDS) } else { params.rounds };
    // Each step loops once, plus once per row a thread walks.
    let per_step = params.height.div_ceil(THREADS) as u64 + 1;
    chain(rounds as u64 * per_round, per_step, |step, steps| {
        let buffers = [&gradient, &markers, &distance, &level, &state];
        launch("watershed_flood", FLOOD, workgroups(params.images, THREADS), &buffers, &WatershedParams { step, steps, ..params });
    });
    (cast(level, dtype), cast(state, dtype))
}

/// Folds a group's levels into copies of the best level and label per pixel
/// of each map's setting.
pub fn watershed_label(
    level: CubeTensor,
    markers: CubeTensor,
    best: CubeTensor,
    labels: CubeTensor,
    params: WatershedParams,
) -> (CubeTensor, CubeTensor) {
    let dtype = best.dtype;
    let (level, markers) = (int(level), int(markers));
    let (best, labels) = (int(best).copy(), int(labels).copy());
    let grid = tiles(params.width, params.height, params.batch);
    launch("watershed_label", LABEL, grid, &[&level, &markers, &best, &labels], &params);
    (cast(best, dtype), cast(labels, dtype))
}
