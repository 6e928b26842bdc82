//! SLIC superpixels with scikit-image's semantics (`skimage.segmentation.slic`,
//! 0.26): image rescaled to [0, 1] by its min and max, CIE Lab (D65, 2°),
//! centres on `regular_grid`, colour of the centres starting at 0, distance
//! `|Δpos|²/S² + |ΔLab|²/m²` over a window of ±2S, `max_num_iter`
//! assignment/update rounds, then connectivity enforced.
//!
//! Where pami differs, and why:
//! - Lab is computed in 1/4 units and centres in 1/16 px by exact integer
//!   arithmetic (two host-built tables for the power and cube-root steps), so
//!   the GPU and the CPU twin give identical label maps.
//! - Connectivity: every 4-connected piece becomes a segment, and pieces
//!   smaller than `min_size_factor · H·W / K` merge into a neighbour until
//!   none is left (scikit-image merges each small piece once, in a
//!   raster-order flood fill, and caps pieces at `max_size_factor`, which
//!   pami does not need).
//! - `sigma` (pre-smoothing) must be 0, scikit-image's default and the
//!   paper's setting.

use burn::backend::Dispatch;
use burn::tensor::{Int, Tensor, TensorData};

use super::{Pending, Raw, Segmentation, Shared, min_size_all, regular_grid};
use crate::Error;
use crate::backend::SegmentationBackend;
use crate::gpu::slic::{CLUSTER_STRIDE, SlicParams};

/// `skimage.segmentation.slic` parameters (names and defaults as there).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Slic {
    pub n_segments: usize,
    pub compactness: f32,
    pub max_num_iter: usize,
    pub sigma: f32,
    pub enforce_connectivity: bool,
    pub min_size_factor: f32,
    pub max_size_factor: f32,
}

impl Default for Slic {
    fn default() -> Self {
        Slic {
            n_segments: 100,
            compactness: 10.0,
            max_num_iter: 10,
            sigma: 0.0,
            enforce_connectivity: true,
            min_size_factor: 0.5,
            max_size_factor: 3.0,
        }
    }
}

/// Largest image SLIC takes: position and colour sums stay within 32 bits.
pub const MAX_PIXELS: usize = 1 << 20;

/// `[2^16 · 256]` table: `(max − min) · 256 + (v − min)` → sRGB-linearised
/// `(v − min) / (max − min)` in 2^16 units.
pub fn linear_table() -> Vec<i32> {
    let mut table = vec![0; 256 * 256];
    for span in 1..256usize {
        for v in 0..=span {
            let n = v as f64 / span as f64;
            let lin = if n > 0.04045 { ((n + 0.055) / 1.055).powf(2.4) } else { n / 12.92 };
            table[span * 256 + v] = (lin * 65536.0).round() as i32;
        }
    }
    table
}

/// `[2^16 + 1]` table: `t` (2^16 = 1) → Lab's `f(t)` in 2^16 units.
pub fn cbrt_table() -> Vec<i32> {
    (0..=65536)
        .map(|i| {
            let t = i as f64 / 65536.0;
            let f = if t > 0.008856 { t.cbrt() } else { 7.787 * t + 16.0 / 116.0 };
            (f * 65536.0).round() as i32
        })
        .collect()
}

fn int_tensor<const D: usize>(values: Vec<i32>, shape: [usize; D], device: &burn::tensor::Device) -> Tensor<D, Int> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

impl Slic {
    fn validate(&self, shape: [usize; 4]) -> Result<(), Error> {
        let bad = |m: String| Err(Error::InvalidParameter(format!("slic: {m}")));
        super::check_batch("slic", shape)?;
        let [_, _, h, w] = shape;
        if h * w > MAX_PIXELS {
            return bad(format!("{w}×{h} has more than {MAX_PIXELS} pixels"));
        }
        if self.n_segments == 0 {
            return bad("n_segments must be at least 1".into());
        }
        if self.n_segments > h * w {
            return bad(format!("n_segments {} exceeds the {} pixels", self.n_segments, h * w));
        }
        if !(self.compactness.is_finite() && self.compactness > 0.0 && self.compactness <= 4000.0) {
            return bad(format!("compactness must be in (0, 4000], got {}", self.compactness));
        }
        if !(self.sigma.is_finite() && self.sigma >= 0.0) {
            return bad(format!("sigma must be non-negative, got {}", self.sigma));
        }
        if self.sigma != 0.0 {
            return bad("pre-smoothing (sigma > 0) is not supported; blur the image first".into());
        }
        if self.max_num_iter == 0 {
            return bad("max_num_iter must be at least 1".into());
        }
        if !(self.min_size_factor.is_finite() && self.min_size_factor >= 0.0) {
            return bad(format!("min_size_factor must be non-negative, got {}", self.min_size_factor));
        }
        Ok(())
    }

