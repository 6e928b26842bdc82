//! Occlusion (Zeiler & Fergus; Captum's `Occlusion` semantics): square
//! windows with top-left corners at `0, stride, 2·stride, …` on each axis as
//! long as the window fits, each replaced by the baseline in turn. A pixel's
//! attribution is the score drop `f(x) − f(x with the window occluded)`
//! averaged over the windows covering it (0 where none does).

use std::sync::Arc;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::perturbation::{self, Scored};
use super::registry::{Entry, Kind, OptionSpec};
use super::{Baseline, Context, Method, Views};
use crate::Error;
use crate::partition::{PartKind, Parts};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Occlusion {
    /// Window side in model-input pixels.
    pub window: u32,
    pub stride: u32,
}

impl Default for Occlusion {
    /// Captum's ImageNet tutorial: 15 × 15 windows at stride 8 (27 × 27 = 729 on 224²).
    fn default() -> Self {
        Occlusion { window: 15, stride: 8 }
    }
}

impl Occlusion {
    /// The windows as rectangle rows `(x0, y0, x1, y1)` on a `width × height` input.
    pub fn rows(&self, width: usize, height: usize) -> Result<Vec<[i32; 4]>, Error> {
        let (win, step) = (self.window as usize, self.stride as usize);
        if win == 0 || step == 0 {
            return Err(Error::InvalidParameter("occlusion window and stride must be at least 1".into()));
        }
        if win > width.min(height) {
            return Err(Error::InvalidParameter(format!(
                "occlusion window {win} is larger than the {width}×{height} model input"
            )));
        }
        let corners = |side: usize| (0..=side - win).step_by(step);
        let mut rows = Vec::new();
        for y in corners(height) {
            for x in corners(width) {
                rows.push([x as i32, y as i32, (x + win) as i32, (y + win) as i32]);
            }
        }
        Ok(rows)
    }
}

pub static ENTRY: Entry = Entry {
    strategy: "occlusion",
    name: "occlusion",
    help: "Occlusion (Captum's Occlusion: the score drop when a square is replaced by the baseline)",
    options: &[
        OptionSpec::new("window", Kind::Int, "Occlusion: side of the occluded square in model-input pixels [default: 15]"),
        OptionSpec::new("stride", Kind::Int, "Occlusion: distance between squares [default: 8]"),
    ],
    build: |values| Ok(Arc::new(values.decode::<Occlusion>(ENTRY.options, "occlusion")?)),
};

impl Method for Occlusion {
    fn entry(&self) -> &'static Entry {
        &ENTRY
    }

    /// Captum's: zero in the model's normalised input.
    fn default_baseline(&self) -> Baseline {
        Baseline::Zero
    }

    fn validate(&self, [h, w]: [usize; 2]) -> Result<(), Error> {
        self.rows(w, h).map(|_| ())
    }

    fn attribute(&self, cx: &mut Context<'_>, views: &Views) -> Result<Tensor<4>, Error> {
        let [_, _, h, w] = views.images.dims();
        let parts = Parts::windows(PartKind::Rect, &self.rows(w, h)?, views.len(), w, h, cx.device);
        perturbation::maps(cx, views, &parts, Scored::Drop)
    }
}
