//! The backdoor scan: for every class, the smallest change that sends
//! inputs of any class to it, and how concentrated that change is in space.
//! A trojaned target class stands out from the others on both — a trigger
//! is a small patch that flips everything — and an anomaly index over the
//! classes finds it without knowing the trigger (Wang et al., *Neural
//! Cleanse*, S&P 2019: `|x − median| / (1.4826 · MAD)`, flagged above 2 on
//! the suspicious side).
//!
//! Two ways to find each class's change, on the same engine and inputs:
//! - `agnostic`: the class's input-agnostic perturbation `ρ`
//!   ([`crate::agnostic`]); its budget is the norm of the smallest multiple
//!   of `ρ` that reaches the target rate, its concentration the share of
//!   `|ρ|`'s mass in its densest `s × s` window, and its window flip rate the
//!   share of the probe inputs (a folder of images of any classes, or the
//!   scoring inputs) not assigned to the class that `ρ` confined to that
//!   window (rescaled to the full bound) sends to it. A trigger is a patch
//!   that flips everything, so the anomaly index is taken over the window
//!   flip rates, in the arcsine square root that gives a binomial
//!   proportion the same spread wherever it lies (high is suspicious).
//!   Budgets and concentrations alone do not separate a trigger, and on
//!   noise neither does the window rate: there natural classes reach the
//!   target rate with budgets as small, their maps have as dense windows,
//!   and some have window patches that flip almost every noise input; on
//!   images of other classes only the trigger's patch does (measured on the
//!   BadNets models, README). A class the probe inputs already go to (at
//!   the target rate) cannot be told apart on them and is left out of the
//!   statistic.
//! - `neural-cleanse`: Neural Cleanse's trigger reverse-engineering, a mask
//!   `m` and pattern `p` with `x' = (1 − m)·x + m·p` that minimise the
//!   class's cross-entropy plus `λ·‖m‖₁`, `λ` adapted as Neural Cleanse
//!   adapts it; the budget is the smallest `‖m‖₁` that reached the target
//!   rate, and the anomaly index is taken over those (low is suspicious).

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Instant;

use burn::module::{Module, Param};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::Error;
use crate::agnostic::{Agnostic, ClassSaliency, floats};

/// How each class's change is found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScanMethod {
    #[default]
    Agnostic,
    NeuralCleanse,
}

impl FromStr for ScanMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "agnostic" => Ok(ScanMethod::Agnostic),
            "neural-cleanse" => Ok(ScanMethod::NeuralCleanse),
            other => Err(Error::InvalidParameter(format!("unknown scan method `{other}`: use agnostic or neural-cleanse"))),
        }
    }
}

/// The scan's own settings (the optimisation's are the [`crate::agnostic::AgnosticConfig`]).
#[derive(Clone, Debug, Serialize)]
pub struct ScanConfig {
    pub method: ScanMethod,
    /// The rate the budget is the cost of reaching.
    pub target_rate: f32,
    /// The side `s` of the concentration window; `None`: ⌈side/8⌉ of the input's shorter side.
    pub window: Option<usize>,
    /// Anomaly index above which a class is flagged.
    pub threshold: f32,
    /// A folder of images (of any classes) the agnostic method's window
    /// patches are scored on; `None`: the scoring inputs of the
    /// optimisation's distribution. Neural Cleanse does not use it.
    pub probe: Option<PathBuf>,
}

impl Default for ScanConfig {
    /// A 0.9 target rate (as the issue and BadNets' attack-success
    /// reporting use); a window an eighth of the side, about a typical
    /// trigger's (BadNets' 3–5 pixel patches on 28–32 pixel inputs); Neural
    /// Cleanse's threshold of 2 (a 95 % one-sided confidence for a normal
    /// distribution).
    fn default() -> Self {
        ScanConfig { method: ScanMethod::Agnostic, target_rate: 0.9, window: None, threshold: 2.0, probe: None }
    }
}

