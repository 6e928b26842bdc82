//! partition → compose → infer → aggregate, on one device, with a single
//! upload of the image and a single download of the results.

use std::time::Instant;

use burn::tensor::{
    Device, Int, Tensor, TensorData,
    activation::softmax,
    module::interpolate,
    ops::{InterpolateMode, InterpolateOptions},
};
use image::RgbImage;
use serde::Serialize;

use crate::partition::{Parts, window::WindowGrid};
use crate::{Blur, Error, Model, ops};

/// How a part is scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Score {
    /// `softmax(f(x))[k]`, as in the paper.
    #[default]
    Probability,
    /// The raw logit `f(x)[k]`.
    Logit,
}

/// What replaces the pixels outside the kept part.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Baseline {
    Blur(Blur),
    Black,
    White,
    /// The image's per-channel mean.
    Mean,
}

/// How the input is partitioned.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// PAMI Strategy I: sliding windows.
    Window(WindowGrid),
    /// PAMI Strategy II: the segments of the paper's twenty pre-segmentations
    /// (Table 3, `segment::paper`) of the model-size image, one map per
    /// segmentation, averaged.
    Segments,
}

/// Which classes get a map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Targets {
    /// The model's k most probable classes on the whole image.
    TopK(usize),
    /// These class ids.
    Classes(Vec<usize>),
}

#[derive(Clone, Debug, Serialize)]
pub struct ExplainConfig {
    pub strategy: Strategy,
    pub baseline: Baseline,
    pub targets: Targets,
    pub score: Score,
    /// Composites per model forward.
    pub batch: usize,
    /// How many predicted classes the summary lists.
    pub top: usize,
}

impl Default for ExplainConfig {
    /// The paper's settings: circles of radius 40 at stride 6, blurred baseline, softmax score.
    fn default() -> Self {
        ExplainConfig {
            strategy: Strategy::Window(WindowGrid::default()),
            baseline: Baseline::Blur(Blur::paper()),
            targets: Targets::TopK(1),
            score: Score::Probability,
            batch: 32,
            top: 5,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub class: usize,
    pub name: String,
    /// Softmax probability on the whole image.
    pub probability: f32,
}

/// Wall-clock seconds per stage; the device is synchronised at each stage's end.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timings {
    pub upload: f64,
    pub predict: f64,
    pub baseline: f64,
    pub compose: f64,
    pub model: f64,
    pub aggregate: f64,
    pub download: f64,
    pub total: f64,
}

/// Maps for several targets from one set of forward passes.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// The model's most probable classes on the whole image.
    pub predictions: Vec<Prediction>,
    /// The explained classes, in map order.
    pub targets: Vec<Prediction>,
    /// `[height, width]` of the maps in `maps` (the model input).
    pub map_size: [usize; 2],
    /// `[height, width]` of the original image and of `maps_full`.
    pub image_size: [usize; 2],
    /// `[targets, map_size]`, row-major.
    #[serde(skip)]
    pub maps: Vec<f32>,
    /// `[targets, image_size]`, bilinearly resampled from `maps`.
    #[serde(skip)]
    pub maps_full: Vec<f32>,
    pub parts: usize,
    pub forward_passes: usize,
    pub timings: Timings,
}

impl Explanation {
    /// The model-resolution map of target `t`.
    pub fn map(&self, t: usize) -> &[f32] {
        let n = self.map_size[0] * self.map_size[1];
        &self.maps[t * n..(t + 1) * n]
    }

    /// The original-resolution map of target `t`.
    pub fn map_full(&self, t: usize) -> &[f32] {
        let n = self.image_size[0] * self.image_size[1];
        &self.maps_full[t * n..(t + 1) * n]
    }
}

/// A model on a device, ready to explain images.
pub struct Explainer<M: Model> {
    pub model: M,
    pub device: Device,
}

