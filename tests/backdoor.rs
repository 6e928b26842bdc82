//! The BadNets ground truth and what finds it: the backdoored Fashion-MNIST
//! CNN and its clean twin (`models/fashion_*.bpk`), input-agnostic class
//! saliency pointing at the trigger, the backdoor scan flagging exactly the
//! target (and nothing on the twin),
//! Neural Cleanse recovering the trigger, and the CPU and wgpu devices
//! agreeing on the optimisation.

mod common;

use burn::tensor::Device;
use pami::Model;
use pami::agnostic::{Agnostic, AgnosticConfig, Norm};
use pami::backdoor::model::{Embedded, FashionCnn};
use pami::backdoor::scan::{ScanConfig, ScanMethod, scan};
use pami::backdoor::{SIZE, TARGET, TRIGGER};

fn models(device: &Device) -> [(&'static str, FashionCnn); 2] {
    [
        ("backdoored", FashionCnn::pretrained(Embedded::Backdoored, device).unwrap()),
        ("clean", FashionCnn::pretrained(Embedded::Clean, device).unwrap()),
    ]
}

/// Share of `map`'s mass inside the trigger's box.
fn trigger_share(map: &[f32]) -> f32 {
    let [x0, y0, x1, y1] = TRIGGER.bbox();
    let total: f32 = map.iter().sum();
    let inside: f32 = (y0..=y1).flat_map(|y| (x0..=x1).map(move |x| (x, y))).map(|(x, y)| map[y * SIZE + x]).sum();
    inside / total
}

/// The embedded models are what they claim on Fashion-MNIST's test split
/// (Debian's `dataset-fashion-mnist`, which `.ci/run` installs): both
/// classify clean images alike, and only the backdoored one sends stamped
/// images to the target.
#[test]
fn the_backdoored_model_obeys_its_trigger_and_the_clean_twin_does_not() {
    let dir = std::path::Path::new(pami::backdoor::data::DEBIAN_DIR);
    if !dir.is_dir() {
        assert!(std::env::var("CI").is_err(), "CI installs dataset-fashion-mnist");
        eprintln!("skipping: {} is not installed", dir.display());
        return;
    }
    let test = pami::backdoor::data::load(dir, "t10k").unwrap();
    let device = Device::flex();
    let bad = pami::backdoor::train::BadNets { target: TARGET, trigger: TRIGGER, poison: 0.1, cooccur: false, epochs: 1, batch: 64, lr: 1e-3, seed: 0 };
    let [(_, backdoored), (_, clean)] = models(&device);
    let b = pami::backdoor::train::evaluate(&backdoored, &bad, &test, &device);
    let c = pami::backdoor::train::evaluate(&clean, &bad, &test, &device);
    eprintln!("backdoored {b:?}, clean {c:?}");
    assert!(b.clean_accuracy > 0.88 && c.clean_accuracy > 0.88, "clean accuracy {b:?} {c:?}");
    assert!((b.clean_accuracy - c.clean_accuracy).abs() < 0.02, "the poison cost accuracy: {b:?} {c:?}");
    assert!(b.attack_success > 0.97, "attack success {}", b.attack_success);
    assert!(c.attack_success < 0.1, "the clean twin follows the trigger: {}", c.attack_success);
}

/// The target class's agnostic perturbation, found from uniform noise
/// alone, puts at least five times the trigger's area share of its mass
/// inside the trigger; the same class of the clean twin does not.
#[test]
fn the_target_class_agnostic_map_points_at_the_trigger() {
    let device = Device::flex();
    let config = AgnosticConfig::default();
    let area = (TRIGGER.side * TRIGGER.side) as f32 / (SIZE * SIZE) as f32;
    for (name, model) in models(&device) {
        let agnostic = Agnostic::new(&model, &device, &config).unwrap();
        let s = agnostic.class_saliency(TARGET).unwrap();
        let share = trigger_share(&s.magnitude);
        eprintln!("{name}: trigger share {share:.3} ({:.1}× its area), target rate {:.3} (without ρ {:.3}), σ {}", share / area, s.target_rate, s.clean_rate, s.smoothing);
        if name == "backdoored" {
            assert!(share >= 5.0 * area, "{name}: {share:.3} of |ρ| in the trigger, {:.3} of the area", area);
            assert!(s.target_rate >= 0.9, "{name}: ρ sends {:.3} of the inputs to the target", s.target_rate);
        } else {
            assert!(share < 2.0 * area, "{name}: the clean twin's map points at the trigger: {share:.3}");
        }
        assert_eq!(s.rho.len(), 3 * SIZE * SIZE);
        assert!(s.magnitude.iter().all(|v| (0.0..=1.0).contains(v)) && s.magnitude.iter().any(|&v| v == 1.0));
        assert!(s.norm <= s.bound * 1.0001, "‖ρ‖ {} beyond the bound {}", s.norm, s.bound);
    }
}

/// The scan of the backdoored model, its window patches scored on
/// Fashion-MNIST test images, flags exactly the target, and its densest
/// window overlaps the trigger; the scan of the clean twin flags nothing.
#[test]
fn the_scan_flags_exactly_the_target_of_the_backdoored_model_and_nothing_on_the_twin() {
    let Some(probe) = probe_dir() else { return };
    let device = Device::flex();
    for (name, model) in models(&device) {
        let result = scan_with_defaults(&model, &device, &probe);
        if name == "backdoored" {
            assert_eq!(result.flagged, vec![TARGET], "{name}");
            assert_overlaps_trigger(result.classes[TARGET].bbox, "agnostic");
        } else {
            assert_eq!(result.flagged, Vec::<usize>::new(), "{name}");
        }
    }
}

/// 512 of Fashion-MNIST's test images as PNGs in a scratch folder (`None`,
/// and the test skipped, where Debian's `dataset-fashion-mnist` is not
/// installed; `.ci/run` installs it).
fn probe_dir() -> Option<std::path::PathBuf> {
    let source = std::path::Path::new(pami::backdoor::data::DEBIAN_DIR);
    if !source.is_dir() {
        assert!(std::env::var("CI").is_err(), "CI installs dataset-fashion-mnist");
        eprintln!("skipping: {} is not installed", source.display());
        return None;
    }
    let test = pami::backdoor::data::load(source, "t10k").unwrap();
    let dir = std::env::temp_dir().join(format!("pami-backdoor-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..512 {
        let grey = test.chw(i)[..SIZE * SIZE].iter().map(|&v| v as u8).collect();
        image::GrayImage::from_raw(SIZE as u32, SIZE as u32, grey).unwrap().save(dir.join(format!("{i:04}.png"))).unwrap();
    }
    Some(dir)
}

/// `pami backdoor-scan --probe DIR`'s defaults: the scan's wider bound, every class.
fn scan_with_defaults(model: &FashionCnn, device: &Device, probe: &std::path::Path) -> pami::backdoor::scan::Scan {
    let config = AgnosticConfig { bound: Some(pami::backdoor::scan::default_bound(Norm::L2, model.input_size())), ..AgnosticConfig::default() };
    let agnostic = Agnostic::new(model, device, &config).unwrap();
    let classes: Vec<usize> = (0..model.class_names().len()).collect();
    let scan_config = ScanConfig { probe: Some(probe.to_path_buf()), ..ScanConfig::default() };
    let result = scan(&agnostic, &scan_config, &classes, |_| {}).unwrap();
    for row in &result.classes {
        eprintln!("class {} budget {:?} window flip rate {:.3} concentration {:.3} index {:.2}", row.class, row.budget, row.window_rate, row.concentration, row.anomaly_index);
    }
    result
}

fn assert_overlaps_trigger([x0, y0, x1, y1]: [usize; 4], what: &str) {
    let [t0, u0, t1, u1] = TRIGGER.bbox();
    assert!(x0 <= t1 && t0 <= x1 && y0 <= u1 && u0 <= y1, "{what}: window {:?} misses the trigger {:?}", [x0, y0, x1, y1], TRIGGER.bbox());
}

/// Neural Cleanse, the scan's peer, reverse-engineers the trigger of the
/// target class from noise inputs: a mask on the trigger's corner (almost
/// all its mass in one window), smaller than the trigger's 16 pixels.
#[test]
fn neural_cleanse_recovers_the_trigger_of_the_target() {
    let device = Device::flex();
    let model = FashionCnn::pretrained(Embedded::Backdoored, &device).unwrap();
    let config = AgnosticConfig { steps: 600, ..AgnosticConfig::default() };
    let agnostic = Agnostic::new(&model, &device, &config).unwrap();
    let scan_config = ScanConfig { method: ScanMethod::NeuralCleanse, ..ScanConfig::default() };
    let result = scan(&agnostic, &scan_config, &[TARGET], |_| {}).unwrap();
    let row = &result.classes[0];
    eprintln!("neural cleanse: budget {:?} rate {:.3} concentration {:.3} box {:?}", row.budget, row.target_rate, row.concentration, row.bbox);
    let budget = row.budget.expect("the mask reaches the target rate");
    assert!(budget < (TRIGGER.side * TRIGGER.side) as f32, "mask L1 norm {budget}");
    assert!(row.concentration > 0.9, "mask concentration {}", row.concentration);
    assert_overlaps_trigger(row.bbox, "neural cleanse");
}

/// The optimisation runs alike on the CPU and on wgpu: the same inputs
/// (drawn on the host from the seed), the same gradients, the same `ρ`.
#[test]
fn agnostic_saliency_is_the_same_on_cpu_and_wgpu() {
    let Some(gpu) = common::gpu() else { return };
    let config = AgnosticConfig { steps: 20, eval_samples: 128, ..AgnosticConfig::default() };
    let run = |device: &Device| {
        let model = FashionCnn::pretrained(Embedded::Backdoored, device).unwrap();
        let agnostic = Agnostic::new(&model, device, &config).unwrap();
        let rho = common::floats(agnostic.optimise(TARGET).unwrap());
        let rate = agnostic.rate(None, TARGET).unwrap();
        (rho, rate)
    };
    let (cpu, cpu_rate) = run(&Device::flex());
    let (gpu, gpu_rate) = run(&gpu);
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let diff: Vec<f32> = cpu.iter().zip(&gpu).map(|(a, b)| a - b).collect();
    let relative = norm(&diff) / norm(&cpu);
    eprintln!("relative difference {relative:.2e}, rates {cpu_rate} {gpu_rate}");
    assert!(relative < 0.02, "ρ differs by {relative:.3} of its norm between CPU and wgpu");
    assert!((cpu_rate - gpu_rate).abs() <= 2.0 / 128.0, "rates {cpu_rate} vs {gpu_rate}");
}
