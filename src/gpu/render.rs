//! The procedural concept renderer (`pami concepts`).
//!
//! - WGSL: `shaders/render.wgsl`, with `shaders/shared/render_params.wgsl`;
//! - params: [`RenderParams`], here;
//! - CPU twin: `src/cpu/render.rs`.

use burn::backend::DType;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::Shape;
use bytemuck::{Pod, Zeroable};

use super::launch::{int, launch_into, tiles};

/// Keep in sync with `struct RenderParams` in `shaders/shared/render_params.wgsl`
/// (tests/params.rs compares the layouts).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct RenderParams {
    pub width: u32,
    pub height: u32,
    /// Images in the batch.
    pub images: u32,
    /// Rows of the object table.
    pub objects: u32,
}

const SOURCE: &str = include_str!("../../shaders/render.wgsl");

/// Renders the batch: `[images, 3, H, W]` f32 values 0..255.
pub fn render(objects: CubeTensor, offsets: CubeTensor, backgrounds: CubeTensor, params: RenderParams) -> CubeTensor {
    let (objects, offsets, backgrounds) = (int(objects), int(offsets), int(backgrounds));
    let shape = Shape::new([params.images as usize, 3, params.height as usize, params.width as usize]);
    let grid = tiles(params.width, params.height, params.images);
    launch_into("render", SOURCE, grid, &[&objects, &offsets, &backgrounds], (shape, DType::F32), &params)
}
