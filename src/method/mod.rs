//! Attribution methods: what an explanation computes between the shell's
//! prediction and its download (`crate::explain`). A method gets the views —
//! model inputs on the device with their baselines, target classes and
//! whole-input scores — and returns one map per view and target. Each method
//! lives in one file of this folder with its name, options, validation,
//! default baseline, parts, the score it aggregates and its finishing step;
//! [`perturbation`] holds the steps the perturbation family shares
//! (compose → model → aggregate) and [`gradient`] the gradient family's
//! (autodiff on the same device). [`registry`] lists them for the front ends.

pub mod ablation;
pub mod gradcam;
pub mod gradient;
pub mod integrated_gradients;
pub mod occlusion;
pub mod perturbation;
pub mod registry;
pub mod rise;
pub mod saliency;
pub mod segments;
pub mod smoothgrad;
pub mod window;

use std::fmt::Debug;
use std::time::Instant;

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::{Blur, Error, Model};

/// How a part is scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
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

/// Wall-clock seconds per stage, in the order the stages first ran; the
/// device is synchronised at each stage's end. Stages are what the call ran:
/// `upload`, `predict`, `baseline`, then the method's (perturbation:
/// `partition`, `compose`, `model`, `aggregate`), `resize`, `download`, and
/// `total` for the whole call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timings {
    stages: Vec<(&'static str, f64)>,
}

impl Timings {
    /// Adds `seconds` to `stage`.
    pub fn add(&mut self, stage: &'static str, seconds: f64) {
        match self.stages.iter_mut().find(|(s, _)| *s == stage) {
            Some((_, total)) => *total += seconds,
            None => self.stages.push((stage, seconds)),
        }
    }

    /// Sets `stage` to `seconds`.
    pub fn set(&mut self, stage: &'static str, seconds: f64) {
        self.stages.retain(|(s, _)| *s != stage);
        self.stages.push((stage, seconds));
    }

    /// Seconds of `stage` (0 if it did not run).
    pub fn get(&self, stage: &str) -> f64 {
        self.stages.iter().find(|(s, _)| *s == stage).map_or(0.0, |(_, t)| *t)
    }

    /// The whole call's seconds.
    pub fn total(&self) -> f64 {
        self.get("total")
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        self.stages.iter().copied()
    }
}

impl Serialize for Timings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.stages.iter().map(|(k, v)| (k, v)))
    }
}

/// An attribution method. Implementations are plain option structs; the
/// shell calls [`Method::validate`] before reading any image and
/// [`Method::attribute`] once per call with every image's views.
pub trait Method: Debug + Send + Sync + Options {
    /// The method as the front ends know it: names, help and options.
    fn entry(&self) -> &'static registry::Entry;
    /// The name in reports and `pami eval --methods` (`pami-window`).
    fn name(&self) -> &'static str {
        self.entry().name
    }
    /// What replaces removed pixels when the user names no baseline.
    fn default_baseline(&self) -> Baseline;
    /// The score attributed when the user names none: the paper's softmax
    /// probability for perturbation methods; gradient methods take the
    /// logit, as Captum's users do (a probability's gradient vanishes where
    /// the model is sure).
    fn default_score(&self) -> Score {
        Score::Probability
    }
    /// Checks the options against a model input of `[height, width]`.
    fn validate(&self, input: [usize; 2]) -> Result<(), Error>;
    /// Maps `[V, T, H, W]`: one per view and target column of `views.targets`.
    fn attribute(&self, cx: &mut Context<'_>, views: &Views) -> Result<Tensor<4>, Error>;
}

/// A method's options as the report's `config.strategy.<strategy>` shows
/// them: any serialisable method has them.
pub trait Options {
    fn options(&self) -> serde_json::Value;
}

