//! Compact watershed with scikit-image's semantics for the paper's use:
//! `watershed(sobel(rgb2gray(image)), markers=n, compactness=c)`, the markers
//! on `regular_grid` (scikit-image's `regular_seeds` for an int `markers`).
//!
//! Each pixel takes the marker with the least flooding level, the minimax
//! cost of a 4-connected path from the marker where a pixel costs its gradient
//! plus `compactness × distance to the marker` (scikit-image's priority);
//! ties go to the earlier marker. scikit-image floods in priority-queue order,
//! so a pixel goes to the first flood to reach it and floods block each other;
//! pami's least-level rule has no blocking, and ridge pixels can end up as
//! specks of a farther marker: pieces under a tenth of a marker's share are
//! merged into a neighbour. Levels are integers (gradient in about 1/144,250
//! of scikit-image's unit), so the GPU and the CPU twin agree exactly.

use burn::backend::Dispatch;
use burn::tensor::{Int, Tensor, TensorData};

use super::{Check, Raw, Segmentation, Shared, min_size_all, regular_grid};
use crate::Error;
use crate::backend::SegmentationBackend;
use crate::gpu::watershed::{BUDGET_ROUNDS, MARKER_FIELDS, WatershedParams};

/// Gradient units per unit of scikit-image's Sobel magnitude (see `shaders/watershed_gradient.wgsl`).
pub const GRADIENT_SCALE: f64 = 4.0 * 25500.0 * std::f64::consts::SQRT_2;

/// Rounds of four flooding passes a map may take to settle. A round settles
/// every path that is monotone in x and y, so real images settle in a few;
/// a map still changing after this many is an error, not a wrong answer.
const MAX_ROUNDS: u32 = 1024;

/// `skimage.segmentation.watershed` on the Sobel gradient, with `markers` seeds on a grid.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Watershed {
    pub markers: usize,
    pub compactness: f32,
}

impl Default for Watershed {
    fn default() -> Self {
        Watershed { markers: 100, compactness: 0.0 }
    }
}

impl Watershed {
    fn validate(&self, shape: [usize; 4]) -> Result<(), Error> {
        let bad = |m: String| Err(Error::InvalidParameter(format!("watershed: {m}")));
        super::check_batch("watershed", shape)?;
        let [_, _, h, w] = shape;
        if (h - 1).pow(2) + (w - 1).pow(2) >= 1 << 24 {
            return bad(format!("{w}×{h} is too large (the distance table must stay under 64 MiB)"));
        }
        if self.markers == 0 || self.markers > h * w {
            return bad(format!("markers must be between 1 and the {} pixels, got {}", h * w, self.markers));
        }
        if !(self.compactness.is_finite() && self.compactness >= 0.0) {
            return bad(format!("compactness must be non-negative, got {}", self.compactness));
        }
        let far = (((h - 1).pow(2) + (w - 1).pow(2)) as f64).sqrt();
        if GRADIENT_SCALE * (1.0 + self.compactness as f64 * far) >= u32::MAX as f64 {
            return bad(format!("compactness {} is too large for a {w}×{h} image", self.compactness));
        }
        Ok(())
    }

    /// `floor(compactness · GRADIENT_SCALE · √d²)` for every squared distance on a `h × w` image.
    fn distance_table(&self, h: usize, w: usize) -> Vec<i32> {
        let scale = self.compactness as f64 * GRADIENT_SCALE;
        (0..=(h - 1).pow(2) + (w - 1).pow(2)).map(|d2| (scale * (d2 as f64).sqrt()).floor() as u32 as i32).collect()
    }

    /// Segments `images [N, 3, H, W]` (RGB values 0..255) in one batch.
    pub fn segment(&self, images: &Tensor<4>) -> Result<Segmentation, Error> {
        Ok(Self::segment_settings(images, &[*self])?.remove(0))
    }

    /// One segmentation of `images` per setting, all settings' markers
    /// flooding in the same launches (one per stage).
    pub fn segment_settings(images: &Tensor<4>, settings: &[Watershed]) -> Result<Vec<Segmentation>, Error> {
        super::resolve(min_size_all(Self::settings_raw(images, settings, &mut Shared::default())?)?)
    }

