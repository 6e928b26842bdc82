//! SEEDS superpixels with OpenCV ximgproc's semantics:
//! `createSuperpixelSEEDS(W, H, 3, num_superpixels, num_levels, prior,
//! histogram_bins, double_step)` then `iterate(image, iterations)`, with
//! OpenCV's integer grid arithmetic (10/20/30 requested superpixels give
//! 4/9/16 on 224²), histograms, block levels, sweeps, prior and border
//! fix-up. Where OpenCV decides one sweep position at a time, pami decides
//! a class of independent positions at once (see `gpu::seeds`) and compares
//! exactly in integers: the maps are not OpenCV's bit for bit (the README
//! reports the agreement) but are the same on every device.
//!
//! OpenCV's superpixels need not be 4-connected; pami splits them into
//! 4-connected pieces and joins pieces under a tenth of the mean superpixel
//! size to a neighbour.

use burn::backend::Dispatch;
use burn::tensor::{Int, Tensor, TensorData};

use super::{Pending, Raw, Segmentation, min_size_all};
use crate::Error;
use crate::backend::SegmentationBackend;
use crate::gpu::launch::chain;
use crate::gpu::seeds::{
    BINS, Layout, MAX_PIXELS, SeedsParams, SeedsStage, block_step_iterations, block_steps, group_table, pixel_step_iterations,
    pixel_steps,
};

/// `cv::ximgproc::createSuperpixelSEEDS` + `iterate`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seeds {
    /// Requested superpixels (at least 10; OpenCV's grid gives fewer).
    pub num_superpixels: usize,
    /// Block levels (at least 2; lowered until the smallest blocks are ≥ 1 px).
    pub num_levels: usize,
    /// Shape smoothing prior, 0..=5 (OpenCV clamps larger values to 5).
    pub prior: u32,
    /// Histogram bins per channel: OpenCV's default 5 is the one supported.
    pub histogram_bins: u32,
    /// Two block-update rounds per level (the first with confidence 0.1).
    pub double_step: bool,
    /// Pixel-update iterations (`iterate`'s num_iterations).
    pub iterations: usize,
}

impl Default for Seeds {
    /// OpenCV's defaults for the optional arguments.
    fn default() -> Self {
        Seeds { num_superpixels: 100, num_levels: 4, prior: 2, histogram_bins: 5, double_step: false, iterations: 4 }
    }
}

impl Seeds {
    /// OpenCV's initialize(): the block grid of every level for a `w × h` image.
    pub fn layout(&self, w: usize, h: usize) -> Result<Layout, Error> {
        let bad = |m: String| Err(Error::InvalidParameter(format!("seeds: {m}")));
        if self.histogram_bins != BINS {
            return bad(format!("histogram_bins must be {BINS} (OpenCV's default), got {}", self.histogram_bins));
        }
        let n = self.num_superpixels.max(10);
        let levels = self.num_levels.max(2);
        let nsp_h = ((n as f32 * h as f32) / w as f32).sqrt() as usize;
        let nsp_w = nsp_h * w / h;
        if nsp_h == 0 || nsp_w == 0 {
            return bad(format!("a {w}×{h} image is too narrow for a grid of superpixels"));
        }
        let mut nr_levels = levels + 1;
        let (wf, hf) = loop {
            nr_levels -= 1;
            let scale = (1u64 << (nr_levels - 1).min(63)) as f32;
            let (wf, hf) = (w as f32 / nsp_w as f32 / scale, h as f32 / nsp_h as f32 / scale);
            if (wf >= 1.0 && hf >= 1.0) || nr_levels == 1 {
                break (wf, hf);
            }
        };
        if nr_levels < 2 || wf < 1.0 || hf < 1.0 {
            return bad(format!("{} superpixels leave no block levels on a {w}×{h} image", self.num_superpixels));
        }
        let (seeds_w, seeds_h) = (wf.ceil() as usize, hf.ceil() as usize);
        let mut grid = vec![(w / seeds_w, h / seeds_h)];
        for _ in 1..nr_levels {
            let (gw, gh) = grid[grid.len() - 1];
            grid.push((gw / 2, gh / 2));
        }
        if grid.iter().any(|&(gw, gh)| gw == 0 || gh == 0) {
            return bad(format!("a {w}×{h} image is too small for {} superpixels", self.num_superpixels));
        }
        let cell = |(gw, gh): (usize, usize), x: usize, y: usize| (y * gh / h).min(gh - 1) * gw + (x * gw / w).min(gw - 1);
        let parents = (1..nr_levels)
            .map(|l| {
                let mut up = vec![0u32; grid[l - 1].0 * grid[l - 1].1];
                for y in 0..h {
                    for x in 0..w {
                        up[cell(grid[l - 1], x, y)] = cell(grid[l], x, y) as u32;
                    }
                }
                up
            })
            .collect();
        Ok(Layout { width: w, height: h, grid, parents })
    }