impl<T: Serialize> Options for T {
    fn options(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// Model inputs `[V, 3, H, W]` (pixel values) with their baselines, the
/// classes `[V, T]` each is explained for and, when the shell has them, the
/// scores `[V, T]` of the unperturbed inputs. A view is an image, or an image
/// paired with one target (Strategy II's second run), or an image and a map
/// (insertion/deletion).
#[derive(Clone)]
pub struct Views {
    pub images: Tensor<4>,
    pub baseline: Tensor<4>,
    pub targets: Tensor<2, Int>,
    pub scores: Option<Tensor<2>>,
}

impl Views {
    pub fn len(&self) -> usize {
        self.images.dims()[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The views `ids`, in that order (repeats allowed).
    pub fn select(&self, ids: &[usize]) -> Views {
        let ids = index_tensor(ids, &self.images.device());
        Views {
            images: self.images.clone().select(0, ids.clone()),
            baseline: self.baseline.clone().select(0, ids.clone()),
            targets: self.targets.clone().select(0, ids.clone()),
            scores: self.scores.clone().map(|s| s.select(0, ids)),
        }
    }
}

/// What a method may use while it runs: the model, how composites are
/// scored and batched, and the call's stopwatch and counters.
pub struct Context<'a> {
    pub model: &'a dyn Model,
    pub device: &'a Device,
    pub score: Score,
    /// Composites per forward pass.
    pub batch: usize,
    pub run: &'a mut Run,
    /// Parts per view, added up by the method.
    pub parts: Vec<usize>,
    /// Numbers per view and target (`[V, T]`, on the device) a method
    /// reports beside its maps, by name: integrated gradients' `completeness_gap`.
    pub stats: Vec<(&'static str, Tensor<2>)>,
}

impl Context<'_> {
    /// Model outputs `[R, classes]` as this call scores them: probabilities
    /// or the raw outputs.
    pub fn scored(&self, outputs: Tensor<2>) -> Tensor<2> {
        match self.score {
            Score::Probability => self.model.probabilities(outputs),
            Score::Logit => outputs,
        }
    }

    /// Ends stage `stage`: synchronises the device and adds the time since
    /// the last lap (when stages are timed, see [`Run::lap`]).
    pub fn lap(&mut self, stage: &'static str) -> Result<(), Error> {
        self.run.lap(self.device, stage)
    }
}

/// What an explanation times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Timing {
    /// Every stage: the device is synced at each stage's end, so the host
    /// waits for the device there (a few dozen syncs per explanation).
    #[default]
    Stages,
    /// Only the call's total: no sync between the upload and the final
    /// download, the host queues work as far ahead as it can.
    Total,
}

/// The stopwatch and counters of one call.
pub struct Run {
    pub timings: Timings,
    clock: Instant,
    pub start: Instant,
    /// Model forward passes.
    pub passes: usize,
    /// Sync and time each stage ([`Timing::Stages`]).
    stages: bool,
}

impl Run {
    pub fn start(timing: Timing) -> Run {
        let now = Instant::now();
        Run { timings: Timings::default(), clock: now, start: now, passes: 0, stages: timing == Timing::Stages }
    }

    /// Synchronises `device` and adds the time since the last lap to `stage`;
    /// nothing when only the total is timed.
    pub fn lap(&mut self, device: &Device, stage: &'static str) -> Result<(), Error> {
        if !self.stages {
            return Ok(());
        }
        device.sync().map_err(|e| Error::Device(e.to_string()))?;
        crate::counters::synced();
        self.timings.add(stage, self.clock.elapsed().as_secs_f64());
        self.clock = Instant::now();
        Ok(())
    }

    /// Records the call's wall time as `total`.
    pub fn finish(&mut self) {
        self.timings.set("total", self.start.elapsed().as_secs_f64());
    }
}

/// `ids` as an int tensor on `device`.
pub(crate) fn index_tensor(ids: &[usize], device: &Device) -> Tensor<1, Int> {
    let ids: Vec<i32> = ids.iter().map(|&i| i as i32).collect();
    let n = ids.len();
    Tensor::from_data(TensorData::new(ids, [n]), device)
}
