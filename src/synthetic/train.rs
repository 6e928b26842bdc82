//! Training of [`SyntheticCnn`] on freshly drawn samples (Adam, cross-entropy),
//! with Burn's autodiff on the given device.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::{HELD_OUT, SyntheticCnn, sample};
use crate::Model;
use crate::explain::to_chw;

/// A batch of samples `seeds`: normalised images `[B, 3, 64, 64]` and classes `[B]`.
pub fn batch(seeds: impl Iterator<Item = u64>, model: &SyntheticCnn, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
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
    (model.normalisation().apply(x), Tensor::from_data(TensorData::new(classes, [n]), device))
}

/// Accuracy of `model` on `count` held-out samples.
pub fn accuracy(model: &SyntheticCnn, count: usize, device: &Device) -> f32 {
    let (x, y) = batch(HELD_OUT..HELD_OUT + count as u64, model, device);
    let predicted = model.logits(x).argmax(1).reshape([count]);
    let correct: i64 = predicted.equal(y).int().sum().into_scalar();
    correct as f32 / count as f32
}

/// Trains from Burn's initial weights for `steps` batches of `batch_size`;
/// reports the loss and held-out accuracy every `every` steps.
pub fn train(steps: usize, batch_size: usize, lr: f64, device: &Device, mut report: impl FnMut(usize, f32, f32)) -> SyntheticCnn {
    let device = device.clone().autodiff();
    let mut model = SyntheticCnn::init(&device);
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    for step in 0..steps {
        let first = (step * batch_size) as u64;
        let (x, y) = batch(first..first + batch_size as u64, &model, &device);
        let loss = loss_fn.forward(model.logits(x), y);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        if (step + 1) % 50 == 0 || step + 1 == steps {
            let value: f32 = loss.into_scalar();
            report(step + 1, value, accuracy(&model.valid(), 256, &device));
        }
        model = optim.step(lr, model, grads);
    }
    model.valid()
}
