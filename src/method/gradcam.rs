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

use super::gradient::{self, Groups};
use super::registry::Entry;
use super::{Baseline, Context, Method, Score, Views};
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
        let [_, _, h, w] = groups.inputs.dims();
        let maps = gradient::in_batches(cx, groups.len(), cx.batch, "gradient", |cx, ids| {
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
            let scores = gradient::target_scores(cx, outputs, groups.targets.clone().select(0, ids));
            let gradients = scores.sum().backward();
            let grad = layer.grad(&gradients).ok_or_else(|| Error::Device("Grad-CAM: no gradient reached the layer".into()))?;
            cx.run.passes += 1;
            let weights = grad.mean_dim(3).mean_dim(2);
            let cam = (layer.without_autodiff() * weights).sum_dim(1).clamp_min(0.0);
            let options = InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size([h, w]);
            Ok(interpolate(cam, options))
        })?;
        Ok(groups.maps(maps))
    }
}
