//! A model whose score depends only on one known patch: the explanation must
//! peak in that patch and be flat far from it, on both devices.

mod common;

use burn::tensor::{Device, Tensor};
use common::{gpu, max_abs_diff, noise};
use image::RgbImage;
use std::sync::Arc;

use pami::segment::Segmenter;
use pami::{Baseline, Blur, ExplainConfig, Explainer, Model, Normalisation, PartKind, Targets, WindowGrid};

const SIZE: usize = 96;
/// The patch the model looks at: x 56..72, y 20..36.
const PATCH: [usize; 4] = [56, 20, 72, 36];

/// Logit 0 is the contrast (mean squared normalised value) of the patch;
/// blurring the patch lowers it, keeping it raises it.
struct PatchModel {
    classes: Vec<String>,
}

impl Model for PatchModel {
    fn input_size(&self) -> [usize; 2] {
        [SIZE, SIZE]
    }
    fn normalisation(&self) -> Normalisation {
        Normalisation { mean: [127.5; 3], std: [64.0; 3] }
    }
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let [b, _, _, _] = x.dims();
        let [x0, y0, x1, y1] = PATCH;
        let patch = x.slice([0..b, 0..3, y0..y1, x0..x1]);
        let contrast = patch.powi_scalar(2).mean_dim(3).mean_dim(2).mean_dim(1).reshape([b, 1]);
        Tensor::cat(vec![contrast.clone() * 4.0, contrast.zeros_like()], 1)
    }
    fn class_names(&self) -> &[String] {
        &self.classes
    }
}

fn noise_image() -> RgbImage {
    let v = noise(SIZE * SIZE * 3, 7, 0.0, 256.0);
    RgbImage::from_fn(SIZE as u32, SIZE as u32, |x, y| {
        let i = (y as usize * SIZE + x as usize) * 3;
        image::Rgb([v[i] as u8, v[i + 1] as u8, v[i + 2] as u8])
    })
}

fn explain(device: Device) -> Vec<f32> {
    let explainer = Explainer::new(PatchModel { classes: vec!["patch".into(), "rest".into()] }, device);
    let config = ExplainConfig {
        method: Arc::new(pami::Window::new(vec![WindowGrid { shape: PartKind::Circle, radius: 10, stride: 4 }])),
        baseline: Baseline::Blur(Blur::gaussian(9, 3.0).unwrap()),
        targets: Targets::Classes(vec![0]),
        batch: 64,
        ..ExplainConfig::default()
    };
    let e = explainer.explain(&noise_image(), &config).unwrap();
    assert_eq!(e.parts, 24 * 24);
    assert_eq!(e.forward_passes, 1 + 576usize.div_ceil(64));
    e.map(0).to_vec()
}

fn assert_points_at_patch(map: &[f32]) {
    let argmax = (0..map.len()).max_by(|&a, &b| map[a].total_cmp(&map[b])).unwrap();
    let (x, y) = (argmax % SIZE, argmax / SIZE);
    let [x0, y0, x1, y1] = PATCH;
    assert!((x0..x1).contains(&x) && (y0..y1).contains(&y), "maximum at ({x}, {y}) is outside the patch");
    // Pixels whose every window misses the patch: farther than 2 radii (+1) from it.
    let far = |x: usize, y: usize| {
        let dx = (x0 as i64 - x as i64).max(x as i64 - (x1 as i64 - 1)).max(0);
        let dy = (y0 as i64 - y as i64).max(y as i64 - (y1 as i64 - 1)).max(0);
        dx * dx + dy * dy > 21 * 21
    };
    let background: Vec<f32> =
        (0..map.len()).filter(|&i| far(i % SIZE, i / SIZE)).map(|i| map[i]).collect();
    assert!(background.len() > SIZE * SIZE / 3);
    let (lo, hi) = background.iter().fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    let peak = map[argmax];
    assert!(hi - lo < 1e-4 * peak, "background not flat: {lo}..{hi}");
    assert!(peak - hi > 0.05, "patch ({peak}) barely above background ({hi})");
}

#[test]
fn window_map_points_at_the_patch_on_cpu() {
    assert_points_at_patch(&explain(Device::flex()));
}

#[test]
fn window_map_points_at_the_patch_on_gpu_and_matches_cpu() {
    let Some(gpu) = gpu() else { return };
    let cpu_map = explain(Device::flex());
    let gpu_map = explain(gpu);
    assert_points_at_patch(&gpu_map);
    let diff = max_abs_diff(&cpu_map, &gpu_map);
    assert!(diff < 1e-4, "GPU map differs from CPU map by {diff}");
}

fn explainer(device: Device) -> Explainer<PatchModel> {
    Explainer::new(PatchModel { classes: vec!["patch".into(), "rest".into()] }, device)
}

fn config(method: Arc<dyn pami::Method>, baseline: Baseline) -> ExplainConfig {
    ExplainConfig { method, baseline, targets: Targets::Classes(vec![0]), batch: 64, ..ExplainConfig::default() }
}

