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

/// Two images of 40×30; the same windows on each.
fn windows(kind: PartKind, device: &Device) -> Parts {
    let rows = match kind {
        PartKind::Circle => vec![[10, 12, 6, 6], [0, 0, 9, 9], [39, 29, 12, 12], [20, 15, 0, 0], [25, 3, 4, 4]],
        _ => vec![[4, 6, 17, 19], [0, 0, 9, 3], [30, 20, 40, 30], [20, 15, 20, 15], [25, 3, 41, 32]],
    };
    Parts::windows(kind, &rows, 2, 40, 30, device)
}

/// Three label maps over 40×30: vertical stripes (4 labels) and a 3×3 grid
/// (9 labels) for image 0, the grid again for image 1.
fn segments(device: &Device) -> Parts {
    let mut stripes: Vec<i32> = Vec::new();
    let mut grid: Vec<i32> = Vec::new();
    for y in 0..30 {
        for x in 0..40 {
            stripes.push(x / 10);
            grid.push((y / 10) * 3 + (x * 3 / 40));
        }
    }
    let labels: Vec<i32> = [stripes, grid.clone(), grid].concat();
    let labels = Tensor::<3, Int>::from_data(TensorData::new(labels, [3, 30, 40]), device);
    Parts::segments(labels, &[4, 9, 9], &[0, 0, 1], 2)
}

fn rise(device: &Device) -> Parts {
    pami::Rise { masks: 6, grid: 4, probability: 0.5, seed: 7 }.parts(2, 40, 30, device).unwrap()
}

fn ranks(device: &Device) -> Parts {
    let maps = Tensor::<3>::from_data(TensorData::new(noise(2 * 30 * 40, 9, 0.0, 1.0), [2, 30, 40]), device);
    Parts::ranks(ops::rank(maps), &[[0, 0, 0], [0, 0, 100], [0, 1, 700], [1, 1, 1200], [1, 0, 5]], 2)
}

/// Every part of `parts` over two random images, in two batches so that `first` is exercised.
fn compose_all(parts: &Parts, invert: bool, device: &Device) -> Vec<f32> {
    let x = image(6, 30, 40, 2, device).reshape([2, 3, 30, 40]);
    let base = image(6, 30, 40, 3, device).reshape([2, 3, 30, 40]);
    let norm = Normalisation { mean: [120.0, 110.0, 100.0], std: [60.0, 61.0, 62.0] };
    let a = ops::compose(&x, &base, parts, 0, 2, invert, &norm);
    let b = ops::compose(&x, &base, parts, 2, parts.len() - 2, invert, &norm);
    floats(Tensor::cat(vec![a, b], 0))
}

#[test]
fn compose_keeps_exactly_the_part_of_its_own_image() {
    let device = Device::flex();
    let parts = windows(PartKind::Circle, &device);
    let x = Tensor::<4>::cat(vec![Tensor::full([1, 3, 30, 40], 255.0, &device), Tensor::full([1, 3, 30, 40], 51.0, &device)], 0);
    let base = Tensor::<4>::zeros([2, 3, 30, 40], &device);
    let norm = Normalisation { mean: [0.0; 3], std: [255.0; 3] };
    // Part 0 of image 0 and the same window on image 1 (part 5).
    let out = floats(ops::compose(&x, &base, &parts, 0, 1, false, &norm));
    // Circle of radius 6 at (10, 12): 113 lattice points, all inside the image.
    let kept = out[..1200].iter().filter(|&&v| v == 1.0).count();
    assert_eq!(kept, 113);
    assert!(out[..1200].iter().all(|&v| v == 0.0 || v == 1.0));
    let second = floats(ops::compose(&x, &base, &parts, 5, 1, false, &norm));
    assert_eq!(second[..1200].iter().filter(|&&v| v == 0.2).count(), 113, "part 5 cuts image 1");
    let inverted = floats(ops::compose(&x, &base, &parts, 0, 1, true, &norm));
    assert_eq!(inverted[..1200].iter().filter(|&&v| v == 1.0).count(), 1200 - 113);
    // A rectangle is the half-open box (x0, y0, x1, y1): 13 × 13 pixels.
    let rect = floats(ops::compose(&x, &base, &windows(PartKind::Rect, &device), 0, 1, false, &norm));
    assert_eq!(rect[..1200].iter().filter(|&&v| v == 1.0).count(), 13 * 13);
}

