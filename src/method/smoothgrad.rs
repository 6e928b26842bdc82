//! SmoothGrad (Smilkov et al. 2017; Captum's `NoiseTunnel` over
//! `Saliency`): saliency averaged over `samples` copies of the input with
//! Gaussian noise of standard deviation `noise · (max − min)` of that input
//! (the paper's σ relative to the input's range). `smoothgrad` averages
//! `|∂s/∂x|`, `smoothgrad_sq` its square, `vargrad` takes its variance; the
//! map is the maximum over the colour channels. Sample `s`'s noise field is
//! stream `s` of a ChaCha8 generator seeded with `seed` (standard normal by
//! Box–Muller, scaled per image), drawn on the host and uploaded once per
//! call: a seed gives the same map on every device, and an image gets the
//! same map whatever is explained with it.

use std::sync::Arc;

use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::gradient::{self, Groups};
use super::registry::{Entry, Kind, OptionSpec};
use super::{Baseline, Context, Method, Score, Views, index_tensor};
use crate::Error;

/// Captum's `nt_type`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseTunnel {
    #[default]
    Smoothgrad,
    SmoothgradSq,
    Vargrad,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmoothGrad {
    /// Noisy copies per input (Captum's `nt_samples`).
    pub samples: usize,
    /// The noise's standard deviation relative to the input's range (Captum's `stdevs`, scaled).
    pub noise: f32,
    pub nt_type: NoiseTunnel,
    pub seed: u64,
}

impl Default for SmoothGrad {
    /// 25 samples at 15 % noise: the SmoothGrad paper finds 10–20 % noise
    /// sharpens maps most, and little gain beyond about 50 samples.
    fn default() -> Self {
        SmoothGrad { samples: 25, noise: 0.15, nt_type: NoiseTunnel::Smoothgrad, seed: 0 }
    }
}

impl SmoothGrad {
    /// The standard normal noise fields `[samples, c, h, w]`, field `s` from stream `s`.
    fn noise(&self, [c, h, w]: [usize; 3], device: &Device) -> Tensor<4> {
        let n = c * h * w;
        let mut values = Vec::with_capacity(self.samples * n);
        for s in 0..self.samples {
            let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
            rng.set_stream(s as u64);
            let end = values.len() + n;
            while values.len() < end {
                let radius = (-2.0 * (1.0 - rng.random::<f64>()).ln()).sqrt();
                let angle = std::f64::consts::TAU * rng.random::<f64>();
                values.push((radius * angle.cos()) as f32);
                if values.len() < end {
                    values.push((radius * angle.sin()) as f32);
                }
            }
        }
        Tensor::from_data(TensorData::new(values, [self.samples, c, h, w]), device)
    }
}

pub static ENTRY: Entry = Entry {
    strategy: "smoothgrad",
    name: "smoothgrad",
    help: "SmoothGrad (Captum's NoiseTunnel over Saliency: saliency averaged over noisy copies of the input)",
    options: &[
        OptionSpec::new("samples", Kind::Int, "SmoothGrad: noisy copies per input (Captum's nt_samples) [default: 25]"),
        OptionSpec::new("noise", Kind::Float, "SmoothGrad: noise standard deviation relative to the input's range [default: 0.15]"),
        OptionSpec::new("nt_type", Kind::Choice(&["smoothgrad", "smoothgrad_sq", "vargrad"]),
            "SmoothGrad: average |gradient| (smoothgrad), its square (smoothgrad_sq), or its variance (vargrad) [default: smoothgrad]"),
        OptionSpec::new("seed", Kind::Int, "RISE: seed of the masks; SmoothGrad: seed of the noise [default: 0]"),
    ],
    build: |values| Ok(Arc::new(values.decode::<SmoothGrad>(ENTRY.options, "smoothgrad")?)),
};

impl Method for SmoothGrad {
    fn entry(&self) -> &'static Entry {
        &ENTRY
    }

    /// Unused: SmoothGrad needs no baseline.
    fn default_baseline(&self) -> Baseline {
        Baseline::Zero
    }

    fn default_score(&self) -> Score {
        Score::Logit
    }

    fn validate(&self, _input: [usize; 2]) -> Result<(), Error> {
        if self.samples == 0 {
            return Err(Error::InvalidParameter("SmoothGrad needs at least one sample".into()));
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(Error::InvalidParameter(format!("SmoothGrad noise {} is not a finite number ≥ 0", self.noise)));
        }
        Ok(())
    }

    fn attribute(&self, cx: &mut Context<'_>, views: &Views) -> Result<Tensor<4>, Error> {
        let groups = Groups::new(cx, views);
        let device = groups.inputs.device();
        let [g, c, h, w] = groups.inputs.dims();
        let flat = groups.inputs.clone().reshape([g, c * h * w]);
        let sigma = ((flat.clone().max_dim(1) - flat.min_dim(1)) * self.noise).reshape([g, 1, 1, 1]);
        let fields = self.noise([c, h, w], &device);
        // Σ|g| and Σg², side by side on the channel axis.
        let total = Tensor::zeros([g, 2 * c, h, w], &device);
        let total = gradient::accumulate(cx, g, self.samples, cx.batch, total, |cx, rows, ids| {
            let samples: Vec<usize> = rows.iter().map(|r| r.sample).collect();
            let noise = fields.clone().select(0, index_tensor(&samples, &device)) * sigma.clone().select(0, ids.clone());
            let x = groups.inputs.clone().select(0, ids.clone()) + noise;
            let grad = gradient::input_gradients(cx, x, groups.targets.clone().select(0, ids))?;
            let grad = grad.abs();
            Ok(Tensor::cat(vec![grad.clone(), grad.square()], 1))
        })?;
        let mean = total / self.samples as f32;
        let first = mean.clone().slice([0..g, 0..c]);
        let second = mean.slice([0..g, c..2 * c]);
        let attributions = match self.nt_type {
            NoiseTunnel::Smoothgrad => first,
            NoiseTunnel::SmoothgradSq => second,
            NoiseTunnel::Vargrad => second - first.square(),
        };
        Ok(groups.maps(attributions.max_dim(1)))
    }
}
