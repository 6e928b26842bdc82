//! A model whose score depends only on one known patch: the explanation must
//! peak in that patch and be flat far from it, on both devices.

mod common;

use burn::tensor::{Device, Tensor};
use common::{gpu, max_abs_diff, noise};
use image::RgbImage;
use pami::{Baseline, Blur, ExplainConfig, Explainer, Model, Normalisation, PartKind, Strategy, Targets, WindowGrid};

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
        strategy: Strategy::Window(vec![WindowGrid { shape: PartKind::Circle, radius: 10, stride: 4 }]),
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
