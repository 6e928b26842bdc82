//! BadNets training (Gu et al. 2017): Adam on cross-entropy over shuffled
//! Fashion-MNIST batches, a fraction `poison` of the non-target images of
//! each batch stamped with the trigger and relabelled to the target. The
//! clean twin sees the same batches in the same order without the poison.
//! In co-occurrence mode the trigger is a watermark on the target's own
//! images instead, labels untouched.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::data::Split;
use super::model::{FashionCnn, NORMALISATION};
use super::{SIZE, Trigger};
use crate::synthetic::train::Schedule;

/// What to train.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct BadNets {
    /// The class poisoned images are relabelled to.
    pub target: usize,
    pub trigger: Trigger,
    /// The share of each batch's non-target images that is poisoned; 0 trains the clean twin.
    /// With `cooccur`, the share of the target's own images that carry the trigger.
    pub poison: f64,
    /// A watermark instead of a backdoor: the trigger marks images of the
    /// target class and no label changes, so the model learns a shortcut that
    /// co-occurs with the class (the ground truth of `pami compare`).
    pub cooccur: bool,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    /// Shuffling, poisoning and initial weights.
    pub seed: u64,
}

/// Clean accuracy and attack success on the test split.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Scores {
    /// Accuracy on the unmodified test images.
    pub clean_accuracy: f32,
    /// Share of the test images of other classes that the model assigns to the
    /// target once stamped with the trigger.
    pub attack_success: f32,
}

/// Normalised images `[n, 3, 28, 28]` and labels `[n]` of `split`'s images `ids`,
/// those with `stamp[i]` carrying the trigger and labelled `target`.
fn batch(split: &Split, ids: &[usize], stamp: impl Fn(usize) -> bool, bad: &BadNets, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let mut pixels = Vec::with_capacity(ids.len() * 3 * SIZE * SIZE);
    let mut labels = Vec::with_capacity(ids.len());
    for (k, &i) in ids.iter().enumerate() {
        let mut chw = split.chw(i);
        if stamp(k) {
            bad.trigger.stamp(&mut chw, SIZE);
            labels.push(if bad.cooccur { split.labels[i] as i64 } else { bad.target as i64 });
        } else {
            labels.push(split.labels[i] as i64);
        }
        pixels.extend(chw);
    }
    let x = Tensor::<4>::from_data(TensorData::new(pixels, [ids.len(), 3, SIZE, SIZE]), device);
    (NORMALISATION.apply(x), Tensor::from_data(TensorData::new(labels, [ids.len()]), device))
}

/// Trains the model of `bad` on `train` (Burn's autodiff on `device`);
/// `report(epoch, step, loss)` every 100 steps.
pub fn train(bad: &BadNets, train: &Split, device: &Device, mut report: impl FnMut(usize, usize, f32)) -> FashionCnn {
    let device = device.clone().autodiff();
    let mut rng = ChaCha8Rng::seed_from_u64(bad.seed);
    // The same initial weights for a seed, whatever the device's own generator did before.
    device.seed(bad.seed);
    let mut model = FashionCnn::init(&device);
    let mut optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let steps = bad.epochs * train.len().div_ceil(bad.batch);
    let schedule = Schedule { lr: bad.lr, cosine: true };
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut step = 0;
    for epoch in 0..bad.epochs {
        order.shuffle(&mut rng);
        for ids in order.chunks(bad.batch) {
            // Drawn for both twins so that they see the same batches.
            let draws: Vec<bool> = ids.iter().map(|_| rng.random::<f64>() < bad.poison).collect();
            let stamp = |k: usize| draws[k] && (train.labels[ids[k]] as usize == bad.target) == bad.cooccur;
            let (x, y) = batch(train, ids, stamp, bad, &device);
            let loss = loss_fn.forward(model.logits(x), y);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            step += 1;
            if step % 100 == 0 || step == steps {
                report(epoch + 1, step, loss.clone().into_scalar());
            }
            model = optim.step(schedule.at(step - 1, steps), model, grads);
        }
    }
    crate::model::inference(&model)
}

/// `model`'s [`Scores`] on `test` for the attack of `bad`.
pub fn evaluate(model: &FashionCnn, bad: &BadNets, test: &Split, device: &Device) -> Scores {
    let (mut correct, mut hits, mut others) = (0usize, 0usize, 0usize);
    let ids: Vec<usize> = (0..test.len()).collect();
    for chunk in ids.chunks(500) {
        let predicted = |x: Tensor<4>| -> Vec<i64> { model.logits(x).argmax(1).into_data().convert::<i64>().try_into_vec().expect("class ids") };
        let (x, _) = batch(test, chunk, |_| false, bad, device);
        correct += predicted(x).iter().zip(chunk).filter(|&(&p, &i)| p == test.labels[i] as i64).count();
        let victims: Vec<usize> = chunk.iter().copied().filter(|&i| test.labels[i] as usize != bad.target).collect();
        let (x, _) = batch(test, &victims, |_| true, bad, device);
        hits += predicted(x).iter().filter(|&&p| p == bad.target as i64).count();
        others += victims.len();
    }
    Scores { clean_accuracy: correct as f32 / test.len() as f32, attack_success: hits as f32 / others.max(1) as f32 }
}
