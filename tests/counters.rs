//! What an explanation asks of the device, counted (`pami::counters`): the
//! kernels the twenty Table-3 segmentations of one 224² image dispatch, and
//! the blocking readbacks and syncs of a Strategy-II explanation, on the
//! wgpu adapter. `--nocapture` prints the counts; the README's table comes
//! from `cargo test --release --test counters -- --include-ignored --nocapture`.

mod common;

use std::sync::Arc;

use common::gpu;
use pami::counters::{Counts, measure};
use pami::{Baseline, Blur, ExplainConfig, Explainer, Model, Segments, Targets, Zoo};

fn print(what: &str, c: &Counts) {
    eprintln!(
        "{what}: {} dispatches, {} readbacks {:?}, {} syncs",
        c.dispatch_total(),
        c.readback_total(),
        c.readbacks,
        c.syncs
    );
    eprintln!("  dispatches by kernel: {:?}", c.dispatches);
}

#[test]
fn the_twenty_segmentations_dispatch_every_algorithm_and_read_their_counts() {
    let Some(device) = gpu() else { return };
    let x = common::fixture_input("coffee_224", &device);
    let preset = pami::segment::paper();
    let (segmentations, counts) = measure(|| pami::segment::segment_all(&x, &preset).unwrap());
    print("twenty segmentations, 224²", &counts);
    assert_eq!(segmentations.len(), 20);
    // Every algorithm's kernels ran, and each dispatch uploaded its parameters.
    for kernel in ["felzenszwalb_merge", "slic_iterate", "seeds_blocks", "watershed_flood", "segment_min_size"] {
        assert!(counts.dispatches.get(kernel).copied().unwrap_or(0) > 0, "no {kernel} dispatch: {counts:?}");
    }
    // The twenty segment counts come back in one readback, and the watershed's
    // flooding settles on the device: its three settings' 60 markers in one
    // launch per stage (the flooding a short chain within llvmpipe's loop
    // budget: 64 rounds of a 224² map).
    assert_eq!(counts.readbacks["segment counts"], 1, "{counts:?}");
    assert!(!counts.readbacks.contains_key("watershed changes"), "{counts:?}");
    assert_eq!((counts.dispatches["watershed_init"], counts.dispatches["watershed_label"]), (1, 1), "{counts:?}");
    assert!(counts.dispatches["watershed_flood"] <= 4, "{counts:?}");
    // All twenty segmentations' connected components and small-segment merges
    // run in one launch (on llvmpipe a chain of 32 rounds, three per dispatch
    // within its loop budget), and the host never asks how many small
    // segments are left.
    assert!(counts.dispatches["segment_min_size"] <= 11, "{counts:?}");
    assert!(!counts.readbacks.contains_key("small segments"), "{counts:?}");
    // SLIC's eight settings share one Lab conversion and run their k-means in
    // one launch (on llvmpipe a chain of three rounds per dispatch for 80
    // clusters); the watershed's three share one gradient.
    assert_eq!((counts.dispatches["slic_lab"], counts.dispatches["watershed_gradient"]), (1, 1), "{counts:?}");
    assert!(counts.dispatches["slic_iterate"] <= 4, "{counts:?}");
    // Felzenszwalb's edge sort: one dispatch of three counting passes.
    assert_eq!(counts.dispatches["felzenszwalb_sort"], 1, "{counts:?}");
    // SEEDS' three settings run together, each stage one launch: the block
    // and pixel sweeps whole in one workgroup per image and setting (the
    // blocks a chain of three within llvmpipe's budget on 224²).
    let seeds = ["seeds_histograms", "seeds_blocks", "seeds_labels", "seeds_pixels"];
    assert_eq!((counts.dispatches["seeds_labels"], counts.dispatches["seeds_pixels"]), (1, 1), "{counts:?}");
    assert!(counts.dispatches["seeds_blocks"] <= 3, "{counts:?}");
    assert!(seeds.iter().map(|k| counts.dispatches[*k]).sum::<u64>() <= 10, "{counts:?}");
    // The goal for lavapipe, whose loop budget chains the Felzenszwalb
    // merge (222 of them; other adapters run each merge pass in one dispatch).
    assert!(counts.dispatch_total() <= 300, "{counts:?}");
    // Nothing of it runs on the CPU path's twins.
    let cpu_input = common::fixture_input("coffee_224", &burn::tensor::Device::flex());
    let (_, cpu) = measure(|| pami::segment::segment_all(&cpu_input, &preset[..1]).unwrap());
    assert_eq!(cpu.dispatch_total(), 0, "{cpu:?}");
}

