//! The perturbation family's shared steps: compose every part of a parts
//! table over its view's baseline, score the composites with the model in
//! full batches, and gather the scores back onto the pixels. A perturbation
//! method is its parts (`crate::partition::Parts`), which score it
//! aggregates ([`Scored`]) and its finishing step.

use burn::tensor::Tensor;

use super::{Context, Views};
use crate::partition::Parts;
use crate::{Error, ops};

/// What a part's row contributes to the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scored {
    /// The score of the composite that keeps the part (PAMI, RISE).
    Kept,
    /// The drop from the whole view's score when the part alone is replaced
    /// by the baseline (occlusion, feature ablation).
    Drop,
}

/// Scores every part of `parts` (composed over the views' baselines,
/// `invert`: keep all but the part) for its view's targets: `[P, T]`.
pub fn score(cx: &mut Context<'_>, views: &Views, parts: &Parts, invert: bool) -> Result<Tensor<2>, Error> {
    let norm = cx.model.normalisation();
    let targets = views.targets.clone().select(0, parts.image_of_rows());
    let t = targets.dims()[1];
    // A batch is the z axis of the compose dispatch, which WebGPU caps at 65,535.
    let batch = cx.batch.min(crate::segment::MAX_BATCH);
    let mut chunks = Vec::new();
    for first in (0..parts.len()).step_by(batch) {
        let count = batch.min(parts.len() - first);
        let composed = ops::compose(&views.images, &views.baseline, parts, first, count, invert, &norm);
        cx.lap("compose")?;
        let scores = cx.scored(cx.model.forward(composed));
        chunks.push(scores.gather(1, targets.clone().slice([first..first + count, 0..t])));
        cx.run.passes += 1;
        cx.lap("model")?;
    }
    Ok(Tensor::cat(chunks, 0))
}

/// Scores `parts` over `views` and aggregates them with PAMI's
/// `h(p) = Σ_j s_j m_j(p) / N(p)` (`ops::aggregate`): maps `[V, T, H, W]`.
/// `counts[v]` grows by view `v`'s parts.
pub fn aggregated(cx: &mut Context<'_>, views: &Views, parts: &Parts, scored: Scored, counts: &mut [usize]) -> Result<Tensor<4>, Error> {
    let mut scores = score(cx, views, parts, scored == Scored::Drop)?;
    if scored == Scored::Drop {
        let whole = views.scores.as_ref().ok_or_else(|| Error::InvalidParameter("a score drop needs the views' whole scores".into()))?;
        scores = whole.clone().select(0, parts.image_of_rows()) - scores;
    }
    let maps: Vec<Tensor<3>> = (0..parts.images.len()).map(|v| ops::aggregate(&scores, parts, v)).collect();
    cx.lap("aggregate")?;
    for (count, range) in counts.iter_mut().zip(&parts.images) {
        *count += range.len();
    }
    Ok(Tensor::stack(maps, 0))
}

/// [`aggregated`] over the views themselves, counting parts into the context.
pub fn maps(cx: &mut Context<'_>, views: &Views, parts: &Parts, scored: Scored) -> Result<Tensor<4>, Error> {
    let mut counts = std::mem::take(&mut cx.parts);
    let maps = aggregated(cx, views, parts, scored, &mut counts);
    cx.parts = counts;
    maps
}
