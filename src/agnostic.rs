//! Input-agnostic class saliency (Akhtar & Jalwana, *Rethinking
//! interpretation: input-agnostic saliency mapping of deep visual
//! classifiers*, AAAI 2023): what a model takes class `K` to be, with no
//! image of `K` to look at. One perturbation `ρ` is shared by every input;
//! each iteration draws fresh inputs from a distribution that knows nothing
//! of the class (uniform or Gaussian noise, or any folder of images), takes
//! the gradient of the class's cross-entropy over them with respect to `ρ`,
//! folds it into first and second moment estimates (Adam's, bias-corrected;
//! the second moment is averaged over all of `ρ`, so that steps follow the
//! averaged gradient's relative magnitudes), steps `ρ` down the loss and
//! projects it back onto a norm ball. What survives is
//! what moves every input toward `K`. `ρ` is then smoothed as far as the
//! model allows (a smoothing is kept only while the share of fresh inputs
//! that `ρ` sends to `K` stays within a tolerance of the unsmoothed one's:
//! model fidelity), and its per-pixel magnitude, scaled to `[0, 1]`, is the
//! class's saliency map.
//!
//! Everything between the upload of a step's inputs and the end of the
//! optimisation stays on the device; the host reads back only the rates.
//! Perturbations live in pixel units scaled to `[0, 1]` (a `ρ` of 1 takes
//! black to white), added to inputs in `[0, 1]` and clipped there before
//! the model's normalisation.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::blur::{Blur, Padding};
use crate::{Error, Model};

/// The norm that bounds `ρ`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Norm {
    /// Euclidean over all `3·H·W` values: keeps the map's relative magnitudes.
    #[default]
    L2,
    /// The largest value: every pixel may move up to the bound.
    Linf,
}

impl FromStr for Norm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "l2" => Ok(Norm::L2),
            "linf" => Ok(Norm::Linf),
            other => Err(Error::InvalidParameter(format!("unknown norm `{other}`: use l2 or linf"))),
        }
    }
}

impl Norm {
    /// The bound used when none is given, for `[h, w]` inputs: an RMS
    /// change of 0.04 (about 10/255) per value for L2 (`0.04·√(3hw)`), 0.04
    /// for L∞: the size universal adversarial perturbations are held to
    /// (10/255 in L∞; ℓ2 2000/255 on 224² ImageNet inputs is an RMS of
    /// 0.02). A tight ball makes `ρ` spend its budget where the class's
    /// evidence is strongest: on the BadNets model the target's map puts
    /// 16× the trigger's area share of its mass on the trigger at this
    /// bound, 5× at an RMS of 0.1, where the ball no longer binds.
    pub fn default_bound(self, [h, w]: [usize; 2]) -> f32 {
        match self {
            Norm::L2 => 0.04 * ((3 * h * w) as f32).sqrt(),
            Norm::Linf => 0.04,
        }
    }

    /// The norm of `values`.
    pub fn of(self, values: &[f32]) -> f32 {
        match self {
            Norm::L2 => values.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt() as f32,
            Norm::Linf => values.iter().fold(0.0f32, |m, v| m.max(v.abs())),
        }
    }
}

/// Where the inputs `ρ` is optimised and scored on come from.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Every value uniform on `[0, 1]`.
    #[default]
    Uniform,
    /// Every value `N(0.5, 0.25²)`, clipped to `[0, 1]`.
    Gaussian,
    /// Images of a folder (searched recursively), drawn with replacement
    /// and resized to the model's input.
    Images(PathBuf),
}

impl FromStr for Distribution {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "uniform" => Ok(Distribution::Uniform),
            "gaussian" => Ok(Distribution::Gaussian),
            _ => match s.strip_prefix("images:") {
                Some(dir) if !dir.is_empty() => Ok(Distribution::Images(dir.into())),
                _ => Err(Error::InvalidParameter(format!("unknown distribution `{s}`: use uniform, gaussian or images:DIR"))),
            },
        }
    }
}

