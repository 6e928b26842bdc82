//! Felzenszwalb–Huttenlocher segmentation with scikit-image's semantics:
//! `felzenszwalb(image, scale, sigma, min_size)` — Gaussian smoothing
//! (truncate 4, mode 'reflect'), the 8-connected RGB edge graph, Kruskal's
//! pass with the `scale / size` predicate, then a pass joining segments under
//! `min_size`.
//!
//! The GPU runs the same sequential passes in the same order (one invocation
//! per image, images in parallel; `shaders/felzenszwalb_merge.wgsl`), so the
//! wgpu label maps equal the CPU twin's. Against scikit-image two things differ: arithmetic
//! is in integers (smoothed colours and costs in 1/4096 of a grey level, so
//! near-equal costs can tie or swap), and edges of equal cost are taken in
//! edge-index order where scikit-image's `np.argsort` (quicksort) leaves them
//! in an unspecified order. scikit-image's segments are 8-connected; pami
//! splits them into 4-connected pieces and joins pieces under `min_size` to
//! a neighbour, so every label is one 4-connected region of at least
//! `min_size` pixels (unless the image is smaller).

use burn::backend::Dispatch;
use burn::tensor::{Int, Tensor, TensorData};

use super::{Check, Pending, Raw, Segmentation, min_size_all};
use crate::Error;
use crate::backend::SegmentationBackend;
use crate::gpu::felzenszwalb::{COST_UNIT, FelzenszwalbParams, WEIGHT_SUM, setting_row};

/// Largest image: the merge's trees stay 21 levels deep (union by size), which bounds its walks.
pub const MAX_PIXELS: usize = 1 << 20;
/// Largest smoothing radius (`int(4·sigma + 0.5)`): 65² taps per pixel and channel.
const MAX_RADIUS: usize = 32;

/// `skimage.segmentation.felzenszwalb(image, scale, sigma, min_size)`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Felzenszwalb {
    /// Higher means larger segments (the paper's k, in grey levels).
    pub scale: f32,
    /// Standard deviation of the Gaussian pre-smoothing; 0 for none.
    pub sigma: f32,
    /// Segments under this many pixels join a neighbour.
    pub min_size: usize,
}

impl Default for Felzenszwalb {
    /// scikit-image's defaults.
    fn default() -> Self {
        Felzenszwalb { scale: 1.0, sigma: 0.8, min_size: 20 }
    }
}

impl Felzenszwalb {
    fn radius(&self) -> usize {
        (4.0 * self.sigma as f64 + 0.5) as usize
    }

    fn validate(&self, shape: [usize; 4]) -> Result<(), Error> {
        let bad = |m: String| Err(Error::InvalidParameter(format!("felzenszwalb: {m}")));
        super::check_batch("felzenszwalb", shape)?;
        let [_, _, h, w] = shape;
        if h * w > MAX_PIXELS {
            return bad(format!("{w}×{h} has more than {MAX_PIXELS} pixels"));
        }
        if !(self.scale.is_finite() && self.scale >= 0.0) || self.scale as f64 * COST_UNIT as f64 >= u32::MAX as f64 {
            return bad(format!("scale must be non-negative and below 1,048,576, got {}", self.scale));
        }
        if !(self.sigma.is_finite() && self.sigma >= 0.0) || self.radius() > MAX_RADIUS {
            return bad(format!("sigma must be between 0 and 7.9, got {}", self.sigma));
        }
        if self.min_size > u32::MAX as usize {
            return bad(format!("min_size {} is too large", self.min_size));
        }
        Ok(())
    }

    /// scipy's Gaussian kernel (truncate 4) in integers summing to `WEIGHT_SUM`:
    /// rounded, the remainder on the centre tap.
    pub fn weights(&self) -> Vec<i32> {
        let r = self.radius() as i64;
        let sigma = self.sigma as f64;
        let g: Vec<f64> = (-r..=r).map(|x| if r == 0 { 1.0 } else { (-0.5 * (x * x) as f64 / (sigma * sigma)).exp() }).collect();
        let total: f64 = g.iter().sum();
        let mut weights: Vec<i32> = g.iter().map(|v| (v / total * WEIGHT_SUM as f64).round() as i32).collect();
        let sum: i32 = weights.iter().sum();
        weights[r as usize] += WEIGHT_SUM as i32 - sum;
        weights
    }