/// Pixels of an RGB image as `[3, H, W]` f32 values in `[0, 255]`.
pub fn to_chw(image: &RgbImage) -> Vec<f32> {
    let plane = (image.width() * image.height()) as usize;
    let mut chw = vec![0.0; 3 * plane];
    for (i, p) in image.pixels().enumerate() {
        for c in 0..3 {
            chw[c * plane + i] = p.0[c] as f32;
        }
    }
    chw
}

fn lap(clock: &mut Instant, device: &Device, slot: &mut f64) -> Result<(), Error> {
    device.sync().map_err(|e| Error::Device(e.to_string()))?;
    *slot += clock.elapsed().as_secs_f64();
    *clock = Instant::now();
    Ok(())
}

fn floats(t: Tensor<2>) -> Result<Vec<f32>, Error> {
    t.into_data().try_into_vec::<f32>().map_err(|e| Error::Device(format!("{e:?}")))
}

impl<M: Model> Explainer<M> {
    pub fn new(model: M, device: Device) -> Self {
        Explainer { model, device }
    }

    /// Resolves a class given as an id or an exact (case-insensitive) name.
    pub fn class_id(&self, class: &str) -> Result<usize, Error> {
        let names = self.model.class_names();
        let unknown = || Error::UnknownClass(class.to_owned(), names.len());
        match class.trim().parse::<usize>() {
            Ok(id) if id < names.len() => Ok(id),
            Ok(_) => Err(unknown()),
            Err(_) => names.iter().position(|n| n.eq_ignore_ascii_case(class.trim())).ok_or_else(unknown),
        }
    }

    fn check(&self, image: &RgbImage, config: &ExplainConfig) -> Result<(), Error> {
        let (w, h) = image.dimensions();
        if w < 2 || h < 2 {
            return Err(Error::ImageTooSmall { width: w, height: h });
        }
        let classes = self.model.class_names().len();
        match &config.targets {
            Targets::TopK(0) => return Err(Error::InvalidParameter("top-k must be at least 1".into())),
            Targets::TopK(k) if *k > classes => {
                return Err(Error::InvalidParameter(format!("top-k {k} exceeds the model's {classes} classes")));
            }
            Targets::Classes(ids) if ids.is_empty() => {
                return Err(Error::InvalidParameter("no target class given".into()));
            }
            Targets::Classes(ids) => {
                if let Some(bad) = ids.iter().find(|&&id| id >= classes) {
                    return Err(Error::UnknownClass(bad.to_string(), classes));
                }
            }
            _ => {}
        }
        if config.batch == 0 {
            return Err(Error::InvalidParameter("batch must be at least 1".into()));
        }
        if let Baseline::Blur(b) = config.baseline {
            b.validated()?;
        }
        Ok(())
    }

