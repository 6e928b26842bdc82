//! Feature ablation (Captum's `FeatureAblation` with a superpixel
//! `feature_mask`): one segmentation of each model-size image; each segment
//! in turn is replaced by the baseline, and every pixel of the segment gets
//! the score drop `f(x) − f(x with the segment ablated)`. Segments partition
//! the image, so each pixel has exactly one attribution.

use std::sync::Arc;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::perturbation::{self, Scored};
use super::registry::{Entry, Kind, OptionSpec};
use super::{Baseline, Context, Method, Views};
use crate::Error;
use crate::partition::Parts;
use crate::segment::{Segmenter, Slic};

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Ablation {
    /// The segmenter whose segments are the features (`--segmentation slic:50`).
    pub segmentation: Segmenter,
}

impl Default for Ablation {
    /// 50 SLIC superpixels (scikit-image's other defaults).
    fn default() -> Self {
        Ablation { segmentation: Segmenter::Slic(Slic { n_segments: 50, ..Slic::default() }) }
    }
}

pub static ENTRY: Entry = Entry {
    strategy: "ablation",
    name: "ablation",
    help: "Feature ablation (Captum's FeatureAblation over superpixels: the score drop when a segment is replaced by the baseline)",
    options: &[OptionSpec::new(
        "segmentation",
        Kind::Text,
        "Ablation: the features, NAME[:N][,KEY=VALUE…] with NAME slic, felzenszwalb, seeds or watershed (slic:50, felzenszwalb:100,min_size=50) [default: slic:50]",
    )],
    build: |values| {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Options {
            segmentation: Option<String>,
        }
        let o: Options = values.decode(ENTRY.options, "ablation")?;
        let segmentation = match o.segmentation {
            Some(spec) => Segmenter::parse(&spec)?,
            None => Ablation::default().segmentation,
        };
        Ok(Arc::new(Ablation { segmentation }))
    },
};

impl Method for Ablation {
    fn entry(&self) -> &'static Entry {
        &ENTRY
    }

    /// Captum's: zero in the model's normalised input.
    fn default_baseline(&self) -> Baseline {
        Baseline::Zero
    }

    fn validate(&self, _: [usize; 2]) -> Result<(), Error> {
        Ok(())
    }

    fn attribute(&self, cx: &mut Context<'_>, views: &Views) -> Result<Tensor<4>, Error> {
        let v = views.len();
        let seg = self.segmentation.segment(&views.images)?;
        let parts = Parts::segments(seg.labels, &seg.counts, &(0..v).collect::<Vec<_>>(), v);
        cx.lap("partition")?;
        perturbation::maps(cx, views, &parts, Scored::Drop)
    }
}