fn strategy_two(model: Box<dyn Model>, image: &image::RgbImage, device: burn::tensor::Device) -> (pami::Explanation, Counts) {
    let explainer = Explainer::new(model, device);
    let config = ExplainConfig {
        method: Arc::new(Segments::default()),
        baseline: Baseline::Blur(Blur::paper()),
        targets: Targets::TopK(1),
        batch: 16,
        ..ExplainConfig::default()
    };
    measure(|| explainer.explain(image, &config).unwrap())
}

#[test]
fn a_strategy_two_explanation_counts_its_downloads_and_syncs() {
    let Some(device) = gpu() else { return };
    let model = Zoo::SyntheticShapes.load(&device).unwrap();
    let image = pami::synthetic::sample(pami::synthetic::HELD_OUT).image;
    let (e, counts) = strategy_two(model, &image, device);
    print("Strategy II, synthetic-shapes 64²", &counts);
    // One final download (maps, full-size maps, probabilities and class ids
    // together) and one read of all twenty segment counts, which size the parts.
    assert_eq!(counts.readbacks["download"], 1, "{counts:?}");
    assert_eq!(counts.readbacks["segment counts"], 1, "{counts:?}");
    // One sync per stage lap: upload, predict, baseline, partition, each compose and
    // model pass, aggregate, resize, download.
    let batches = (e.forward_passes - 1) as u64;
    assert_eq!(counts.syncs, 7 + 2 * batches, "{counts:?}");
    assert!(counts.dispatches["compose"] as u64 == batches && counts.dispatches["aggregate"] >= 1, "{counts:?}");
}

#[test]
fn timing_only_the_total_never_syncs_the_device() {
    let Some(device) = gpu() else { return };
    let explainer = Explainer::new(Zoo::SyntheticShapes.load(&device).unwrap(), device);
    let image = pami::synthetic::sample(pami::synthetic::HELD_OUT).image;
    let config = ExplainConfig {
        method: Arc::new(Segments::default()),
        targets: Targets::TopK(1),
        batch: 16,
        timing: pami::Timing::Total,
        ..ExplainConfig::default()
    };
    let (e, counts) = measure(|| explainer.explain(&image, &config).unwrap());
    print("Strategy II, synthetic-shapes 64², timing total", &counts);
    assert_eq!(counts.syncs, 0, "{counts:?}");
    assert_eq!(counts.readbacks["download"], 1, "{counts:?}");
    assert_eq!(e.timings.iter().map(|(s, _)| s).collect::<Vec<_>>(), ["total"]);
}

/// The README's row for EfficientNet-Lite0 on the espresso photo (minutes on lavapipe).
#[test]
#[ignore = "report: a few minutes on lavapipe"]
fn report_strategy_two_on_efficientnet() {
    let Some(device) = gpu() else { return };
    let model = Zoo::EfficientnetLite0.load(&device).unwrap();
    let image = pami::io::load_image(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/coffee.png").as_ref()).unwrap();
    let (e, counts) = strategy_two(model, &image, device);
    print(&format!("Strategy II, EfficientNet-Lite0, coffee ({} parts, {} passes)", e.parts, e.forward_passes), &counts);
}
