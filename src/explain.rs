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

use crate::partition::{PartKind, Parts, occlusion::Occlusion, rise::Rise, window::WindowGrid};
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
    /// Zero in the model's normalised input (the normalisation mean):
    /// Captum's default occlusion baseline and RISE's masking.
    Zero,
}

/// How the input is partitioned and the scores aggregated.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// PAMI Strategy I: sliding windows; several grids (one shape) are one
    /// multi-scale set of windows, aggregated together.
    Window(Vec<WindowGrid>),
    /// PAMI Strategy II: the segments of the paper's twenty pre-segmentations
    /// (Table 3, `segment::paper`) of the model-size image, one map per
    /// segmentation, averaged.
    Segments(SegmentsConfig),
    /// Occlusion (Captum's semantics): the score drop when a window is replaced by the baseline.
    Occlusion(Occlusion),
    /// RISE: score-weighted random soft masks.
    Rise(Rise),
}

impl Strategy {
    /// The method's name in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Window(_) => "pami-window",
            Strategy::Segments(_) => "pami-segments",
            Strategy::Occlusion(_) => "occlusion",
            Strategy::Rise(_) => "rise",
        }
    }
}

/// Options of PAMI Strategy II.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SegmentsConfig {
    /// Segment the colour-mapped first-run map and explain again with those
    /// segments (masks still cut the original image).
    pub second_run: bool,
    pub shifts: Shifts,
}

/// Cyclic shifts of the image, each explained and shifted back, the maps averaged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Shifts {
    /// The image as it is (the paper).
    #[default]
    None,
    /// The public reference code's 13: none, and ±24, ±30, ±36 px along each axis.
    Reference,
}

impl Shifts {
    /// `(dx, dy)` of each shift.
    pub fn offsets(self) -> Vec<(i32, i32)> {
        let mut out = vec![(0, 0)];
        if self == Shifts::Reference {
            for d in [24, 30, 36] {
                out.extend([(d, 0), (-d, 0), (0, d), (0, -d)]);
            }
        }
        out
    }
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
            strategy: Strategy::Window(vec![WindowGrid::default()]),
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
    /// Segmentation (Strategy II) and parts tables.
    pub partition: f64,
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
    /// Parts of this image (all shifts and both runs).
    pub parts: usize,
    /// Model forward passes of the call that explained this image (shared
    /// by the images explained together).
    pub forward_passes: usize,
    /// Of the call that explained this image.
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

/// An explanation still on the device ([`Explainer::explain_tensor`]): `N`
/// images, `T` targets each, maps at the model's input size.
pub struct DeviceExplanation {
    /// `[N, T, H, W]`: one map per image and target.
    pub maps: Tensor<4>,
    /// `[N, T]` class ids the maps explain.
    pub targets: Tensor<2, Int>,
    /// `[N, T]` their probabilities on the whole image.
    pub target_probabilities: Tensor<2>,
    /// `[N, K]` the most probable classes' probabilities (K = `config.top` or more) …
    pub top_probabilities: Tensor<2>,
    /// … and ids, most probable first.
    pub top_classes: Tensor<2, Int>,
    /// Parts per image.
    pub parts: Vec<usize>,
    pub forward_passes: usize,
    /// Stage timings so far (the device is synced between stages).
    pub timings: Timings,
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

fn floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, Error> {
    t.into_data().try_into_vec::<f32>().map_err(|e| Error::Device(format!("{e:?}")))
}

fn ints<const D: usize>(t: Tensor<D, Int>) -> Result<Vec<usize>, Error> {
    let data = t.into_data().convert::<i64>();
    Ok(data.try_into_vec::<i64>().map_err(|e| Error::Device(format!("{e:?}")))?.into_iter().map(|i| i as usize).collect())
}

fn index_tensor(ids: &[usize], device: &Device) -> Tensor<1, Int> {
    let ids: Vec<i32> = ids.iter().map(|&i| i as i32).collect();
    let n = ids.len();
    Tensor::from_data(TensorData::new(ids, [n]), device)
}

/// Model inputs `[V, 3, H, W]` with their baselines and the classes `[V, T]`
/// each is scored for. A view is an image, a shifted image, or an image
/// paired with one target (second run).
pub(crate) struct Views {
    pub(crate) images: Tensor<4>,
    pub(crate) baseline: Tensor<4>,
    pub(crate) targets: Tensor<2, Int>,
}

impl Views {
    pub(crate) fn select(&self, ids: &[usize]) -> Views {
        let ids = index_tensor(ids, &self.images.device());
        Views {
            images: self.images.clone().select(0, ids.clone()),
            baseline: self.baseline.clone().select(0, ids.clone()),
            targets: self.targets.clone().select(0, ids),
        }
    }
}

/// The stopwatch and counters of one call.
pub(crate) struct Run {
    timings: Timings,
    clock: Instant,
    passes: usize,
}

impl Run {
    pub(crate) fn start() -> Run {
        Run { timings: Timings::default(), clock: Instant::now(), passes: 0 }
    }
}

/// Jet colour map of each map `[N, H, W]` after min–max scaling: RGB `[N, 3, H, W]` in 0..255.
fn jet(maps: Tensor<3>) -> Tensor<4> {
    let [n, h, w] = maps.dims();
    let flat = maps.reshape([n, h * w]);
    let low = flat.clone().min_dim(1);
    let range = flat.clone().max_dim(1) - low.clone();
    let v = (flat - low) / range.clamp_min(1e-12);
    let channel = |offset: f32| {
        let rising = v.clone() * 4.0 - (1.5 - offset);
        let falling = v.clone() * -4.0 + (4.5 - offset);
        rising.min_pair(falling).clamp(0.0, 1.0) * 255.0
    };
    Tensor::stack::<3>(vec![channel(0.0), channel(1.0), channel(2.0)], 1).reshape([n, 3, h, w])
}

impl<M: Model> Explainer<M> {
    pub fn new(model: M, device: Device) -> Self {
        Explainer { model, device }
    }

