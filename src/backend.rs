//! The backend extension: the pipeline's own operations beyond plain tensor
//! math, implemented by WGSL kernels on Burn's CubeCL (wgpu) backend and by
//! the CPU twins in `crate::cpu` on Burn's `flex` backend.

use burn::backend::{
    Backend, Flex, backend_extension,
    flex::FlexTensor,
    tensor::{FloatTensor, IntTensor},
    wgpu::CubeBackend,
};
use burn::tensor::{Shape, TensorData};

use burn::backend::fusion::custom::TensorSpec;

use crate::cpu;
use crate::gpu::{
    self, aggregate::AggregateParams, blur::BlurParams, components::ComponentsParams, compose::ComposeParams,
};

/// Both outputs of `connected_components` keep the input's int dtype.
fn components_meta(labels: &TensorSpec) -> (TensorSpec, TensorSpec) {
    (labels.clone(), TensorSpec::new(Shape::new([labels.shape[0]]), labels.dtype))
}

/// Operations of the explanation pipeline. Call them through [`crate::ops`],
/// which works on `burn::Tensor`s of any device.
#[backend_extension(Cube, Flex, Fusion)]
pub trait PamiBackend: Backend {
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

    /// Splits every label of `labels [N, H, W]` into its 4-connected regions:
    /// returns (components numbered 0..n in order of first appearance in
    /// raster order, n per image `[N]`).
    #[fusion(meta = components_meta)]
    fn connected_components(labels: IntTensor<Self>) -> (IntTensor<Self>, IntTensor<Self>);
}

// ---------------------------------------------------------------- GPU (WGSL)

impl PamiBackend for CubeBackend {
    fn blur(image: FloatTensor<Self>, weights: FloatTensor<Self>, padding: u32) -> FloatTensor<Self> {
        use gpu::launch::{empty_f32, float, launch, tiles};
        let image = float(image);
        let weights = float(weights);
        let shape = image.meta.shape().clone();
        let (planes, height, width) = planes_hw(&shape);
        let radius = (weights.meta.shape().num_elements() / 2) as u32;
        let mut src = image;
        for axis in 0..2 {
            let dst = empty_f32(&src, shape.clone());
            let params = BlurParams { width, height, planes, radius, axis, padding };
            launch("blur", gpu::blur::SOURCE, tiles(width, height, planes), &[&src, &weights, &dst], &params);
            src = dst;
        }
        src
    }

    fn compose(
        image: FloatTensor<Self>,
        baseline: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: ComposeParams,
    ) -> FloatTensor<Self> {
        use gpu::launch::{empty_f32, float, int, launch, tiles};
        let (image, baseline) = (float(image), float(baseline));
        let (parts, labels) = (int(parts), int(labels));
        let shape = Shape::new([params.batch as usize, 3, params.height as usize, params.width as usize]);
        let out = empty_f32(&image, shape);
        let count = tiles(params.width, params.height, params.batch);
        launch("compose", gpu::compose::SOURCE, count, &[&image, &baseline, &parts, &labels, &out], &params);
        out
    }

    fn aggregate(
        scores: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        offsets: IntTensor<Self>,
        params: AggregateParams,
    ) -> FloatTensor<Self> {
        use gpu::launch::{empty_f32, float, int, launch, tiles};
        let scores = float(scores);
        let (parts, labels, offsets) = (int(parts), int(labels), int(offsets));
        let shape = Shape::new([params.targets as usize, params.height as usize, params.width as usize]);
        let maps = empty_f32(&scores, shape);
        let count = tiles(params.width, params.height, params.targets);
        launch("aggregate", gpu::aggregate::SOURCE, count, &[&scores, &parts, &labels, &offsets, &maps], &params);
        maps
    }

    fn connected_components(labels: IntTensor<Self>) -> (IntTensor<Self>, IntTensor<Self>) {
        use gpu::launch::cast;
        let dtype = labels.dtype;
        let (components, counts) = gpu::components::connected_components(labels);
        (cast(components, dtype), cast(counts, dtype))
    }
}

fn planes_hw(shape: &Shape) -> (u32, u32, u32) {
    let d = shape.num_dims();
    let planes: usize = shape.iter().take(d - 2).product();
    (planes as u32, shape[d - 2] as u32, shape[d - 1] as u32)
}

// ---------------------------------------------------------------- CPU twins

fn f32s(t: FlexTensor) -> (Vec<f32>, Shape) {
    let data = t.into_data().convert::<f32>();
    let shape = data.shape().clone();
    (data.try_into_vec::<f32>().expect("f32 data"), shape)
}

fn i32s(t: FlexTensor) -> Vec<i32> {
    t.into_data().convert::<i32>().try_into_vec::<i32>().expect("i32 data")
}

fn flex(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn flex_int(values: Vec<i32>, shape: Shape, dtype: burn::tensor::DType) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape).convert_dtype(dtype))
}

impl PamiBackend for Flex {
    fn blur(image: FloatTensor<Self>, weights: FloatTensor<Self>, padding: u32) -> FloatTensor<Self> {
        let (mut values, shape) = f32s(image);
        let (weights, _) = f32s(weights);
        let (planes, height, width) = planes_hw(&shape);
        let radius = (weights.len() / 2) as u32;
        for axis in 0..2 {
            let params = BlurParams { width, height, planes, radius, axis, padding };
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
        let (image, _) = f32s(image);
        let (baseline, _) = f32s(baseline);
        let out = cpu::compose::compose(&image, &baseline, &i32s(parts), &i32s(labels), &params);
        flex(out, Shape::new([params.batch as usize, 3, params.height as usize, params.width as usize]))
    }

    fn aggregate(
        scores: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        offsets: IntTensor<Self>,
        params: AggregateParams,
    ) -> FloatTensor<Self> {
        let (scores, _) = f32s(scores);
        let maps = cpu::aggregate::aggregate(&scores, &i32s(parts), &i32s(labels), &i32s(offsets), &params);
        flex(maps, Shape::new([params.targets as usize, params.height as usize, params.width as usize]))
    }

    fn connected_components(labels: IntTensor<Self>) -> (IntTensor<Self>, IntTensor<Self>) {
        let dtype = labels.dtype();
        let shape = labels.layout().shape().clone();
        let params = ComponentsParams::new(shape[0], shape[1], shape[2]);
        let (components, counts) = cpu::components::connected_components(&i32s(labels), &params);
        (flex_int(components, shape.clone(), dtype), flex_int(counts, Shape::new([shape[0]]), dtype))
    }
}
