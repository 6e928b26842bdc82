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

use super::{Raw, Segmentation, Shared, min_size_all, regular_grid};
use crate::Error;
use crate::backend::SegmentationBackend;
use crate::gpu::slic::{CLUSTER_STRIDE, SETTING_FIELDS, SlicParams};

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
        Ok(Self::segment_settings(images, &[*self])?.remove(0))
    }

    /// One segmentation of `images` per setting: one Lab conversion, and
    /// the k-means rounds of every setting in one launch.
    pub fn segment_settings(images: &Tensor<4>, settings: &[Slic]) -> Result<Vec<Segmentation>, Error> {
        super::resolve(min_size_all(Self::settings_raw(images, settings, &mut Shared::default())?)?)
    }

    /// This setting's grid on `h × w`: the centres and its k-means parameters.
    fn plan(&self, n: usize, h: usize, w: usize) -> (Vec<(usize, usize)>, SlicParams) {
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
            settings: 1,
        };
        (centres, params)
    }

    /// The label maps of every setting before connectivity; the Lab image
    /// comes from (or goes into) `shared`. Settings whose k-means round fits
    /// one dispatch (every setting, except on llvmpipe with many clusters)
    /// run in one `slic_iterate` launch; the rest a dispatch per stage.
    pub(crate) fn settings_raw(images: &Tensor<4>, settings: &[Slic], shared: &mut Shared) -> Result<Vec<Raw>, Error> {
        let dims = images.dims();
        for setting in settings {
            setting.validate(dims)?;
        }
        let [n, _, h, w] = dims;
        let device = images.device();
        let plans: Vec<_> = settings.iter().map(|s| s.plan(n, h, w)).collect();
        let Some((_, first_params)) = plans.first() else { return Ok(Vec::new()) };
        let lab = shared
            .lab
            .get_or_insert_with(|| {
                Tensor::<4, Int>::from_dispatch(Dispatch::slic_lab(
                    images.clone().into_dispatch(),
                    int_tensor(linear_table(), [256 * 256], &device).into_dispatch(),
                    int_tensor(cbrt_table(), [65537], &device).into_dispatch(),
                    *first_params,
                ))
            })
            .clone();
        let cluster_table = |centres: &[(usize, usize)], table: &mut Vec<i32>| {
            for _ in 0..n {
                for &(y, x) in centres {
                    table.extend([16 * y as i32, 16 * x as i32, 0, 0, 0, 1, 0, 0]);
                }
            }
        };
        let together: Vec<usize> = (0..plans.len()).filter(|&i| crate::gpu::slic::rounds_per_dispatch(&plans[i].1) > 0).collect();
        let mut labels: Vec<Option<Tensor<3, Int>>> = vec![None; plans.len()];
        if !together.is_empty() {
            let (mut table, mut rows) = (Vec::new(), Vec::new());
            let mut params = SlicParams { clusters: 0, rounds: 0, settings: together.len() as u32, ..*first_params };
            for &i in &together {
                let (centres, p) = &plans[i];
                rows.extend([p.clusters, (table.len() / CLUSTER_STRIDE) as u32, p.window, p.w_space, p.w_color, p.rounds, 0, 0]);
                cluster_table(centres, &mut table);
                (params.clusters, params.rounds) = (params.clusters.max(p.clusters), params.rounds.max(p.rounds));
            }
            let rows = rows.into_iter().map(|v| v as i32).collect();
            let rows_total = table.len() / CLUSTER_STRIDE;
            let clusters = int_tensor(table, [rows_total, CLUSTER_STRIDE], &device);
            let table = int_tensor(rows, [together.len(), SETTING_FIELDS], &device);
            let (all, _) = Dispatch::slic_iterate(lab.clone().into_dispatch(), clusters.into_dispatch(), table.into_dispatch(), params);
            let all = Tensor::<3, Int>::from_dispatch(all);
            for (j, &i) in together.iter().enumerate() {
                labels[i] = Some(all.clone().slice([j * n..(j + 1) * n]));
            }
        }
        // Too many clusters for one round within llvmpipe's loop budget: a dispatch per stage.
        for (i, (centres, params)) in plans.iter().enumerate() {
            if labels[i].is_some() {
                continue;
            }
            let mut table = Vec::new();
            cluster_table(centres, &mut table);
            let mut clusters = int_tensor(table, [n, centres.len(), CLUSTER_STRIDE], &device);
            for iteration in 0..params.rounds {
                let assigned = Tensor::<3, Int>::from_dispatch(Dispatch::slic_assign(
                    lab.clone().into_dispatch(),
                    clusters.clone().into_dispatch(),
                    *params,
                ));
                if iteration + 1 < params.rounds {
                    clusters = Tensor::from_dispatch(Dispatch::slic_update(
                        lab.clone().into_dispatch(),
                        assigned.clone().into_dispatch(),
                        clusters.into_dispatch(),
                        *params,
                    ));
                }
                labels[i] = Some(assigned);
            }
        }
        Ok(settings
            .iter()
            .zip(plans)
            .zip(labels)
            .map(|((setting, (centres, _)), labels)| Raw {
                labels: labels.expect("every setting runs at least one round"),
                min_size: setting.min_size(h, w, centres.len()),
                checks: Vec::new(),
            })
            .collect())
    }

    /// Connectivity's minimum segment size for `k` clusters on `h × w`.
    fn min_size(&self, h: usize, w: usize, k: usize) -> usize {
        if self.enforce_connectivity { (self.min_size_factor as f64 * (h * w) as f64 / k as f64) as usize } else { 0 }
    }
}
