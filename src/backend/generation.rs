//! The generation family of the backend extension: the procedural concept
//! renderer (see `src/backend/mod.rs`). The GPU method calls the launch in
//! `src/gpu/render.rs`; the CPU method calls the twin `src/cpu/render.rs`.

use burn::backend::{Backend, Flex, backend_extension, tensor::{FloatTensor, IntTensor}, wgpu::CubeBackend};
use burn::tensor::{DType, Shape};

use super::{flex, view};
use crate::cpu;
use crate::gpu::{self, render::RenderParams};

/// Operations that make images. Call them through [`crate::ops`].
#[backend_extension(Cube, Flex, Fusion)]
pub trait GenerationBackend: Backend {
    /// Rasterises scenes: `objects [O, 6]`, `offsets [I + 1]`, `backgrounds
    /// [I, 4]` as in `shaders/render.wgsl`; returns `[I, 3, H, W]` values 0..255.
    #[fusion(dtype = DType::F32, shape = Shape::new([params.images as usize, 3, params.height as usize, params.width as usize]))]
    fn render(objects: IntTensor<Self>, offsets: IntTensor<Self>, backgrounds: IntTensor<Self>, params: RenderParams) -> FloatTensor<Self>;
}

impl GenerationBackend for CubeBackend {
    fn render(objects: IntTensor<Self>, offsets: IntTensor<Self>, backgrounds: IntTensor<Self>, params: RenderParams) -> FloatTensor<Self> {
        gpu::render::render(objects, offsets, backgrounds, params)
    }
}

impl GenerationBackend for Flex {
    fn render(objects: IntTensor<Self>, offsets: IntTensor<Self>, backgrounds: IntTensor<Self>, params: RenderParams) -> FloatTensor<Self> {
        let out = cpu::render::render(&view(&objects), &view(&offsets), &view(&backgrounds), &params);
        flex(out, Shape::new([params.images as usize, 3, params.height as usize, params.width as usize]))
    }
}