    /// Resolves a class given as an id or an exact (case-insensitive) name.
    pub fn class_id(&self, class: &str) -> Result<usize, Error> {
        crate::model::class_id(class, self.model.class_names())
    }

    fn check(&self, images: &[RgbImage], config: &ExplainConfig) -> Result<(), Error> {
        if images.is_empty() {
            return Err(Error::InvalidParameter("no image to explain".into()));
        }
        for image in images {
            let (w, h) = image.dimensions();
            if w < 2 || h < 2 {
                return Err(Error::ImageTooSmall { width: w, height: h });
            }
        }
        self.validate(config)
    }

    /// Checks `config` against the model (classes, input size) before any image is read.
    pub fn validate(&self, config: &ExplainConfig) -> Result<(), Error> {
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
        let [h, w] = self.model.input_size();
        match &config.strategy {
            Strategy::Window(grids) => {
                let Some(first) = grids.first() else {
                    return Err(Error::InvalidParameter("no window grid given".into()));
                };
                for grid in grids {
                    if grid.shape != first.shape {
                        return Err(Error::InvalidParameter("multi-scale windows must share one shape".into()));
                    }
                    grid.rows(w, h)?;
                }
            }
            Strategy::Occlusion(o) => {
                o.rows(w, h)?;
            }
            Strategy::Rise(r) => r.validated(w, h)?,
            Strategy::Segments(_) => {}
        }
        Ok(())
    }

    /// Explains `image` for the configured targets.
    pub fn explain(&self, image: &RgbImage, config: &ExplainConfig) -> Result<Explanation, Error> {
        Ok(self.explain_batch(std::slice::from_ref(image), config)?.remove(0))
    }

