//! The parts of an image that attributions are pooled over (IMACS's
//! "features"): the segments of one segmentation or fixed square patches,
//! each with both models' attribution mass, its box and its colour.

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;

use crate::segment::{Segmenter, Slic};
use crate::{Error, explain::to_chw};

/// How an image is cut into features.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Features {
    /// The segments of one segmentation (SLIC with scikit-image's defaults unless given).
    Segments(Segmenter),
    /// Square patches of this side in image pixels (those at the right and bottom edges smaller).
    Patches(usize),
}

impl Default for Features {
    fn default() -> Self {
        Features::Segments(Segmenter::Slic(Slic::default()))
    }
}

impl std::str::FromStr for Features {
    type Err = Error;

    /// `segments` (SLIC), `segments:SPEC` (any `--segmentation` spec, e.g.
    /// `segments:felzenszwalb:100`) or `patches:S`.
    fn from_str(text: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidParameter(format!("features `{text}`: use segments, segments:SEGMENTER (e.g. segments:slic:50) or patches:S"));
        match text.split_once(':') {
            None if text == "segments" => Ok(Features::default()),
            Some(("segments", spec)) => Ok(Features::Segments(Segmenter::parse(spec)?)),
            Some(("patches", side)) => match side.trim().parse::<usize>() {
                Ok(side) if side >= 1 => Ok(Features::Patches(side)),
                _ => Err(Error::InvalidParameter(format!("features `{text}`: the patch side must be a whole number ≥ 1"))),
            },
            _ => Err(bad()),
        }
    }
}

/// A label map of one image: `labels[y·W + x]` in `0..count`.
pub struct Labels {
    pub labels: Vec<i32>,
    pub count: usize,
}

/// `side × side` patches of an `h × w` image, row by row.
pub fn patch_labels([h, w]: [usize; 2], side: usize) -> Labels {
    let columns = w.div_ceil(side);
    let labels = (0..h).flat_map(|y| (0..w).map(move |x| ((y / side) * columns + x / side) as i32)).collect();
    Labels { labels, count: columns * h.div_ceil(side) }
}

/// The label maps of `images` (any sizes): patches on the host, segments on
/// the device, images of one size segmented in one batch. One result per
/// image (a segmenter's refusal, e.g. of an image too large, is that image's).
pub fn label_maps(features: &Features, images: &[&RgbImage], device: &Device) -> Vec<Result<Labels, Error>> {
    let segmenter = match features {
        Features::Patches(side) => {
            return images.iter().map(|i| Ok(patch_labels([i.height() as usize, i.width() as usize], *side))).collect();
        }
        Features::Segments(segmenter) => segmenter,
    };
    let mut out: Vec<Option<Result<Labels, Error>>> = images.iter().map(|_| None).collect();
    let mut sizes: Vec<(u32, u32)> = images.iter().map(|i| i.dimensions()).collect();
    sizes.sort_unstable();
    sizes.dedup();
    for size in sizes {
        let members: Vec<usize> = (0..images.len()).filter(|&i| images[i].dimensions() == size).collect();
        let (w, h) = (size.0 as usize, size.1 as usize);
        let pixels: Vec<f32> = members.iter().flat_map(|&i| to_chw(images[i])).collect();
        let batch = Tensor::<4>::from_data(TensorData::new(pixels, [members.len(), 3, h, w]), device);
        let segmented = segmenter.segment(&batch).and_then(|s| {
            let labels = s.labels.into_data().convert::<i32>().try_into_vec::<i32>().map_err(|e| Error::Device(format!("{e:?}")))?;
            Ok((labels, s.counts))
        });
        match segmented {
            Ok((labels, counts)) => {
                for (k, &i) in members.iter().enumerate() {
                    out[i] = Some(Ok(Labels { labels: labels[k * h * w..(k + 1) * h * w].to_vec(), count: counts[k] }));
                }
            }
            Err(e) => {
                for &i in &members {
                    out[i] = Some(Err(Error::InvalidParameter(e.to_string())));
                }
            }
        }
    }
    out.into_iter().map(|r| r.expect("every image has a size group")).collect()
}

/// `|map|` scaled to sum to 1 (all zeros stays all zeros): the image's
/// attribution mass, so that every image weighs the same in the summary.
pub fn mass_distribution(map: &[f32]) -> Vec<f32> {
    let total: f64 = map.iter().map(|v| v.abs() as f64).sum();
    if total > 0.0 && total.is_finite() {
        map.iter().map(|v| (v.abs() as f64 / total) as f32).collect()
    } else {
        vec![0.0; map.len()]
    }
}

/// One feature of one image.
#[derive(Clone, Debug, PartialEq)]
pub struct Feature {
    /// Pixels in the feature.
    pub area: usize,
    /// `[x0, y0, x1, y1]`, inclusive image pixels.
    pub bbox: [usize; 4],
    /// Each model's share of the image's attribution mass inside the feature.
    pub mass: [f32; 2],
    /// Mean and standard deviation of R, G, B over the feature, on [0, 1].
    pub colour: [f32; 6],
}

