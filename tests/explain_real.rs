//! On a natural image, the maps for the predicted class (sliding windows;
//! the segments of the paper's twenty pre-segmentations; occlusion; RISE;
//! Grad-CAM and SmoothGrad) peak on the annotated object.

use burn::tensor::Device;
use pami::{EfficientNetLite0, ExplainConfig, Explainer, PartKind, Targets, WindowGrid};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn cup() -> Vec<usize> {
    let boxes: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{ROOT}/assets/boxes.json")).unwrap()).unwrap();
    boxes["coffee.png"]["box"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect()
}

/// The map's maximum is inside box `b`, and the box's mean importance is above the image's.
fn assert_points_at(map: &[f32], w: usize, b: &[usize]) {
    let argmax = (0..map.len()).max_by(|&i, &j| map[i].total_cmp(&map[j])).unwrap();
    let (x, y) = (argmax % w, argmax / w);
    assert!(b[0] <= x && x <= b[2] && b[1] <= y && y <= b[3], "maximum at ({x}, {y}) is off the cup {b:?}");
    let inside: Vec<f32> = (0..map.len())
        .filter(|i| (b[0]..=b[2]).contains(&(i % w)) && (b[1]..=b[3]).contains(&(i / w)))
        .map(|i| map[i])
        .collect();
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    assert!(mean(&inside) > mean(map), "cup {} vs image {}", mean(&inside), mean(map));
}

#[test]
fn espresso_segments_map_points_at_the_cup() {
    let image = pami::io::load_image(format!("{ROOT}/assets/coffee.png").as_ref()).unwrap();
    let device = Device::flex();
    let explainer = Explainer::new(EfficientNetLite0::pretrained(&device).unwrap(), device);
    let config = ExplainConfig { method: std::sync::Arc::new(pami::Segments::default()), batch: 16, ..ExplainConfig::default() };
    let e = explainer.explain(&image, &config).unwrap();
    assert_eq!(e.targets[0].name, "espresso");
    // Twenty segmentations of 4 to 80 segments each.
    assert!((300..=700).contains(&e.parts), "{} parts", e.parts);
    assert_eq!(e.forward_passes, 1 + e.parts.div_ceil(16));
    assert_points_at(e.map_full(0), e.image_size[1], &cup());
}

#[test]
fn espresso_map_peaks_on_the_cup() {
    let b = cup();
    let image = pami::io::load_image(format!("{ROOT}/assets/coffee.png").as_ref()).unwrap();
    let device = Device::flex();
    let explainer = Explainer::new(EfficientNetLite0::pretrained(&device).unwrap(), device);
    // The paper's radius with a coarser stride keeps the test to ~400 forward passes.
    let config = ExplainConfig {
        method: std::sync::Arc::new(pami::Window::new(vec![WindowGrid { shape: PartKind::Circle, radius: 40, stride: 12 }])),
        targets: Targets::TopK(2),
        ..ExplainConfig::default()
    };
    let e = explainer.explain(&image, &config).unwrap();
    assert_eq!(e.predictions[0].name, "espresso");
    assert_eq!(e.targets.len(), 2, "two targets from one set of forward passes");
    assert_eq!(e.forward_passes, 1 + 361usize.div_ceil(config.batch));
    let [h, w] = e.image_size;
    assert_eq!([h, w], [400, 600]);
    // The map discriminates: its maximum and the object's mean importance.
    assert_points_at(e.map_full(0), w, &b);
}

#[test]
fn occlusion_and_rise_espresso_maps_point_at_the_cup() {
    let image = pami::io::load_image(format!("{ROOT}/assets/coffee.png").as_ref()).unwrap();
    let device = Device::flex();
    let explainer = Explainer::new(EfficientNetLite0::pretrained(&device).unwrap(), device);
    // Coarse settings keep the test to ~300 forward passes: 8 × 8 squares of 48 px; 300 masks.
    let occlusion = ExplainConfig {
        method: std::sync::Arc::new(pami::Occlusion { window: 48, stride: 24 }),
        baseline: pami::Baseline::Zero,
        batch: 16,
        ..ExplainConfig::default()
    };
    let e = explainer.explain(&image, &occlusion).unwrap();
    assert_eq!(e.parts, 8 * 8);
    assert_points_at(e.map_full(0), e.image_size[1], &cup());
    let rise = ExplainConfig {
        method: std::sync::Arc::new(pami::Rise { masks: 300, ..pami::Rise::default() }),
        baseline: pami::Baseline::Zero,
        batch: 16,
        ..ExplainConfig::default()
    };
    let e = explainer.explain(&image, &rise).unwrap();
    assert_eq!(e.forward_passes, 1 + 300usize.div_ceil(16));
    assert_points_at(e.map_full(0), e.image_size[1], &cup());
}

/// The gradient methods on the photo: Grad-CAM and SmoothGrad of the
/// espresso logit peak on the cup and weigh it above the rest of the image.
#[test]
fn espresso_gradient_maps_point_at_the_cup() {
    let image = pami::io::load_image(format!("{ROOT}/assets/coffee.png").as_ref()).unwrap();
    let device = Device::flex();
    let explainer = Explainer::new(EfficientNetLite0::pretrained(&device).unwrap(), device);
    let gradient = |method: std::sync::Arc<dyn pami::Method>| ExplainConfig { method, score: pami::Score::Logit, baseline: pami::Baseline::Zero, batch: 16, ..ExplainConfig::default() };
    for method in [std::sync::Arc::new(pami::GradCam {}) as std::sync::Arc<dyn pami::Method>, std::sync::Arc::new(pami::SmoothGrad { samples: 16, ..pami::SmoothGrad::default() })] {
        let e = explainer.explain(&image, &gradient(method.clone())).unwrap();
        assert_eq!(e.targets[0].name, "espresso");
        eprintln!("{}: {:.1} s", method.name(), e.timings.total());
        assert_points_at(e.map_full(0), e.image_size[1], &cup());
    }
}
