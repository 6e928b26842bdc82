//! Each WGSL kernel on the wgpu device (lavapipe in CI) equals its CPU twin,
//! and the twins do what the method needs.

mod common;

use burn::tensor::{Device, Int, Tensor, TensorData};
use common::{floats, gpu, max_abs_diff, noise};
use pami::{Blur, Normalisation, PartKind, Parts, ops};

/// Relative float tolerance of GPU vs CPU: different FMA contraction and
/// division rounding, nothing else.
const TOL: f32 = 1e-5;

fn image(planes: usize, h: usize, w: usize, seed: u64, device: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(noise(planes * h * w, seed, 0.0, 255.0), [planes, h, w]), device)
}

fn assert_close(cpu: &[f32], gpu: &[f32], what: &str) {
    let scale = cpu.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let diff = max_abs_diff(cpu, gpu);
    assert!(diff <= TOL * scale, "{what}: GPU differs from the CPU twin by {diff} (scale {scale})");
}

#[test]
fn blur_gaussian_of_an_impulse_is_the_outer_product_of_its_taps() {
    let device = Device::flex();
    let mut x = vec![0.0f32; 15 * 15];
    x[7 * 15 + 7] = 1.0;
    let blur = Blur::gaussian(5, 1.0).unwrap();
    let taps = blur.weights();
    let out = floats(ops::blur(Tensor::from_data(TensorData::new(x, [1, 15, 15]), &device), &blur));
    for dy in 0..5 {
        for dx in 0..5 {
            let got = out[(5 + dy) * 15 + 5 + dx];
            assert!((got - taps[dy] * taps[dx]).abs() < 1e-7, "tap ({dx}, {dy})");
        }
    }
    assert_eq!(out[0], 0.0);
}

#[test]
fn blur_reflect_keeps_a_constant_image_and_zero_padding_darkens_its_border() {
    let device = Device::flex();
    let x = Tensor::<3>::full([3, 20, 30], 100.0, &device);
    let box9 = Blur::box_filter(9).unwrap();
    let reflect = floats(ops::blur(x.clone(), &box9.with_padding(pami::Padding::Reflect)));
    assert!(reflect.iter().all(|v| (v - 100.0).abs() < 1e-3));
    let zero = floats(ops::blur(x, &box9));
    assert!((zero[0] - 100.0 * 25.0 / 81.0).abs() < 1e-3, "corner sees 5×5 of 9×9 taps");
    assert!((zero[10 * 30 + 15] - 100.0).abs() < 1e-3, "interior is unchanged");
}

#[test]
fn blur_gpu_equals_cpu_twin() {
    let Some(gpu) = gpu() else { return };
    let cpu = Device::flex();
    // Odd sizes, a kernel wider than the image, both paddings.
    for (blur, h, w) in [
        (Blur::paper(), 37, 53),
        (Blur::gaussian(7, 2.0).unwrap().with_padding(pami::Padding::Reflect), 20, 17),
        (Blur::box_filter(31).unwrap().with_padding(pami::Padding::Reflect), 9, 12),
    ] {
        let a = floats(ops::blur(image(3, h, w, 1, &cpu), &blur));
        let b = floats(ops::blur(image(3, h, w, 1, &gpu), &blur));
        assert_close(&a, &b, &format!("blur {blur:?} on {h}×{w}"));
    }
}

fn windows(kind: PartKind, device: &Device) -> Parts {
    let rows = [[10, 12, 6, 6], [0, 0, 9, 3], [39, 29, 12, 5], [20, 15, 0, 0], [25, 3, 4, 11]];
    Parts::windows(kind, &rows, 40, 30, device)
}

fn segments(device: &Device) -> Parts {
    // Two label maps over 40×30: vertical stripes (4 labels) and a 3×3 grid (9 labels).
    let mut labels: Vec<i32> = Vec::new();
    for _ in 0..30 {
        for x in 0..40 {
            labels.push(x / 10);
        }
    }
    for y in 0..30 {
        for x in 0..40 {
            labels.push((y / 10) * 3 + (x * 3 / 40));
        }
    }
    let labels = Tensor::<3, Int>::from_data(TensorData::new(labels, [2, 30, 40]), device);
    Parts::segments(labels, &[4, 9])
}

