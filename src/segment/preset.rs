//! The paper's ensemble of segmentations (its Table 3) and one type
//! for "any segmenter with its settings".

use burn::tensor::Tensor;

use super::{Felzenszwalb, Pending, Seeds, Segmentation, Shared, Slic, Watershed};
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
        Ok(segment_all(images, std::slice::from_ref(self))?.remove(0))
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
/// other that share a schedule and prior (each stage one launch), SLIC
/// settings next to each other (one Lab conversion, the k-means of all in
/// one launch) and watershed settings next to each other (one gradient,
/// each stage one launch).
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
        // The settings from `head` on that run together with it; every
        // test below is reflexive (sigma by total order, so a NaN is still
        // its own run and meets validation), so the run holds `head` and
        // the loop always advances.
        fn run<T>(rest: &[Segmenter], pick: impl FnMut(&Segmenter) -> Option<T>) -> Vec<T> {
            rest.iter().map_while(pick).collect()
        }
        let raws = match head {
            Segmenter::Felzenszwalb(g) => Felzenszwalb::settings_raw(
                images,
                &run(rest, |s| match s {
                    Segmenter::Felzenszwalb(f) if f.sigma.total_cmp(&g.sigma).is_eq() => Some(*f),
                    _ => None,
                }),
            )?,
            Segmenter::Seeds(g) => Seeds::settings_raw(
                images,
                &run(rest, |s| match s {
                    Segmenter::Seeds(f) if g.shares_launches(f) => Some(*f),
                    _ => None,
                }),
            )?,
            Segmenter::Slic(_) => {
                let slic = run(rest, |s| if let Segmenter::Slic(f) = s { Some(*f) } else { None });
                Slic::settings_raw(images, &slic, &mut shared)?
            }
            Segmenter::Watershed(_) => {
                let watershed = run(rest, |s| if let Segmenter::Watershed(f) = s { Some(*f) } else { None });
                Watershed::settings_raw(images, &watershed, &mut shared)?
            }
        };
        rest = &rest[raws.len()..];
        out.extend(raws);
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
