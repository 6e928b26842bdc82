//! PAMI Strategy I (Shi et al.): sliding windows. Each window keeps the image
//! inside it over the baseline; a pixel's importance is the mean score of
//! the windows covering it (0 where none does). Several grids of one shape
//! are one multi-scale set of windows, aggregated together.

use std::sync::Arc;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::perturbation::{self, Scored};
use super::registry::{Entry, Kind, OptionSpec};
use super::{Baseline, Context, Method, Views};
use crate::partition::{PartKind, Parts};
use crate::{Blur, Error};

/// A regular grid of windows: centres at `0, stride, 2·stride, …` on each
/// axis (the paper's radius 40, stride 6 gives 38 × 38 = 1,444 windows at 224²).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowGrid {
    pub shape: PartKind,
    /// Circle radius, or half the side of a square, in model-input pixels.
    pub radius: u32,
    pub stride: u32,
}

impl Default for WindowGrid {
    fn default() -> Self {
        WindowGrid { shape: PartKind::Circle, radius: 40, stride: 6 }
    }
}

impl WindowGrid {
    /// The windows' `(cx, cy, rx, ry)` rows on a `width × height` input.
    pub fn rows(&self, width: usize, height: usize) -> Result<Vec<[i32; 4]>, Error> {
        if !matches!(self.shape, PartKind::Circle | PartKind::Rect) {
            return Err(Error::InvalidParameter("a window is a circle or a rectangle".into()));
        }
        if self.radius == 0 {
            return Err(Error::InvalidParameter("window radius must be at least 1".into()));
        }
        if self.stride == 0 {
            return Err(Error::InvalidParameter("window stride must be at least 1".into()));
        }
        let side = width.min(height);
        if self.stride as usize > side {
            return Err(Error::InvalidParameter(format!(
                "window stride {} is larger than the {width}×{height} model input",
                self.stride
            )));
        }
        let r = self.radius as i32;
        let step = self.stride as usize;
        let mut rows = Vec::new();
        for cy in (0..height).step_by(step) {
            for cx in (0..width).step_by(step) {
                let (x, y) = (cx as i32, cy as i32);
                rows.push(match self.shape {
                    PartKind::Circle => [x, y, r, r],
                    _ => [x - r, y - r, x + r + 1, y + r + 1],
                });
            }
        }
        Ok(rows)
    }
}

pub static ENTRY: Entry = Entry {
    strategy: "window",
    name: "pami-window",
    help: "Sliding windows (PAMI Strategy I)",
    options: &[
        OptionSpec::new("shape", Kind::Choice(&["circle", "rect"]), "Window: shape [default: circle]"),
        OptionSpec::list("radius", Kind::Int, "Window: radius (or half side) in model-input pixels; repeat for multi-scale windows [default: 40]"),
        OptionSpec::list("stride", Kind::Int,
            "Window: distance between windows in model-input pixels, one for all radii or one per radius [default: 6]; occlusion: one [default: 8]"),
    ],
    build: |values| {
        #[derive(Deserialize)]
        #[serde(default)]
        struct Options {
            shape: PartKind,
            radius: Vec<u32>,
            stride: Vec<u32>,
        }
        impl Default for Options {
            fn default() -> Self {
                Options { shape: PartKind::Circle, radius: vec![40], stride: vec![6] }
            }
        }
        let o: Options = values.decode(ENTRY.options, "window")?;
        if o.stride.len() != 1 && o.stride.len() != o.radius.len() {
            return Err(Error::InvalidParameter(format!(
                "give one --stride, or one per --radius ({} radii, {} strides)",
                o.radius.len(),
                o.stride.len()
            )));
        }
        let grids = o.radius.iter().enumerate().map(|(i, &radius)| WindowGrid { shape: o.shape, radius, stride: o.stride[i.min(o.stride.len() - 1)] });
        Ok(Arc::new(Window::new(grids.collect())))
    },
};

/// PAMI Strategy I over one or more grids of one shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Window {
    pub grids: Vec<WindowGrid>,
}

impl Default for Window {
    /// The paper's settings: circles of radius 40 at stride 6.
    fn default() -> Self {
        Window { grids: vec![WindowGrid::default()] }
    }
}

impl Window {
    pub fn new(grids: Vec<WindowGrid>) -> Self {
        Window { grids }
    }

    /// Every grid's windows, in grid order.
    fn rows(&self, [h, w]: [usize; 2]) -> Result<Vec<[i32; 4]>, Error> {
        let mut rows = Vec::new();
        for grid in &self.grids {
            rows.extend(grid.rows(w, h)?);
        }
        Ok(rows)
    }
}

impl Method for Window {
    fn entry(&self) -> &'static Entry {
        &ENTRY
    }

    fn default_baseline(&self) -> Baseline {
        Baseline::Blur(Blur::paper())
    }

    fn validate(&self, input: [usize; 2]) -> Result<(), Error> {
        let Some(first) = self.grids.first() else {
            return Err(Error::InvalidParameter("no window grid given".into()));
        };
        if self.grids.iter().any(|g| g.shape != first.shape) {
            return Err(Error::InvalidParameter("multi-scale windows must share one shape".into()));
        }
        self.rows(input).map(|_| ())
    }

    fn attribute(&self, cx: &mut Context<'_>, views: &Views) -> Result<Tensor<4>, Error> {
        let [_, _, h, w] = views.images.dims();
        let parts = Parts::windows(self.grids[0].shape, &self.rows([h, w])?, views.len(), w, h, cx.device);
        perturbation::maps(cx, views, &parts, Scored::Kept)
    }
}
