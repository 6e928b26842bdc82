//! Sliding windows (PAMI Strategy I).

use serde::Serialize;

use super::PartKind;
use crate::Error;

/// A regular grid of windows: centres at `0, stride, 2·stride, …` on each
/// axis (the paper's radius 40, stride 6 gives 38 × 38 = 1,444 windows at 224²).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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