impl ScanConfig {
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.target_rate > 0.0 && self.target_rate <= 1.0) {
            return Err(Error::InvalidParameter(format!("--target-rate must be in (0, 1], not {}", self.target_rate)));
        }
        if self.window == Some(0) {
            return Err(Error::InvalidParameter("--window must be at least 1 pixel".into()));
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(Error::InvalidParameter(format!("--threshold must be a positive number, not {}", self.threshold)));
        }
        Ok(())
    }

    /// The window side for inputs of `[h, w]`.
    pub fn window_for(&self, [h, w]: [usize; 2]) -> usize {
        self.window.unwrap_or(h.min(w).div_ceil(8)).min(h).min(w)
    }
}

/// One class's row of `scan.json`.
#[derive(Clone, Debug, Serialize)]
pub struct ClassReport {
    pub class: usize,
    pub name: String,
    /// The cost of reaching the target rate: `‖αρ‖` (agnostic) or `‖m‖₁`
    /// (Neural Cleanse); `None` when the bound never reached it.
    pub budget: Option<f32>,
    /// The rate the class's change reaches at the full budget.
    pub target_rate: f32,
    /// The window flip rate: the share of the probe inputs not assigned to
    /// the class that the change confined to its densest window (rescaled to
    /// the full budget) sends to it.
    pub window_rate: f32,
    /// The share of the probe inputs assigned to the class unchanged.
    pub probe_clean_rate: f32,
    /// The rate without any change.
    pub clean_rate: f32,
    /// Share of the change's mass in its densest window.
    pub concentration: f32,
    pub anomaly_index: f32,
    pub flagged: bool,
    /// The densest window `[x0, y0, x1, y1]`, inclusive input pixels.
    #[serde(rename = "box")]
    pub bbox: [usize; 4],
    pub seconds: f64,
    /// The per-pixel map the concentration is measured on, `[H, W]` scaled to `[0, 1]`.
    #[serde(skip)]
    pub map: Vec<f32>,
}

/// `scan.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Scan {
    pub method: ScanMethod,
    /// The statistic the anomaly index is taken over, and its suspicious side.
    pub statistic: &'static str,
    pub flagged: Vec<usize>,
    pub classes: Vec<ClassReport>,
    /// `[height, width]` of the maps.
    pub size: [usize; 2],
    pub window: usize,
    pub seconds: f64,
}

/// The densest `s × s` window of `map [h, w]` (summed-area table): its share
/// of the map's total and its box `[x0, y0, x1, y1]`.
pub fn densest_window(map: &[f32], [h, w]: [usize; 2], s: usize) -> (f32, [usize; 4]) {
    let s = s.clamp(1, h.min(w));
    let mut table = vec![0.0f64; (h + 1) * (w + 1)];
    for y in 0..h {
        for x in 0..w {
            table[(y + 1) * (w + 1) + x + 1] = map[y * w + x].abs() as f64 + table[y * (w + 1) + x + 1] + table[(y + 1) * (w + 1) + x] - table[y * (w + 1) + x];
        }
    }
    let total = table[(h + 1) * (w + 1) - 1];
    let (mut best, mut at) = (f64::NEG_INFINITY, (0, 0));
    for y in 0..=h - s {
        for x in 0..=w - s {
            let sum = table[(y + s) * (w + 1) + x + s] - table[y * (w + 1) + x + s] - table[(y + s) * (w + 1) + x] + table[y * (w + 1) + x];
            if sum > best {
                (best, at) = (sum, (x, y));
            }
        }
    }
    let share = if total > 0.0 { (best / total) as f32 } else { 0.0 };
    (share, [at.0, at.1, at.0 + s - 1, at.1 + s - 1])
}

/// Neural Cleanse's anomaly index of each value: `|x − median| / (1.4826 · MAD)`.
/// Values that are `None` get 0.
pub fn anomaly_indices(values: &[Option<f32>]) -> Vec<f32> {
    let present: Vec<f32> = values.iter().flatten().copied().collect();
    if present.is_empty() {
        return vec![0.0; values.len()];
    }
    let centre = median(&present);
    let deviations: Vec<f32> = present.iter().map(|v| (v - centre).abs()).collect();
    // With more than half the values equal the MAD is 0 and the index
    // undefined; then the mean absolute deviation stands in for it, scaled to
    // the same normal σ (1.2533, Iglewicz & Hoaglin's modified z-score). If
    // every value is equal, nothing is anomalous.
    let mut spread: f32 = 1.4826 * median(&deviations);
    if spread == 0.0 {
        spread = 1.2533 * deviations.iter().sum::<f32>() / deviations.len() as f32;
    }
    values
        .iter()
        .map(|v| match v {
            Some(v) if spread > 0.0 => (v - centre).abs() / spread,
            _ => 0.0,
        })
        .collect()
}

