//! The backend extension's operations on `burn::Tensor`s: one entry per
//! kernel, usable on any device pami supports (wgpu → WGSL, flex → CPU twin).

use burn::backend::Dispatch;
use burn::tensor::{Int, Tensor, TensorData};

use crate::backend::PamiBackend;
use crate::gpu::{aggregate::AggregateParams, compose::ComposeParams};
use crate::{Blur, Normalisation, Parts};

/// Blurs `image [planes, H, W]` with a separable kernel.
pub fn blur(image: Tensor<3>, blur: &Blur) -> Tensor<3> {
    let device = image.device();
    let weights = Tensor::<1>::from_data(TensorData::new(blur.weights(), [blur.size()]), &device);
    let out = Dispatch::blur(image.into_dispatch(), weights.into_dispatch(), blur.padding as u32);
    Tensor::from_dispatch(out)
}

/// Composes the parts `first..first + count` of `parts` over `baseline`:
/// returns the normalised model input `[count, 3, H, W]`.
pub fn compose(
    image: &Tensor<3>,
    baseline: &Tensor<3>,
    parts: &Parts,
    first: usize,
    count: usize,
    invert: bool,
    norm: &Normalisation,
) -> Tensor<4> {
    let [_, height, width] = image.dims();
    let params = ComposeParams {
        width: width as u32,
        height: height as u32,
        batch: count as u32,
        first: first as u32,
        kind: parts.kind as u32,
        invert: invert as u32,
        runs: parts.runs() as u32,
        mean: norm.mean,
        std: norm.std,
    };
    let out = Dispatch::compose(
        image.clone().into_dispatch(),
        baseline.clone().into_dispatch(),
        parts.table.clone().into_dispatch(),
        parts.labels_or_empty().into_dispatch(),
        params,
    );
    Tensor::from_dispatch(out)
}

/// Gathers `scores [P, T]` (one row per part of `parts`) into coverage-normalised
/// maps `[T, H, W]`.
pub fn aggregate(scores: Tensor<2>, parts: &Parts) -> Tensor<3> {
    let [count, targets] = scores.dims();
    assert_eq!(count, parts.len(), "one score row per part");
    let params = AggregateParams {
        width: parts.width as u32,
        height: parts.height as u32,
        parts: count as u32,
        targets: targets as u32,
        runs: parts.runs() as u32,
        kind: parts.kind as u32,
    };
    let out = Dispatch::aggregate(
        scores.into_dispatch(),
        parts.table.clone().into_dispatch(),
        parts.labels_or_empty().into_dispatch(),
        parts.offsets_or_empty().into_dispatch(),
        params,
    );
    Tensor::from_dispatch(out)
}

/// A one-element int tensor for kernel bindings a part kind does not use.
pub(crate) fn placeholder<const D: usize>(device: &burn::tensor::Device) -> Tensor<D, Int> {
    Tensor::<1, Int>::from_data(TensorData::new(vec![0i32], [1]), device).reshape([1; D])
}
