//! Grad-CAM (Selvaraju et al., ICCV 2017; Captum's `LayerGradCam`): the
//! activations `A_k` of the model's last convolutional stage
//! ([`crate::Model::cam_layer`]) weighted by their gradients' spatial means
//! `α_k = mean(∂s/∂A_k)`, `ReLU(Σ_k α_k A_k)`, upsampled bilinearly to the
//! model input. A ViT has no convolutional stage: its map is read from the
//! last encoder layer's normalised patch tokens laid out on the patch grid
//! (pytorch-grad-cam's choice); a Swin's from its last stage's maps.

use std::sync::Arc;

use burn::tensor::{
    Tensor,
    module::interpolate,
    ops::{InterpolateMode, InterpolateOptions},
};
use serde::{Deserialize, Serialize};

use super::gradient::Groups;
use super::registry::Entry;
use super::{Baseline, Context, Method, Score, Views, index_tensor};
use crate::Error;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradCam {}

pub static ENTRY: Entry = Entry {
    strategy: "gradcam",
    name: "gradcam",
    help: "Grad-CAM (Captum's LayerGradCam on the last convolutional stage, ReLU, bilinear upsampling to the input)",
    options: &[],
    build: |values| Ok(Arc::new(values.decode::<GradCam>(ENTRY.options, "gradcam")?)),
};

impl Method for GradCam {
    fn entry(&self) -> &'static Entry {
        &ENTRY
    }

    /// Unused: Grad-CAM needs no baseline.
    fn default_baseline(&self) -> Baseline {
        Baseline::Zero
    }

    fn default_score(&self) -> Score {
        Score::Logit
    }

    fn validate(&self, _input: [usize; 2]) -> Result<(), Error> {
        Ok(())
    }

    fn attribute(&self, cx: &mut Context<'_>, views: &Views) -> Result<Tensor<4>, Error> {
        let groups = Groups::new(cx, views);
        let device = groups.inputs.device();
        let [_, _, h, w] = groups.inputs.dims();
        let mut maps = Vec::new();
        for first in (0..groups.len()).step_by(cx.batch.max(1)) {
            let ids: Vec<usize> = (first..groups.len().min(first + cx.batch)).collect();
            let ids = index_tensor(&ids, &device);
            let x = groups.inputs.clone().select(0, ids.clone());
            // The layer's activations become the tracked leaf; the layers
            // before them run without recording anything.
            let mut layer = None;
            let outputs = cx.model.forward_hooked(x, &mut |a| {
                let a = a.without_autodiff().autodiff().require_grad();
                layer = Some(a.clone());
                a
            });
            let (Some(outputs), Some(layer)) = (outputs, layer) else {
                return Err(Error::InvalidParameter("Grad-CAM: this model has no convolutional layer to read".into()));
            };
            let outputs = match cx.score {
                Score::Probability => cx.model.probabilities(outputs),
                Score::Logit => outputs,
            };
            let targets = groups.targets.clone().select(0, ids);
            let scores: Tensor<1> = outputs.gather(1, targets.unsqueeze_dim(1)).squeeze_dim(1);
            let gradients = scores.sum().backward();
            let grad = layer.grad(&gradients).ok_or_else(|| Error::Device("Grad-CAM: no gradient reached the layer".into()))?;
            cx.run.passes += 1;
            let weights = grad.mean_dim(3).mean_dim(2);
            let cam = (layer.without_autodiff() * weights).sum_dim(1).clamp_min(0.0);
            let options = InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size([h, w]);
            maps.push(interpolate(cam, options));
            cx.lap("gradient")?;
        }
        Ok(groups.maps(Tensor::cat(maps, 0)))
    }
}