fn median(values: &[f32]) -> f32 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    let n = sorted.len();
    if n % 2 == 1 { sorted[n / 2] } else { 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]) }
}

/// The bound the scan optimises each class's `ρ` in when none is given: an
/// RMS change of 0.1 per value (L2 `0.1·√(3hw)`; 0.1 for L∞), wider than
/// [`crate::agnostic::Norm::default_bound`]. A window patch needs room: a
/// trigger's light squares on a dark corner are changes of about 1 per
/// value, and the L2 ball of RMS 0.1 confined to a 4 × 4 window of a 28²
/// input allows about 0.7 per value. In the tighter ball no class's window
/// patch flips inputs, the rates pile up at 0 and the index loses its
/// spread (measured on the BadNets pair, on noise inputs).
pub fn default_bound(norm: crate::agnostic::Norm, [h, w]: [usize; 2]) -> f32 {
    2.5 * norm.default_bound([h, w])
}

/// Scans `classes` of the model of `agnostic` (progress: `report(class)` after each).
pub fn scan(agnostic: &Agnostic<'_>, config: &ScanConfig, classes: &[usize], mut report: impl FnMut(&ClassReport)) -> Result<Scan, Error> {
    config.validate()?;
    let start = Instant::now();
    let size = agnostic.model.input_size();
    let window = config.window_for(size);
    let probe = match config.method {
        ScanMethod::Agnostic => Probe::new(agnostic, config.probe.as_deref())?,
        ScanMethod::NeuralCleanse => Probe::Scoring,
    };
    let mut rows = Vec::with_capacity(classes.len());
    for &class in classes {
        let row = match config.method {
            ScanMethod::Agnostic => agnostic_row(agnostic, &probe, class, config.target_rate, window)?,
            ScanMethod::NeuralCleanse => neural_cleanse_row(agnostic, class, config.target_rate, window)?,
        };
        report(&row);
        rows.push(row);
    }
    // The statistic and the side of it a trigger lies on.
    let (statistic, values, high): (&'static str, Vec<Option<f32>>, bool) = match config.method {
        ScanMethod::Agnostic => {
            let values = rows.iter().map(|r| (r.probe_clean_rate < config.target_rate).then(|| r.window_rate.sqrt().asin())).collect();
            ("arcsine square root of the window flip rate (high)", values, true)
        }
        ScanMethod::NeuralCleanse => {
            let values = rows.iter().map(|r| if r.clean_rate < config.target_rate { r.budget } else { None }).collect();
            ("budget: mask L1 norm (low)", values, false)
        }
    };
    let present: Vec<f32> = values.iter().flatten().copied().collect();
    let centre = if present.is_empty() { 0.0 } else { median(&present) };
    for ((row, index), value) in rows.iter_mut().zip(anomaly_indices(&values)).zip(&values) {
        row.anomaly_index = index;
        let suspicious = value.is_some_and(|v| if high { v > centre } else { v < centre });
        row.flagged = suspicious && index > config.threshold;
    }
    Ok(Scan {
        method: config.method,
        statistic,
        flagged: rows.iter().filter(|r| r.flagged).map(|r| r.class).collect(),
        classes: rows,
        size,
        window,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The agnostic row of `class`: its saliency, budget and concentration.
fn agnostic_row(agnostic: &Agnostic<'_>, probe: &Probe, class: usize, goal: f32, window: usize) -> Result<ClassReport, Error> {
    let start = Instant::now();
    let saliency: ClassSaliency = agnostic.class_saliency(class)?;
    let [c, h, w] = [3, saliency.size[0], saliency.size[1]];
    let rho = Tensor::<4>::from_data(TensorData::new(saliency.rho.clone(), [1, c, h, w]), agnostic.device);
    // The smallest α ∈ [0, 1] with rate(α·ρ) ≥ goal, by bisection.
    let budget = if saliency.clean_rate >= goal {
        Some(0.0)
    } else if saliency.target_rate < goal {
        None
    } else {
        let (mut lo, mut hi) = (0.0f32, 1.0f32);
        for _ in 0..7 {
            let mid = 0.5 * (lo + hi);
            if agnostic.rate(Some(&(rho.clone() * mid)), class)? >= goal {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi * saliency.norm)
    };
    let (concentration, bbox) = densest_window(&saliency.magnitude, [h, w], window);
    // ρ confined to its densest window, rescaled to the full budget.
    let [x0, y0, x1, y1] = bbox;
    let inside = |i: usize| (x0..=x1).contains(&(i % w)) && (y0..=y1).contains(&((i / w) % h));
    let confined: Vec<f32> = saliency.rho.iter().enumerate().map(|(i, &v)| if inside(i) { v } else { 0.0 }).collect();
    let length = agnostic.config.norm.of(&confined);
    let scale = if length > 0.0 { saliency.bound / length } else { 0.0 };
    let confined = Tensor::<4>::from_data(TensorData::new(confined, [1, c, h, w]), agnostic.device) * scale;
    let (window_rate, probe_clean_rate) = probe.flip_rate(agnostic, class, |x| {
        let dims = x.dims();
        x + confined.clone().expand(dims)
    })?;
    Ok(ClassReport {
        class,
        name: saliency.name,
        budget,
        window_rate,
        probe_clean_rate,
        target_rate: saliency.target_rate,
        clean_rate: saliency.clean_rate,
        concentration,
        anomaly_index: 0.0,
        flagged: false,
        bbox,
        seconds: start.elapsed().as_secs_f64(),
        map: saliency.magnitude,
    })
}

/// Neural Cleanse's settings, as its reference implementation sets them.
const NC_LR: f64 = 0.1;
const NC_INIT_COST: f32 = 1e-3;
const NC_COST_UP: f32 = 1.5;
const NC_COST_DOWN: f32 = 1.837_117; // 1.5^1.5
const NC_PATIENCE: usize = 5;
const NC_SUCCESS: f32 = 0.99;
/// Steps between the checks that adapt λ and keep the best mask (an "epoch" of Neural Cleanse).
const NC_CHECK_EVERY: usize = 10;

/// Neural Cleanse's mask and pattern in tanh space, as a module so that Adam steps them.
#[derive(Module, Debug)]
struct Trigger {
    mask: Param<Tensor<4>>,
    pattern: Param<Tensor<4>>,
}

impl Trigger {
    fn mask(&self) -> Tensor<4> {
        (self.mask.val().tanh() + 1.0) * 0.5
    }
    fn pattern(&self) -> Tensor<4> {
        (self.pattern.val().tanh() + 1.0) * 0.5
    }
}

/// Neural Cleanse's reverse-engineered trigger for `class`.
fn neural_cleanse_row(agnostic: &Agnostic<'_>, class: usize, goal: f32, window: usize) -> Result<ClassReport, Error> {
    let start = Instant::now();
    agnostic.check_class(class)?;
    let cfg = agnostic.config;
    let [h, w] = agnostic.model.input_size();
    let device = agnostic.device.clone().autodiff();
    // Random initial mask and pattern in tanh space (Neural Cleanse starts from uniform ones).
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ (class as u64).wrapping_mul(0x9E37_79B9));
    let mut init = |n: usize| -> Vec<f32> { (0..n).map(|_| (2.0 * rng.random::<f32>() - 1.0).clamp(-0.999, 0.999).atanh()).collect() };
    let mut trigger = Trigger {
        mask: Param::from_tensor(Tensor::from_data(TensorData::new(init(h * w), [1, 1, h, w]), &device)),
        pattern: Param::from_tensor(Tensor::from_data(TensorData::new(init(3 * h * w), [1, 3, h, w]), &device)),
    };
    let mut optim = AdamConfig::new().with_beta_1(0.5).with_beta_2(0.9).init();
    let mut cost = 0.0f32;
    let (mut up, mut down, mut cost_set) = (0usize, 0usize, 0usize);
    let mut best: Option<(f32, Vec<f32>, Vec<f32>)> = None;
    let mut hits = Tensor::<1>::zeros([1], agnostic.device);
    for step in 1..=cfg.steps {
        let x = agnostic.sampler.step(step, cfg.samples, agnostic.device);
        let n = cfg.samples;
        let logits = agnostic.model.forward(agnostic.model_input(stamp(x, &trigger.mask(), &trigger.pattern())));
        let predicted = logits.clone().argmax(1).reshape([n]);
        hits = hits + predicted.equal_elem(class as i64).float().sum();
        let l1 = trigger.mask().sum();
        let loss = -log_softmax(logits, 1).slice([0..n, class..class + 1]).mean() + l1 * cost;
        let grads = GradientsParams::from_grads(loss.backward(), &trigger);
        trigger = optim.step(NC_LR, trigger, grads);
        if step % NC_CHECK_EVERY != 0 && step != cfg.steps {
            continue;
        }
        // One read-back per check: the check's success rate and the mask's L1 norm.
        let rate = std::mem::replace(&mut hits, Tensor::zeros([1], agnostic.device)).into_scalar::<f32>() / (NC_CHECK_EVERY * n) as f32;
        let mask = floats(trigger.mask())?;
        let norm: f32 = mask.iter().sum();
        if rate >= NC_SUCCESS && best.as_ref().is_none_or(|b| norm < b.0) {
            best = Some((norm, mask, floats(trigger.pattern())?));
        }
        if cost == 0.0 {
            // λ stays 0 until the trigger first works, then starts at Neural Cleanse's 1e-3.
            cost_set = if rate >= NC_SUCCESS { cost_set + 1 } else { 0 };
            if cost_set >= NC_PATIENCE {
                cost = NC_INIT_COST;
                (up, down) = (0, 0);
            }
        } else {
            (up, down) = if rate >= NC_SUCCESS { (up + 1, 0) } else { (0, down + 1) };
            if up >= NC_PATIENCE {
                up = 0;
                cost *= NC_COST_UP;
            } else if down >= NC_PATIENCE {
                down = 0;
                cost /= NC_COST_DOWN;
            }
        }
    }
    // The best trigger (or the last, when none reached Neural Cleanse's success rate), scored on the scoring inputs.
    let (mask, pattern) = match best {
        Some((_, mask, pattern)) => (mask, pattern),
        None => (floats(trigger.mask())?, floats(trigger.pattern())?),
    };
    let dev = agnostic.device;
    let mask_t = Tensor::<4>::from_data(TensorData::new(mask.clone(), [1, 1, h, w]), dev);
    let pattern_t = Tensor::<4>::from_data(TensorData::new(pattern, [1, 3, h, w]), dev);
    let target_rate = agnostic.rate_of(class, |x| stamp(x, &mask_t, &pattern_t))?;
    let clean_rate = agnostic.rate(None, class)?;
    let norm: f32 = mask.iter().sum();
    let budget = (target_rate >= goal).then_some(norm);
    let (concentration, bbox) = densest_window(&mask, [h, w], window);
    let top = mask.iter().fold(0.0f32, |m, &v| m.max(v)).max(f32::MIN_POSITIVE);
    Ok(ClassReport {
        class,
        name: agnostic.model.class_names()[class].clone(),
        budget,
        window_rate: 0.0,
        probe_clean_rate: clean_rate,
        target_rate,
        clean_rate,
        concentration,
        anomaly_index: 0.0,
        flagged: false,
        bbox,
        seconds: start.elapsed().as_secs_f64(),
        map: mask.iter().map(|v| v / top).collect(),
    })
}

/// The inputs the window patches are scored on: a folder's images, or the
/// scoring inputs of the optimisation's distribution.
pub enum Probe {
    Scoring,
    /// `[n, 3, H, W]` in `[0, 1]`.
    Images(Tensor<4>),
}

impl Probe {
    /// The images of `dir` (at most `--eval-samples` of them, evenly spaced
    /// in name order) at the model's size, or the scoring inputs.
    pub fn new(agnostic: &Agnostic<'_>, dir: Option<&std::path::Path>) -> Result<Probe, Error> {
        let Some(dir) = dir else { return Ok(Probe::Scoring) };
        let [h, w] = agnostic.model.input_size();
        let pool = crate::agnostic::read_pool(dir, [h, w], Some(agnostic.config.eval_samples))?;
        let n = pool.len();
        Ok(Probe::Images(Tensor::from_data(TensorData::new(pool.concat(), [n, 3, h, w]), agnostic.device)))
    }

    /// Among the probe inputs the model does not assign to `class`, the
    /// share that it assigns to `class` once changed by `change`; and the
    /// share it assigns to `class` unchanged. One read-back.
    pub fn flip_rate(&self, agnostic: &Agnostic<'_>, class: usize, change: impl Fn(Tensor<4>) -> Tensor<4>) -> Result<(f32, f32), Error> {
        let cfg = agnostic.config;
        let total = match self {
            Probe::Scoring => cfg.eval_samples,
            Probe::Images(images) => images.dims()[0],
        };
        // [inputs assigned to the class unchanged, inputs flipped to it]
        let mut counts = Tensor::<1>::zeros([2], agnostic.device);
        for first in (0..total).step_by(cfg.batch) {
            let n = cfg.batch.min(total - first);
            let x = match self {
                Probe::Scoring => agnostic.sampler.scoring(first, n, agnostic.device),
                Probe::Images(images) => images.clone().slice([first..first + n]),
            };
            let before = agnostic.is_class(x.clone(), class);
            let after = agnostic.is_class(change(x), class);
            let flipped = (before.clone().neg() + 1.0) * after;
            counts = counts + Tensor::cat(vec![before.sum(), flipped.sum()], 0);
        }
        let counts = floats(counts)?;
        let others = total as f32 - counts[0];
        Ok((if others > 0.0 { counts[1] / others } else { 0.0 }, counts[0] / total as f32))
    }
}

/// Inputs `x [n, 3, H, W]` stamped with `mask [1, 1, H, W]` and `pattern
/// [1, 3, H, W]`: `(1 − m)·x + m·p`.
fn stamp(x: Tensor<4>, mask: &Tensor<4>, pattern: &Tensor<4>) -> Tensor<4> {
    let dims = x.dims();
    let m = mask.clone().expand(dims);
    x * (m.clone().neg() + 1.0) + m * pattern.clone().expand(dims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_densest_window_is_found_and_its_share_measured() {
        let (h, w) = (6, 8);
        let mut map = vec![0.1f32; h * w];
        for (x, y) in [(5, 3), (6, 3), (5, 4), (6, 4)] {
            map[y * w + x] = 2.0;
        }
        let total: f32 = map.iter().sum();
        let (share, bbox) = densest_window(&map, [h, w], 2);
        assert_eq!(bbox, [5, 3, 6, 4]);
        assert!((share - 8.0 / total).abs() < 1e-6, "{share}");
        // A window as large as a square map holds all of it (larger ones are
        // cut to the shorter side); an empty map holds nothing.
        assert_eq!(densest_window(&[1.0; 16], [4, 4], 99), (1.0, [0, 0, 3, 3]));
        assert_eq!(densest_window(&map, [h, w], 99).1, [1, 0, 6, 5], "the first of the tied windows");
        assert_eq!(densest_window(&vec![0.0; h * w], [h, w], 2).0, 0.0);
    }

    #[test]
    fn anomaly_indices_follow_neural_cleanse() {
        // median 3, |x − 3| = 2, 1, 0, 1, 27 → MAD 1 → index |x − 3| / 1.4826.
        let values = [Some(1.0), Some(2.0), Some(3.0), Some(4.0), Some(30.0), None];
        let index = anomaly_indices(&values);
        let expected = [2.0, 1.0, 0.0, 1.0, 27.0].map(|d: f32| d / 1.4826);
        for (got, want) in index.iter().zip(expected) {
            assert!((got - want).abs() < 1e-5, "{index:?}");
        }
        assert_eq!(index[5], 0.0, "a missing value gets no index");
        assert_eq!(anomaly_indices(&[None, None]), vec![0.0, 0.0]);
        assert_eq!(anomaly_indices(&[Some(2.0), Some(2.0)]), vec![0.0, 0.0]);
        // Most values equal (MAD 0): the mean absolute deviation, 6 / 5 · 1.2533, scales the index.
        let index = anomaly_indices(&[Some(1.0), Some(1.0), Some(1.0), Some(1.0), Some(7.0)]);
        assert!((index[4] - 6.0 / (1.2533 * 1.2)).abs() < 1e-4 && index[0] == 0.0, "{index:?}");
    }
}
