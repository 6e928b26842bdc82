//! The options a front end gives an explanation, in one place: the
//! shell's own ([`COMMON`]: baseline, blur, score, batch) and every method's
//! (`crate::method::registry`). `pami`'s flags and `pami serve`'s query
//! parameters both arrive here as [`Values`] and become an [`ExplainConfig`]
//! through serde, so both front ends accept exactly the same options.

use serde::Deserialize;

use crate::method::registry::{Kind, OptionSpec, Values, entries, entry};
use crate::method::{Baseline, Score, Timing};
use crate::{Blur, Error, ExplainConfig, Padding, Targets};

/// The options of every explanation, whatever its method.
pub const COMMON: &[OptionSpec] = &[
    OptionSpec::new("baseline", Kind::Choice(&["blur", "black", "white", "mean", "zero"]),
        "What replaces the removed pixels; zero is zero in the model's normalised input [default: the method's: blur for PAMI, zero for occlusion, RISE and ablation]"),
    OptionSpec::new("blur", Kind::Text, "Blur kernel: paper (49×49, σ 100), gaussian:SIZE:SIGMA or box:SIZE [default: paper]"),
    OptionSpec::new("padding", Kind::Choice(&["zero", "reflect"]), "Blur edge handling [default: zero]"),
    OptionSpec::new("score", Kind::Choice(&["probability", "logit"]),
        "Score attributed: softmax probability or logit [default: the method's: probability for perturbation methods (the paper's), logit for gradient methods]"),
    OptionSpec::new("timing", Kind::Choice(&["stages", "total"]),
        "stages: sync the device at each stage's end and report every stage's seconds; total: no syncs, only the total [default: stages]"),
    OptionSpec::new("batch", Kind::Int,
        "Composites per forward pass [default: as many as the device's storage binding holds for the model, at most 64; 16 on the CPU]"),
];

/// Every option name any method or [`COMMON`] takes, each once (the first spec of a name).
pub fn all_options() -> Vec<&'static OptionSpec> {
    let mut out: Vec<&'static OptionSpec> = Vec::new();
    for spec in COMMON.iter().chain(entries().into_iter().flat_map(|e| e.options.iter())) {
        match out.iter_mut().find(|s| s.name == spec.name) {
            // A name that is a list for one method is a list for the front ends.
            Some(seen) if spec.list && !seen.list => *seen = spec,
            Some(_) => {}
            None => out.push(spec),
        }
    }
    out
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Common {
    baseline: Option<String>,
    blur: Option<String>,
    padding: Option<Padding>,
    score: Option<Score>,
    batch: Option<usize>,
    timing: Timing,
}

/// The explanation configuration of method `strategy` (a `--strategy`
/// value or a report name) from the options in `values`, for `targets`;
/// `batch` unless the options give one. Options of other methods are
/// ignored (a command may configure several methods with one set of flags).
pub fn config(strategy: &str, values: &Values, targets: Targets, batch: usize) -> Result<ExplainConfig, Error> {
    let entry = entry(strategy).ok_or_else(|| {
        let names: Vec<&str> = entries().iter().map(|e| e.strategy).collect();
        Error::InvalidParameter(format!("unknown method `{strategy}`: use {}", names.join(", ")))
    })?;
    let method = (entry.build)(values)?;
    let common: Common = values.decode(COMMON, entry.strategy)?;
    let blur = Blur::parse(common.blur.as_deref().unwrap_or("paper"))?.with_padding(common.padding.unwrap_or(Padding::Zero));
    let baseline = match common.baseline.as_deref() {
        // The method's kind of baseline; a blur is the one the options describe.
        None => match method.default_baseline() {
            Baseline::Blur(_) => Baseline::Blur(blur),
            other => other,
        },
        Some("blur") => Baseline::Blur(blur),
        Some("black") => Baseline::Black,
        Some("white") => Baseline::White,
        Some("mean") => Baseline::Mean,
        Some(_) => Baseline::Zero,
    };
    let score = common.score.unwrap_or(method.default_score());
    Ok(ExplainConfig { method, baseline, targets, score, batch: common.batch.unwrap_or(batch), top: 5, timing: common.timing })
}

/// The names in `values` that no method and no [`COMMON`] option knows.
pub fn unknown<'a>(values: &'a Values) -> Vec<&'a str> {
    let known = all_options();
    values.keys().filter(|k| !known.iter().any(|s| s.name == *k)).collect()
}