    /// Explains several images in one pipeline: their parts share the model
    /// batches, so the forward passes run full. One explanation per image.
    pub fn explain_batch(&self, images: &[RgbImage], config: &ExplainConfig) -> Result<Vec<Explanation>, Error> {
        self.check(images, config)?;
        let device = &self.device;
        let mut run = Run::start();
        let start = run.clock;

        let x = self.upload(images)?;
        lap(&mut run.clock, device, &mut run.timings.upload)?;
        let on_device = self.pipeline(x, config, &mut run)?;
        let DeviceExplanation { maps, targets: target_ids, target_probabilities: target_p, top_probabilities: top_p, top_classes: top_i, parts, .. } =
            on_device;
        let [_, targets, h, w] = maps.dims();
        let maps_full: Vec<Tensor<3>> = images
            .iter()
            .enumerate()
            .map(|(i, image)| {
                let size = [image.height() as usize, image.width() as usize];
                let options = InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size(size);
                let map = maps.clone().slice([i..i + 1, 0..targets, 0..h, 0..w]);
                interpolate(map, options).reshape([targets, size[0], size[1]])
            })
            .collect();
        lap(&mut run.clock, device, &mut run.timings.aggregate)?;

        // The one download: maps, scores and class ids.
        let top = top_i.dims()[1];
        let maps = floats(maps)?;
        let maps_full = maps_full.into_iter().map(floats).collect::<Result<Vec<_>, _>>()?;
        let top_p = floats(top_p)?;
        let target_p = floats(target_p)?;
        let top_i = ints(top_i)?;
        let target_i = ints(target_ids)?;
        lap(&mut run.clock, device, &mut run.timings.download)?;
        run.timings.total = start.elapsed().as_secs_f64();

        let names = self.model.class_names();
        let prediction = |class: usize, probability: f32| Prediction { class, name: names[class].clone(), probability };
        let plane = targets * h * w;
        Ok(maps_full
            .into_iter()
            .enumerate()
            .map(|(i, maps_full)| {
                let tops = i * top..(i + 1) * top;
                let chosen = i * targets..(i + 1) * targets;
                Explanation {
                    predictions: top_i[tops.clone()].iter().zip(&top_p[tops]).take(config.top).map(|(&c, &p)| prediction(c, p)).collect(),
                    targets: target_i[chosen.clone()].iter().zip(&target_p[chosen]).map(|(&c, &p)| prediction(c, p)).collect(),
                    map_size: [h, w],
                    image_size: [images[i].height() as usize, images[i].width() as usize],
                    maps: maps[i * plane..(i + 1) * plane].to_vec(),
                    maps_full,
                    parts: parts[i],
                    forward_passes: run.passes,
                    timings: run.timings.clone(),
                }
            })
            .collect())
    }

    /// Explains images that are already on the explainer's device, for
    /// callers that decode, resize or produce images there (an inference
    /// server, a video pipeline): `x [N, 3, H, W]` holds pixel values in
    /// `[0, 255]` at the model's input size. Nothing is read back; the maps
    /// and scores stay on the device until the caller reads them.
    pub fn explain_tensor(&self, x: Tensor<4>, config: &ExplainConfig) -> Result<DeviceExplanation, Error> {
        let [h, w] = self.model.input_size();
        let [n, c, xh, xw] = x.dims();
        if n == 0 || c != 3 || [xh, xw] != [h, w] {
            return Err(Error::InvalidParameter(format!(
                "the input is [{n}, {c}, {xh}, {xw}]; the model needs [N ≥ 1, 3, {h}, {w}] pixel values"
            )));
        }
        if x.device() != self.device {
            return Err(Error::InvalidParameter("the input is on another device than the explainer".into()));
        }
        self.validate(config)?;
        let mut run = Run::start();
        let start = run.clock;
        let mut explanation = self.pipeline(x, config, &mut run)?;
        explanation.timings.total = start.elapsed().as_secs_f64();
        Ok(explanation)
    }

    /// Prediction, baseline, partition, compose, model and aggregate of the uploaded model inputs `x`.
    fn pipeline(&self, x: Tensor<4>, config: &ExplainConfig, run: &mut Run) -> Result<DeviceExplanation, Error> {
        let [h, w] = self.model.input_size();
        let norm = self.model.normalisation();
        let classes = self.model.class_names().len();
        let device = &self.device;
        let n = x.dims()[0];

        // Prediction on the whole images; target ids stay on the device.
        let logits = self.model.forward(norm.apply(x.clone()));
        run.passes += 1;
        let probs = softmax(logits.clone(), 1);
        let top = config.top.max(match config.targets {
            Targets::TopK(k) => k,
            Targets::Classes(_) => 0,
        });
        let top = top.min(classes);
        let (top_p, top_i) = probs.clone().topk_with_indices(top, 1);
        let target_ids: Tensor<2, Int> = match &config.targets {
            Targets::TopK(k) => top_i.clone().slice([0..n, 0..*k]),
            Targets::Classes(ids) => index_tensor(ids, device).unsqueeze::<2>().repeat_dim(0, n),
        };
        let target_p = probs.gather(1, target_ids.clone());
        let whole_score = match config.score {
            Score::Probability => target_p.clone(),
            Score::Logit => logits.gather(1, target_ids.clone()),
        };
        lap(&mut run.clock, device, &mut run.timings.predict)?;

        let views = Views { baseline: self.baseline(&x, config), images: x, targets: target_ids.clone() };
        lap(&mut run.clock, device, &mut run.timings.baseline)?;

        let mut parts_per_image = vec![0; n];
        let maps: Tensor<4> = match &config.strategy {
            Strategy::Window(grids) => {
                let mut rows = Vec::new();
                for grid in grids {
                    rows.extend(grid.rows(w, h)?);
                }
                let parts = Parts::windows(grids[0].shape, &rows, n, w, h, device);
                self.aggregated(&views, &parts, config, false, None, run, &mut parts_per_image)?
            }
            Strategy::Occlusion(occlusion) => {
                let parts = Parts::windows(PartKind::Rect, &occlusion.rows(w, h)?, n, w, h, device);
                self.aggregated(&views, &parts, config, true, Some(&whole_score), run, &mut parts_per_image)?
            }
            Strategy::Rise(rise) => {
                let parts = rise.parts(n, w, h, device)?;
                self.aggregated(&views, &parts, config, false, None, run, &mut parts_per_image)? / rise.probability
            }
            Strategy::Segments(options) => self.segments(&views, options, config, run, &mut parts_per_image)?,
        };
        lap(&mut run.clock, device, &mut run.timings.aggregate)?;
        Ok(DeviceExplanation {
            maps,
            targets: target_ids,
            target_probabilities: target_p,
            top_probabilities: top_p,
            top_classes: top_i,
            parts: parts_per_image,
            forward_passes: run.passes,
            timings: run.timings.clone(),
        })
    }