/// The settings of one optimisation. Defaults are [`AgnosticConfig::default`]'s.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AgnosticConfig {
    /// Fresh inputs per iteration.
    pub samples: usize,
    /// Iterations.
    pub steps: usize,
    /// Adam's step per value, in `[0, 1]` pixel units.
    pub step_size: f32,
    pub norm: Norm,
    /// The radius of the norm ball; `None`: [`Norm::default_bound`].
    pub bound: Option<f32>,
    pub distribution: Distribution,
    pub seed: u64,
    /// Fresh inputs the target rates are measured on (the same for every class).
    pub eval_samples: usize,
    /// How far smoothing may lower the target rate (absolute).
    pub tolerance: f32,
    /// Inputs per forward pass when measuring rates.
    pub batch: usize,
}

impl Default for AgnosticConfig {
    /// 32 inputs × 200 steps: 6,400 fresh inputs, enough for the moment
    /// estimates to average out what any one input contributes; a step of
    /// 0.01 crosses the default ball's RMS radius (0.04) in four steps, so
    /// two hundred leave room to settle on it; 512 scoring inputs measure a rate
    /// to about ±2 %; a tolerance of 0.05 keeps the smoothed map within
    /// five points of the model's own response.
    fn default() -> Self {
        AgnosticConfig {
            samples: 32,
            steps: 200,
            step_size: 0.01,
            norm: Norm::L2,
            bound: None,
            distribution: Distribution::Uniform,
            seed: 0,
            eval_samples: 512,
            tolerance: 0.05,
            batch: 64,
        }
    }
}

impl AgnosticConfig {
    /// Checks the numbers (a class and a folder are checked where they are used).
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |what: String| Err(Error::InvalidParameter(what));
        if self.samples == 0 {
            return bad("--samples must be at least 1".into());
        }
        if self.steps == 0 {
            return bad("--steps must be at least 1".into());
        }
        if !(self.step_size.is_finite() && self.step_size > 0.0) {
            return bad(format!("--step-size must be a positive number, not {}", self.step_size));
        }
        if let Some(bound) = self.bound
            && !(bound.is_finite() && bound > 0.0)
        {
            return bad(format!("--bound must be a positive number, not {bound}"));
        }
        if self.eval_samples == 0 || self.batch == 0 {
            return bad("--eval-samples and the batch must be at least 1".into());
        }
        if !(self.tolerance.is_finite() && (0.0..=1.0).contains(&self.tolerance)) {
            return bad(format!("--tolerance must be between 0 and 1, not {}", self.tolerance));
        }
        Ok(())
    }

    /// The bound in force for a model of input `size`.
    pub fn bound_for(&self, size: [usize; 2]) -> f32 {
        self.bound.unwrap_or_else(|| self.norm.default_bound(size))
    }
}

/// Draws inputs in `[0, 1]`, `[n, 3, H, W]`, reproducibly: each input is a
/// stream of a ChaCha8 generator seeded with the sampler's seed, the same on
/// every device, in every run and in any batch.
pub struct Sampler {
    distribution: Distribution,
    /// The folder's images at the model's size, `[3, H, W]` values in `[0, 1]`.
    pool: Vec<Vec<f32>>,
    size: [usize; 2],
    seed: u64,
}

/// Stream offset of the scoring inputs, apart from the optimisation's.
const EVAL_STREAM: u64 = 1 << 56;

impl Sampler {
    /// A sampler for inputs of `size`; a folder's images are read and resized now.
    pub fn new(distribution: &Distribution, size: [usize; 2], seed: u64) -> Result<Sampler, Error> {
        let pool = match distribution {
            Distribution::Images(dir) => read_pool(dir, size, None)?,
            _ => Vec::new(),
        };
        Ok(Sampler { distribution: distribution.clone(), pool, size, seed })
    }

