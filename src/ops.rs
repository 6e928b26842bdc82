//! The backend extension's operations on `burn::Tensor`s: one entry per
//! kernel, usable on any device pami supports (wgpu → WGSL, flex → CPU twin).

use burn::backend::Dispatch;
use burn::tensor::{Int, Tensor, TensorData};

use crate::backend::{GenerationBackend, PerturbationBackend};
use crate::gpu::{
    aggregate::{AggregateParams, CHUNK as AGGREGATE_CHUNK},
    compose::ComposeParams,
};
use crate::{Blur, Normalisation, PartKind, Parts};

/// Blurs `image [planes, H, W]` with a separable kernel.
pub fn blur(image: Tensor<3>, blur: &Blur) -> Tensor<3> {
    let device = image.device();
    let weights = Tensor::<1>::from_data(TensorData::new(blur.weights(), [blur.size()]), &device);
    let out = Dispatch::blur(image.into_dispatch(), weights.into_dispatch(), blur.padding as u32);
    Tensor::from_dispatch(out)
}

/// Composes the parts `first..first + count` of `parts` over `baseline`
/// (`invert`: keep everything but the part): returns the normalised model
/// input `[count, 3, H, W]`. `images` and `baseline` are `[I, 3, H, W]`.
pub fn compose(
    images: &Tensor<4>,
    baseline: &Tensor<4>,
    parts: &Parts,
    first: usize,
    count: usize,
    invert: bool,
    norm: &Normalisation,
) -> Tensor<4> {
    let [n, _, height, width] = images.dims();
    let params = ComposeParams {
        width: width as u32,
        height: height as u32,
        batch: count as u32,
        first: first as u32,
        kind: parts.kind as u32,
        invert: invert as u32,
        runs: parts.runs() as u32,
        images: n as u32,
        mean: [norm.mean[0], norm.mean[1], norm.mean[2], 0.0],
        deviation: [norm.std[0], norm.std[1], norm.std[2], 1.0],
    };
    let out = Dispatch::compose(
        images.clone().into_dispatch(),
        baseline.clone().into_dispatch(),
        parts.table.clone().into_dispatch(),
        parts.labels_or_empty().into_dispatch(),
        params,
    );
    Tensor::from_dispatch(out)
}

/// Sums onto image `image`'s pixels the scores of its parts, weighted by
/// what each part keeps of the pixel: returns `[T, H, W]`. `scores [P, T]`
/// has one row per part of `parts` (all images). Segments: each label map
/// adds its segment's score; windows and RISE: `Σ_j w_j(p)·scores[j]`.
pub fn aggregate_sum(scores: &Tensor<2>, parts: &Parts, image: usize) -> Tensor<3> {
    let [count, targets] = scores.dims();
    assert_eq!(count, parts.len(), "one score row per part");
    assert!(parts.kind != PartKind::Rank, "rank parts are not aggregated");
    let range = match parts.kind {
        PartKind::Segment => parts.image_runs[image].clone(),
        _ => parts.images[image].clone(),
    };
    let device = scores.device();
    let mut sum: Tensor<3> = Tensor::zeros([targets, parts.height, parts.width], &device);
    for first in range.clone().step_by(AGGREGATE_CHUNK) {
        let params = AggregateParams {
            width: parts.width as u32,
            height: parts.height as u32,
            parts: count as u32,
            targets: targets as u32,
            runs: parts.runs() as u32,
            kind: parts.kind as u32,
            first: first as u32,
            count: AGGREGATE_CHUNK.min(range.end - first) as u32,
        };
        let out = Dispatch::aggregate(
            scores.clone().into_dispatch(),
            parts.table.clone().into_dispatch(),
            parts.labels_or_empty().into_dispatch(),
            parts.offsets_or_empty().into_dispatch(),
            params,
        );
        sum = sum + Tensor::from_dispatch(out);
    }
    sum
}

/// PAMI's aggregation `h(p) = Σ_j s_j m_j(p) / N(p)` for image `image`:
/// windows average the scores of the windows covering a pixel (0 where none
/// does), segmentations average one score per label map. RISE parts are
/// weighted by their soft masks and divided by their number.
pub fn aggregate(scores: &Tensor<2>, parts: &Parts, image: usize) -> Tensor<3> {
    match parts.kind {
        PartKind::Segment => aggregate_sum(scores, parts, image) / parts.image_runs[image].len().max(1) as f32,
        PartKind::Rise => aggregate_sum(scores, parts, image) / parts.images[image].len().max(1) as f32,
        _ => {
            // The coverage N(p) is one more column of the same gather: Σ_j w_j(p)·1.
            let [count, targets] = scores.dims();
            let ones = Tensor::<2>::ones([count, 1], &scores.device());
            let sums = aggregate_sum(&Tensor::cat(vec![scores.clone(), ones], 1), parts, image);
            let [_, h, w] = sums.dims();
            let coverage = sums.clone().slice([targets..targets + 1, 0..h, 0..w]);
            let covered = coverage.clone().greater_elem(0.0);
            (sums.slice([0..targets, 0..h, 0..w]) / coverage.clamp_min(1.0)).mask_fill(covered.bool_not(), 0.0)
        }
    }
}

/// Each pixel's position in its map of `maps [M, H, W]` sorted by
/// decreasing value, ties by pixel index (i32 `[M, H, W]`).
pub fn rank(maps: Tensor<3>) -> Tensor<3, Int> {
    Tensor::from_dispatch(Dispatch::rank(maps.into_dispatch()))
}

/// Rasterises the scenes of [`crate::concepts::render::Scenes`] on `device`:
/// `[I, 3, size, size]` values 0..255.
pub fn render(scenes: &crate::concepts::render::Scenes, size: usize, device: &burn::tensor::Device) -> Tensor<4> {
    let int = |values: &[i32], shape: [usize; 2]| Tensor::<2, Int>::from_data(TensorData::new(values.to_vec(), shape), device).into_dispatch();
    let rows = scenes.objects.len() / crate::cpu::render::OBJECT_FIELDS;
    // An empty table still binds one row.
    let objects = if rows == 0 { vec![0; crate::cpu::render::OBJECT_FIELDS] } else { scenes.objects.clone() };
    let images = scenes.offsets.len() - 1;
    let params = crate::gpu::render::RenderParams { width: size as u32, height: size as u32, images: images as u32, objects: rows as u32 };
    let out = Dispatch::render(
        int(&objects, [rows.max(1), crate::cpu::render::OBJECT_FIELDS]),
        int(&scenes.offsets, [1, images + 1]),
        int(&scenes.backgrounds, [images, crate::cpu::render::BACKGROUND_FIELDS]),
        params,
    );
    Tensor::from_dispatch(out)
}
