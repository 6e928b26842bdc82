//! Faithfulness on a task with known ground truth: the synthetic models
//! (`models/synthetic_*.bpk`, trained by `pami train-synthetic --backbone
//! cnn|resnet18|vit`) decide by the one coloured shape among grey
//! distractors, so their explanations must point at that shape, whatever
//! the backbone. Held-out images only.

use burn::tensor::Device;
use pami::metrics::{CurveConfig, MapToScore, pointing_game};
use pami::synthetic::backbone::{Backbone, SyntheticModel};
use pami::synthetic::{HELD_OUT, SIZE, sample};
use pami::{Baseline, Blur, ExplainConfig, Explainer, GradCam, IntegratedGradients, Occlusion, PartKind, Rise, Saliency, SmoothGrad, Targets, WindowGrid};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The backbones `models/` holds trained weights for.
const TRAINED: [Backbone; 3] = [Backbone::Cnn, Backbone::ResNet18, Backbone::Vit];
/// The pointing game's 15 px on 224², scaled to 64².
const TOLERANCE: f32 = 15.0 * SIZE as f32 / 224.0;

fn explainer(backbone: Backbone) -> Explainer<SyntheticModel> {
    let device = Device::flex();
    let model = SyntheticModel::load(backbone, format!("{ROOT}/{}", backbone.weights_file()).as_ref(), &device).unwrap();
    Explainer::new(model, device)
}

/// The paper's settings scaled from 224² to 64²: radius 40 → 11, stride 6 → 2, blur 49 → 15.
fn pami_window() -> ExplainConfig {
    ExplainConfig {
        method: std::sync::Arc::new(pami::Window::new(vec![WindowGrid { shape: PartKind::Circle, radius: 11, stride: 2 }])),
        baseline: Baseline::Blur(Blur::gaussian(15, 30.0).unwrap()),
        batch: 256,
        ..ExplainConfig::default()
    }
}

/// A gradient method as the front ends configure it: logits, Captum's zero baseline.
fn gradient(method: impl pami::Method + 'static) -> ExplainConfig {
    ExplainConfig { baseline: Baseline::Zero, score: pami::Score::Logit, batch: 64, ..ExplainConfig::default() }.with_method(method)
}

/// The gradient methods point at the shape on held-out images and delete
/// the prediction faster than a random map, on every backbone. Measured on
/// these 30 images (pointing): CNN saliency 1.000, integrated gradients
/// 1.000, SmoothGrad 1.000, Grad-CAM 0.867; ResNet-18 0.900, 1.000, 0.867,
/// and Grad-CAM 0.000 — its `layer4` is 2 × 2 at 64², and the upsampled
/// map's maximum is a corner plateau, so it is not held to a floor; ViT
/// 1.000, 1.000, 0.867, 0.500. The centre's is 0.267.
#[test]
fn gradient_methods_point_at_the_deciding_object() {
    let first = HELD_OUT + 100_000;
    let floors = [(Backbone::Cnn, [0.9, 0.9, 0.9, 0.8]), (Backbone::ResNet18, [0.8, 0.9, 0.8, 0.0]), (Backbone::Vit, [0.9, 0.9, 0.8, 0.4])];
    for (backbone, floors) in floors {
        let explainer = explainer(backbone);
        let random = score(&explainer, None, "random", first, 30);
        let methods = [
            ("saliency", gradient(Saliency {})),
            ("integrated-gradients", gradient(IntegratedGradients { steps: 16, ..IntegratedGradients::default() })),
            ("smoothgrad", gradient(SmoothGrad { samples: 8, ..SmoothGrad::default() })),
            ("gradcam", gradient(GradCam {})),
        ];
        for ((name, config), floor) in methods.into_iter().zip(floors) {
            let s = score(&explainer, Some(&config), "", first, 30);
            eprintln!("{} {name}: pointing {:.3} insertion {:.3} deletion {:.3} (random deletion {:.3})", backbone.name(), s.pointing, s.insertion, s.deletion, random.deletion);
            assert!(s.pointing >= floor, "{} {name}: pointing game {}", backbone.name(), s.pointing);
            assert!(s.deletion < random.deletion, "{} {name}: deletion AUC {} vs random {}", backbone.name(), s.deletion, random.deletion);
        }
    }
}

struct Scores {
    pointing: f32,
    insertion: f32,
    deletion: f32,
}

