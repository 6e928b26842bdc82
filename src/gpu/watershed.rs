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

use super::launch::{cast, empty, fill, float, int, launch, launch_into, tiles};

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

/// `sweeps` relaxation sweeps of `level` (in place when unshared): the levels
/// and `[1]`, the updates in the last sweep.
pub fn watershed_flood(
    gradient: CubeTensor,
    markers: CubeTensor,
    distance: CubeTensor,
    level: CubeTensor,
    sweeps: u32,
    params: WatershedParams,
) -> (CubeTensor, CubeTensor) {
    let dtype = level.dtype;
    let (gradient, markers, distance) = (int(gradient), int(markers), int(distance));
    let level = int(level);
    let level = if level.can_mut() { level } else { level.copy() };
    let changed = empty(&level, Shape::new([1]), DType::I32);
    for sweep in 0..sweeps {
        if sweep + 1 == sweeps {
            fill(&changed, 0);
        }
        let grid = tiles(params.width, params.height, params.images);
        launch("watershed_flood", FLOOD, grid, &[&gradient, &markers, &distance, &level, &changed], &params);
    }
    (cast(level, dtype), cast(changed, dtype))
}

/// Folds a group's levels into copies of the best level and label per pixel.
pub fn watershed_label(
    level: CubeTensor,
    best: CubeTensor,
    labels: CubeTensor,
    params: WatershedParams,
) -> (CubeTensor, CubeTensor) {
    let dtype = best.dtype;
    let level = int(level);
    let (best, labels) = (int(best).copy(), int(labels).copy());
    let grid = tiles(params.width, params.height, params.batch);
    launch("watershed_label", LABEL, grid, &[&level, &best, &labels], &params);
    (cast(best, dtype), cast(labels, dtype))
}
