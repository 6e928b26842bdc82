//! Training of the synthetic task's backbones on freshly drawn samples
//! (Adam, cross-entropy), with Burn's autodiff on the given device.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::backbone::{Backbone, Classifier, NORMALISATION, SyntheticModel};
use super::{HELD_OUT, sample};
use crate::explain::to_chw;

/// The samples `seeds`: normalised images `[B, 3, 64, 64]` and classes `[B]`.
pub fn batch(seeds: impl Iterator<Item = u64>, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let mut pixels = Vec::new();
    let mut classes = Vec::new();
    for seed in seeds {
        let s = sample(seed);
        pixels.extend(to_chw(&s.image));
        classes.push(s.class as i64);
    }
    let n = classes.len();
    let size = super::SIZE;
    let x = Tensor::<4>::from_data(TensorData::new(pixels, [n, 3, size, size]), device);
    (NORMALISATION.apply(x), Tensor::from_data(TensorData::new(classes, [n]), device))
}

/// Accuracy of `model` on `count` held-out samples, scored in batches of 100.
pub fn accuracy<M: Classifier>(model: &M, count: usize, device: &Device) -> f32 {
    let mut correct = 0i64;
    for first in (0..count).step_by(100) {
        let n = 100.min(count - first);
        let start = HELD_OUT + first as u64;
        let (x, y) = batch(start..start + n as u64, device);
        let predicted = model.logits(x).argmax(1).reshape([n]);
        correct += predicted.equal(y).int().sum().into_scalar::<i64>();
    }
    correct as f32 / count as f32
}

/// Adam's learning rate over the steps of a run.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// The rate at the first step.
    pub lr: f64,
    /// Decay the rate to 0 along a half cosine (what a ViT needs to settle on this
    /// task); otherwise it stays constant (the CNNs).
    pub cosine: bool,
}

impl Schedule {
    /// The rate at `step` of `steps`.
    pub fn at(&self, step: usize, steps: usize) -> f64 {
        if !self.cosine {
            return self.lr;
        }
        0.5 * self.lr * (1.0 + (std::f64::consts::PI * step as f64 / steps as f64).cos())
    }
}

/// Trains `model` (made on an autodiff device) for `steps` batches of
/// `batch_size`; reports the loss and held-out accuracy every 50 steps.
/// The model in inference mode.
pub fn train<M: Classifier>(mut model: M, steps: usize, batch_size: usize, schedule: Schedule, device: &Device, mut report: impl FnMut(usize, f32, f32)) -> M {
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    for step in 0..steps {
        let first = (step * batch_size) as u64;
        let (x, y) = batch(first..first + batch_size as u64, device);
        let loss = loss_fn.forward(model.logits(x), y);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        if (step + 1) % 50 == 0 || step + 1 == steps {
            let value: f32 = loss.into_scalar();
            report(step + 1, value, accuracy(&model.valid(), 256, device));
        }
        model = optim.step(schedule.at(step, steps), model, grads);
    }
    model.valid()
}

/// Trains `backbone` from its initial weights (see [`train`]).
pub fn train_backbone(backbone: Backbone, steps: usize, batch_size: usize, schedule: Schedule, device: &Device, report: impl FnMut(usize, f32, f32)) -> SyntheticModel {
    let device = device.clone().autodiff();
    match SyntheticModel::init(backbone, &device) {
        SyntheticModel::Cnn(m) => SyntheticModel::Cnn(train(m, steps, batch_size, schedule, &device, report)),
        SyntheticModel::ResNet18(m, _) => SyntheticModel::ResNet18(train(m, steps, batch_size, schedule, &device, report), None),
        SyntheticModel::Vit(m) => SyntheticModel::Vit(train(m, steps, batch_size, schedule, &device, report)),
    }
}

/// [`accuracy`] of any backbone.
pub fn model_accuracy(model: &SyntheticModel, count: usize, device: &Device) -> f32 {
    match model {
        SyntheticModel::Cnn(m) => accuracy(m, count, device),
        SyntheticModel::ResNet18(m, _) => accuracy(m, count, device),
        SyntheticModel::Vit(m) => accuracy(m, count, device),
    }
}
