//! The backend extensions: the pipeline's own operations beyond plain tensor
//! math, implemented by WGSL kernels on Burn's CubeCL (wgpu) backend and by
//! the CPU twins in `crate::cpu` on Burn's `flex` backend. Three families, one
//! `#[backend_extension]` trait each:
//!
//! - [`PerturbationBackend`] (`src/backend/perturbation.rs`): blur, compose,
//!   aggregate, rank;
//! - [`SegmentationBackend`] (`src/backend/segmentation.rs`): connected
//!   components, SLIC, small-segment merging, Felzenszwalb, SEEDS, watershed;
//! - [`GenerationBackend`] (`src/backend/generation.rs`): the procedural
//!   concept renderer of `pami concepts`.
//!
//! Each file declares its trait and implements it on `CubeBackend` (each
//! method calls the kernel's launch in `src/gpu/<op>.rs`, its one home) and
//! on `Flex` (each method calls the CPU twins in `src/cpu/<op>.rs`). Call the
//! perturbation operations through [`crate::ops`]; the segmentation ones are
//! driven by `src/segment/`.

mod generation;
mod perturbation;
mod segmentation;

pub use generation::GenerationBackend;
pub use perturbation::PerturbationBackend;
pub use segmentation::SegmentationBackend;

use burn::backend::flex::FlexTensor;
use burn::tensor::{Shape, TensorData};

// Conversions between Burn's `flex` tensors and the CPU twins' slices.

fn f32s(t: FlexTensor) -> (Vec<f32>, Shape) {
    let data = t.into_data().convert::<f32>();
    let shape = data.shape().clone();
    (data.try_into_vec::<f32>().expect("f32 data"), shape)
}

/// A contiguous tensor's values of type `E`, borrowed from Burn's buffer
/// when its dtype is `E` and the bytes are aligned, else converted: how the
/// twins read the inputs they do not modify. Copying them on every call (the
/// per-pass compose and aggregate above all) made large allocations whose
/// page faults and unmaps cost more than the model with many images in flight.
fn view<E: burn::tensor::Element + bytemuck::Pod>(t: &FlexTensor) -> std::borrow::Cow<'_, [E]> {
    let borrowed = (t.dtype() == E::dtype())
        .then(|| t.layout().contiguous_offsets())
        .flatten()
        .and_then(|(start, end)| bytemuck::try_cast_slice::<u8, E>(t.bytes()).ok().map(|s| &s[start..end]));
    match borrowed {
        Some(slice) => std::borrow::Cow::Borrowed(slice),
        None => std::borrow::Cow::Owned(t.clone().into_data().convert::<E>().try_into_vec::<E>().expect("convertible data")),
    }
}

fn i32s(t: FlexTensor) -> Vec<i32> {
    t.into_data().convert::<i32>().try_into_vec::<i32>().expect("i32 data")
}

/// The bits of an int tensor as u32 (kernels keep unsigned levels in i32 storage).
fn u32s(t: FlexTensor) -> Vec<u32> {
    i32s(t).into_iter().map(|v| v as u32).collect()
}

fn flex(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn flex_int(values: Vec<i32>, shape: Shape, dtype: burn::tensor::DType) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape).convert_dtype(dtype))
}

/// `flex_int` for unsigned values kept as their i32 bits (the inverse of `u32s`).
fn flex_u32(values: Vec<u32>, shape: Shape, dtype: burn::tensor::DType) -> FlexTensor {
    flex_int(values.into_iter().map(|v| v as i32).collect(), shape, dtype)
}