    /// Explains `image` for the configured targets.
    pub fn explain(&self, image: &RgbImage, config: &ExplainConfig) -> Result<Explanation, Error> {
        self.check(image, config)?;
        let [h, w] = self.model.input_size();
        let norm = self.model.normalisation();
        let classes = self.model.class_names().len();
        let device = &self.device;
        let mut timings = Timings::default();
        let start = Instant::now();
        let mut clock = start;

        // Host-side resize to the model input (antialiased), then the one upload.
        let resized = image::imageops::resize(image, w as u32, h as u32, image::imageops::FilterType::Triangle);
        let x = Tensor::<3>::from_data(TensorData::new(to_chw(&resized), [3, h, w]), device);
        let parts = match config.strategy {
            Strategy::Window(grid) => Parts::windows(grid.shape, &grid.rows(w, h)?, w, h, device),
            Strategy::Segments => {
                let segmentations = crate::segment::segment_all(&x.clone().unsqueeze::<4>(), &crate::segment::paper())?;
                let counts: Vec<usize> = segmentations.iter().map(|s| s.counts[0]).collect();
                Parts::segments(Tensor::cat(segmentations.into_iter().map(|s| s.labels).collect(), 0), &counts)
            }
        };
        lap(&mut clock, device, &mut timings.upload)?;

        // Prediction on the whole image; target ids stay on the device.
        let probs = softmax(self.model.forward(norm.apply(x.clone()).unsqueeze::<4>()), 1);
        let top = config.top.max(match config.targets {
            Targets::TopK(k) => k,
            Targets::Classes(_) => 0,
        });
        let top = top.min(classes);
        let (top_p, top_i) = probs.clone().topk_with_indices(top, 1);
        let target_ids: Tensor<1, Int> = match &config.targets {
            Targets::TopK(k) => top_i.clone().slice([0..1, 0..*k]).reshape([*k]),
            Targets::Classes(ids) => {
                let ids: Vec<i32> = ids.iter().map(|&i| i as i32).collect();
                let n = ids.len();
                Tensor::from_data(TensorData::new(ids, [n]), device)
            }
        };
        let target_p = probs.select(1, target_ids.clone());
        lap(&mut clock, device, &mut timings.predict)?;

        let baseline = match config.baseline {
            Baseline::Blur(b) => ops::blur(x.clone(), &b),
            Baseline::Black => Tensor::zeros([3, h, w], device),
            Baseline::White => Tensor::full([3, h, w], 255.0, device),
            Baseline::Mean => x.clone().mean_dim(2).mean_dim(1).expand([3, h, w]),
        };
        lap(&mut clock, device, &mut timings.baseline)?;

        // A batch is the z axis of the compose dispatch, which WebGPU caps at 65,535.
        let batch = config.batch.min(crate::segment::MAX_BATCH);
        let mut chunks = Vec::new();
        for first in (0..parts.len()).step_by(batch) {
            let count = batch.min(parts.len() - first);
            let batch = ops::compose(&x, &baseline, &parts, first, count, false, &norm);
            lap(&mut clock, device, &mut timings.compose)?;
            let logits = self.model.forward(batch);
            let scores = match config.score {
                Score::Probability => softmax(logits, 1),
                Score::Logit => logits,
            };
            chunks.push(scores.select(1, target_ids.clone()));
            lap(&mut clock, device, &mut timings.model)?;
        }
        let forward_passes = chunks.len() + 1;
        let scores = Tensor::cat(chunks, 0);
        let maps = ops::aggregate(scores, &parts);
        let targets = target_ids.dims()[0];
        let [ih, iw] = [image.height() as usize, image.width() as usize];
        let options = InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size([ih, iw]);
        let maps_full = interpolate(maps.clone().unsqueeze::<4>(), options).reshape([targets, ih * iw]);
        lap(&mut clock, device, &mut timings.aggregate)?;

        // The one download: maps, scores and class ids.
        let maps = floats(maps.reshape([targets, h * w]))?;
        let maps_full = floats(maps_full)?;
        let top_p = floats(top_p)?;
        let target_p = floats(target_p)?;
        let ids = |t: Tensor<2, Int>| -> Result<Vec<usize>, Error> {
            let data = t.into_data().convert::<i64>();
            Ok(data.try_into_vec::<i64>().map_err(|e| Error::Device(format!("{e:?}")))?.into_iter().map(|i| i as usize).collect())
        };
        let top_i = ids(top_i)?;
        let target_i = ids(target_ids.unsqueeze::<2>())?;
        lap(&mut clock, device, &mut timings.download)?;
        timings.total = start.elapsed().as_secs_f64();

        let names = self.model.class_names();
        let prediction = |class: usize, probability: f32| Prediction { class, name: names[class].clone(), probability };
        Ok(Explanation {
            predictions: top_i.iter().zip(&top_p).take(config.top).map(|(&c, &p)| prediction(c, p)).collect(),
            targets: target_i.iter().zip(&target_p).map(|(&c, &p)| prediction(c, p)).collect(),
            map_size: [h, w],
            image_size: [ih, iw],
            maps,
            maps_full,
            parts: parts.len(),
            forward_passes,
            timings,
        })
    }
}
