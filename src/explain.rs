//! The explanation shell, the same for every method: resize and upload the
//! images once, predict on the whole images, resolve the targets, build the
//! baselines, hand the views to the method (`crate::method`), resize the maps
//! to each image and download everything once, with the report and its
//! stage timings.

use std::collections::BTreeMap;
use std::sync::Arc;

use burn::tensor::{
    Device, Int, Tensor, TensorData,
    module::interpolate,
    ops::{InterpolateMode, InterpolateOptions},
};
use image::RgbImage;
use serde::Serialize;

use crate::method::{Baseline, Context, Method, Run, Score, Timing, Timings, Views, index_tensor, window::Window};
use crate::{Blur, Error, Model, ops};

/// Which classes get a map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Targets {
    /// The model's k most probable classes on the whole image.
    TopK(usize),
    /// These class ids.
    Classes(Vec<usize>),
    /// One class per image, in the images' order (a dataset's labels).
    #[serde(rename = "per_image")]
    PerImage(Vec<usize>),
}

impl Targets {
    /// The classes `classes` (ids or exact names among `names`), else the
    /// `top_k` most probable (one by default): how every front end reads
    /// `--target`/`--top-k`.
    pub fn from_classes(classes: &[String], top_k: Option<usize>, names: &[String]) -> Result<Targets, Error> {
        if classes.is_empty() {
            return Ok(Targets::TopK(top_k.unwrap_or(1)));
        }
        classes.iter().map(|c| crate::model::class_id(c, names)).collect::<Result<_, _>>().map(Targets::Classes)
    }
}

/// What to explain and how; the method decides the rest.
#[derive(Clone, Debug)]
pub struct ExplainConfig {
    pub method: Arc<dyn Method>,
    /// What replaces removed pixels (front ends default to the method's
    /// [`Method::default_baseline`]).
    pub baseline: Baseline,
    pub targets: Targets,
    pub score: Score,
    /// Composites per model forward.
    pub batch: usize,
    /// How many predicted classes the summary lists.
    pub top: usize,
    /// Time every stage (syncing the device at each) or only the total.
    pub timing: Timing,
}

impl Default for ExplainConfig {
    /// The paper's settings: circles of radius 40 at stride 6, blurred baseline, softmax score.
    fn default() -> Self {
        ExplainConfig {
            method: Arc::new(Window::default()),
            baseline: Baseline::Blur(Blur::paper()),
            targets: Targets::TopK(1),
            score: Score::Probability,
            batch: 32,
            top: 5,
            timing: Timing::Stages,
        }
    }
}

impl ExplainConfig {
    /// `self` with another method.
    pub fn with_method(self, method: impl Method + 'static) -> Self {
        ExplainConfig { method: Arc::new(method), ..self }
    }
}

/// The report's form: the method as `strategy: {name: options}`.
impl Serialize for ExplainConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut strategy = serde_json::Map::new();
        strategy.insert(self.method.entry().strategy.into(), self.method.options());
        let mut out = s.serialize_struct("ExplainConfig", 7)?;
        out.serialize_field("strategy", &strategy)?;
        out.serialize_field("baseline", &self.baseline)?;
        out.serialize_field("targets", &self.targets)?;
        out.serialize_field("score", &self.score)?;
        out.serialize_field("batch", &self.batch)?;
        out.serialize_field("top", &self.top)?;
        out.serialize_field("timing", &self.timing)?;
        out.end()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub class: usize,
    pub name: String,
    /// Softmax probability on the whole image.
    pub probability: f32,
}