    /// Segments `images [N, 3, H, W]` (RGB values 0..255) in one batch.
    pub fn segment(&self, images: &Tensor<4>) -> Result<Segmentation, Error> {
        self.pending(images)?.resolve()
    }

    /// [`Self::segment`] with the segment counts left on the device.
    pub(crate) fn pending(&self, images: &Tensor<4>) -> Result<Pending, Error> {
        Ok(min_size_all(vec![self.raw(images, &mut Shared::default())?])?.remove(0))
    }

    /// The label maps before connected components and the minimum size.
    /// The label maps before connectivity; the Lab image comes from (or goes
    /// into) `shared`.
    pub(crate) fn raw(&self, images: &Tensor<4>, shared: &mut Shared) -> Result<Raw, Error> {
        let dims = images.dims();
        self.validate(dims)?;
        let [n, _, h, w] = dims;
        let device = images.device();
        // As a 3-D (1, H, W) volume, as slic does.
        let [_, (y0, sy), (x0, sx)] = regular_grid(&[1, h, w], self.n_segments)[..] else { unreachable!("3-D grid") };
        let centres: Vec<(usize, usize)> =
            (y0..h).step_by(sy).flat_map(|y| (x0..w).step_by(sx).map(move |x| (y, x))).collect();
        let k = centres.len();
        // The distance normalises by the first grid's step; the window uses the
        // step of a grid with as many seeds as there are centres (as _slic_cython does).
        let step = sy.max(sx).max(1) as u64;
        let [_, (_, wy), (_, wx)] = regular_grid(&[1, h, w], k)[..] else { unreachable!("3-D grid") };
        let params = SlicParams {
            width: w as u32,
            height: h as u32,
            images: n as u32,
            clusters: k as u32,
            window: wy.max(wx) as u32,
            w_space: (self.compactness as f64 * self.compactness as f64 * 256.0).round() as u32,
            w_color: (4096 * step * step) as u32,
            band: 0,
            finish: 0,
            first_round: 0,
            round_count: 0,
            rounds: self.max_num_iter as u32,
        };
        let mut table = Vec::with_capacity(n * k * CLUSTER_STRIDE);
        for _ in 0..n {
            for &(y, x) in &centres {
                table.extend([16 * y as i32, 16 * x as i32, 0, 0, 0, 1, 0, 0]);
            }
        }
        let mut clusters = int_tensor(table, [n, k, CLUSTER_STRIDE], &device);
        let lab = shared
            .lab
            .get_or_insert_with(|| {
                Tensor::<4, Int>::from_dispatch(Dispatch::slic_lab(
                    images.clone().into_dispatch(),
                    int_tensor(linear_table(), [256 * 256], &device).into_dispatch(),
                    int_tensor(cbrt_table(), [65537], &device).into_dispatch(),
                    params,
                ))
            })
            .clone();
        if crate::gpu::slic::rounds_per_dispatch(&params) > 0 {
            // Every round on the device in one launch.
            let (labels, _) = Dispatch::slic_iterate(lab.into_dispatch(), clusters.into_dispatch(), params);
            return Ok(Raw { labels: Tensor::from_dispatch(labels), min_size: self.min_size(h, w, k), checks: Vec::new() });
        }
        // Too many clusters for one round within llvmpipe's loop budget: a dispatch per stage.
        let mut labels = None;
        for iteration in 0..self.max_num_iter {
            let assigned = Tensor::<3, Int>::from_dispatch(Dispatch::slic_assign(
                lab.clone().into_dispatch(),
                clusters.clone().into_dispatch(),
                params,
            ));
            if iteration + 1 < self.max_num_iter {
                clusters = Tensor::from_dispatch(Dispatch::slic_update(
                    lab.clone().into_dispatch(),
                    assigned.clone().into_dispatch(),
                    clusters.into_dispatch(),
                    params,
                ));
            }
            labels = Some(assigned);
        }
        let labels = labels.expect("at least one iteration");
        Ok(Raw { labels, min_size: self.min_size(h, w, k), checks: Vec::new() })
    }

    /// Connectivity's minimum segment size for `k` clusters on `h × w`.
    fn min_size(&self, h: usize, w: usize, k: usize) -> usize {
        if self.enforce_connectivity { (self.min_size_factor as f64 * (h * w) as f64 / k as f64) as usize } else { 0 }
    }
}
