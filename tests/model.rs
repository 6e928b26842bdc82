//! EfficientNet-Lite0 with the embedded weights reproduces PyTorch's logits
//! (tools/make_model_fixture.py) on both devices.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::gpu;
use pami::{EfficientNetLite0, Model, explain::to_chw};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Fixture {
    input: Vec<f32>,
    top5: Vec<usize>,
    logits: Vec<f32>,
}

fn fixture() -> Fixture {
    let text = std::fs::read_to_string(format!("{ROOT}/tests/fixtures/efficientnet_lite0_chelsea.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let image = pami::io::load_image(format!("{ROOT}/tests/fixtures/chelsea_224.png").as_ref()).unwrap();
    assert_eq!(image.dimensions(), (224, 224));
    Fixture {
        input: to_chw(&image),
        top5: json["top5"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect(),
        logits: json["logits"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect(),
    }
}

fn check(device: Device) {
    let f = fixture();
    let model = EfficientNetLite0::pretrained(&device).unwrap();
    let x = Tensor::<3>::from_data(TensorData::new(f.input, [3, 224, 224]), &device);
    let logits = model.forward(model.normalisation().apply(x).unsqueeze::<4>());
    let logits: Vec<f32> = logits.into_data().convert::<f32>().try_into_vec().unwrap();
    assert_eq!(logits.len(), 1000);
    let mut order: Vec<usize> = (0..1000).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    assert_eq!(order[..5], f.top5[..], "top-5 classes differ from PyTorch");
    let diff = common::max_abs_diff(&logits, &f.logits);
    assert!(diff <= 1e-3, "logits differ from PyTorch by {diff}");
    assert_eq!(model.class_names()[order[0]], "Egyptian cat");
}

#[test]
fn logits_match_pytorch_on_cpu() {
    check(Device::flex());
}

#[test]
fn logits_match_pytorch_on_gpu() {
    if let Some(device) = gpu() {
        check(device);
    }
}

/// `Explainer::predict` (`pami predict`) on an image already at the model's
/// input size: the top five are PyTorch's, each with PyTorch's logit (no
/// resampling on the way in) and its softmax probability, most probable
/// first; a second, larger image in the same batch is resized and scored on
/// its own.
#[test]
fn predict_gives_pytorchs_top_five_with_logits_and_probabilities() {
    let f = fixture();
    let device = Device::flex();
    let explainer = pami::Explainer::new(EfficientNetLite0::pretrained(&device).unwrap(), device);
    let chelsea = pami::io::load_image(format!("{ROOT}/tests/fixtures/chelsea_224.png").as_ref()).unwrap();
    let coffee = pami::io::load_image(format!("{ROOT}/assets/coffee.png").as_ref()).unwrap();
    let scores = explainer.predict(&[chelsea, coffee], 5, 2).unwrap();
    let top = &scores[0];
    assert_eq!(top.iter().map(|s| s.class).collect::<Vec<_>>(), f.top5);
    assert_eq!(top[0].name, "Egyptian cat");
    let max = f.logits.iter().cloned().fold(f32::MIN, f32::max);
    let total: f32 = f.logits.iter().map(|l| (l - max).exp()).sum();
    for s in top {
        assert!((s.logit - f.logits[s.class]).abs() <= 1e-3, "class {}: logit {} vs PyTorch {}", s.class, s.logit, f.logits[s.class]);
        let softmax = (f.logits[s.class] - max).exp() / total;
        assert!((s.probability - softmax).abs() <= 1e-4, "class {}: probability {} vs {softmax}", s.class, s.probability);
    }
    assert!(top.windows(2).all(|w| w[0].probability >= w[1].probability));
    assert_eq!((scores[1].len(), scores[1][0].class, scores[1][0].name.as_str()), (5, 967, "espresso"));
    assert!(explainer.predict(&[], 0, 2).is_err(), "top-k 0 is refused");
}

/// On the CPU the model runs as a fused plan (batch norms folded into the
/// convolutions, activations and residuals in their epilogues, NHWC): its
/// logits are the Burn modules' within 1e-4 of their range, for a batch of
/// three real images and for an input whose odd sides pad asymmetrically.
#[test]
fn the_fused_cpu_forward_gives_the_modules_logits() {
    let device = Device::flex();
    let model = EfficientNetLite0::pretrained(&device).unwrap();
    let photo = |name: &str, [w, h]: [u32; 2]| {
        let image = pami::io::load_image(format!("{ROOT}/assets/{name}").as_ref()).unwrap();
        let image = image::imageops::resize(&image, w, h, image::imageops::FilterType::Triangle);
        Tensor::<3>::from_data(TensorData::new(to_chw(&image), [3, h as usize, w as usize]), &device)
    };
    let batch = |images: Vec<Tensor<3>>| model.normalisation().apply(Tensor::stack::<4>(images, 0));
    for x in [
        batch(vec![photo("chelsea.png", [224, 224]), photo("coffee.png", [224, 224]), photo("astronaut.png", [224, 224])]),
        batch(vec![photo("coffee.png", [197, 163])]),
    ] {
        let fused: Vec<f32> = model.forward(x.clone()).into_data().convert::<f32>().try_into_vec().unwrap();
        let modules: Vec<f32> = model.forward_modules(x).into_data().convert::<f32>().try_into_vec().unwrap();
        let range = modules.iter().cloned().fold(f32::MIN, f32::max) - modules.iter().cloned().fold(f32::MAX, f32::min);
        let diff = common::max_abs_diff(&fused, &modules);
        assert!(diff <= 1e-4 * range, "fused logits differ from the modules' by {diff} (range {range})");
    }
}