/// The maximum lies in the patch and the patch's mean importance is well
/// above the rest's.
fn assert_peaks_in_patch(map: &[f32], what: &str) {
    let argmax = (0..map.len()).max_by(|&a, &b| map[a].total_cmp(&map[b])).unwrap();
    let (x, y) = (argmax % SIZE, argmax / SIZE);
    let [x0, y0, x1, y1] = PATCH;
    assert!((x0..x1).contains(&x) && (y0..y1).contains(&y), "{what}: maximum at ({x}, {y}) is outside the patch");
    let inside = |i: usize| (x0..x1).contains(&(i % SIZE)) && (y0..y1).contains(&(i / SIZE));
    let mean = |keep: bool| {
        let v: Vec<f32> = (0..map.len()).filter(|&i| inside(i) == keep).map(|i| map[i]).collect();
        v.iter().sum::<f32>() / v.len() as f32
    };
    let (patch, rest) = (mean(true), mean(false));
    let (lo, hi) = map.iter().fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
    assert!(patch - rest > 0.3 * (hi - lo), "{what}: patch mean {patch} vs rest {rest} (range {lo}..{hi})");
}

#[test]
fn every_method_points_at_the_patch() {
    let blur = Baseline::Blur(Blur::gaussian(9, 3.0).unwrap());
    let segments = |second_run, shifts| Arc::new(pami::Segments { second_run, shifts });
    let cases = [
        ("occlusion", config(Arc::new(pami::Occlusion { window: 12, stride: 4 }), Baseline::Zero)),
        ("RISE", config(Arc::new(pami::Rise { masks: 600, grid: 6, probability: 0.5, seed: 3 }), Baseline::Zero)),
        // Compact watershed regions of about 8 px: SLIC merges pure noise into one segment.
        ("feature ablation", config(Arc::new(pami::Ablation { segmentation: Segmenter::parse("watershed:144,compactness=0.01").unwrap() }), Baseline::Zero)),
        ("segments", config(segments(false, pami::Shifts::None), blur)),
        ("segments, second run", config(segments(true, pami::Shifts::None), blur)),
        // A shift not rolled back would move the peak off the patch (shifts are ≥ 24 px).
        ("segments, 13 shifts", config(segments(false, pami::Shifts::Reference), blur)),
        (
            "multi-scale windows",
            config(
                Arc::new(pami::Window::new(vec![
                    WindowGrid { shape: PartKind::Rect, radius: 6, stride: 4 },
                    WindowGrid { shape: PartKind::Rect, radius: 12, stride: 8 },
                ])),
                blur,
            ),
        ),
    ];
    let explainer = explainer(Device::flex());
    for (what, config) in cases {
        let e = explainer.explain(&noise_image(), &config).unwrap();
        assert_peaks_in_patch(e.map(0), what);
    }
}

#[test]
fn images_explained_together_get_the_maps_they_get_alone() {
    let explainer = explainer(Device::flex());
    let other = image::imageops::rotate180(&noise_image());
    let images = [noise_image(), other];
    let methods: [Arc<dyn pami::Method>; 2] = [
        Arc::new(pami::Window::new(vec![WindowGrid { shape: PartKind::Circle, radius: 10, stride: 8 }])),
        Arc::new(pami::Segments::default()),
    ];
    for strategy in methods {
        let config = ExplainConfig { batch: 50, ..config(strategy, Baseline::Blur(Blur::gaussian(9, 3.0).unwrap())) };
        let together = explainer.explain_batch(&images, &config).unwrap();
        for (image, joint) in images.iter().zip(&together) {
            let alone = explainer.explain(image, &config).unwrap();
            assert_eq!(alone.parts, joint.parts);
            let diff = max_abs_diff(&alone.maps, &joint.maps);
            assert!(diff < 1e-5, "{}: batched map differs by {diff}", config.method.name());
        }
        // Full batches across the images: one prediction pass, then ⌈all parts / batch⌉.
        let parts = together[0].parts + together[1].parts;
        assert_eq!(together[0].forward_passes, 1 + parts.div_ceil(config.batch));
    }
}

#[test]
fn insertion_and_deletion_rank_a_faithful_map_above_a_random_one() {
    use pami::metrics::{CurveConfig, MapToScore};
    let explainer = explainer(Device::flex());
    let image = noise_image();
    let faithful = explainer.explain(&image, &config(Arc::new(pami::Occlusion { window: 8, stride: 4 }), Baseline::Zero)).unwrap();
    let random = pami::eval::reference_map("random", SIZE, SIZE).unwrap();
    let curves_config = CurveConfig { step: 96, substrate: Blur::gaussian(9, 3.0).unwrap(), batch: 64 };
    let maps = [MapToScore { image: 0, class: 0, map: faithful.map(0) }, MapToScore { image: 0, class: 0, map: &random }];
    let curves = explainer.curves(std::slice::from_ref(&image), &maps, &curves_config).unwrap();
    let (good, bad) = (&curves[0], &curves[1]);
    assert_eq!(good.insertion.len(), SIZE * SIZE / 96 + 1);
    // Both curves end where they must: insertion from the substrate to the image, deletion back.
    for c in [good, bad] {
        assert!((c.insertion[c.insertion.len() - 1] - c.deletion[0]).abs() < 1e-5);
        assert!((c.insertion[0] - c.deletion[c.deletion.len() - 1]).abs() < 1e-5);
    }
    assert!(good.insertion_auc > bad.insertion_auc + 0.05, "insertion {} vs random {}", good.insertion_auc, bad.insertion_auc);
    assert!(good.deletion_auc < bad.deletion_auc - 0.05, "deletion {} vs random {}", good.deletion_auc, bad.deletion_auc);
}

