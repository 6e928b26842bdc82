//! Masked-batch composition: the model's input for a batch of parts.
//!
//! - WGSL: `shaders/compose.wgsl`, with `shaders/shared/compose_params.wgsl`
//!   (the params struct) and `shaders/shared/parts.wgsl` (a part's weight);
//! - params: [`ComposeParams`], here;
//! - launch: [`compose`], here (called by `PerturbationBackend::compose` in
//!   `src/backend/perturbation.rs`, from `ops::compose` in `src/ops.rs`);
//! - CPU twin: `src/cpu/compose.rs` (and `src/cpu/parts.rs`).

use burn::backend::DType;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::Shape;
use bytemuck::{Pod, Zeroable};

use super::launch::{float, int, launch_into, tiles};

/// Parameters of one composed batch. Keep in sync with `struct
/// ComposeParams` in `shaders/shared/compose_params.wgsl` (tests/params.rs
/// compares the layouts). Aligned to 16 bytes, as the uniform address space
/// lays out its `vec4` members.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq)]
pub struct ComposeParams {
    pub width: u32,
    pub height: u32,
    /// Number of parts (images) in this batch.
    pub batch: u32,
    /// Index of the batch's first part in the parts table.
    pub first: u32,
    /// A [`crate::PartKind`] code.
    pub kind: u32,
    /// 1: keep everything except the part.
    pub invert: u32,
    /// Number of label maps, RISE grids or rank maps.
    pub runs: u32,
    /// Images in the image and baseline tensors.
    pub images: u32,
    /// Normalisation: per channel `(v − mean) / deviation` (the fourth lane unused).
    pub mean: [f32; 4],
    /// The standard deviation per channel (`std` is a reserved word in WGSL).
    pub deviation: [f32; 4],
}

const SOURCE: &str = include_str!("../../shaders/compose.wgsl");

/// The normalised batch `[params.batch, 3, H, W]` of `image` over `baseline`
/// (both `[I, 3, H, W]`) masked by the parts `parts [P, 5]` (with `labels`).
pub fn compose(
    image: CubeTensor,
    baseline: CubeTensor,
    parts: CubeTensor,
    labels: CubeTensor,
    params: ComposeParams,
) -> CubeTensor {
    let (image, baseline) = (float(image), float(baseline));
    let (parts, labels) = (int(parts), int(labels));
    let shape = Shape::new([params.batch as usize, 3, params.height as usize, params.width as usize]);
    let grid = tiles(params.width, params.height, params.batch);
    let inputs = [&image, &baseline, &parts, &labels];
    launch_into("compose", SOURCE, grid, &inputs, (shape, DType::F32), &params)
}
