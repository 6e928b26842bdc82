//! Every method's explanation, timed: wall time per explanation (criterion,
//! the device synchronised before the clock is read, as `Explainer::explain`
//! does at its end), forward passes, and the share of the time spent outside
//! the model's forward passes (from the explanation's own stage timings).
//!
//! On the synthetic 64² CNN (`models/synthetic_shapes.bpk`), whose forward
//! is tiny, so that the engine's own share shows; `PAMI_BENCH_DEVICE=cpu|wgpu`.
//! Images explained together (`explain_batch`) are compared with one at a time.

use std::time::Duration;

use criterion::Criterion;
use pami::synthetic::{HELD_OUT, SyntheticCnn, sample};
use pami::{
    Baseline, Blur, DeviceChoice, ExplainConfig, Explainer, Occlusion, PartKind, Rise, Shifts,
    Targets, WindowGrid,
};

fn methods() -> Vec<(&'static str, ExplainConfig)> {
    let blur = Baseline::Blur(Blur::gaussian(15, 30.0).unwrap());
    let base = ExplainConfig { targets: Targets::TopK(1), batch: 64, baseline: blur, ..ExplainConfig::default() };
    let segments = |second_run, shifts| ExplainConfig { method: std::sync::Arc::new(pami::Segments { second_run, shifts }), ..base.clone() };
    vec![
        ("pami-window r11 s2", ExplainConfig { method: std::sync::Arc::new(pami::Window::new(vec![WindowGrid { shape: PartKind::Circle, radius: 11, stride: 2 }])), ..base.clone() }),
        ("pami-segments paper", segments(false, Shifts::None)),
        ("pami-segments paper + second run", segments(true, Shifts::None)),
        ("pami-segments paper + 13 shifts", segments(false, Shifts::Reference)),
        ("occlusion w4 s2", ExplainConfig { method: std::sync::Arc::new(Occlusion { window: 4, stride: 2 }), baseline: Baseline::Zero, ..base.clone() }),
        ("rise N4000", ExplainConfig { method: std::sync::Arc::new(Rise::default()), baseline: Baseline::Zero, ..base.clone() }),
    ]
}

fn main() {
    let choice = match std::env::var("PAMI_BENCH_DEVICE").as_deref() {
        Ok("wgpu") => DeviceChoice::Wgpu,
        _ => DeviceChoice::Cpu,
    };
    let runtime = pami::device::select(choice).expect("device");
    let model = SyntheticCnn::load(concat!(env!("CARGO_MANIFEST_DIR"), "/models/synthetic_shapes.bpk").as_ref(), &runtime.device).unwrap();
    let explainer = Explainer::new(model, runtime.device.clone());
    let images: Vec<_> = (0..8).map(|i| sample(HELD_OUT + i).image).collect();
    let mut c = Criterion::default().configure_from_args().sample_size(10).measurement_time(Duration::from_secs(10));
    let mut g = c.benchmark_group(format!("methods/{}", runtime.backend));
    println!("| method | parts | forward passes | outside the model |");
    for (name, config) in methods() {
        let e = explainer.explain(&images[0], &config).unwrap();
        let t = &e.timings;
        println!("| {name} | {} | {} | {:.1}% |", e.parts, e.forward_passes, 100.0 * (1.0 - t.get("model") / t.total()));
        g.bench_function(name, |b| b.iter(|| explainer.explain(&images[0], &config).unwrap()));
        if name.starts_with("pami-window") || name == "pami-segments paper" {
            g.bench_function(format!("{name}, 8 images one at a time"), |b| {
                b.iter(|| images.iter().map(|i| explainer.explain(i, &config).unwrap()).count())
            });
            g.bench_function(format!("{name}, 8 images together"), |b| b.iter(|| explainer.explain_batch(&images, &config).unwrap()));
        }
    }
    g.finish();
    c.final_summary();
}
