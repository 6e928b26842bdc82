//! Engine benches: the kernels, the model forward, a whole sliding-window
//! explanation, and the engine overhead (explanation − model-only) /
//! explanation measured in one run.
//!
//! `PAMI_BENCH_DEVICE=cpu|wgpu|auto` (default auto) picks the device.
//! Every measurement synchronises the device before the clock is read.

use std::hint::black_box;
use std::time::{Duration, Instant};

use burn::tensor::{Device, Tensor, TensorData};
use criterion::{BenchmarkId, Criterion};
use pami::{
    Blur, DeviceChoice, EfficientNetLite0, ExplainConfig, Explainer, Model, PartKind, Parts, Targets,
    WindowGrid, ops,
};

fn device() -> (Device, String) {
    let choice = match std::env::var("PAMI_BENCH_DEVICE").as_deref() {
        Ok("cpu") => DeviceChoice::Cpu,
        Ok("wgpu") => DeviceChoice::Wgpu,
        _ => DeviceChoice::Auto,
    };
    let runtime = pami::device::select(choice).expect("device");
    eprintln!("bench device: {} ({})", runtime.backend, runtime.adapter);
    (runtime.device, runtime.backend.to_owned())
}

fn sync(device: &Device) {
    device.sync().expect("device sync");
}

fn image(device: &Device) -> Tensor<3> {
    let values: Vec<f32> = (0..3 * 224 * 224).map(|i| ((i * 7919) % 256) as f32).collect();
    Tensor::from_data(TensorData::new(values, [3, 224, 224]), device)
}

fn coffee() -> image::RgbImage {
    pami::io::load_image(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/coffee.png").as_ref()).unwrap()
}

/// The explanation the overhead is measured on: paper radius, stride 12 (361 windows).
fn config(batch: usize) -> ExplainConfig {
    ExplainConfig {
        method: std::sync::Arc::new(pami::Window::new(vec![WindowGrid { shape: PartKind::Circle, radius: 40, stride: 12 }])),
        targets: Targets::TopK(1),
        batch,
        ..ExplainConfig::default()
    }
}

fn kernels(c: &mut Criterion, device: &Device, tag: &str) {
    let x = image(device);
    let parts = Parts::windows(PartKind::Circle, &WindowGrid::default().rows(224, 224).unwrap(), 1, 224, 224, device);
    let mut g = c.benchmark_group(format!("kernels/{tag}"));
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function("blur paper 49x49 224²", |b| {
        b.iter(|| {
            let out = ops::blur(x.clone(), &Blur::paper());
            sync(device);
            black_box(out)
        })
    });
    let baseline = ops::blur(x.clone(), &Blur::paper());
    let norm = pami::Normalisation::LITE;
    g.bench_function("compose 16 circles 224²", |b| {
        b.iter(|| {
            let out = ops::compose(&x.clone().unsqueeze(), &baseline.clone().unsqueeze(), &parts, 0, 16, false, &norm);
            sync(device);
            black_box(out)
        })
    });
    let scores = Tensor::<2>::ones([parts.len(), 1], device);
    g.bench_function("aggregate 1444 circles 224²", |b| {
        b.iter(|| {
            let out = ops::aggregate(&scores, &parts, 0);
            sync(device);
            black_box(out)
        })
    });
    g.finish();
}

fn forward(c: &mut Criterion, model: &EfficientNetLite0, device: &Device, tag: &str) {
    let mut g = c.benchmark_group(format!("efficientnet-lite0 forward/{tag}"));
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for batch in [1, 16, 64] {
        let x = Tensor::<4>::zeros([batch, 3, 224, 224], device);
        g.throughput(criterion::Throughput::Elements(batch as u64));
        g.bench_with_input(BenchmarkId::from_parameter(batch), &batch, |b, _| {
            b.iter(|| {
                let out = model.forward(x.clone());
                sync(device);
                black_box(out)
            })
        });
    }
    g.finish();
}

/// The forward passes an explanation with `config` makes, and nothing else.
fn model_only(model: &EfficientNetLite0, device: &Device, parts: usize, batch: usize) {
    let x = Tensor::<4>::zeros([1, 3, 224, 224], device);
    let mut outs = vec![model.forward(x)];
    for first in (0..parts).step_by(batch) {
        let n = batch.min(parts - first);
        outs.push(model.forward(Tensor::zeros([n, 3, 224, 224], device)));
    }
    sync(device);
    black_box(outs);
}

fn explanation(c: &mut Criterion, explainer: &Explainer<EfficientNetLite0>, tag: &str) {
    let image = coffee();
    let mut g = c.benchmark_group(format!("explain window r40 s12/{tag}"));
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    for batch in [16, 64] {
        g.bench_with_input(BenchmarkId::new("batch", batch), &batch, |b, &batch| {
            b.iter(|| black_box(explainer.explain(&image, &config(batch)).unwrap()))
        });
    }
    g.finish();
}

/// Engine overhead, interleaving explanation and model-only runs so both see
/// the same machine state.
fn overhead(explainer: &Explainer<EfficientNetLite0>, device: &Device, tag: &str) {
    let image = coffee();
    println!("\n| device | batch | explanation (s) | model only (s) | engine overhead |");
    println!("|---|---|---|---|---|");
    for batch in [16, 64] {
        let config = config(batch);
        let parts = 361;
        let (mut full, mut model) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            let t = Instant::now();
            black_box(explainer.explain(&image, &config).unwrap());
            full.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            model_only(&explainer.model, device, parts, batch);
            model.push(t.elapsed().as_secs_f64());
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (f, m) = (median(&mut full), median(&mut model));
        println!("| {tag} | {batch} | {f:.2} | {m:.2} | {:.1}% |", 100.0 * (f - m) / f);
    }
}

fn main() {
    let (device, tag) = device();
    let mut c = Criterion::default().configure_from_args();
    // The kernels on both implementations, so their ratio comes from one run.
    kernels(&mut c, &Device::flex(), "cpu");
    if let Ok((gpu, _)) = pami::device::wgpu_device() {
        kernels(&mut c, &gpu, "wgpu");
    }
    let model = EfficientNetLite0::pretrained(&device).unwrap();
    forward(&mut c, &model, &device, &tag);
    let explainer = Explainer::new(model, device.clone());
    explanation(&mut c, &explainer, &tag);
    c.final_summary();
    // A criterion filter (e.g. `-- kernels`) asks for part of the benches: skip the overhead table then.
    if !std::env::args().skip(1).any(|a| !a.starts_with('-')) {
        overhead(&explainer, &device, &tag);
    }
}
