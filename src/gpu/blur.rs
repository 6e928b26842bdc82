//! Separable blur, one pass per axis.
//!
//! - WGSL: `shaders/blur.wgsl`, with `shaders/shared/blur_params.wgsl` (the
//!   params struct);
//! - params: [`BlurParams`], here, one per pass from [`BlurParams::passes`];
//! - launch: [`blur`], here (called by `PerturbationBackend::blur` in
//!   `src/backend/perturbation.rs`, from `ops::blur` in `src/ops.rs`);
//! - CPU twin: `src/cpu/blur.rs`.

use burn::backend::DType;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::Shape;
use bytemuck::{Pod, Zeroable};

use super::launch::{empty, float, launch, tiles};

/// Parameters of one blur pass. Keep in sync with `struct BlurParams` in
/// `shaders/shared/blur_params.wgsl` (tests/params.rs compares the layouts).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct BlurParams {
    pub width: u32,
    pub height: u32,
    pub planes: u32,
    pub radius: u32,
    /// [`AXIS_X`] or [`AXIS_Y`].
    pub axis: u32,
    /// [`PADDING_ZERO`] or [`PADDING_REFLECT`].
    pub padding: u32,
}

/// [`BlurParams::axis`] values. Keep in sync with `shaders/shared/blur_params.wgsl`.
pub const AXIS_X: u32 = 0;
pub const AXIS_Y: u32 = 1;
/// [`BlurParams::padding`] values (the codes of [`crate::Padding`]). Keep in
/// sync with `shaders/shared/blur_params.wgsl`.
pub const PADDING_ZERO: u32 = 0;
/// Mirror without repeating the edge.
pub const PADDING_REFLECT: u32 = 1;

impl BlurParams {
    /// The two passes (along x, then y) over a tensor of `shape` (planes ×
    /// H × W in its last two dimensions) with a kernel of `2·radius + 1` taps.
    pub fn passes(shape: &Shape, radius: u32, padding: u32) -> [BlurParams; 2] {
        let d = shape.num_dims();
        let planes: usize = shape.iter().take(d - 2).product();
        let (planes, height, width) = (planes as u32, shape[d - 2] as u32, shape[d - 1] as u32);
        [AXIS_X, AXIS_Y].map(|axis| BlurParams { width, height, planes, radius, axis, padding })
    }
}

const SOURCE: &str = include_str!("../../shaders/blur.wgsl");

/// Blurs `image` (f32, planes × H × W) with the 1-D kernel `weights [2r+1]`
/// along x then y.
pub fn blur(image: CubeTensor, weights: CubeTensor, padding: u32) -> CubeTensor {
    let image = float(image);
    let weights = float(weights);
    let shape = image.meta.shape().clone();
    let radius = (weights.meta.shape().num_elements() / 2) as u32;
    let mut src = image;
    for params in BlurParams::passes(&shape, radius, padding) {
        let dst = empty(&src, shape.clone(), DType::F32);
        launch("blur", SOURCE, tiles(params.width, params.height, params.planes), &[&src, &weights, &dst], &params);
        src = dst;
    }
    src
}