/// One class of [`Explainer::predict`]: the model's raw output for it
/// (a classifier's logit) and its probability.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassScore {
    pub class: usize,
    pub name: String,
    pub logit: f32,
    pub probability: f32,
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
    /// Numbers the method reports per target, by name (integrated
    /// gradients' `completeness_gap`), in target order.
    #[serde(flatten)]
    pub stats: BTreeMap<&'static str, Vec<f32>>,
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
    /// `[N, T]` numbers the method reports per image and target, by name.
    pub stats: Vec<(&'static str, Tensor<2>)>,
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

fn floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, Error> {
    crate::counters::read("download");
    t.into_data().try_into_vec::<f32>().map_err(|e| Error::Device(format!("{e:?}")))
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
            Targets::PerImage(ids) if ids.is_empty() => {
                return Err(Error::InvalidParameter("no target class given".into()));
            }
            Targets::Classes(ids) | Targets::PerImage(ids) => {
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
        config.method.validate(self.model.input_size())?;
        Ok(())
    }

    /// The model's `top_k` classes for each image, most probable first (ties
    /// to the lower class id), `batch` images per forward pass. Images are
    /// resized to the model's input as for an explanation; one already at
    /// that size goes in as it is.
    pub fn predict(&self, images: &[RgbImage], top_k: usize, batch: usize) -> Result<Vec<Vec<ClassScore>>, Error> {
        let names = self.model.class_names();
        if top_k == 0 || top_k > names.len() {
            return Err(Error::InvalidParameter(format!("top-k must be between 1 and the model's {} classes, got {top_k}", names.len())));
        }
        if batch == 0 {
            return Err(Error::InvalidParameter("batch must be at least 1".into()));
        }
        let classes = names.len();
        let mut out = Vec::with_capacity(images.len());
        for chunk in images.chunks(batch) {
            let x = self.model.normalisation().apply(self.upload(chunk)?);
            let logits = self.model.forward(x);
            let probabilities = self.model.probabilities(logits.clone());
            // Logits and probabilities of the chunk in one readback.
            let values = floats(Tensor::cat(vec![logits.flatten::<1>(0, 1), probabilities.flatten::<1>(0, 1)], 0))?;
            let (logits, probabilities) = values.split_at(chunk.len() * classes);
            for i in 0..chunk.len() {
                let row = i * classes..(i + 1) * classes;
                let (l, p) = (&logits[row.clone()], &probabilities[row]);
                let mut order: Vec<usize> = (0..classes).collect();
                order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
                let score = |c: usize| ClassScore { class: c, name: names[c].clone(), logit: l[c], probability: p[c] };
                out.push(order.into_iter().take(top_k).map(score).collect());
            }
        }
        Ok(out)
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
        let mut run = Run::start(config.timing);

        let x = self.upload(images)?;
        run.lap(device, "upload")?;
        let on_device = self.pipeline(x, config, &mut run)?;
        let DeviceExplanation { maps, targets: target_ids, target_probabilities: target_p, top_probabilities: top_p, top_classes: top_i, parts, stats, .. } =
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
        run.lap(device, "resize")?;

        // The one download: maps, scores and class ids (exact in f32), in one readback.
        let top = top_i.dims()[1];
        let mut pieces: Vec<Tensor<1>> = vec![maps.flatten(0, 3)];
        pieces.extend(maps_full.into_iter().map(|m| m.flatten(0, 2)));
        pieces.extend([top_p.flatten(0, 1), target_p.flatten(0, 1), top_i.float().flatten(0, 1), target_ids.float().flatten(0, 1)]);
        let stat_names: Vec<&'static str> = stats.iter().map(|(name, _)| *name).collect();
        pieces.extend(stats.into_iter().map(|(_, values)| values.flatten(0, 1)));
        let lengths: Vec<usize> = pieces.iter().map(|t| t.dims()[0]).collect();
        let all = floats(Tensor::cat(pieces, 0))?;
        let mut pieces = lengths.iter().scan(0, |at, &len| {
            *at += len;
            Some(all[*at - len..*at].to_vec())
        });
        let mut next = || pieces.next().expect("one piece per downloaded tensor");
        let maps = next();
        let maps_full: Vec<Vec<f32>> = (0..images.len()).map(|_| next()).collect();
        let (top_p, target_p) = (next(), next());
        let ids = |v: Vec<f32>| v.into_iter().map(|c| c as usize).collect::<Vec<_>>();
        let (top_i, target_i) = (ids(next()), ids(next()));
        let stats: Vec<(&'static str, Vec<f32>)> = stat_names.into_iter().map(|name| (name, next())).collect();
        run.lap(device, "download")?;
        run.finish();

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
                    targets: target_i[chosen.clone()].iter().zip(&target_p[chosen.clone()]).map(|(&c, &p)| prediction(c, p)).collect(),
                    map_size: [h, w],
                    image_size: [images[i].height() as usize, images[i].width() as usize],
                    maps: maps[i * plane..(i + 1) * plane].to_vec(),
                    maps_full,
                    parts: parts[i],
                    forward_passes: run.passes,
                    timings: run.timings.clone(),
                    stats: stats.iter().map(|(name, values)| (*name, values[chosen.clone()].to_vec())).collect(),
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
        let mut run = Run::start(config.timing);
        let mut explanation = self.pipeline(x, config, &mut run)?;
        run.finish();
        explanation.timings = run.timings;
        Ok(explanation)
    }

    /// Prediction, baselines and the method's maps of the uploaded model inputs `x`.
    fn pipeline(&self, x: Tensor<4>, config: &ExplainConfig, run: &mut Run) -> Result<DeviceExplanation, Error> {
        let norm = self.model.normalisation();
        let classes = self.model.class_names().len();
        let device = &self.device;
        let n = x.dims()[0];

        // Prediction on the whole images; target ids stay on the device.
        let logits = self.model.forward(norm.apply(x.clone()));
        run.passes += 1;
        let probs = self.model.probabilities(logits.clone());
        let top = config.top.max(match config.targets {
            Targets::TopK(k) => k,
            Targets::Classes(_) | Targets::PerImage(_) => 0,
        });
        let top = top.min(classes);
        let (top_p, top_i) = probs.clone().topk_with_indices(top, 1);
        let target_ids: Tensor<2, Int> = match &config.targets {
            Targets::TopK(k) => top_i.clone().slice([0..n, 0..*k]),
            Targets::Classes(ids) => index_tensor(ids, device).unsqueeze::<2>().repeat_dim(0, n),
            Targets::PerImage(ids) if ids.len() == n => index_tensor(ids, device).reshape([n, 1]),
            Targets::PerImage(ids) => {
                return Err(Error::InvalidParameter(format!("{} per-image targets for {n} images", ids.len())));
            }
        };
        let target_p = probs.gather(1, target_ids.clone());
        let whole_score = match config.score {
            Score::Probability => target_p.clone(),
            Score::Logit => logits.gather(1, target_ids.clone()),
        };
        run.lap(device, "predict")?;

        let views = Views { baseline: self.baseline(&x, config), images: x, targets: target_ids.clone(), scores: Some(whole_score) };
        run.lap(device, "baseline")?;

        let mut cx = Context { model: &self.model, device, score: config.score, batch: config.batch, run: &mut *run, parts: vec![0; n], stats: Vec::new() };
        let maps = config.method.attribute(&mut cx, &views)?;
        let (parts, stats) = (cx.parts, cx.stats);
        Ok(DeviceExplanation {
            maps,
            targets: target_ids,
            target_probabilities: target_p,
            top_probabilities: top_p,
            top_classes: top_i,
            parts,
            forward_passes: run.passes,
            timings: run.timings.clone(),
            stats,
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
            if (iw, ih) == (w as u32, h as u32) {
                chw.extend(to_chw(image));
            } else {
                chw.extend(to_chw(&image::imageops::resize(image, w as u32, h as u32, image::imageops::FilterType::Triangle)));
            }
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
}