#[test]
fn rise_masks_are_soft_upsampled_grids_with_keep_probability_p() {
    let device = Device::flex();
    let parts = pami::Rise { masks: 400, grid: 7, probability: 0.5, seed: 1 }.parts(1, 56, 56, &device).unwrap();
    let x = Tensor::<4>::ones([1, 3, 56, 56], &device);
    let base = Tensor::<4>::zeros([1, 3, 56, 56], &device);
    let norm = Normalisation { mean: [0.0; 3], std: [1.0; 3] };
    let masks = floats(ops::compose(&x, &base, &parts, 0, 400, false, &norm));
    assert!(masks.iter().all(|&v| (0.0..=1.0).contains(&v)));
    let mean = masks.iter().sum::<f32>() / masks.len() as f32;
    assert!((mean - 0.5).abs() < 0.03, "mean mask {mean}");
    // Soft: most pixels are neither 0 nor 1, and neighbours differ by little (bilinear).
    let soft = masks.iter().filter(|&&v| v > 0.01 && v < 0.99).count();
    assert!(soft > masks.len() / 2, "{soft} soft values");
    let jump = masks.windows(2).enumerate().filter(|(i, _)| (i + 1) % 56 != 0).map(|(_, w)| (w[1] - w[0]).abs()).fold(0.0f32, f32::max);
    assert!(jump <= 1.0 / 8.0 + 1e-6, "largest step between neighbours {jump}: one cell spans 8 px");
    // The same seed gives the same masks; another seed others.
    let again = pami::Rise { masks: 400, grid: 7, probability: 0.5, seed: 1 }.parts(1, 56, 56, &device).unwrap();
    assert_eq!(masks, floats(ops::compose(&x, &base, &again, 0, 400, false, &norm)));
    let other = pami::Rise { masks: 400, grid: 7, probability: 0.5, seed: 2 }.parts(1, 56, 56, &device).unwrap();
    assert_ne!(masks, floats(ops::compose(&x, &base, &other, 0, 400, false, &norm)));
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
        let a = compose_all(&rise(&cpu), invert, &cpu);
        let b = compose_all(&rise(&gpu), invert, &gpu);
        assert_close(&a, &b, &format!("compose RISE invert {invert}"));
        let a = compose_all(&ranks(&cpu), invert, &cpu);
        let b = compose_all(&ranks(&gpu), invert, &gpu);
        assert_close(&a, &b, &format!("compose ranks invert {invert}"));
    }
}

#[test]
fn rank_orders_pixels_by_decreasing_value_ties_by_index() {
    let device = Device::flex();
    // 3×5 with ties: ranks follow value, then raster order.
    let values = vec![0.5f32, 0.9, 0.5, 0.1, 0.9, 0.0, 0.3, 0.3, 0.7, 0.2, 0.6, 0.5, 0.8, 0.4, 0.1];
    let ranks = common::ints(ops::rank(Tensor::<3>::from_data(TensorData::new(values.clone(), [1, 3, 5]), &device)));
    let mut order: Vec<usize> = (0..15).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let mut expected = vec![0; 15];
    for (r, &p) in order.iter().enumerate() {
        expected[p] = r as i32;
    }
    assert_eq!(ranks, expected);
}

#[test]
fn rank_gpu_equals_cpu_twin() {
    let Some(gpu) = gpu() else { return };
    let cpu = Device::flex();
    // A non-power-of-two plane (padding), three maps, many ties.
    let values: Vec<f32> = noise(3 * 37 * 29, 5, 0.0, 1.0).iter().map(|v| (v * 50.0).floor()).collect();
    let run = |device: &Device| common::ints(ops::rank(Tensor::<3>::from_data(TensorData::new(values.clone(), [3, 37, 29]), device)));
    let a = run(&cpu);
    assert_eq!(a, run(&gpu));
    for m in 0..3 {
        let mut seen: Vec<i64> = a[m * 37 * 29..(m + 1) * 37 * 29].iter().map(|&r| r as i64).collect();
        seen.sort();
        assert_eq!(seen, (0..37 * 29).collect::<Vec<i64>>(), "map {m}: ranks are a permutation");
    }
}

fn scores(parts: usize, targets: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(noise(parts * targets, 4, 0.0, 1.0), [parts, targets]), device)
}

#[test]
fn aggregate_is_the_coverage_normalised_mean_score() {
    let device = Device::flex();
    // Two overlapping squares scoring 1 and 3: 1 alone, 2 on the overlap, 3 alone, 0 outside.
    let parts = Parts::windows(PartKind::Rect, &[[2, 2, 9, 9], [6, 2, 13, 9]], 1, 16, 12, &device);
    let s = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 3.0], [2, 1]), &device);
    let map = floats(ops::aggregate(&s, &parts, 0));
    assert_eq!(map[5 * 16 + 3], 1.0);
    assert_eq!(map[5 * 16 + 7], 2.0);
    assert_eq!(map[5 * 16 + 11], 3.0);
    assert_eq!(map[5 * 16 + 15], 0.0);
    // Segments: each pixel averages its label's score over the two maps.
    let seg = segments(&device);
    let s: Vec<f32> = (0..22).map(|i| i as f32).collect();
    let s = Tensor::from_data(TensorData::new(s, [22, 1]), &device);
    let map = floats(ops::aggregate(&s, &seg, 0));
    // Pixel (x 35, y 25): stripe 3 → score 3; grid cell 8 → part 4 + 8 = 12 → score 12.
    assert_eq!(map[25 * 40 + 35], (3.0 + 12.0) / 2.0);
    // Image 1 has one map, the grid: cell 8 is part 13 + 8.
    assert_eq!(floats(ops::aggregate(&s, &seg, 1))[25 * 40 + 35], 21.0);
}

#[test]
fn aggregate_gpu_equals_cpu_twin() {
    let Some(gpu) = gpu() else { return };
    let cpu = Device::flex();
    let cases: [(&str, fn(&Device) -> Parts, usize); 4] = [
        ("circles", |d| windows(PartKind::Circle, d), 10),
        ("rectangles", |d| windows(PartKind::Rect, d), 10),
        ("segments", segments, 22),
        ("RISE", rise, 12),
    ];
    for (name, parts, count) in cases {
        for image in 0..2 {
            let a = floats(ops::aggregate(&scores(count, 3, &cpu), &parts(&cpu), image));
            let b = floats(ops::aggregate(&scores(count, 3, &gpu), &parts(&gpu), image));
            assert_close(&a, &b, &format!("aggregate {name} image {image}"));
        }
    }
}
