//! The gradient family's shared steps. A gradient method attributes each
//! (view, target) pair — a *group*, `g = v·T + t` — from gradients of the
//! target's score with respect to the model input, taken with Burn's
//! autodiff on the explainer's own device: the model's weights stay as they
//! are (constants to autodiff), only the input is a tracked leaf. Inputs are
//! the model's normalised inputs, as Captum's are the tensors the model
//! takes; every row of a batch is scored independently (models run in
//! inference mode), so one backward pass of the batch's summed scores gives
//! every row its own gradient.

use burn::tensor::{Int, Tensor, TensorData, ops::IndexingUpdateOp};

use super::{Context, Views, index_tensor};
use crate::Error;

/// The views' (view, target) pairs, `g = v·T + t`.
pub struct Groups {
    /// `[G, 3, H, W]` normalised model inputs, one per group.
    pub inputs: Tensor<4>,
    /// `[G, 3, H, W]` their normalised baselines.
    pub baselines: Tensor<4>,
    /// `[G]` the class each group is attributed for.
    pub targets: Tensor<1, Int>,
    /// Views `V` and targets per view `T`.
    pub views: usize,
    pub per_view: usize,
}

impl Groups {
    pub fn new(cx: &Context<'_>, views: &Views) -> Groups {
        let [v, t] = views.targets.dims();
        let norm = cx.model.normalisation();
        let of_group: Vec<usize> = (0..v * t).map(|g| g / t).collect();
        let ids = index_tensor(&of_group, &views.images.device());
        Groups {
            inputs: norm.apply(views.images.clone().select(0, ids.clone())),
            baselines: norm.apply(views.baseline.clone().select(0, ids)),
            targets: views.targets.clone().flatten(0, 1),
            views: v,
            per_view: t,
        }
    }

    pub fn len(&self) -> usize {
        self.views * self.per_view
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Per-group maps `[G, 1, H, W]` as the shell's `[V, T, H, W]`.
    pub fn maps(&self, maps: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = maps.dims();
        maps.reshape([self.views, self.per_view, h, w])
    }

    /// Per-group values `[G]` as the shell's `[V, T]`.
    pub fn stat(&self, values: Tensor<1>) -> Tensor<2> {
        values.reshape([self.views, self.per_view])
    }
}

/// Each row's score of its target, `[R]`, from model outputs `[R, classes]`
/// and `targets [R]`.
pub fn target_scores(cx: &Context<'_>, outputs: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    cx.scored(outputs).gather(1, targets.unsqueeze_dim(1)).squeeze_dim(1)
}

/// `∂s_r/∂x_r` with `s_r = score(f(x_r))[target_r]`, for rows `x [R, 3, H, W]`
/// (normalised) and `targets [R]`: `[R, 3, H, W]`, untracked. One forward
/// and one backward pass.
pub fn input_gradients(cx: &mut Context<'_>, x: Tensor<4>, targets: Tensor<1, Int>) -> Result<Tensor<4>, Error> {
    let x = x.autodiff().require_grad();
    let scores = target_scores(cx, cx.model.forward(x.clone()), targets);
    let gradients = scores.sum().backward();
    let grad = x.grad(&gradients).ok_or_else(|| Error::Device("the model's output does not depend on its input: no input gradient".into()))?;
    cx.run.passes += 1;
    Ok(grad)
}

/// Scores `[R]` of rows `x` (normalised) for `targets [R]`, without gradients.
pub fn scores(cx: &mut Context<'_>, x: Tensor<4>, targets: Tensor<1, Int>) -> Tensor<1> {
    cx.run.passes += 1;
    target_scores(cx, cx.model.forward(x), targets)
}

/// `f` on rows `0..rows` in consecutive batches of at most `batch` (each
/// batch's row ids, on the device), the results concatenated in row order;
/// stage `stage` ends after each batch.
pub fn in_batches<const D: usize>(
    cx: &mut Context<'_>,
    rows: usize,
    batch: usize,
    stage: &'static str,
    mut f: impl FnMut(&mut Context<'_>, Tensor<1, Int>) -> Result<Tensor<D>, Error>,
) -> Result<Tensor<D>, Error> {
    let batch = batch.max(1);
    let mut out = Vec::with_capacity(rows.div_ceil(batch));
    for first in (0..rows).step_by(batch) {
        let ids: Vec<usize> = (first..rows.min(first + batch)).collect();
        let ids = index_tensor(&ids, cx.device);
        out.push(f(cx, ids)?);
        cx.lap(stage)?;
    }
    Ok(Tensor::cat(out, 0))
}

/// One row of a sampled method: group `g`'s `s`-th sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    pub group: usize,
    pub sample: usize,
}

/// Runs `rows` (every group × `samples`) through `f` in batches of at most
/// `batch` rows, adding each batch's per-row contribution `[r, …]` into
/// its group's entry of `total [G, …]` on the device. `f` gets the batch's
/// rows and their group ids (`[r]`, on the device).
pub fn accumulate<const D: usize>(
    cx: &mut Context<'_>,
    groups: usize,
    samples: usize,
    batch: usize,
    mut total: Tensor<D>,
    mut f: impl FnMut(&mut Context<'_>, &[Row], Tensor<1, Int>) -> Result<Tensor<D>, Error>,
) -> Result<Tensor<D>, Error> {
    let rows: Vec<Row> = (0..groups).flat_map(|group| (0..samples).map(move |sample| Row { group, sample })).collect();
    let device = total.device();
    for chunk in rows.chunks(batch.max(1)) {
        let ids: Vec<usize> = chunk.iter().map(|r| r.group).collect();
        let ids = index_tensor(&ids, &device);
        let contribution = f(cx, chunk, ids.clone())?;
        total = total.select_assign(0, ids, contribution, IndexingUpdateOp::Add);
        cx.lap("gradient")?;
    }
    Ok(total)
}

/// `values[r]` as a `[R, 1, 1, 1]` tensor on `device`, for scaling rows.
pub fn per_row(values: &[f32], device: &burn::tensor::Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len(), 1, 1, 1]), device)
}

/// `|a|` reduced over channels by its maximum: `[G, 3, H, W]` → `[G, 1, H, W]`
/// (Captum's saliency visualisation, the SmoothGrad paper's).
pub fn max_abs_channel(a: Tensor<4>) -> Tensor<4> {
    a.abs().max_dim(1)
}