fn compose_all(parts: &Parts, invert: bool, device: &Device) -> Vec<f32> {
    let x = image(3, 30, 40, 2, device);
    let base = image(3, 30, 40, 3, device);
    let norm = Normalisation { mean: [120.0, 110.0, 100.0], std: [60.0, 61.0, 62.0] };
    // Two batches, so `first` is exercised.
    let a = ops::compose(&x, &base, parts, 0, 2, invert, &norm);
    let b = ops::compose(&x, &base, parts, 2, parts.len() - 2, invert, &norm);
    floats(Tensor::cat(vec![a, b], 0))
}

#[test]
fn compose_keeps_exactly_the_part() {
    let device = Device::flex();
    let parts = windows(PartKind::Circle, &device);
    let x = Tensor::<3>::full([3, 30, 40], 255.0, &device);
    let base = Tensor::<3>::zeros([3, 30, 40], &device);
    let norm = Normalisation { mean: [0.0; 3], std: [255.0; 3] };
    let out = floats(ops::compose(&x, &base, &parts, 0, 1, false, &norm));
    // Circle of radius 6 at (10, 12): 113 lattice points, all inside the image.
    let kept = out[..1200].iter().filter(|&&v| v == 1.0).count();
    assert_eq!(kept, 113);
    assert!(out[..1200].iter().all(|&v| v == 0.0 || v == 1.0));
    let inverted = floats(ops::compose(&x, &base, &parts, 0, 1, true, &norm));
    assert_eq!(inverted[..1200].iter().filter(|&&v| v == 1.0).count(), 1200 - 113);
}

#[test]
fn compose_gpu_equals_cpu_twin() {
    let Some(gpu) = gpu() else { return };
    let cpu = Device::flex();
    for invert in [false, true] {
        for kind in [PartKind::Circle, PartKind::Rect] {
            let a = compose_all(&windows(kind, &cpu), invert, &cpu);
            let b = compose_all(&windows(kind, &gpu), invert, &gpu);
            assert_close(&a, &b, &format!("compose {kind:?} invert {invert}"));
        }
        let a = compose_all(&segments(&cpu), invert, &cpu);
        let b = compose_all(&segments(&gpu), invert, &gpu);
        assert_close(&a, &b, &format!("compose segments invert {invert}"));
    }
}

fn scores(parts: usize, targets: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(noise(parts * targets, 4, 0.0, 1.0), [parts, targets]), device)
}

#[test]
fn aggregate_is_the_coverage_normalised_mean_score() {
    let device = Device::flex();
    // Two overlapping squares scoring 1 and 3: 1 alone, 2 on the overlap, 3 alone, 0 outside.
    let parts = Parts::windows(PartKind::Rect, &[[5, 5, 3, 3], [9, 5, 3, 3]], 16, 12, &device);
    let s = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 3.0], [2, 1]), &device);
    let map = floats(ops::aggregate(s, &parts));
    assert_eq!(map[5 * 16 + 3], 1.0);
    assert_eq!(map[5 * 16 + 7], 2.0);
    assert_eq!(map[5 * 16 + 11], 3.0);
    assert_eq!(map[5 * 16 + 15], 0.0);
    // Segments: each pixel averages its label's score over the two maps.
    let seg = segments(&device);
    let s: Vec<f32> = (0..13).map(|i| i as f32).collect();
    let map = floats(ops::aggregate(Tensor::from_data(TensorData::new(s, [13, 1]), &device), &seg));
    // Pixel (x 35, y 25): stripe 3 → score 3; grid cell 8 → part 4 + 8 = 12 → score 12.
    assert_eq!(map[25 * 40 + 35], (3.0 + 12.0) / 2.0);
}

#[test]
fn aggregate_gpu_equals_cpu_twin() {
    let Some(gpu) = gpu() else { return };
    let cpu = Device::flex();
    for kind in [PartKind::Circle, PartKind::Rect] {
        let a = floats(ops::aggregate(scores(5, 3, &cpu), &windows(kind, &cpu)));
        let b = floats(ops::aggregate(scores(5, 3, &gpu), &windows(kind, &gpu)));
        assert_close(&a, &b, &format!("aggregate {kind:?}"));
    }
    let a = floats(ops::aggregate(scores(13, 2, &cpu), &segments(&cpu)));
    let b = floats(ops::aggregate(scores(13, 2, &gpu), &segments(&gpu)));
    assert_close(&a, &b, "aggregate segments");
}