impl Feature {
    /// Mean attribution per pixel of model `m`.
    pub fn density(&self, m: usize) -> f32 {
        self.mass[m] / self.area.max(1) as f32
    }
}

/// Every non-empty feature of `labels` over `image`, with the two models'
/// mass distributions `masses` (the image's size), in label order.
pub fn measure(labels: &Labels, image: &RgbImage, masses: [&[f32]; 2]) -> Vec<Feature> {
    #[derive(Clone, Copy)]
    struct Acc {
        area: usize,
        bbox: [usize; 4],
        mass: [f64; 2],
        sum: [f64; 3],
        square: [f64; 3],
    }
    let empty = Acc { area: 0, bbox: [usize::MAX, usize::MAX, 0, 0], mass: [0.0; 2], sum: [0.0; 3], square: [0.0; 3] };
    let mut acc = vec![empty; labels.count];
    let w = image.width() as usize;
    for (i, (&label, pixel)) in labels.labels.iter().zip(image.pixels()).enumerate() {
        let Some(a) = usize::try_from(label).ok().and_then(|l| acc.get_mut(l)) else { continue };
        let (x, y) = (i % w, i / w);
        a.area += 1;
        a.bbox = [a.bbox[0].min(x), a.bbox[1].min(y), a.bbox[2].max(x), a.bbox[3].max(y)];
        for m in 0..2 {
            a.mass[m] += masses[m][i] as f64;
        }
        for c in 0..3 {
            let v = pixel.0[c] as f64 / 255.0;
            a.sum[c] += v;
            a.square[c] += v * v;
        }
    }
    acc.into_iter()
        .filter(|a| a.area > 0)
        .map(|a| {
            let n = a.area as f64;
            let mut colour = [0.0; 6];
            for c in 0..3 {
                let mean = a.sum[c] / n;
                colour[c] = mean as f32;
                colour[3 + c] = (a.square[c] / n - mean * mean).max(0.0).sqrt() as f32;
            }
            Feature { area: a.area, bbox: a.bbox, mass: a.mass.map(|m| m as f32), colour }
        })
        .collect()
}

/// The salient features: each model's top `fraction` of the features by
/// mean attribution (at least one each), their union in feature order.
pub fn salient(features: &[Feature], fraction: f32) -> Vec<usize> {
    let keep = ((fraction as f64 * features.len() as f64).ceil() as usize).clamp(1, features.len().max(1));
    let mut chosen = vec![false; features.len()];
    for m in 0..2 {
        let mut order: Vec<usize> = (0..features.len()).collect();
        // Densest first; ties to the earlier feature, so the choice is reproducible.
        order.sort_by(|&a, &b| features[b].density(m).total_cmp(&features[a].density(m)).then(a.cmp(&b)));
        for &f in order.iter().take(keep) {
            chosen[f] = true;
        }
    }
    (0..features.len()).filter(|&f| chosen[f]).collect()
}

/// The feature's box cut from `image` and resized to `side × side` (bilinear).
pub fn crop(image: &RgbImage, [x0, y0, x1, y1]: [usize; 4], [h, w]: [usize; 2]) -> RgbImage {
    let view = image::imageops::crop_imm(image, x0 as u32, y0 as u32, (x1 - x0 + 1) as u32, (y1 - y0 + 1) as u32).to_image();
    image::imageops::resize(&view, w as u32, h as u32, image::imageops::FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_tile_the_image_and_edge_patches_are_smaller() {
        let l = patch_labels([5, 7], 3);
        assert_eq!(l.count, 6);
        assert_eq!(&l.labels[0..7], &[0, 0, 0, 1, 1, 1, 2]);
        assert_eq!(l.labels[3 * 7 + 6], 5);
        let image = RgbImage::from_fn(7, 5, |x, _| image::Rgb([(x * 30) as u8, 0, 0]));
        let map: Vec<f32> = (0..35).map(|i| if i % 7 == 6 { 1.0 } else { 0.0 }).collect();
        let m = mass_distribution(&map);
        let f = measure(&l, &image, [&m, &m]);
        assert_eq!(f.len(), 6);
        assert_eq!(f[2].bbox, [6, 0, 6, 2]);
        assert_eq!(f[2].area, 3);
        assert!((f[2].mass[0] - 0.6).abs() < 1e-6 && (f[5].mass[0] - 0.4).abs() < 1e-6);
        let total: f32 = f.iter().map(|f| f.mass[1]).sum();
        assert!((total - 1.0).abs() < 1e-6);
        // The right-hand column is the densest for both models: one feature each, the same one.
        assert_eq!(salient(&f, 0.1), vec![2]);
        assert!((f[0].colour[0] - 30.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn features_parse_and_refuse_bad_specs() {
        assert_eq!("patches:16".parse::<Features>().unwrap(), Features::Patches(16));
        assert_eq!("segments".parse::<Features>().unwrap(), Features::default());
        assert!(matches!("segments:slic:50".parse::<Features>().unwrap(), Features::Segments(Segmenter::Slic(s)) if s.n_segments == 50));
        for bad in ["patches:0", "patches:x", "grid", "segments:nope"] {
            assert!(bad.parse::<Features>().is_err(), "{bad}");
        }
    }
}