    fn validate(&self, shape: [usize; 4]) -> Result<Layout, Error> {
        let bad = |m: String| Err(Error::InvalidParameter(format!("seeds: {m}")));
        super::check_batch("seeds", shape)?;
        let [n, c, h, w] = shape;
        if h < 3 || w < 3 {
            return bad(format!("need images of at least 3×3, got [{n}, {c}, {h}, {w}]"));
        }
        if h * w > MAX_PIXELS {
            return bad(format!("images of at most {MAX_PIXELS} pixels, got {h}×{w}"));
        }
        if n * h * w > 1 << 26 {
            return bad(format!("batch [{n}, {c}, {h}, {w}] is too large; split it"));
        }
        self.layout(w, h)
    }

    /// Segments `images [N, 3, H, W]` (RGB values 0..255) in one batch.
    pub fn segment(&self, images: &Tensor<4>) -> Result<Segmentation, Error> {
        self.pending(images)?.resolve()
    }

    /// [`Self::segment`] with the segment counts left on the device.
    pub(crate) fn pending(&self, images: &Tensor<4>) -> Result<Pending, Error> {
        Ok(min_size_all(Self::settings_raw(images, &[*self])?)?.remove(0))
    }

    /// Whether `other` can share this setting's launches: the same schedule
    /// (iterations, double step) and prior; the grid may differ.
    pub(crate) fn shares_launches(&self, other: &Seeds) -> bool {
        (self.iterations, self.double_step, self.prior.min(5)) == (other.iterations, other.double_step, other.prior.min(5))
    }

    /// The label maps of several settings (all [`Self::shares_launches`] with
    /// the first) before connected components and the minimum size, each
    /// stage one launch for every image and setting.
    pub(crate) fn settings_raw(images: &Tensor<4>, settings: &[Seeds]) -> Result<Vec<Raw>, Error> {
        let Some(first) = settings.first() else { return Ok(Vec::new()) };
        let dims = images.dims();
        let layouts = settings.iter().map(|s| s.validate(dims)).collect::<Result<Vec<_>, _>>()?;
        if !settings.iter().all(|s| first.shares_launches(s)) {
            return Err(Error::InvalidParameter("seeds: settings run together must share iterations, double_step and prior".into()));
        }
        let [n, _, h, w] = dims;
        let (table, row, labels_at) = group_table(&layouts);
        let what = format!("{n} images × {} settings", settings.len());
        super::check_binding("seeds", &what, (n * row * 4) as u64)?;
        let items = n * settings.len();
        if items > super::MAX_BATCH {
            return Err(Error::InvalidParameter(format!("seeds: {what} in one batch")));
        }
        let device = images.device();
        let table_len = table.len();
        let table = Tensor::<1, Int>::from_data(TensorData::new(table.into_iter().map(|v| v as i32).collect(), [table_len]), &device);
        let mut state = Tensor::<2, Int>::zeros([n, row], &device);
        let base = SeedsParams {
            width: w as u32,
            height: h as u32,
            items: items as u32,
            prior: first.prior.min(5),
            ..bytemuck::Zeroable::zeroed()
        };
        let mut run = |stage: SeedsStage, p: SeedsParams| {
            state = Tensor::from_dispatch(Dispatch::seeds(
                images.clone().into_dispatch(),
                table.clone().into_dispatch(),
                state.clone().into_dispatch(),
                stage,
                p,
            ));
        };
        let levels = layouts.iter().map(Layout::levels).max().unwrap_or(0);
        run(SeedsStage::Histograms, SeedsParams { level: 0, count: (w * h) as u32, ..base });
        for level in 1..levels {
            let below = layouts.iter().filter(|l| level < l.levels()).map(|l| l.labels(level - 1)).max().unwrap_or(0);
            run(SeedsStage::Histograms, SeedsParams { level: level as u32, count: below as u32, ..base });
        }
        let double_step = first.double_step as u32;
        let block_iterations = layouts.iter().map(block_step_iterations).max().unwrap_or(0);
        chain(block_steps(levels, first.double_step) as u64, block_iterations, |first, steps| {
            run(SeedsStage::Blocks, SeedsParams { first, steps, double_step, ..base })
        });
        run(SeedsStage::Labels, base);
        chain(pixel_steps(first.iterations) as u64, pixel_step_iterations(w, h), |first, steps| {
            run(SeedsStage::Pixels, SeedsParams { first, steps, ..base })
        });
        let raws = layouts
            .iter()
            .zip(labels_at)
            .map(|(layout, at)| {
                let labels = state.clone().slice([0..n, at..at + w * h]).reshape([n, h, w]);
                Raw { labels, min_size: w * h / layout.labels(layout.levels() - 1) / 10, checks: Vec::new() }
            })
            .collect();
        Ok(raws)
    }
}