    /// Host-side resize to the model input (antialiased), then the one upload: `[N, 3, H, W]`.
    pub(crate) fn upload(&self, images: &[RgbImage]) -> Result<Tensor<4>, Error> {
        let [h, w] = self.model.input_size();
        let mut chw = Vec::with_capacity(images.len() * 3 * h * w);
        for image in images {
            let (iw, ih) = image.dimensions();
            if iw < 2 || ih < 2 {
                return Err(Error::ImageTooSmall { width: iw, height: ih });
            }
            chw.extend(to_chw(&image::imageops::resize(image, w as u32, h as u32, image::imageops::FilterType::Triangle)));
        }
        Ok(Tensor::<4>::from_data(TensorData::new(chw, [images.len(), 3, h, w]), &self.device))
    }

    /// The baseline `[N, 3, H, W]` of model inputs `x`.
    fn baseline(&self, x: &Tensor<4>, config: &ExplainConfig) -> Tensor<4> {
        let [n, c, h, w] = x.dims();
        match config.baseline {
            Baseline::Blur(b) => ops::blur(x.clone().reshape([n * c, h, w]), &b).reshape([n, c, h, w]),
            Baseline::Black => Tensor::zeros([n, c, h, w], &x.device()),
            Baseline::White => Tensor::full([n, c, h, w], 255.0, &x.device()),
            Baseline::Mean => x.clone().mean_dim(3).mean_dim(2).expand([n, c, h, w]),
            Baseline::Zero => {
                let mean = self.model.normalisation().mean;
                Tensor::<1>::from_data(TensorData::new(mean.to_vec(), [3]), &x.device()).reshape([1, 3, 1, 1]).expand([n, c, h, w])
            }
        }
    }

    /// Scores every part of `parts` (composed over the views' baselines,
    /// `invert`: keep all but the part) for its view's targets: `[P, T]`.
    pub(crate) fn score(&self, views: &Views, parts: &Parts, config: &ExplainConfig, invert: bool, run: &mut Run) -> Result<Tensor<2>, Error> {
        let device = &self.device;
        let norm = self.model.normalisation();
        let targets = views.targets.clone().select(0, parts.image_of_rows());
        let t = targets.dims()[1];
        // A batch is the z axis of the compose dispatch, which WebGPU caps at 65,535.
        let batch = config.batch.min(crate::segment::MAX_BATCH);
        let mut chunks = Vec::new();
        for first in (0..parts.len()).step_by(batch) {
            let count = batch.min(parts.len() - first);
            let composed = ops::compose(&views.images, &views.baseline, parts, first, count, invert, &norm);
            lap(&mut run.clock, device, &mut run.timings.compose)?;
            let logits = self.model.forward(composed);
            let scores = match config.score {
                Score::Probability => softmax(logits, 1),
                Score::Logit => logits,
            };
            chunks.push(scores.gather(1, targets.clone().slice([first..first + count, 0..t])));
            run.passes += 1;
            lap(&mut run.clock, device, &mut run.timings.model)?;
        }
        Ok(Tensor::cat(chunks, 0))
    }

