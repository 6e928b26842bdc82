//! Dataset throughput: images per second when K images are in flight
//! together (`Explainer::explain_batch`, as `pami run --images-per-batch K`
//! does) against one image at a time. Every iteration ends with the maps
//! downloaded, so the device is synchronised before the clock is read.
//!
//! Two models: the synthetic-shapes CNN (64², 16 images) and EfficientNet-Lite0
//! (224², 4 images), both with occlusion of 8 × 8 / 56 × 56 squares (64 and 16
//! parts per image), a cheap method whose batches a single image fills badly.
//! `PAMI_BENCH_DEVICE=cpu|wgpu` (default cpu).

use std::time::Duration;

/// The allocator the `pami` binary uses (see `src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, Throughput};
use pami::{Baseline, DeviceChoice, ExplainConfig, Explainer, Occlusion, Zoo};

fn main() {
    let choice = match std::env::var("PAMI_BENCH_DEVICE").as_deref() {
        Ok("wgpu") => DeviceChoice::Wgpu,
        _ => DeviceChoice::Cpu,
    };
    let runtime = pami::device::select(choice).expect("device");
    let mut c = Criterion::default().configure_from_args().sample_size(10).measurement_time(Duration::from_secs(10));
    let coffee = pami::io::load_image(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/coffee.png").as_ref()).unwrap();
    let cases: [(Zoo, usize, u32, &[usize]); 2] = [(Zoo::SyntheticShapes, 16, 8, &[1, 4, 16]), (Zoo::EfficientnetLite0, 4, 56, &[1, 4])];
    for (zoo, count, side, in_flight) in cases {
        let explainer = Explainer::new(zoo.load(&runtime.device).unwrap(), runtime.device.clone());
        let images: Vec<_> = match zoo {
            Zoo::SyntheticShapes => (0..count as u64).map(|i| pami::synthetic::sample(pami::synthetic::HELD_OUT + i).image).collect(),
            _ => vec![coffee.clone(); count],
        };
        let config = ExplainConfig {
            method: std::sync::Arc::new(Occlusion { window: side, stride: side }),
            baseline: Baseline::Zero,
            batch: runtime.batch_for(&explainer.model),
            ..ExplainConfig::default()
        };
        let mut g = c.benchmark_group(format!("dataset/{}/{}", zoo.name(), runtime.backend));
        g.throughput(Throughput::Elements(count as u64));
        eprintln!("{}: {} parts per image, {} composites per pass", zoo.name(), explainer.explain(&images[0], &config).unwrap().parts, config.batch);
        for &k in in_flight {
            g.bench_function(format!("{k} in flight"), |b| {
                b.iter(|| images.chunks(k).map(|group| explainer.explain_batch(group, &config).unwrap().len()).sum::<usize>())
            });
        }
        g.finish();
    }
    c.final_summary();
}