    /// The inputs of `streams`, one input per stream: `[streams, 3, H, W]`.
    pub fn draw(&self, streams: std::ops::Range<u64>, device: &Device) -> Tensor<4> {
        let [h, w] = self.size;
        let len = 3 * h * w;
        let n = (streams.end - streams.start) as usize;
        let mut values = Vec::with_capacity(n * len);
        for stream in streams {
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            rng.set_stream(stream);
            match self.distribution {
                Distribution::Uniform => values.extend((0..len).map(|_| rng.random::<f32>())),
                Distribution::Gaussian => {
                    let end = values.len() + len;
                    while values.len() < end {
                        let radius = (-2.0 * (1.0 - rng.random::<f32>()).ln()).sqrt();
                        let angle = std::f32::consts::TAU * rng.random::<f32>();
                        values.push((0.5 + 0.25 * radius * angle.cos()).clamp(0.0, 1.0));
                        values.push((0.5 + 0.25 * radius * angle.sin()).clamp(0.0, 1.0));
                    }
                    values.truncate(end);
                }
                Distribution::Images(_) => {
                    let image = &self.pool[rng.random_range(0..self.pool.len())];
                    if rng.random::<bool>() {
                        // A horizontal flip: the folder is a sample of a distribution, not a list.
                        for row in image.chunks(w) {
                            values.extend(row.iter().rev());
                        }
                    } else {
                        values.extend_from_slice(image);
                    }
                }
            }
        }
        Tensor::from_data(TensorData::new(values, [n, 3, h, w]), device)
    }

    /// Step `step`'s `n` inputs of the optimisation.
    pub fn step(&self, step: usize, n: usize, device: &Device) -> Tensor<4> {
        let first = (step as u64) << 24;
        self.draw(first..first + n as u64, device)
    }

    /// The scoring inputs `first..first + n`: the same whatever the batch.
    pub fn scoring(&self, first: usize, n: usize, device: &Device) -> Tensor<4> {
        let first = EVAL_STREAM + first as u64;
        self.draw(first..first + n as u64, device)
    }
}

/// Every PNG or JPEG under `dir` (at most `limit`, evenly spaced in name
/// order), resized to `[h, w]`, as `[3, h, w]` in `[0, 1]`.
pub(crate) fn read_pool(dir: &Path, [h, w]: [usize; 2], limit: Option<usize>) -> Result<Vec<Vec<f32>>, Error> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|error| Error::Io { path: d.clone(), error })?;
        for entry in entries {
            let path = entry.map_err(|error| Error::Io { path: d.clone(), error })?.path();
            if path.is_dir() {
                stack.push(path);
            } else if crate::io::is_image(&path) {
                files.push(path);
            }
        }
    }
    if files.is_empty() {
        return Err(Error::InvalidParameter(format!("{}: no PNG or JPEG images to draw inputs from", dir.display())));
    }
    files.sort();
    if let Some(limit) = limit.filter(|&l| l < files.len()) {
        files = (0..limit).map(|i| files[i * files.len() / limit].clone()).collect();
    }
    files
        .iter()
        .map(|path| {
            let image = crate::io::load_image(path)?;
            let image: RgbImage = image::imageops::resize(&image, w as u32, h as u32, image::imageops::FilterType::Triangle);
            Ok(crate::explain::to_chw(&image).into_iter().map(|v| v / 255.0).collect())
        })
        .collect()
}

/// One class's input-agnostic saliency.
#[derive(Clone, Debug, Serialize)]
pub struct ClassSaliency {
    pub class: usize,
    pub name: String,
    /// `[height, width]`.
    pub size: [usize; 2],
    /// The refined perturbation `[3, H, W]` in `[0, 1]` pixel units.
    #[serde(skip)]
    pub rho: Vec<f32>,
    /// Its per-pixel magnitude (Euclidean over channels) `[H, W]`, scaled to `[0, 1]`.
    #[serde(skip)]
    pub magnitude: Vec<f32>,
    /// Share of the scoring inputs classified as the class with `ρ` added.
    pub target_rate: f32,
    /// … and without.
    pub clean_rate: f32,
    /// … with `ρ` before smoothing.
    pub unsmoothed_rate: f32,
    /// `ρ`'s norm (of the configured kind) and the bound it was projected onto.
    pub norm: f32,
    pub bound: f32,
    /// The standard deviation in pixels of the Gaussian smoothing kept (0: none).
    pub smoothing: f32,
    pub seconds: f64,
}

/// A model, its device and the inputs: what every class's optimisation shares.
pub struct Agnostic<'a> {
    pub model: &'a dyn Model,
    pub device: &'a Device,
    pub config: &'a AgnosticConfig,
    pub sampler: Sampler,
}