/// Pointing game and mean insertion/deletion AUCs of `config` (or of a
/// reference map) on held-out images `first..first + count`, for the true class.
fn score(explainer: &Explainer<SyntheticModel>, config: Option<&ExplainConfig>, reference: &str, first: u64, count: usize) -> Scores {
    let samples: Vec<_> = (first..first + count as u64).map(sample).collect();
    let images: Vec<_> = samples.iter().map(|s| s.image.clone()).collect();
    let maps: Vec<Vec<f32>> = match config {
        Some(config) => samples
            .iter()
            .map(|s| {
                let config = ExplainConfig { targets: Targets::Classes(vec![s.class]), ..config.clone() };
                explainer.explain(&s.image, &config).unwrap().map(0).to_vec()
            })
            .collect(),
        None => samples.iter().map(|_| pami::eval::reference_map(reference, SIZE, SIZE).unwrap()).collect(),
    };
    let hits = samples.iter().zip(&maps).filter(|(s, m)| pointing_game(m, SIZE, &[s.bbox], TOLERANCE)).count();
    let to_score: Vec<MapToScore> = samples.iter().zip(&maps).enumerate().map(|(i, (s, m))| MapToScore { image: i, class: s.class, map: m }).collect();
    let curves_config = CurveConfig { step: SIZE, substrate: Blur::gaussian(11, 5.0).unwrap(), batch: 256 };
    let curves = explainer.curves(&images, &to_score, &curves_config).unwrap();
    let mean = |f: &dyn Fn(&pami::metrics::Curves) -> f32| curves.iter().map(f).sum::<f32>() / count as f32;
    Scores { pointing: hits as f32 / count as f32, insertion: mean(&|c| c.insertion_auc), deletion: mean(&|c| c.deletion_auc) }
}

#[test]
fn every_synthetic_backbone_solves_its_task() {
    for backbone in TRAINED {
        let explainer = explainer(backbone);
        let accuracy = pami::synthetic::train::model_accuracy(&explainer.model, 500, &explainer.device);
        assert!(accuracy > 0.95, "{}: held-out accuracy {accuracy}", backbone.name());
    }
}

#[test]
fn pami_points_at_the_deciding_object() {
    let explainer = explainer(Backbone::Cnn);
    let first = HELD_OUT + 100_000;
    let pami = score(&explainer, Some(&pami_window()), "", first, 40);
    let centre = score(&explainer, None, "centre", first, 40);
    let random = score(&explainer, None, "random", first, 40);
    eprintln!("pami-window: pointing {:.3} insertion {:.3} deletion {:.3}", pami.pointing, pami.insertion, pami.deletion);
    eprintln!("centre:      pointing {:.3} insertion {:.3} deletion {:.3}", centre.pointing, centre.insertion, centre.deletion);
    eprintln!("random:      pointing {:.3} insertion {:.3} deletion {:.3}", random.pointing, random.insertion, random.deletion);
    assert!(pami.pointing >= 0.9, "PAMI pointing game {}", pami.pointing);
    assert!(pami.pointing > centre.pointing, "PAMI {} vs centre {}", pami.pointing, centre.pointing);
    assert!(pami.insertion > random.insertion, "insertion AUC {} vs random {}", pami.insertion, random.insertion);
    assert!(pami.deletion < random.deletion, "deletion AUC {} vs random {}", pami.deletion, random.deletion);
}

/// The other backbones (windows at stride 4 to keep the test short: 256
/// composites an image), scoring logits: the ViT's softmax saturates on
/// most windows that hold the object, and the plateau's first pixel (0.833
/// with probabilities) is not its centre. With logits PAMI's map points at
/// the object on the ViT as on the CNN (0.967 on these images), and on
/// ResNet-18 (0.933; 0.980 on 100 other held-out images). Both are held to
/// 0.9 and twice the centre's rate, and delete the prediction faster than a
/// random map.
#[test]
fn pami_finds_the_object_on_other_backbones() {
    let first = HELD_OUT + 100_000;
    for backbone in [Backbone::Vit, Backbone::ResNet18] {
        let explainer = explainer(backbone);
        let mut config = pami_window();
        config.method = std::sync::Arc::new(pami::Window::new(vec![WindowGrid { shape: PartKind::Circle, radius: 11, stride: 4 }]));
        config.score = pami::Score::Logit;
        let pami = score(&explainer, Some(&config), "", first, 30);
        let random = score(&explainer, None, "random", first, 30);
        let centre = score(&explainer, None, "centre", first, 30);
        eprintln!("{}: pami-window (logits) pointing {:.3} insertion {:.3} deletion {:.3}", backbone.name(), pami.pointing, pami.insertion, pami.deletion);
        assert!(pami.pointing >= 0.9 && pami.pointing >= 2.0 * centre.pointing, "{}: PAMI pointing game {} (centre {})", backbone.name(), pami.pointing, centre.pointing);
        assert!(pami.deletion < random.deletion, "{}: deletion AUC {} vs random {}", backbone.name(), pami.deletion, random.deletion);
    }
}