#[test]
fn metrics_gpu_equal_cpu() {
    use pami::metrics::{CurveConfig, MapToScore};
    let Some(gpu) = gpu() else { return };
    let random = pami::eval::reference_map("random", SIZE, SIZE).unwrap();
    let centre = pami::eval::reference_map("centre", SIZE, SIZE).unwrap();
    let maps = [MapToScore { image: 0, class: 0, map: &random }, MapToScore { image: 0, class: 0, map: &centre }];
    let curves_config = CurveConfig { step: 200, substrate: Blur::gaussian(9, 3.0).unwrap(), batch: 64 };
    let run = |device: Device| explainer(device).curves(&[noise_image()], &maps, &curves_config).unwrap();
    for (a, b) in run(Device::flex()).iter().zip(run(gpu)) {
        assert!(max_abs_diff(&a.insertion, &b.insertion) < 1e-4 && max_abs_diff(&a.deletion, &b.deletion) < 1e-4);
    }
}

#[test]
fn pointing_game_counts_a_maximum_within_the_tolerance() {
    use pami::metrics::pointing_game;
    let mut map = vec![0.0f32; 20 * 10];
    map[4 * 20 + 15] = 1.0; // maximum at (15, 4)
    assert!(pointing_game(&map, 20, &[[10.0, 2.0, 16.0, 6.0]], 0.0));
    assert!(!pointing_game(&map, 20, &[[0.0, 0.0, 9.0, 9.0]], 0.0));
    assert!(pointing_game(&map, 20, &[[0.0, 0.0, 9.0, 9.0]], 6.0), "6 px from the box");
    assert!(!pointing_game(&map, 20, &[[0.0, 0.0, 9.0, 9.0]], 5.9));
    assert!(pointing_game(&map, 20, &[[0.0, 0.0, 1.0, 1.0], [15.0, 4.0, 15.0, 4.0]], 0.0), "any of several boxes");
}

/// Captum's `FeatureAblation` with a superpixel mask: every pixel of a
/// segment gets `f(x) − f(x with the segment at the baseline)`, the patch
/// model's drop computed here by hand from the same segmentation.
#[test]
fn ablation_gives_every_segment_its_own_score_drop() {
    let image = noise_image();
    let resized = image::imageops::resize(&image, SIZE as u32, SIZE as u32, image::imageops::FilterType::Triangle);
    let chw = pami::explain::to_chw(&resized);
    // Compact watershed regions of about 19 px (SLIC merges pure noise into one segment).
    let segmentation = Segmenter::parse("watershed:25,compactness=0.01").unwrap();
    let x = Tensor::<4>::from_data(burn::tensor::TensorData::new(chw.clone(), [1, 3, SIZE, SIZE]), &Device::flex());
    let seg = segmentation.segment(&x).unwrap();
    let labels: Vec<i64> = seg.labels.into_data().convert::<i64>().try_into_vec::<i64>().unwrap();
    // Logit 0 is 4 · mean(v²) over the patch's 3 · 16 · 16 normalised values; the
    // zero baseline sets a segment's values to 0.
    let [x0, y0, x1, y1] = PATCH;
    let mut drop = vec![0.0f64; seg.counts[0]];
    for y in y0..y1 {
        for x in x0..x1 {
            for c in 0..3 {
                let v = (chw[c * SIZE * SIZE + y * SIZE + x] as f64 - 127.5) / 64.0;
                drop[labels[y * SIZE + x] as usize] += 4.0 * v * v / (3 * 16 * 16) as f64;
            }
        }
    }
    assert!(drop.iter().filter(|&&d| d > 0.0).count() >= 2, "the patch spans several segments");
    let config = ExplainConfig {
        score: pami::Score::Logit,
        batch: 16,
        ..config(Arc::new(pami::Ablation { segmentation }), Baseline::Zero)
    };
    for device in [Some(Device::flex()), gpu()].into_iter().flatten() {
        let e = explainer(device).explain(&image, &config).unwrap();
        assert_eq!(e.parts, seg.counts[0]);
        assert_eq!(e.forward_passes, 1 + seg.counts[0].div_ceil(16));
        for (p, &value) in e.map(0).iter().enumerate() {
            let expected = drop[labels[p] as usize];
            assert!((value as f64 - expected).abs() < 1e-4, "pixel {p}: {value} against the segment's drop {expected}");
        }
    }
}
