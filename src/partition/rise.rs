//! RISE (Petsiuk, Das, Saenko, BMVC 2018): random binary `s × s` grids, each
//! cell kept with probability `p`, bilinearly upsampled to `(s + 1)·⌈H/s⌉`
//! pixels and cropped at a random offset below one cell. The grids and
//! offsets come from a seeded ChaCha8 stream, so a seed names a mask set on
//! every device; the masks themselves are computed by the kernels per pixel
//! and never stored.

use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::{PartKind, Parts};
use crate::Error;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
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
