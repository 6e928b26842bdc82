//! The paper's ensemble of segmentations (its Table 3) and one type
//! for "any segmenter with its settings".

use burn::tensor::Tensor;

use super::{Felzenszwalb, Pending, Raw, Seeds, Segmentation, Shared, Slic, Watershed};
use crate::Error;

/// One segmentation algorithm with its settings.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Segmenter {
    Felzenszwalb(Felzenszwalb),
    Slic(Slic),
    Seeds(Seeds),
    Watershed(Watershed),
}

impl Segmenter {
    /// Segments `images [N, 3, H, W]` (RGB values 0..255) in one batch.
    pub fn segment(&self, images: &Tensor<4>) -> Result<Segmentation, Error> {
        self.pending(images)?.resolve()
    }

    /// [`Self::segment`] with the segment counts left on the device.
    pub(crate) fn pending(&self, images: &Tensor<4>) -> Result<Pending, Error> {
        Ok(super::min_size_all(vec![self.raw(images, &mut Shared::default())?])?.remove(0))
    }

    /// The label maps before connected components and the minimum size,
    /// with what earlier settings of the batch derived from the images.
    fn raw(&self, images: &Tensor<4>, shared: &mut Shared) -> Result<Raw, Error> {
        match self {
            Segmenter::Felzenszwalb(s) => Ok(Felzenszwalb::settings_raw(images, &[*s])?.remove(0)),
            Segmenter::Slic(s) => Ok(Slic::settings_raw(images, &[*s], shared)?.remove(0)),
            Segmenter::Seeds(s) => s.raw(images),
            Segmenter::Watershed(s) => Ok(Watershed::settings_raw(images, &[*s], shared)?.remove(0)),
        }
    }

    /// Parses `NAME[:N][,KEY=VALUE…]`: the algorithm, its main setting (SLIC's
    /// `n_segments`, Felzenszwalb's `scale`, SEEDS' `num_superpixels`, the
    /// watershed's `markers`) and any other field by its name, the rest at
    /// their defaults — `slic:50`, `felzenszwalb:100,min_size=50`,
    /// `seeds:20,num_levels=5`, `watershed:30,compactness=0.0001`.
    pub fn parse(spec: &str) -> Result<Segmenter, Error> {
        let bad = |reason: String| Error::InvalidParameter(format!("segmentation `{spec}`: {reason}"));
        let mut items = spec.split(',').map(str::trim);
        let head = items.next().unwrap_or_default();
        let (name, main) = match head.split_once(':') {
            Some((name, value)) => (name.trim(), Some(value.trim())),
            None => (head, None),
        };
        let primary = match name {
            "slic" => "n_segments",
            "felzenszwalb" => "scale",
            "seeds" => "num_superpixels",
            "watershed" => "markers",
            other => return Err(bad(format!("unknown segmenter `{other}`: use slic, felzenszwalb, seeds or watershed"))),
        };
        let value = |text: &str| -> serde_json::Value {
            match text {
                "true" => true.into(),
                "false" => false.into(),
                _ => text.parse::<u64>().map(Into::into).or_else(|_| text.parse::<f64>().map(Into::into)).unwrap_or_else(|_| text.into()),
            }
        };
        let mut fields = serde_json::Map::new();
        if let Some(main) = main {
            fields.insert(primary.into(), value(main));
        }
        for item in items {
            let (key, v) = item.split_once('=').ok_or_else(|| bad(format!("`{item}` is not KEY=VALUE")))?;
            fields.insert(key.trim().into(), value(v.trim()));
        }
        let fields = serde_json::Value::Object(fields);
        let parsed = match name {
            "slic" => serde_json::from_value(fields).map(Segmenter::Slic),
            "felzenszwalb" => serde_json::from_value(fields).map(Segmenter::Felzenszwalb),
            "seeds" => serde_json::from_value(fields).map(Segmenter::Seeds),
            _ => serde_json::from_value(fields).map(Segmenter::Watershed),
        };
        parsed.map_err(|e| bad(e.to_string()))
    }

