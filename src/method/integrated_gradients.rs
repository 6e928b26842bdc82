//! Integrated gradients (Sundararajan, Taly, Yan, ICML 2017; Captum's
//! `IntegratedGradients`): `(x − x′) · ∫₀¹ ∂s/∂x(x′ + α(x − x′)) dα`, the
//! integral by a quadrature rule over `steps` points of the straight path
//! from the baseline `x′` to the input. The map is the attributions' sum
//! over the colour channels (signed), so the map sums to the attributions'
//! total, which completeness says is `s(x) − s(x′)`; the report gives each
//! target's relative gap from that (`completeness_gap`).

use std::sync::Arc;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::gradient::{self, Groups};
use super::registry::{Entry, Kind, OptionSpec};
use super::{Baseline, Context, Method, Score, Views};
use crate::Error;

/// Captum's `method` names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Integration {
    RiemannLeft,
    RiemannRight,
    RiemannMiddle,
    RiemannTrapezoid,
    /// Captum's default: exact for polynomials of degree `2·steps − 1`.
    #[default]
    Gausslegendre,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegratedGradients {
    /// Points on the path (Captum's `n_steps`).
    pub steps: usize,
    pub method: Integration,
    /// Path points per forward and backward pass (Captum's
    /// `internal_batch_size`); the explanation's batch when `None`.
    pub internal_batch: Option<usize>,
}

impl Default for IntegratedGradients {
    /// Captum's defaults: 50 Gauss–Legendre points.
    fn default() -> Self {
        IntegratedGradients { steps: 50, method: Integration::Gausslegendre, internal_batch: None }
    }
}

/// Nodes `α` in `[0, 1]` and weights (summing to 1) of `n`-point Gauss–Legendre
/// quadrature: the roots of the Legendre polynomial `P_n` by Newton's method
/// from Tricomi's estimates, mapped from `[−1, 1]`.
pub fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    // P_n(x) and P_n'(x) by the three-term recurrence.
    let legendre = |x: f64| {
        let (mut p0, mut p1) = (1.0, x);
        for k in 2..=n {
            let k = k as f64;
            (p0, p1) = (p1, ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k);
        }
        (p1, n as f64 * (x * p1 - p0) / (x * x - 1.0))
    };
    (0..n)
        .map(|i| {
            let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
            for _ in 0..100 {
                let (p, dp) = legendre(x);
                let dx = p / dp;
                x -= dx;
                if dx.abs() < 1e-15 {
                    break;
                }
            }
            let (_, dp) = legendre(x);
            ((x + 1.0) / 2.0, 1.0 / ((1.0 - x * x) * dp * dp))
        })
        .collect()
}

impl IntegratedGradients {
    /// The path's points `α` and their weights.
    pub fn path(&self) -> Result<Vec<(f64, f64)>, Error> {
        let n = self.steps;
        if n == 0 || (n == 1 && self.method == Integration::RiemannTrapezoid) {
            return Err(Error::InvalidParameter(format!("integrated gradients needs at least {} steps, not {n}", if self.method == Integration::RiemannTrapezoid { 2 } else { 1 })));
        }
        let even = |offset: f64| (0..n).map(|k| ((k as f64 + offset) / n as f64, 1.0 / n as f64)).collect();
        Ok(match self.method {
            Integration::RiemannLeft => even(0.0),
            Integration::RiemannRight => even(1.0),
            Integration::RiemannMiddle => even(0.5),
            Integration::RiemannTrapezoid => {
                let h = 1.0 / (n - 1) as f64;
                (0..n).map(|k| (k as f64 * h, if k == 0 || k == n - 1 { h / 2.0 } else { h })).collect()
            }
            Integration::Gausslegendre => gauss_legendre(n),
        })
    }
}

pub static ENTRY: Entry = Entry {
    strategy: "integrated-gradients",
    name: "integrated-gradients",
    help: "Integrated gradients (Captum's IntegratedGradients: gradients along the path from the baseline, times the input's difference from it)",
    options: &[
        OptionSpec::new("steps", Kind::Int, "Integrated gradients: points on the path from the baseline (Captum's n_steps) [default: 50]"),
        OptionSpec::new("method", Kind::Choice(&["gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle"]),
            "Integrated gradients: the quadrature rule [default: gausslegendre]"),
        OptionSpec::new("internal_batch", Kind::Int, "Integrated gradients: path points per forward and backward pass [default: --batch]"),
    ],
    build: |values| Ok(Arc::new(values.decode::<IntegratedGradients>(ENTRY.options, "integrated-gradients")?)),
};

impl Method for IntegratedGradients {
    fn entry(&self) -> &'static Entry {
        &ENTRY
    }

    /// Captum's: zero in the model's normalised input.
    fn default_baseline(&self) -> Baseline {
        Baseline::Zero
    }

    fn default_score(&self) -> Score {
        Score::Logit
    }

    fn validate(&self, _input: [usize; 2]) -> Result<(), Error> {
        if self.internal_batch == Some(0) {
            return Err(Error::InvalidParameter("integrated gradients' internal batch must be at least 1".into()));
        }
        self.path().map(|_| ())
    }

    fn attribute(&self, cx: &mut Context<'_>, views: &Views) -> Result<Tensor<4>, Error> {
        let path = self.path()?;
        let groups = Groups::new(cx, views);
        let device = groups.inputs.device();
        let delta = groups.inputs.clone() - groups.baselines.clone();
        let batch = self.internal_batch.unwrap_or(cx.batch);
        let total = Tensor::zeros(delta.dims(), &device);
        let total = gradient::accumulate(cx, groups.len(), path.len(), batch, total, |cx, rows, ids| {
            let alphas: Vec<f32> = rows.iter().map(|r| path[r.sample].0 as f32).collect();
            let weights: Vec<f32> = rows.iter().map(|r| path[r.sample].1 as f32).collect();
            let x = groups.baselines.clone().select(0, ids.clone()) + delta.clone().select(0, ids.clone()) * gradient::per_row(&alphas, &device);
            let grad = gradient::input_gradients(cx, x, groups.targets.clone().select(0, ids))?;
            Ok(grad * gradient::per_row(&weights, &device))
        })?;
        let attributions = total * delta;

        // Completeness: Σ attributions against s(x) − s(x′).
        let [g, c, h, w] = attributions.dims();
        let both = Tensor::cat(vec![groups.inputs.clone(), groups.baselines.clone()], 0);
        let targets = Tensor::cat(vec![groups.targets.clone(), groups.targets.clone()], 0);
        let scores = gradient::in_batches(cx, 2 * g, cx.batch, "completeness", |cx, ids| {
            Ok(gradient::scores(cx, both.clone().select(0, ids.clone()), targets.clone().select(0, ids)))
        })?;
        let change = scores.clone().slice([0..g]) - scores.slice([g..2 * g]);
        let total = attributions.clone().reshape([g, c * h * w]).sum_dim(1).reshape([g]);
        let gap = (total - change.clone()).abs() / change.abs().clamp_min(1e-12);
        cx.stats.push(("completeness_gap", groups.stat(gap)));
        cx.lap("completeness")?;
        Ok(groups.maps(attributions.sum_dim(1)))
    }
}