    /// Scores and aggregates `parts` over `views`: maps `[V, T, H, W]`.
    /// `drop_from`: occlusion's whole-view scores `[V, T]`; a part's
    /// attribution is then the score drop.
    #[allow(clippy::too_many_arguments)]
    fn aggregated(
        &self,
        views: &Views,
        parts: &Parts,
        config: &ExplainConfig,
        invert: bool,
        drop_from: Option<&Tensor<2>>,
        run: &mut Run,
        parts_per_image: &mut [usize],
    ) -> Result<Tensor<4>, Error> {
        let mut scores = self.score(views, parts, config, invert, run)?;
        if let Some(whole) = drop_from {
            scores = whole.clone().select(0, parts.image_of_rows()) - scores;
        }
        let maps: Vec<Tensor<3>> = (0..parts.images.len()).map(|v| ops::aggregate(&scores, parts, v)).collect();
        lap(&mut run.clock, &self.device, &mut run.timings.aggregate)?;
        for (count, range) in parts_per_image.iter_mut().zip(&parts.images) {
            *count += range.len();
        }
        Ok(Tensor::stack(maps, 0))
    }

    /// PAMI Strategy II over `views`, with its shifts and second run: `[N, T, H, W]`.
    fn segments(
        &self,
        views: &Views,
        options: &SegmentsConfig,
        config: &ExplainConfig,
        run: &mut Run,
        parts_per_image: &mut [usize],
    ) -> Result<Tensor<4>, Error> {
        let shifts = options.shifts.offsets();
        let maps = self.segment_maps(views, &views.images, &shifts, config, run, parts_per_image)?;
        if !options.second_run {
            return Ok(maps);
        }
        // One view per (image, target): the image, scored for that target only,
        // cut by the segments of that target's colour-mapped first map.
        let [n, t, h, w] = maps.dims();
        let mut paired = views.select(&(0..n * t).map(|i| i / t).collect::<Vec<_>>());
        paired.targets = views.targets.clone().reshape([n * t, 1]);
        let colour = jet(maps.reshape([n * t, h, w]));
        let mut counts = vec![0; n * t];
        let second = self.segment_maps(&paired, &colour, &[(0, 0)], config, run, &mut counts)?;
        for (i, c) in counts.iter().enumerate() {
            parts_per_image[i / t] += c;
        }
        Ok(second.reshape([n, t, h, w]))
    }

    /// Strategy II maps `[V, T, H, W]` of `views`, cut by the paper's
    /// segmentations of `source [V, 3, H, W]` rolled by each shift `(dx, dy)`
    /// and rolled back: the model always sees the unshifted views; a shift
    /// only moves where the segmenters start (a segment crossing the seam
    /// becomes two pieces of one part).
    fn segment_maps(
        &self,
        views: &Views,
        source: &Tensor<4>,
        shifts: &[(i32, i32)],
        config: &ExplainConfig,
        run: &mut Run,
        counts: &mut [usize],
    ) -> Result<Tensor<4>, Error> {
        let v = source.dims()[0];
        let preset = crate::segment::paper();
        let k = preset.len();
        let mut labels = Vec::with_capacity(shifts.len() * k);
        let mut setting_counts = Vec::with_capacity(shifts.len() * k);
        for &(dx, dy) in shifts {
            let rolled = if (dx, dy) == (0, 0) { source.clone() } else { source.clone().roll(&[dy, dx], &[2, 3]) };
            for seg in crate::segment::segment_all(&rolled, &preset)? {
                let back = if (dx, dy) == (0, 0) { seg.labels } else { seg.labels.roll(&[-dy, -dx], &[1, 2]) };
                labels.push(back);
                setting_counts.push(seg.counts);
            }
        }
        // Runs grouped by view: run v·R + r, r over shifts × settings.
        let r = labels.len();
        let mut runs = Vec::with_capacity(v * r);
        let mut run_counts = Vec::with_capacity(v * r);
        for view in 0..v {
            for (i, c) in setting_counts.iter().enumerate() {
                runs.push(i * v + view);
                run_counts.push(c[view]);
            }
        }
        let labels = Tensor::cat(labels, 0).select(0, index_tensor(&runs, &self.device));
        let run_images: Vec<usize> = (0..v * r).map(|i| i / r).collect();
        let parts = Parts::segments(labels, &run_counts, &run_images, v);
        lap(&mut run.clock, &self.device, &mut run.timings.partition)?;
        self.aggregated(views, &parts, config, false, None, run, counts)
    }
}
