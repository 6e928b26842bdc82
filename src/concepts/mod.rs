//! Dataset-level concept importance by permutation in text space and
//! regeneration (DEPICT, Jabbour et al., ECCV 2024): captions of concept
//! counts, a generator from caption and seed to image, and the permutation
//! of one concept's column across the dataset; the ranking of concepts by
//! the drop in a model's performance, and the training of ground-truth
//! classifiers and concept detectors on generated images.

pub mod caption;
pub mod metric;
pub mod permute;
pub mod plot;
pub mod rank;
pub mod render;
pub mod train;

use std::time::Duration;

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;

pub use caption::{Caption, Dataset, Item};
pub use render::Procedural;

use crate::Error;

/// Caption and seed to an RGB image.
pub trait Generator: Send + Sync {
    /// How the reports name it.
    fn name(&self) -> String;
    /// Refuses an image size it cannot make (before any work).
    fn check_size(&self, size: usize) -> Result<(), Error>;
    /// The image of `caption` under `seed`, `size × size` pixels.
    fn image(&self, caption: &Caption, seed: u64, size: usize) -> Result<RgbImage, Error>;
    /// The images of `captions` with their `seeds` on `device`: `[N, 3, size,
    /// size]` values 0..255. By default each made by [`Generator::image`]
    /// and uploaded together.
    fn batch(&self, captions: &[Caption], seeds: &[u64], size: usize, device: &Device) -> Result<Tensor<4>, Error> {
        let mut chw = Vec::with_capacity(captions.len() * 3 * size * size);
        for (caption, &seed) in captions.iter().zip(seeds) {
            chw.extend(crate::explain::to_chw(&self.image(caption, seed, size)?));
        }
        Ok(Tensor::from_data(TensorData::new(chw, [captions.len(), 3, size, size]), device))
    }
}

/// A text-to-image server: `POST URL` with JSON `{"prompt", "seed", "width",
/// "height"}` answered by the PNG (or JPEG) bytes of the image.
pub struct Http {
    url: String,
    agent: ureq::Agent,
}

/// Largest image body accepted from a generator server.
const MAX_BODY: u64 = 64 << 20;

impl Http {
    /// A generator at `url` (`http://HOST:PORT/PATH`).
    pub fn new(url: &str) -> Result<Http, Error> {
        if !url.starts_with("http://") || url.len() <= "http://".len() {
            return Err(Error::InvalidParameter(format!("generator `{url}`: give an http://HOST:PORT/PATH address")));
        }
        let config = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(300))).build();
        Ok(Http { url: url.to_owned(), agent: config.into() })
    }
}

impl Generator for Http {
    fn name(&self) -> String {
        self.url.clone()
    }

    fn check_size(&self, size: usize) -> Result<(), Error> {
        if size == 0 {
            return Err(Error::InvalidParameter("the image size must be at least 1".into()));
        }
        Ok(())
    }

    fn image(&self, caption: &Caption, seed: u64, size: usize) -> Result<RgbImage, Error> {
        let bad = |why: String| Error::InvalidParameter(format!("generator {}: {why}", self.url));
        let body = serde_json::json!({ "prompt": caption.text(), "seed": seed, "width": size, "height": size }).to_string();
        let mut response = self.agent.post(&self.url).header("content-type", "application/json").send(body.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(|e| bad(e.to_string()))?;
        if status != 200 {
            return Err(bad(format!("answered {status}: {}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).trim())));
        }
        let image = crate::io::decode_image(&bytes, std::path::Path::new(&self.url)).map_err(|_| bad("the answer is not a PNG or JPEG image".into()))?;
        if image.dimensions() != (size as u32, size as u32) {
            let (w, h) = image.dimensions();
            return Err(bad(format!("asked for {size}×{size} pixels, got {w}×{h}")));
        }
        Ok(image)
    }
}

/// The generator of `--generator`: the procedural renderer over `dataset`'s
/// concepts when `None`, else the server at the address.
pub fn generator(flag: Option<&str>, dataset: &Dataset) -> Result<Box<dyn Generator>, Error> {
    match flag {
        None | Some("procedural") => Ok(Box::new(Procedural::new(dataset)?)),
        Some(url) => Ok(Box::new(Http::new(url)?)),
    }
}
