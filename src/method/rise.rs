//! RISE (Petsiuk, Das, Saenko, BMVC 2018): random binary `s × s` grids, each
//! cell kept with probability `p`, bilinearly upsampled to `(s + 1)·⌈H/s⌉`
//! pixels and cropped at a random offset below one cell. The grids and
//! offsets come from a seeded ChaCha8 stream, so a seed names a mask set on
//! every device; the masks themselves are computed by the kernels per pixel
//! and never stored.

use std::sync::Arc;

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::perturbation::{self, Scored};
use super::registry::{Entry, Kind, OptionSpec};
use super::{Baseline, Context, Method, Views};
use crate::Error;
use crate::partition::{PartKind, Parts};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rise {
    /// Number of masks N.
    pub masks: usize,
    /// Grid side s.
    pub grid: usize,
    /// Probability p that a grid cell keeps the image.
    pub probability: f32,
    pub seed: u64,
}

impl Default for Rise {
    /// The RISE paper's ImageNet settings: N 4000, s 7, p 0.5.
    fn default() -> Self {
        Rise { masks: 4000, grid: 7, probability: 0.5, seed: 0 }
    }
}

impl Rise {
    pub fn validated(&self, width: usize, height: usize) -> Result<(), Error> {
        if self.masks == 0 {
            return Err(Error::InvalidParameter("RISE needs at least one mask".into()));
        }
        if self.grid < 2 || self.grid > width.min(height) {
            return Err(Error::InvalidParameter(format!(
                "RISE grid {} must be between 2 and the {width}×{height} input's side",
                self.grid
            )));
        }
        if !(self.probability > 0.0 && self.probability <= 1.0) {
            return Err(Error::InvalidParameter(format!("RISE keep probability {} is not in (0, 1]", self.probability)));
        }
        Ok(())
    }

    /// The mask set as parts, the same masks for each of `images` images.
    pub fn parts(&self, images: usize, width: usize, height: usize, device: &Device) -> Result<Parts, Error> {
        self.validated(width, height)?;
        let s = self.grid;
        let (cell_w, cell_h) = (width.div_ceil(s), height.div_ceil(s));
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut grids = Vec::with_capacity(self.masks * s * s);
        let mut rows = Vec::with_capacity(self.masks);
        for mask in 0..self.masks {
            grids.extend((0..s * s).map(|_| (rng.random::<f32>() < self.probability) as i32));
            let dy = rng.random_range(0..cell_h) as i32;
            let dx = rng.random_range(0..cell_w) as i32;
            rows.push([dx, dy, s as i32, mask as i32]);
        }
        let grids = Tensor::<3, Int>::from_data(TensorData::new(grids, [self.masks, s, s]), device);
        Ok(Parts::repeated(PartKind::Rise, &rows, images, Some(grids), width, height, device))
    }
}

pub static ENTRY: Entry = Entry {
    strategy: "rise",
    name: "rise",
    help: "RISE (random soft masks, score-weighted)",
    options: &[
        OptionSpec::new("masks", Kind::Int, "RISE: number of masks [default: 4000]"),
        OptionSpec::new("grid", Kind::Int, "RISE: grid side [default: 7]"),
        OptionSpec::new("keep", Kind::Float, "RISE: probability that a grid cell keeps the image [default: 0.5]"),
        OptionSpec::new("seed", Kind::Int, "RISE: seed of the masks; SmoothGrad: seed of the noise [default: 0]"),
    ],
    build: |values| {
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct Options {
            masks: Option<usize>,
            grid: Option<usize>,
            keep: Option<f32>,
            seed: Option<u64>,
        }
        let o: Options = values.decode(ENTRY.options, "rise")?;
        let d = Rise::default();
        let rise = Rise {
            masks: o.masks.unwrap_or(d.masks),
            grid: o.grid.unwrap_or(d.grid),
            probability: o.keep.unwrap_or(d.probability),
            seed: o.seed.unwrap_or(d.seed),
        };
        Ok(Arc::new(rise))
    },
};

impl Method for Rise {
    fn entry(&self) -> &'static Entry {
        &ENTRY
    }

    /// RISE masks to zero in the model's normalised input.
    fn default_baseline(&self) -> Baseline {
        Baseline::Zero
    }

    fn validate(&self, [h, w]: [usize; 2]) -> Result<(), Error> {
        self.validated(w, h)
    }

    /// `Σ_i f(x ⊙ M_i)·M_i(p) / (N·p)`: the masks' mean score weighted by
    /// each mask at the pixel, divided by the keep probability.
    fn attribute(&self, cx: &mut Context<'_>, views: &Views) -> Result<Tensor<4>, Error> {
        let [_, _, h, w] = views.images.dims();
        let parts = self.parts(views.len(), w, h, cx.device)?;
        Ok(perturbation::maps(cx, views, &parts, Scored::Kept)? / self.probability)
    }
}
