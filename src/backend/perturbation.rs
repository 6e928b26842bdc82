//! The perturbation family of the backend extension: blur, compose,
//! aggregate and rank (see `src/backend/mod.rs`). The GPU methods call the
//! launches in `src/gpu/{blur,compose,aggregate,rank}.rs`; the CPU methods
//! call the twins in `src/cpu/` of the same names.

use burn::backend::{
    Backend, Flex, backend_extension,
    tensor::{FloatTensor, IntTensor},
    wgpu::CubeBackend,
};
use burn::tensor::{DType, Shape};

use super::{f32s, flex, flex_int, view};
use crate::cpu;
use crate::gpu::{self, aggregate::AggregateParams, blur::BlurParams, compose::ComposeParams, rank::RankParams};

/// Operations that perturb images and gather the model's scores. Call them
/// through [`crate::ops`], which works on `burn::Tensor`s of any device.
#[backend_extension(Cube, Flex, Fusion)]
pub trait PerturbationBackend: Backend {
    /// Separable blur of `image [planes, H, W]` with the 1-D kernel
    /// `weights [2r+1]` along x then y. `padding`: 0 zero, 1 reflect.
    #[fusion(dtype = image, shape = image)]
    fn blur(image: FloatTensor<Self>, weights: FloatTensor<Self>, padding: u32) -> FloatTensor<Self>;

    /// Composes `params.batch` masked copies of `image [3, H, W]` over
    /// `baseline [3, H, W]`: returns the normalised batch `[B, 3, H, W]`.
    /// `parts [P, 4]` and `labels [R, H, W]` as in `shaders/compose.wgsl`.
    #[fusion(dtype = image, shape = Shape::new([params.batch as usize, 3, params.height as usize, params.width as usize]))]
    fn compose(
        image: FloatTensor<Self>,
        baseline: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: ComposeParams,
    ) -> FloatTensor<Self>;

    /// Gathers `scores [P, T]` onto the pixels of the parts: returns maps
    /// `[T, H, W]`. `offsets [R]` is the first part of each label map.
    #[fusion(dtype = scores, shape = Shape::new([params.targets as usize, params.height as usize, params.width as usize]))]
    fn aggregate(
        scores: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        offsets: IntTensor<Self>,
        params: AggregateParams,
    ) -> FloatTensor<Self>;

    /// Each pixel's position in its map of `maps [M, H, W]` sorted by
    /// decreasing value, ties by pixel index: i32 `[M, H, W]`.
    #[fusion(dtype = DType::I32, shape = maps)]
    fn rank(maps: FloatTensor<Self>) -> IntTensor<Self>;
}

// ---------------------------------------------------------------- GPU (WGSL)

impl PerturbationBackend for CubeBackend {
    fn blur(image: FloatTensor<Self>, weights: FloatTensor<Self>, padding: u32) -> FloatTensor<Self> {
        gpu::blur::blur(image, weights, padding)
    }

    fn compose(
        image: FloatTensor<Self>,
        baseline: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: ComposeParams,
    ) -> FloatTensor<Self> {
        gpu::compose::compose(image, baseline, parts, labels, params)
    }

    fn aggregate(
        scores: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        offsets: IntTensor<Self>,
        params: AggregateParams,
    ) -> FloatTensor<Self> {
        gpu::aggregate::aggregate(scores, parts, labels, offsets, params)
    }

    fn rank(maps: FloatTensor<Self>) -> IntTensor<Self> {
        gpu::rank::rank(maps)
    }
}

// ---------------------------------------------------------------- CPU twins

impl PerturbationBackend for Flex {
    fn blur(image: FloatTensor<Self>, weights: FloatTensor<Self>, padding: u32) -> FloatTensor<Self> {
        let (mut values, shape) = f32s(image);
        let weights = view::<f32>(&weights);
        let radius = (weights.len() / 2) as u32;
        for params in BlurParams::passes(&shape, radius, padding) {
            values = cpu::blur::blur(&values, &weights, &params);
        }
        flex(values, shape)
    }

    fn compose(
        image: FloatTensor<Self>,
        baseline: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: ComposeParams,
    ) -> FloatTensor<Self> {
        let out = cpu::compose::compose(&view(&image), &view(&baseline), &view(&parts), &view(&labels), &params);
        flex(out, Shape::new([params.batch as usize, 3, params.height as usize, params.width as usize]))
    }

    fn aggregate(
        scores: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        offsets: IntTensor<Self>,
        params: AggregateParams,
    ) -> FloatTensor<Self> {
        let maps = cpu::aggregate::aggregate(&view(&scores), &view(&parts), &view(&labels), &view(&offsets), &params);
        flex(maps, Shape::new([params.targets as usize, params.height as usize, params.width as usize]))
    }

    fn rank(maps: FloatTensor<Self>) -> IntTensor<Self> {
        let shape = maps.layout().shape().clone();
        let ranks = cpu::rank::rank(&view(&maps), &RankParams::new(shape[0], shape[1] * shape[2]));
        flex_int(ranks, shape, DType::I32)
    }
}