impl<'a> Agnostic<'a> {
    pub fn new(model: &'a dyn Model, device: &'a Device, config: &'a AgnosticConfig) -> Result<Self, Error> {
        config.validate()?;
        let sampler = Sampler::new(&config.distribution, model.input_size(), config.seed)?;
        Ok(Agnostic { model, device, config, sampler })
    }

    /// An error unless `class` is one of the model's outputs.
    pub fn check_class(&self, class: usize) -> Result<(), Error> {
        let classes = self.model.class_names().len();
        if class >= classes {
            return Err(Error::UnknownClass(class.to_string(), classes));
        }
        Ok(())
    }

    /// The model's input for inputs `x` in `[0, 1]` (any device, tracked or not).
    pub fn model_input(&self, x: Tensor<4>) -> Tensor<4> {
        self.model.normalisation().apply(x.clamp(0.0, 1.0) * 255.0)
    }

    /// `∂/∂ρ` of the mean cross-entropy of `class` over inputs `x + ρ`.
    fn loss_gradient(&self, rho: &Tensor<4>, x: Tensor<4>, class: usize) -> Result<Tensor<4>, Error> {
        let [n, c, h, w] = x.dims();
        let r = rho.clone().autodiff().require_grad();
        let logits = self.model.forward(self.model_input(x + r.clone().expand([n, c, h, w])));
        let loss = -log_softmax(logits, 1).slice([0..n, class..class + 1]).mean();
        let grads = loss.backward();
        r.grad(&grads).ok_or_else(|| Error::Device("the model's output does not depend on its input: no gradient for ρ".into()))
    }