/// All methods' numbers for the README (`cargo test --release --test
/// ground_truth -- --ignored --nocapture`): 100 held-out images, about half an hour on 2 cores.
#[test]
#[ignore = "report: about half an hour on 2 cores"]
fn report_every_method() {
    let explainer = explainer(Backbone::Cnn);
    let first = HELD_OUT + 200_000;
    let count = 100;
    let blur = Baseline::Blur(Blur::gaussian(15, 30.0).unwrap());
    let methods = [
        ("pami-window", Some(pami_window())),
        ("pami-segments", Some(ExplainConfig { method: std::sync::Arc::new(pami::Segments::default()), baseline: blur, batch: 256, ..ExplainConfig::default() })),
        ("occlusion", Some(ExplainConfig { method: std::sync::Arc::new(Occlusion { window: 4, stride: 2 }), baseline: Baseline::Zero, batch: 256, ..ExplainConfig::default() })),
        ("rise", Some(ExplainConfig { method: std::sync::Arc::new(Rise::default()), baseline: Baseline::Zero, batch: 256, ..ExplainConfig::default() })),
        ("saliency", Some(gradient(Saliency {}))),
        ("integrated-gradients", Some(gradient(IntegratedGradients::default()))),
        ("smoothgrad", Some(gradient(SmoothGrad::default()))),
        ("gradcam", Some(gradient(GradCam {}))),
        ("centre", None),
        ("random", None),
    ];
    println!("| method | pointing game | insertion AUC | deletion AUC | seconds / image |\n|---|---|---|---|---|");
    for (name, config) in methods {
        let start = std::time::Instant::now();
        let s = score(&explainer, config.as_ref(), name, first, count);
        let seconds = start.elapsed().as_secs_f64() / count as f64;
        println!("| {name} | {:.3} | {:.3} | {:.3} | {seconds:.2} |", s.pointing, s.insertion, s.deletion);
    }
}

/// The backbone table of the README (`cargo test --release --test
/// ground_truth -- --ignored --nocapture report_every_backbone`): PAMI's
/// two strategies scoring logits (the paper's windows scaled to 64²), RISE,
/// and the gradient methods on each backbone, 50 held-out images.
#[test]
#[ignore = "report: about thirty-five minutes on 2 cores"]
fn report_every_backbone() {
    let first = HELD_OUT + 200_000;
    let count = 50;
    let blur = Baseline::Blur(Blur::gaussian(15, 30.0).unwrap());
    println!("| backbone | held-out accuracy | method | pointing game | insertion AUC | deletion AUC | seconds / image |\n|---|---|---|---|---|---|---|");
    for backbone in TRAINED {
        let explainer = explainer(backbone);
        let accuracy = pami::synthetic::train::model_accuracy(&explainer.model, 1000, &explainer.device);
        let logit = pami::Score::Logit;
        let methods = [
            ("pami-window", Some(ExplainConfig { score: logit, ..pami_window() })),
            ("pami-segments", Some(ExplainConfig { method: std::sync::Arc::new(pami::Segments::default()), baseline: blur, score: logit, batch: 256, ..ExplainConfig::default() })),
            ("rise", Some(ExplainConfig { method: std::sync::Arc::new(Rise::default()), baseline: Baseline::Zero, batch: 256, ..ExplainConfig::default() })),
            ("saliency", Some(gradient(Saliency {}))),
            ("integrated-gradients", Some(gradient(IntegratedGradients::default()))),
            ("smoothgrad", Some(gradient(SmoothGrad::default()))),
            ("gradcam", Some(gradient(GradCam {}))),
            ("random", None),
        ];
        for (name, config) in methods {
            let start = std::time::Instant::now();
            let s = score(&explainer, config.as_ref(), name, first, count);
            let seconds = start.elapsed().as_secs_f64() / count as f64;
            println!("| {} | {accuracy:.3} | {name} | {:.3} | {:.3} | {:.3} | {seconds:.2} |", backbone.name(), s.pointing, s.insertion, s.deletion);
        }
    }
}
