//! Gradient workloads, timed (criterion; every measurement reads its result
//! back, which waits for the device): input-agnostic saliency's
//! optimisation (inputs per second: `samples × steps` forward and backward
//! passes with the shared perturbation) and integrated gradients (images
//! per second, 50 steps) on the BadNets CNN (28²), the synthetic CNN (64²)
//! and EfficientNet-Lite0 (224²). `PAMI_BENCH_DEVICE=cpu|wgpu`.

use std::time::Duration;

use criterion::{Criterion, Throughput};
use pami::agnostic::{Agnostic, AgnosticConfig};
use pami::backdoor::model::{Embedded, FashionCnn};
use pami::{DeviceChoice, ExplainConfig, Explainer, IntegratedGradients, Model, Targets, Zoo};

fn main() {
    let choice = match std::env::var("PAMI_BENCH_DEVICE").as_deref() {
        Ok("wgpu") => DeviceChoice::Wgpu,
        _ => DeviceChoice::Cpu,
    };
    let runtime = pami::device::select(choice).expect("device");
    let device = &runtime.device;
    let mut c = Criterion::default().configure_from_args().sample_size(10).measurement_time(Duration::from_secs(10));
    let mut g = c.benchmark_group(format!("gradients/{}", runtime.backend));
    let fashion: Box<dyn Model> = Box::new(FashionCnn::pretrained(Embedded::Backdoored, device).unwrap());
    let synthetic = Zoo::SyntheticShapes.load(device).unwrap();
    let lite = Zoo::EfficientnetLite0.load(device).unwrap();

    // Agnostic saliency: 32 inputs a step, 10 steps a measurement (8 on Lite0).
    for (name, model, samples, steps) in [("fashion-cnn 28²", &fashion, 32, 10), ("synthetic-cnn 64²", &synthetic, 32, 10), ("efficientnet-lite0 224²", &lite, 8, 4)] {
        let config = AgnosticConfig { samples, steps, ..AgnosticConfig::default() };
        let agnostic = Agnostic::new(model.as_ref(), device, &config).unwrap();
        g.throughput(Throughput::Elements((samples * steps) as u64));
        g.bench_function(format!("agnostic {name}, inputs"), |b| b.iter(|| agnostic.optimise(0).unwrap().into_data()));
    }

    // Integrated gradients: 50 Gauss–Legendre steps, one image per explanation.
    let coffee = pami::io::load_image(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/coffee.png").as_ref()).unwrap();
    let shape = pami::synthetic::sample(pami::synthetic::HELD_OUT).image;
    for (name, model, image) in [("synthetic-cnn 64²", synthetic, &shape), ("efficientnet-lite0 224²", lite, &coffee)] {
        let batch = runtime.batch_for(&model);
        let explainer = Explainer::new(model, device.clone());
        let config = ExplainConfig { targets: Targets::TopK(1), batch, ..ExplainConfig::default() }.with_method(IntegratedGradients::default());
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("integrated-gradients {name}, images"), |b| b.iter(|| explainer.explain(image, &config).unwrap()));
    }
    g.finish();
    c.final_summary();
}