    /// `ρ [1, 3, H, W]` for `class`: `steps` Adam steps on fresh inputs, each
    /// followed by the projection onto the ball. No read-back.
    pub fn optimise(&self, class: usize) -> Result<Tensor<4>, Error> {
        self.check_class(class)?;
        let cfg = self.config;
        let [h, w] = self.model.input_size();
        let bound = cfg.bound_for([h, w]);
        let (beta1, beta2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let mut rho = Tensor::<4>::zeros([1, 3, h, w], self.device);
        let mut m = rho.clone();
        let mut v = rho.clone();
        for t in 1..=cfg.steps {
            let x = self.sampler.step(t, cfg.samples, self.device);
            let g = self.loss_gradient(&rho, x, class)?;
            m = m * beta1 + g.clone() * (1.0 - beta1);
            v = v * beta2 + g.square() * (1.0 - beta2);
            let m_hat = m.clone() / (1.0 - beta1.powi(t as i32));
            let v_hat = v.clone() / (1.0 - beta2.powi(t as i32));
            // One second moment for the whole of ρ (its mean over the values): a
            // per-value one (Adam's) would move every pixel whose gradient keeps
            // its sign equally fast and erase where the class's evidence is strongest.
            let scale = v_hat.mean().sqrt().reshape([1, 1, 1, 1]) + eps;
            rho = project(rho - m_hat / scale * cfg.step_size, cfg.norm, bound);
        }
        Ok(rho)
    }

    /// The share of the scoring inputs that the model assigns to `class`
    /// with `rho` (`[1, 3, H, W]`, or `None`) added: one read-back.
    pub fn rate(&self, rho: Option<&Tensor<4>>, class: usize) -> Result<f32, Error> {
        self.rate_of(class, |x| match rho {
            Some(rho) => {
                let dims = x.dims();
                x + rho.clone().expand(dims)
            }
            None => x,
        })
    }

    /// The share of the scoring inputs, each changed by `change` (inputs
    /// `[n, 3, H, W]` in `[0, 1]` in, the same out), that the model assigns
    /// to `class`: one read-back.
    pub fn rate_of(&self, class: usize, change: impl Fn(Tensor<4>) -> Tensor<4>) -> Result<f32, Error> {
        let cfg = self.config;
        let mut hits = Tensor::<1>::zeros([1], self.device);
        for first in (0..cfg.eval_samples).step_by(cfg.batch) {
            let n = cfg.batch.min(cfg.eval_samples - first);
            let x = change(self.sampler.scoring(first, n, self.device));
            hits = hits + self.is_class(x, class).sum();
        }
        let hits: f32 = hits.into_scalar();
        Ok(hits / cfg.eval_samples as f32)
    }

    /// 1 for each of the inputs `x [n, 3, H, W]` (in `[0, 1]`) that the model
    /// assigns to `class`, else 0: `[n]`, on the device.
    pub fn is_class(&self, x: Tensor<4>, class: usize) -> Tensor<1> {
        let n = x.dims()[0];
        self.model.forward(self.model_input(x)).argmax(1).reshape([n]).equal_elem(class as i64).float()
    }

    /// `rho` smoothed by a Gaussian of standard deviation `sigma` pixels (reflected at the edges).
    fn smooth(&self, rho: &Tensor<4>, sigma: f32) -> Result<Tensor<4>, Error> {
        let [_, c, h, w] = rho.dims();
        let radius = ((3.0 * sigma).ceil() as usize).clamp(1, h.min(w).saturating_sub(1) / 2).max(1);
        let blur = Blur::gaussian(2 * radius + 1, sigma)?.with_padding(Padding::Reflect);
        Ok(crate::ops::blur(rho.clone().reshape([c, h, w]), &blur).reshape([1, c, h, w]))
    }

    /// The input-agnostic saliency of `class`: [`Self::optimise`], then the
    /// widest smoothing among σ = side/64, side/32, side/16, side/8 (each
    /// tried only if the narrower ones were kept) whose target rate stays
    /// within the tolerance of the unsmoothed `ρ`'s.
    pub fn class_saliency(&self, class: usize) -> Result<ClassSaliency, Error> {
        let start = Instant::now();
        let rho = self.optimise(class)?;
        let unsmoothed_rate = self.rate(Some(&rho), class)?;
        let clean_rate = self.rate(None, class)?;
        let [h, w] = self.model.input_size();
        let side = h.min(w) as f32;
        let (mut kept, mut target_rate, mut smoothing) = (rho.clone(), unsmoothed_rate, 0.0);
        for sigma in [side / 64.0, side / 32.0, side / 16.0, side / 8.0] {
            if h.min(w) < 4 {
                break;
            }
            let smoothed = self.smooth(&rho, sigma)?;
            let rate = self.rate(Some(&smoothed), class)?;
            if rate + self.config.tolerance < unsmoothed_rate {
                break;
            }
            (kept, target_rate, smoothing) = (smoothed, rate, sigma);
        }
        let rho = floats(kept)?;
        let magnitude = magnitude(&rho, [h, w]);
        Ok(ClassSaliency {
            class,
            name: self.model.class_names()[class].clone(),
            size: [h, w],
            norm: self.config.norm.of(&rho),
            bound: self.config.bound_for([h, w]),
            rho,
            magnitude,
            target_rate,
            clean_rate,
            unsmoothed_rate,
            smoothing,
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

/// `rho` projected onto the ball of `norm` and radius `bound`, on the device.
pub fn project(rho: Tensor<4>, norm: Norm, bound: f32) -> Tensor<4> {
    match norm {
        Norm::Linf => rho.clamp(-bound, bound),
        Norm::L2 => {
            let length = rho.clone().square().sum().sqrt().reshape([1, 1, 1, 1]);
            let scale = (length.recip() * bound).clamp_max(1.0);
            rho * scale
        }
    }
}

/// Per-pixel Euclidean norm over the channels of `rho [3, H, W]`, divided by its largest value.
pub fn magnitude(rho: &[f32], [h, w]: [usize; 2]) -> Vec<f32> {
    let plane = h * w;
    let mut out: Vec<f32> = (0..plane).map(|i| (0..3).map(|c| rho[c * plane + i].powi(2)).sum::<f32>().sqrt()).collect();
    let top = out.iter().fold(0.0f32, |m, &v| m.max(v));
    if top > 0.0 {
        out.iter_mut().for_each(|v| *v /= top);
    }
    out
}

pub(crate) fn floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, Error> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::Device(format!("{e:?}")))
}