    /// The label maps of every setting before speck merging; the gradient
    /// comes from (or goes into) `shared`. The markers of all settings go in
    /// one table (y, x, setting, index within the setting), each setting
    /// with its own distance table, so every stage is one launch for all of
    /// them while the levels of a batch fit in 64 MiB.
    pub(crate) fn settings_raw(images: &Tensor<4>, settings: &[Watershed], shared: &mut Shared) -> Result<Vec<Raw>, Error> {
        if settings.is_empty() {
            return Ok(Vec::new());
        }
        let dims = images.dims();
        for setting in settings {
            setting.validate(dims)?;
        }
        let [n, _, h, w] = dims;
        let s = settings.len();
        let device = images.device();
        let mut table = Vec::new();
        let mut counts = Vec::with_capacity(s);
        for (setting, ws) in settings.iter().enumerate() {
            let [(y0, sy), (x0, sx)] = regular_grid(&[h, w], ws.markers)[..] else { unreachable!("2-D grid") };
            let mut index = 0;
            for y in (y0..h).step_by(sy) {
                for x in (x0..w).step_by(sx) {
                    table.extend([y as i32, x as i32, setting as i32, index]);
                    index += 1;
                }
            }
            counts.push(index as usize);
        }
        let count = table.len() / MARKER_FIELDS;
        let markers = Tensor::<2, Int>::from_data(TensorData::new(table, [count, MARKER_FIELDS]), &device);
        let distance: Vec<i32> = settings.iter().flat_map(|ws| ws.distance_table(h, w)).collect();
        let len = distance.len();
        let distance = Tensor::<1, Int>::from_data(TensorData::new(distance, [len]), &device);
        let mut params = WatershedParams {
            width: w as u32,
            height: h as u32,
            images: n as u32,
            group: 1,
            first: 0,
            batch: n as u32,
            rounds: MAX_ROUNDS,
            step: 0,
            steps: 0,
        };
        let gradient = shared
            .gradient
            .get_or_insert_with(|| Tensor::<3, Int>::from_dispatch(Dispatch::watershed_gradient(images.clone().into_dispatch(), params)))
            .clone();
        // Unreached (u32::MAX) and "no label" share the bit pattern of -1.
        let mut best = Tensor::<3, Int>::from_data(TensorData::new(vec![-1i32; s * n * h * w], [s * n, h, w]), &device);
        let mut labels = best.clone();
        let mut unsettled = Vec::new();
        // Markers per group: levels of at most 64 MiB at a time (all 60 of
        // the paper's three settings for one 224² image).
        let group = ((64 << 20) / (4 * n * h * w)).clamp(1, count).min(super::MAX_BATCH / n);
        for first in (0..count).step_by(group) {
            let g = group.min(count - first);
            params = WatershedParams { images: (n * g) as u32, group: g as u32, first: first as u32, ..params };
            let level = Dispatch::watershed_init(gradient.clone().into_dispatch(), markers.clone().into_dispatch(), params);
            let (level, state) = Dispatch::watershed_flood(
                gradient.clone().into_dispatch(),
                markers.clone().into_dispatch(),
                distance.clone().into_dispatch(),
                level,
                params,
            );
            let settled = Tensor::<2, Int>::from_dispatch(state).slice([0..n * g, 0..1]);
            unsettled.push(settled.equal_elem(0).int().sum());
            let (b, l) = Dispatch::watershed_label(level, markers.clone().into_dispatch(), best.into_dispatch(), labels.into_dispatch(), params);
            (best, labels) = (Tensor::from_dispatch(b), Tensor::from_dispatch(l));
        }
        let check = Check {
            count: Tensor::cat(unsettled, 0).sum(),
            message: format!("watershed: flooding levels did not settle within {MAX_ROUNDS} rounds (at most {BUDGET_ROUNDS} on llvmpipe)"),
        };
        let mut checks = vec![check];
        // Pixels on a ridge can be nearer (in level) to another marker than their
        // neighbours are, leaving specks that flooding in queue order would not;
        // merge pieces under a tenth of a marker's share into a neighbour.
        Ok(counts
            .iter()
            .enumerate()
            .map(|(i, &count)| Raw {
                labels: labels.clone().slice([i * n..(i + 1) * n]),
                min_size: h * w / count / 10,
                checks: std::mem::take(&mut checks),
            })
            .collect())
    }
}
