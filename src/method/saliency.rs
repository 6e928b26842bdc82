//! Saliency (Simonyan, Vedaldi, Zisserman 2014; Captum's `Saliency`):
//! `|∂s_k/∂x|`, the gradient's magnitude at each input pixel, its maximum
//! over the colour channels. One forward and backward pass per batch of
//! (image, target) pairs.

use std::sync::Arc;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::gradient::{self, Groups};
use super::registry::Entry;
use super::{Baseline, Context, Method, Score, Views};
use crate::Error;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saliency {}

pub static ENTRY: Entry = Entry {
    strategy: "saliency",
    name: "saliency",
    help: "Saliency (Captum's Saliency: |∂ score / ∂ input|, its maximum over channels)",
    options: &[],
    build: |values| Ok(Arc::new(values.decode::<Saliency>(ENTRY.options, "saliency")?)),
};

impl Method for Saliency {
    fn entry(&self) -> &'static Entry {
        &ENTRY
    }

    /// Unused: a gradient needs no baseline.
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
        let maps = gradient::in_batches(cx, groups.len(), cx.batch, "gradient", |cx, ids| {
            let x = groups.inputs.clone().select(0, ids.clone());
            let grad = gradient::input_gradients(cx, x, groups.targets.clone().select(0, ids))?;
            Ok(gradient::max_abs_channel(grad))
        })?;
        Ok(groups.maps(maps))
    }
}
