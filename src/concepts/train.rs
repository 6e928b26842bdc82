//! Classifiers and concept detectors trained on a caption file's generated
//! images (`pami concepts train`): DEPICT's ground truth, whose labels depend
//! on concepts with known strengths, and the detector of its independence
//! check. The network is [`SyntheticCnn`] (global max-pool, so where an
//! object is does not matter) with one output per class or per concept.
//!
//! Every step draws a batch of caption lines and gives each a fresh layout
//! seed, so the model sees the concepts, not the layouts.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_sigmoid;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::render::image_seed;
use super::{Dataset, Generator};
use crate::synthetic::SyntheticCnn;
use crate::synthetic::backbone::{Classifier, NORMALISATION};
use crate::{Error, Model};

/// What the network predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// The line's label (cross-entropy over the classes).
    Classify,
    /// Each concept's presence, one sigmoid output per concept column
    /// (binary cross-entropy): the detector of `concepts rank --detector`.
    Detect,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct TrainConfig {
    pub task: Task,
    pub steps: usize,
    pub batch: usize,
    pub lr: f64,
    pub size: usize,
    pub seed: u64,
}

/// Layout seed streams of training and of the held-out images, apart from
/// each other and from `render`'s and `rank`'s (`--seed S` itself).
const TRAIN: u64 = 0x7EA1_0000_0000_0001;
const HELD_OUT: u64 = 0x4E1D_0000_0000_0002;

/// The network's outputs for `task` over `dataset`: class names, or concept names.
pub fn outputs(task: Task, dataset: &Dataset) -> Vec<String> {
    match task {
        Task::Classify => (0..=dataset.labels.iter().copied().max().unwrap_or(0).max(1)).map(|k| k.to_string()).collect(),
        Task::Detect => dataset.concepts.clone(),
    }
}

/// Normalised images of lines `rows` with layout `seeds`, on `device`.
fn images(generator: &dyn Generator, dataset: &Dataset, rows: &[usize], seeds: &[u64], size: usize, device: &Device) -> Result<Tensor<4>, Error> {
    let captions: Vec<_> = rows.iter().map(|&i| dataset.caption(&dataset.counts[i])).collect();
    Ok(NORMALISATION.apply(generator.batch(&captions, seeds, size, device)?))
}

/// Targets of lines `rows`: classes `[B]`, or presences `[B, C]` as 0/1.
fn classes(dataset: &Dataset, rows: &[usize], device: &Device) -> Tensor<1, Int> {
    let labels: Vec<i64> = rows.iter().map(|&i| dataset.labels[i] as i64).collect();
    Tensor::from_data(TensorData::new(labels, [rows.len()]), device)
}

fn presences(dataset: &Dataset, rows: &[usize], device: &Device) -> Tensor<2> {
    let c = dataset.concepts.len();
    let values: Vec<f32> = rows.iter().flat_map(|&i| dataset.counts[i].iter().map(|&n| if n > 0 { 1.0 } else { 0.0 })).collect();
    Tensor::from_data(TensorData::new(values, [rows.len(), c]), device)
}

/// The loss of `logits` for lines `rows`.
fn loss(task: Task, logits: Tensor<2>, dataset: &Dataset, rows: &[usize], device: &Device) -> Tensor<1> {
    match task {
        Task::Classify => CrossEntropyLossConfig::new().init(device).forward(logits, classes(dataset, rows, device)),
        Task::Detect => {
            let t = presences(dataset, rows, device);
            let nll = -(t.clone() * log_sigmoid(logits.clone()) + (t.neg() + 1.0) * log_sigmoid(logits.neg()));
            nll.mean().reshape([1])
        }
    }
}

/// Held-out accuracy of `model` on `count` lines with layouts training
/// never saw: of the label, or (detector) of every concept's presence at 0.5.
pub fn accuracy(model: &SyntheticCnn, task: Task, generator: &dyn Generator, dataset: &Dataset, size: usize, count: usize, device: &Device) -> Result<f32, Error> {
    let rows: Vec<usize> = (0..count.min(dataset.len())).collect();
    let mut correct = 0.0f64;
    let mut total = 0.0f64;
    for chunk in rows.chunks(64) {
        let seeds: Vec<u64> = chunk.iter().map(|&i| image_seed(HELD_OUT, i)).collect();
        let logits = Model::forward(model, images(generator, dataset, chunk, &seeds, size, device)?);
        let (hits, n) = match task {
            Task::Classify => {
                let hits = logits.argmax(1).reshape([chunk.len()]).equal(classes(dataset, chunk, device)).int().sum();
                (hits.into_scalar::<i64>() as f64, chunk.len() as f64)
            }
            Task::Detect => {
                let predicted = logits.greater_elem(0.0).float();
                let hits = predicted.equal(presences(dataset, chunk, device)).int().sum();
                (hits.into_scalar::<i64>() as f64, (chunk.len() * dataset.concepts.len()) as f64)
            }
        };
        correct += hits;
        total += n;
    }
    Ok((correct / total) as f32)
}

/// Trains a network for `config.task` on `dataset`'s images from
/// `generator` (Adam, constant rate), reporting step, loss and held-out
/// accuracy every 50 steps. The model in inference mode, on `device`.
pub fn train(dataset: &Dataset, generator: &dyn Generator, config: &TrainConfig, device: &Device, mut report: impl FnMut(usize, f32, f32)) -> Result<SyntheticCnn, Error> {
    if config.steps == 0 || config.batch == 0 {
        return Err(Error::InvalidParameter("the steps and the batch must be at least 1".into()));
    }
    if config.task == Task::Classify && dataset.labels.iter().all(|&l| l == dataset.labels[0]) {
        return Err(Error::InvalidParameter("every line has the same label: nothing to learn".into()));
    }
    generator.check_size(config.size)?;
    let names = outputs(config.task, dataset);
    let ad = device.clone().autodiff();
    let mut model = SyntheticCnn::with_classes(names, config.size, &ad);
    let mut optim = AdamConfig::new().init();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    for step in 0..config.steps {
        let rows: Vec<usize> = (0..config.batch).map(|_| rng.random_range(0..dataset.len())).collect();
        let seeds: Vec<u64> = (0..config.batch).map(|k| image_seed(config.seed ^ TRAIN, step * config.batch + k)).collect();
        let x = images(generator, dataset, &rows, &seeds, config.size, device)?.autodiff();
        let loss = loss(config.task, Classifier::logits(&model, x), dataset, &rows, &ad);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        if (step + 1) % 50 == 0 || step + 1 == config.steps {
            let value: f32 = loss.into_scalar();
            let held_out = accuracy(&crate::model::inference(&model), config.task, generator, dataset, config.size, 256, device)?;
            report(step + 1, value, held_out);
        }
        model = optim.step(config.lr, model, grads);
    }
    Ok(crate::model::inference(&model))
}