    /// Segments `images [N, 3, H, W]` (RGB values 0..255) in one batch.
    pub fn segment(&self, images: &Tensor<4>) -> Result<Segmentation, Error> {
        Ok(Self::segment_settings(images, &[*self])?.remove(0))
    }

    /// Several settings of one `sigma` on the same images at once: smoothing,
    /// edge costs and the sort run once per image, and the merges of all
    /// settings run in the same dispatches. One segmentation per setting.
    pub fn segment_settings(images: &Tensor<4>, settings: &[Felzenszwalb]) -> Result<Vec<Segmentation>, Error> {
        super::resolve(Self::settings_pending(images, settings)?)
    }

    /// [`Self::segment_settings`] with the segment counts left on the device.
    pub(crate) fn settings_pending(images: &Tensor<4>, settings: &[Felzenszwalb]) -> Result<Vec<Pending>, Error> {
        min_size_all(Self::settings_raw(images, settings)?)
    }

    /// The label maps of every setting before connected components and the minimum size.
    pub(crate) fn settings_raw(images: &Tensor<4>, settings: &[Felzenszwalb]) -> Result<Vec<Raw>, Error> {
        let Some(first) = settings.first() else { return Ok(Vec::new()) };
        let dims = images.dims();
        for setting in settings {
            setting.validate(dims)?;
            if setting.sigma != first.sigma {
                return Err(Error::InvalidParameter("felzenszwalb: settings run together must share sigma".into()));
            }
        }
        let [n, _, h, w] = dims;
        if n * settings.len() > super::MAX_BATCH {
            return Err(Error::InvalidParameter(format!("felzenszwalb: {n} images × {} settings in one batch", settings.len())));
        }
        // The merge's progress table is the largest buffer: per image and setting, a word per edge.
        let progress = (n * settings.len() * (4 * h * w + 1) * 4) as u64;
        super::check_binding("felzenszwalb", &format!("{n} images × {} settings", settings.len()), progress)?;
        // On an adapter that caps an invocation's loops (llvmpipe), one step of
        // the edge sort (a 256th of the edges) must fit in the cap.
        let step = crate::gpu::felzenszwalb::sort_step_iterations(w as u32, h as u32);
        if crate::gpu::launch::loop_budget().is_some_and(|budget| step > budget as u64) {
            return Err(Error::InvalidParameter(format!(
                "felzenszwalb: a {w}×{h} image has too many edges for llvmpipe's loop budget (at most about 3.8 million pixels)"
            )));
        }
        let device = images.device();
        let weights = first.weights();
        let taps = weights.len();
        let weights = Tensor::<1, Int>::from_data(TensorData::new(weights, [taps]), &device);
        let table: Vec<i32> = settings.iter().flat_map(|s| setting_row(s.scale, s.min_size)).map(|v| v as i32).collect();
        let table = Tensor::<2, Int>::from_data(TensorData::new(table, [settings.len(), 2]), &device);
        let params = FelzenszwalbParams {
            width: w as u32,
            height: h as u32,
            images: n as u32,
            radius: first.radius() as u32,
            settings: settings.len() as u32,
            sort_first: 0,
            merge_pass: 0,
            sort_steps: 0,
            rounds: 0,
        };
        let (roots, unfinished) = Dispatch::felzenszwalb(images.clone().into_dispatch(), weights.into_dispatch(), table.into_dispatch(), params);
        let roots = Tensor::<3, Int>::from_dispatch(roots);
        let mut check = Some(Check {
            count: Tensor::<1, Int>::from_dispatch(unfinished).sum(),
            message: "felzenszwalb: the merge stopped before its last edge".into(),
        });
        // Items are image-major (n · S + s): one setting's maps are every S-th.
        Ok(settings
            .iter()
            .enumerate()
            .map(|(k, setting)| {
                let items: Vec<i32> = (0..n).map(|i| (i * settings.len() + k) as i32).collect();
                let items = Tensor::<1, Int>::from_data(TensorData::new(items, [n]), &device);
                Raw { labels: roots.clone().select(0, items), min_size: setting.min_size, checks: check.take().into_iter().collect() }
            })
            .collect())
    }
}
