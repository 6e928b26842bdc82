//! torchvision architectures with imported weights: logits equal PyTorch's
//! (Debian's python3-torchvision 0.14 makes the weights and logits at test
//! time, `tools/torchvision_fixture.py`), from `.pth` and `.safetensors`,
//! and every wrong checkpoint is one error naming the tensor.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::tensor::{Device, Tensor, TensorData};
use pami::Model;
use pami::model::torchvision::Torchvision;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The Python with torchvision: `PAMI_PYTHON`, else Debian's. `None` (the
/// tests skip) when it has no torchvision, unless `PAMI_REQUIRE_TORCH` is set
/// (`.ci/run`), where that is a failure.
fn python() -> Option<String> {
    let python = std::env::var("PAMI_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let ok = Command::new(&python).args(["-c", "import torchvision"]).output().is_ok_and(|o| o.status.success());
    if !ok && std::env::var_os("PAMI_REQUIRE_TORCH").is_some() {
        panic!("PAMI_REQUIRE_TORCH is set but {python} cannot import torchvision (apt-get install python3-torchvision)");
    }
    if !ok {
        eprintln!("skipped: {python} has no torchvision");
    }
    ok.then_some(python)
}

struct Fixture {
    dir: PathBuf,
    shape: [usize; 4],
    input: Vec<f32>,
    logits: Vec<f32>,
}

/// The checkpoints are large (45 MB for ResNet-18, 0.5 GB for VGG): gone with the fixture.
impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Each call its own directory: tests run in parallel and two may ask for
/// the same architecture (one fixture's Drop must not delete the other's).
fn fixture(python: &str, name: &str, classes: usize, size: usize) -> Fixture {
    fixture_at(python, name, classes, size, size)
}

/// A ViT saved for `checkpoint`-pixel inputs, its logits for `size` (torchvision's `interpolate_embeddings`).
fn fixture_at(python: &str, name: &str, classes: usize, size: usize, checkpoint: usize) -> Fixture {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("pami-torchvision-{}-{n}-{name}-{classes}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!("{ROOT}/tools/torchvision_fixture.py");
    let out = Command::new(python).args([&script, name, &classes.to_string(), &size.to_string(), dir.to_str().unwrap(), &checkpoint.to_string()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap()).unwrap();
    let floats = |v: &serde_json::Value| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect::<Vec<_>>();
    let shape: Vec<usize> = json["shape"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
    Fixture { dir, shape: shape.try_into().unwrap(), input: floats(&json["input"]), logits: floats(&json["logits"]) }
}

/// The model's logits for the fixture's (already normalised) input, against PyTorch's.
fn assert_parity(model: &Torchvision, f: &Fixture, device: &Device, what: &str) {
    let x = Tensor::<4>::from_data(TensorData::new(f.input.clone(), f.shape), device);
    let logits: Vec<f32> = model.forward(x).into_data().convert::<f32>().try_into_vec().unwrap();
    assert_eq!(logits.len(), f.logits.len(), "{what}");
    let range = f.logits.iter().cloned().fold(f32::MIN, f32::max) - f.logits.iter().cloned().fold(f32::MAX, f32::min);
    let diff = common::max_abs_diff(&logits, &f.logits);
    assert!(diff <= 1e-3 * range, "{what}: logits differ from PyTorch's by {diff} (range {range})");
    // The CPU path's fused plan (batch norms folded) gives the modules' logits.
    let x = Tensor::<4>::from_data(TensorData::new(f.input.clone(), f.shape), device);
    let modules: Vec<f32> = model.forward_modules(x).into_data().convert::<f32>().try_into_vec().unwrap();
    let diff = common::max_abs_diff(&logits, &modules);
    assert!(diff <= 1e-4 * range, "{what}: the forward differs from the modules' by {diff} (range {range})");
}

/// Each `(architecture, input side)` loaded from `.pth` at that side (10
/// classes) gives PyTorch's logits on the CPU path.
fn assert_pth_parity(python: &str, models: &[(&str, usize)]) {
    let device = Device::flex();
    for &(name, size) in models {
        let f = fixture(python, name, 10, size);
        let model = Torchvision::load(name, 10, &weights(&f, name, "pth"), &device).unwrap().with_input_size([size, size]).unwrap();
        assert_parity(&model, &f, &device, name);
    }
}

fn weights(f: &Fixture, name: &str, ext: &str) -> PathBuf {
    f.dir.join(format!("{name}.{ext}"))
}

fn load_error(name: &str, classes: usize, path: &Path) -> String {
    Torchvision::load(name, classes, path, &Device::flex()).expect_err("a wrong checkpoint loads").to_string()
}

#[test]
fn resnets_reproduce_pytorch_from_pth_and_safetensors() {
    let Some(python) = python() else { return };
    let device = Device::flex();
    // A basic-block and a bottleneck ResNet, classes that are not ImageNet's.
    for (name, classes) in [("resnet18", 10), ("resnet50", 7)] {
        let f = fixture(&python, name, classes, 64);
        for ext in ["pth", "safetensors"] {
            let model = Torchvision::load(name, classes, &weights(&f, name, ext), &device).unwrap();
            assert_eq!(model.class_names()[classes - 1], format!("class {}", classes - 1));
            assert_parity(&model, &f, &device, &format!("{name}.{ext}"));
        }
    }
}

/// VGG with and without batch norm (torchvision numbers its layers, ReLUs
/// and pools included, so the names map by configuration). Its classifier
/// holds 120 M of the 130 M weights whatever the input, so each checkpoint
/// is half a gigabyte: one format (the loader is shared), a 32² input.
#[test]
fn vggs_reproduce_pytorch() {
    let Some(python) = python() else { return };
    assert_pth_parity(&python, &[("vgg11", 32), ("vgg11_bn", 32)]);
}

/// The other CNN families at small inputs (their adaptive pooling takes
/// any size): dense concatenation, depthwise inverted residuals, ConvNeXt's
/// layer norms and layer scale.
#[test]
fn densenet_mobilenet_convnext_reproduce_pytorch() {
    let Some(python) = python() else { return };
    assert_pth_parity(&python, &[("densenet121", 32), ("mobilenet_v2", 64), ("convnext_tiny", 32)]);
}

/// Swin-T at 72×72: stage maps of 18, 9, 5 and 3 patches, so windows are
/// padded, shifted and masked where a side holds more than one, and an
/// odd side is padded before merging.
#[test]
fn swin_reproduces_pytorch_from_pth_and_safetensors() {
    let Some(python) = python() else { return };
    let device = Device::flex();
    let f = fixture(&python, "swin_t", 10, 72);
    for ext in ["pth", "safetensors"] {
        let model = Torchvision::load("swin_t", 10, &weights(&f, "swin_t", ext), &device).unwrap().with_input_size([72, 72]).unwrap();
        assert_parity(&model, &f, &device, &format!("swin_t.{ext}"));
    }
}

/// ViT-B/16 saved at torchvision's 224 loads for 224 inputs and runs at
/// 48×48 with its position embeddings interpolated as torchvision does;
/// a size it cannot take is one error.
#[test]
fn a_vit_reproduces_pytorch_with_interpolated_position_embeddings() {
    let Some(python) = python() else { return };
    let device = Device::flex();
    let f = fixture_at(&python, "vit_b_16", 10, 48, 224);
    let model = Torchvision::load("vit_b_16", 10, &weights(&f, "vit_b_16", "pth"), &device).unwrap();
    assert_eq!(model.input_size(), [224, 224]);
    let model = model.with_input_size([48, 48]).unwrap();
    assert_parity(&model, &f, &device, "vit_b_16 at 48");
    for size in [[40, 40], [48, 64], [16, 16]] {
        let e = Torchvision::init("vit_b_16", 10, &device).unwrap().with_input_size(size).expect_err("an input size a ViT cannot take").to_string();
        assert!(e.contains(&format!("{}×{}", size[0], size[1])), "{e}");
    }
}

#[test]
fn a_vit_reproduces_pytorch_on_the_gpu() {
    let (Some(python), Some(gpu)) = (python(), common::gpu()) else { return };
    // Saved at 32×32: the model takes the checkpoint's size.
    let f = fixture(&python, "vit_b_16", 10, 32);
    let model = Torchvision::load("vit_b_16", 10, &weights(&f, "vit_b_16", "safetensors"), &gpu).unwrap();
    assert_eq!(model.input_size(), [32, 32]);
    assert_parity(&model, &f, &gpu, "vit_b_16 on wgpu");
}

/// The largest architectures (checkpoints of 1.2 GB for ViT-L, 0.8 GB for
/// ConvNeXt-Large): `cargo test --release -- --ignored`.
#[test]
#[ignore]
fn large_architectures_reproduce_pytorch() {
    let Some(python) = python() else { return };
    assert_pth_parity(
        &python,
        &[
            ("vit_l_16", 32),
            ("vit_b_32", 64),
            ("vit_l_32", 64),
            ("swin_s", 64),
            ("swin_b", 64),
            ("convnext_large", 32),
            ("densenet161", 32),
            ("resnet152", 32),
            ("vgg19_bn", 32),
        ],
    );
}

/// Every CNN family runs on the CPU as a fused plan, at any input size:
/// at 97×75 VGG's adaptive pooling spreads a 3×2 map over overlapping 7×7
/// bins, DenseNet's and ConvNeXt's poolings and strides drop odd edges.
/// The plan's logits are the modules' within 1e-4 of their range. The
/// transformers keep Burn's modules.
#[test]
fn every_cnn_runs_fused_at_odd_input_sizes() {
    let device = Device::flex();
    for name in ["vgg11_bn", "densenet121", "mobilenet_v2", "convnext_tiny", "resnet50"] {
        let model = Torchvision::init(name, 6, &device).unwrap().with_input_size([97, 75]).unwrap();
        assert!(model.runs_fused(), "{name} has a fused plan on the CPU");
        let x = Tensor::<4>::random([2, 3, 97, 75], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let fused: Vec<f32> = model.forward(x.clone()).into_data().convert::<f32>().try_into_vec().unwrap();
        let modules: Vec<f32> = model.forward_modules(x).into_data().convert::<f32>().try_into_vec().unwrap();
        let range = modules.iter().cloned().fold(f32::MIN, f32::max) - modules.iter().cloned().fold(f32::MAX, f32::min);
        let diff = common::max_abs_diff(&fused, &modules);
        assert!(range > 0.0 && diff <= 1e-4 * range, "{name}: fused logits differ from the modules' by {diff} (range {range})");
    }
    assert!(!Torchvision::init("swin_t", 6, &device).unwrap().runs_fused());
}

#[test]
fn a_resnet_reproduces_pytorch_on_the_gpu() {
    let (Some(python), Some(gpu)) = (python(), common::gpu()) else { return };
    let f = fixture(&python, "resnet18", 10, 64);
    let model = Torchvision::load("resnet18", 10, &weights(&f, "resnet18", "pth"), &gpu).unwrap();
    assert_parity(&model, &f, &gpu, "resnet18 on wgpu");
}

#[test]
fn a_wrong_checkpoint_is_one_error_naming_the_tensor() {
    let Some(python) = python() else { return };
    let f = fixture(&python, "resnet18", 10, 32);
    let pth = weights(&f, "resnet18", "pth");
    // Another class count: the classifier's shapes, as torch writes them.
    let e = load_error("resnet18", 1000, &pth);
    assert!(e.contains("tensor `fc.weight` has shape [10, 512] in the file, the model expects [1000, 512]"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    // A deeper model: the blocks resnet18 does not have are missing.
    let e = load_error("resnet34", 10, &pth);
    assert!(e.contains("no tensor `layer1.2.") && e.contains("more)"), "{e}");
    // A bottleneck model: its first block's 1×1 convolution meets a 3×3 one.
    let e = load_error("resnet50", 10, &weights(&f, "resnet18", "safetensors"));
    assert!(e.contains("has shape") && e.contains("the model expects"), "{e}");
    // A shallower model: resnet18 has no use for resnet34's third blocks.
    let f34 = fixture(&python, "resnet34", 10, 32);
    let e = load_error("resnet18", 10, &weights(&f34, "resnet34", "pth"));
    assert!(e.contains("unexpected tensor `layer1.2."), "{e}");
    // Not a checkpoint at all, and no file.
    let text = f.dir.join("notes.pth");
    std::fs::write(&text, "not a checkpoint").unwrap();
    assert!(load_error("resnet18", 10, &text).contains("notes.pth"));
    assert!(load_error("resnet18", 10, Path::new("/no/such.pth")).contains("no such file"));
    for name in ["resnet19", "resnet018", "vgg12", "vgg11_bn_bn", "densenet", "densenet122", "vit_b_8", "swin_v2_t", "convnext_huge"] {
        let e = Torchvision::init(name, 10, &Device::flex()).unwrap_err().to_string();
        assert!(e.contains(&format!("unknown model `{name}`")), "{e}");
    }
}

/// The model flags on the command line: `--model resnet18 --weights FILE
/// --num-classes C` scores an image; a checkpoint of another class count,
/// or a torchvision model without weights, is one error line.
#[test]
fn the_command_line_loads_a_torchvision_checkpoint() {
    let Some(python) = python() else { return };
    let f = fixture(&python, "resnet18", 10, 32);
    let pth = weights(&f, "resnet18", "pth");
    let pami = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_pami")).args(args).args(["--device", "cpu"]).output().unwrap();
    let coffee = format!("{ROOT}/assets/coffee.png");
    let out = pami(&["predict", &coffee, "--model", "resnet18", "--weights", pth.to_str().unwrap(), "--num-classes", "10", "--json", "--top-k", "10"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let predictions = rows[0]["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 10);
    assert!(predictions.iter().all(|p| p["name"] == format!("class {}", p["class"])));
    // --input-size and --mean/--std reach the model: other logits.
    let logits = |extra: &[&str]| {
        let out = pami(&[&["predict", coffee.as_str(), "--model", "resnet18", "--weights", pth.to_str().unwrap(), "--num-classes", "10", "--json"], extra].concat());
        assert!(out.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        rows[0]["predictions"][0]["logit"].as_f64().unwrap()
    };
    let plain = logits(&[]);
    assert_eq!(plain, logits(&["--input-size", "224", "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"]));
    assert_ne!(plain, logits(&["--input-size", "96x128"]));
    assert_ne!(plain, logits(&["--mean", "0.5,0.5,0.5", "--std", "0.5,0.5,0.5"]));
    for (args, expect) in [
        (vec!["--model", "resnet18", "--weights", pth.to_str().unwrap()], "has shape [10, 512] in the file, the model expects [1000, 512]"),
        (vec!["--model", "resnet18"], "needs --weights"),
        (vec!["--model", "resnet17", "--weights", pth.to_str().unwrap()], "unknown model `resnet17`"),
        (vec!["--model", "resnet18", "--weights", pth.to_str().unwrap(), "--num-classes", "10", "--input-size", "16"], "smaller than 32×32"),
        (vec!["--model", "resnet18", "--weights", pth.to_str().unwrap(), "--input-size", "2x"], "is not N or HxW"),
        (vec!["--model", "resnet18", "--weights", pth.to_str().unwrap(), "--num-classes", "10", "--mean", "0.5,0.5,0.5", "--std", "0,1,1"], "positive standard deviations"),
        (vec!["--input-size", "64"], "applies to torchvision models"),
    ] {
        let out = pami(&[&["predict", coffee.as_str()], &args[..]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        // 1 for a bad model, 2 for a flag clap rejects: non-zero, one line.
        assert!(matches!(out.status.code(), Some(1 | 2)) && errors.len() == 1, "{args:?}: {stderr}");
        assert!(errors[0].contains(expect), "{args:?}: {}", errors[0]);
    }
}