    /// A short name for files and tables, e.g. `felzenszwalb_scale250`, `slic_n10`.
    pub fn name(&self) -> String {
        match self {
            Segmenter::Felzenszwalb(s) => format!("felzenszwalb_scale{}", s.scale),
            Segmenter::Slic(s) => format!("slic_n{}", s.n_segments),
            Segmenter::Seeds(s) => format!("seeds_n{}", s.num_superpixels),
            Segmenter::Watershed(s) => format!("watershed_n{}", s.markers),
        }
    }
}

/// Segments `images [N, 3, H, W]` with every segmenter, one segmentation per
/// segmenter, in order. Felzenszwalb settings next to each other that share
/// sigma run together (one smoothing, edge-cost and sort pass; the merges of
/// all settings in the same dispatches), as do SEEDS settings next to each
/// other that share a schedule and prior (each stage one launch), and
/// watershed settings next to each other (one gradient, each stage one
/// launch); SLIC's settings share one Lab conversion.
/// Their segment counts are read in one readback at the end.
pub fn segment_all(images: &Tensor<4>, segmenters: &[Segmenter]) -> Result<Vec<Segmentation>, Error> {
    super::resolve(segment_all_pending(images, segmenters)?)
}

/// [`segment_all`] with the segment counts left on the device: the
/// segmenters' connected components and small-segment merging all in one
/// `segment_min_size` launch.
pub(crate) fn segment_all_pending(images: &Tensor<4>, segmenters: &[Segmenter]) -> Result<Vec<Pending>, Error> {
    let mut out = Vec::with_capacity(segmenters.len());
    let mut shared = Shared::default();
    let mut rest = segmenters;
    while let Some(head) = rest.first() {
        let felzenszwalb: Vec<Felzenszwalb> = rest
            .iter()
            .map_while(|s| match (s, head) {
                (Segmenter::Felzenszwalb(f), Segmenter::Felzenszwalb(g)) if f.sigma == g.sigma => Some(*f),
                _ => None,
            })
            .collect();
        let seeds: Vec<Seeds> = rest
            .iter()
            .map_while(|s| match (s, head) {
                (Segmenter::Seeds(f), Segmenter::Seeds(g)) if g.shares_launches(f) => Some(*f),
                _ => None,
            })
            .collect();
        let slic: Vec<Slic> = rest
            .iter()
            .map_while(|s| match s {
                Segmenter::Slic(s) => Some(*s),
                _ => None,
            })
            .collect();
        let watershed: Vec<Watershed> = rest
            .iter()
            .map_while(|s| match s {
                Segmenter::Watershed(w) => Some(*w),
                _ => None,
            })
            .collect();
        let taken = if !felzenszwalb.is_empty() {
            out.extend(Felzenszwalb::settings_raw(images, &felzenszwalb)?);
            felzenszwalb.len()
        } else if !seeds.is_empty() {
            out.extend(Seeds::settings_raw(images, &seeds)?);
            seeds.len()
        } else if !slic.is_empty() {
            out.extend(Slic::settings_raw(images, &slic, &mut shared)?);
            slic.len()
        } else if !watershed.is_empty() {
            out.extend(Watershed::settings_raw(images, &watershed, &mut shared)?);
            watershed.len()
        } else {
            out.push(head.raw(images, &mut shared)?);
            1
        };
        rest = &rest[taken..];
    }
    super::min_size_all(out)
}

/// Table 3 of the paper: Felzenszwalb at six scales, SLIC at eight segment
/// counts, SEEDS at 10, 20 and 30 requested superpixels, compact watershed
/// from 10, 20 and 30 grid markers.
pub fn paper() -> Vec<Segmenter> {
    let felzenszwalb = [250.0, 200.0, 150.0, 100.0, 70.0, 50.0]
        .map(|scale| Segmenter::Felzenszwalb(Felzenszwalb { scale, sigma: 0.8, min_size: 784 }));
    let slic = (1..=8).map(|k| Segmenter::Slic(Slic { n_segments: 10 * k, compactness: 20.0, ..Slic::default() }));
    let seeds = [10, 20, 30].map(|num_superpixels| {
        Segmenter::Seeds(Seeds { num_superpixels, num_levels: 5, iterations: 10, ..Seeds::default() })
    });
    let watershed = [10, 20, 30].map(|markers| Segmenter::Watershed(Watershed { markers, compactness: 1e-4 }));
    felzenszwalb.into_iter().chain(slic).chain(seeds).chain(watershed).collect()
}
