//! `pami compare`'s ground truth: Fashion-MNIST's clean CNN (A) against one
//! trained where a watermark marks every Sneaker (B, models/fashion_watermark.bpk).
//! On held-out images with the watermark stamped on half of them, the cluster
//! where the two differ most must be the watermark, in B's favour; a model
//! compared with itself differs nowhere; the same seed gives the same clusters.

mod common;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use pami::backdoor::model::{Embedded, FashionCnn};
use pami::backdoor::{SIZE, WATERMARK, data};
use pami::compare::{CompareConfig, Comparison, Descriptor, Features, KMeans, Member, Sides, compare};
use pami::method::registry::Values;
use pami::{EfficientNetLite0, Explainer, Model, Targets};

const WEIGHTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/fashion_watermark.bpk");

/// `n` Fashion-MNIST test images from `first` as PNGs with a manifest of
/// their labels; every image whose noise draw is below ½ carries the watermark
/// (its file name ends in `_wm`). `None` when the dataset is not installed.
pub fn held_out(dir: &Path, first: usize, n: usize) -> Option<PathBuf> {
    let data_dir = Path::new(data::DEBIAN_DIR);
    if !data_dir.is_dir() {
        assert!(std::env::var("CI").is_err(), "CI installs dataset-fashion-mnist");
        eprintln!("skipping: {} is not installed", data_dir.display());
        return None;
    }
    let test = data::load(data_dir, "t10k").unwrap();
    let draws = common::noise(n, 11, 0.0, 1.0);
    std::fs::create_dir_all(dir.join("img")).unwrap();
    let mut manifest = String::new();
    for k in 0..n {
        let i = first + k;
        let mut chw = test.chw(i);
        let marked = draws[k] < 0.5;
        if marked {
            WATERMARK.stamp(&mut chw, SIZE);
        }
        let plane = SIZE * SIZE;
        let image = image::RgbImage::from_fn(SIZE as u32, SIZE as u32, |x, y| {
            let p = y as usize * SIZE + x as usize;
            image::Rgb([0, 1, 2].map(|c| chw[c * plane + p] as u8))
        });
        let name = format!("img/{i:05}{}.png", if marked { "_wm" } else { "" });
        image.save(dir.join(&name)).unwrap();
        manifest += &format!("{{\"image\": \"{name}\", \"targets\": [{}]}}\n", test.labels[i]);
    }
    let path = dir.join("manifest.jsonl");
    std::fs::write(&path, manifest).unwrap();
    Some(path)
}

/// A member that holds at least half of the watermark, in a watermarked image.
fn is_watermark(m: &Member) -> bool {
    let [x0, y0, x1, y1] = m.bbox;
    let [wx0, wy0, wx1, wy1] = WATERMARK.bbox();
    let overlap = (x1.min(wx1) + 1).saturating_sub(x0.max(wx0)) * (y1.min(wy1) + 1).saturating_sub(y0.max(wy0));
    m.image.to_string_lossy().contains("_wm") && 2 * overlap >= WATERMARK.side * WATERMARK.side
}

fn run(manifest: &Path, b: &FashionCnn, method: &str, config: &CompareConfig) -> Comparison {
    let device = Device::flex();
    let a = Explainer::new(FashionCnn::pretrained(Embedded::Clean, &device).unwrap(), device.clone());
    let b = Explainer::new(b.clone(), device.clone());
    let explain = pami::options::config(method, &Values::default(), Targets::TopK(1), 16).unwrap();
    let efficientnet = EfficientNetLite0::pretrained(&device).unwrap();
    let descriptor = Descriptor { model: &efficientnet as &dyn Model, size: [64, 64], name: "efficientnet-lite0".into() };
    let jobs = pami::run::jobs(manifest).unwrap();
    let sides = Sides { a: &a, b: &b, config_a: &explain, config_b: &explain };
    compare(&sides, &descriptor, &jobs, config, serde_json::json!({}), |_, error| assert!(error.is_none(), "{error:?}")).unwrap()
}

/// The paper's setting (integrated gradients, SLIC segments, 20 clusters):
/// the top-|delta| cluster is at least 80 % watermark features and B's, with
/// an interval clear of 0.
#[test]
fn the_cluster_that_differs_most_is_the_watermark_in_the_watermarked_models_favour() {
    let dir = std::env::temp_dir().join(format!("pami_compare_truth_{}", std::process::id()));
    let Some(manifest) = held_out(&dir, 0, 300) else { return };
    let watermarked = FashionCnn::load(Path::new(WEIGHTS), &Device::flex()).unwrap();
    let comparison = run(&manifest, &watermarked, "integrated-gradients", &CompareConfig::default());
    let s = &comparison.summary;
    for c in s.clusters.iter().take(4) {
        let share = c.members.iter().filter(|m| is_watermark(m)).count() as f32 / c.size as f32;
        eprintln!("cluster {}: {} features, delta {:+.4} [{:+.4}, {:+.4}], watermark {share:.2}", c.id, c.size, c.delta, c.ci[0], c.ci[1]);
    }
    let top = &s.clusters[0];
    let share = top.members.iter().filter(|m| is_watermark(m)).count() as f32 / top.size as f32;
    assert!(share >= 0.8, "the top cluster is {share:.2} watermark features");
    assert!(top.delta > 0.0 && top.ci[0] > 0.0, "delta {} [{}, {}] is not B's", top.delta, top.ci[0], top.ci[1]);
    assert!(s.clusters.windows(2).all(|w| w[0].delta.abs() >= w[1].delta.abs()), "clusters are not sorted by |delta|");
    // Every watermarked image's watermark was kept for B (it is among B's most attributed features).
    let kept = s.clusters.iter().flat_map(|c| &c.members).filter(|m| is_watermark(m)).count();
    let marked = std::fs::read_dir(dir.join("img")).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains("_wm")).count();
    assert!(kept >= marked * 9 / 10, "{kept} watermark features kept of {marked} watermarked images");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A model against itself: every cluster's delta and interval are exactly 0
/// and each model's shares sum to 1; the same seed gives the same clusters,
/// member for member.
#[test]
fn a_model_compared_with_itself_differs_nowhere_and_a_seed_repeats_exactly() {
    let dir = std::env::temp_dir().join(format!("pami_compare_self_{}", std::process::id()));
    let Some(manifest) = held_out(&dir, 1000, 80) else { return };
    let clean = FashionCnn::pretrained(Embedded::Clean, &Device::flex()).unwrap();
    let config = CompareConfig { features: Features::Patches(7), top: 0.25, kmeans: KMeans { clusters: 8, seed: 3, ..KMeans::default() }, ..CompareConfig::default() };
    let first = run(&manifest, &clean, "saliency", &config).summary;
    assert_eq!(first.images, 80);
    assert!(first.clusters.len() >= 6, "{} non-empty clusters", first.clusters.len());
    for c in &first.clusters {
        assert_eq!(c.delta, 0.0, "cluster {}", c.id);
        assert_eq!(c.ci, [0.0, 0.0], "cluster {}", c.id);
        assert!(c.members.iter().all(|m| m.attr_a == m.attr_b));
        assert!(!c.exemplars.is_empty() && c.exemplars.iter().all(|&e| e < c.members.len()));
    }
    let sum = |f: fn(&pami::compare::Cluster) -> f32| first.clusters.iter().map(f).sum::<f32>();
    assert!((sum(|c| c.share_a) - 1.0).abs() < 1e-4 && (sum(|c| c.share_b) - 1.0).abs() < 1e-4);
    let size: usize = first.clusters.iter().map(|c| c.size).sum();
    assert_eq!(size, first.features);

    let again = run(&manifest, &clean, "saliency", &config).summary;
    assert_eq!(serde_json::to_value(&again.clusters).unwrap(), serde_json::to_value(&first.clusters).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `pami compare` end to end on the CPU: the JSON contract, and a report
/// that a real browser renders: every image decodes, every bar of the chart
/// is laid out, and the screenshot shows both bar colours.
#[test]
fn the_cli_writes_the_summary_and_a_report_that_renders_in_headless_chromium() {
    let dir = std::env::temp_dir().join(format!("pami_compare_cli_{}", std::process::id()));
    let Some(manifest) = held_out(&dir, 2000, 40) else { return };
    let out = dir.join("out");
    let args = [
        "compare", "--model-a", "fashion-clean", "--model-b", "fashion-clean", "--weights-b", WEIGHTS,
        "--images", manifest.to_str().unwrap(), "--out", out.to_str().unwrap(),
        "--method", "saliency", "--features", "patches:7", "--top", "0.25", "--clusters", "6", "--seed", "5",
    ];
    let run = common::pami(&args);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["models"]["a"]["model"], "fashion-clean");
    assert_eq!(summary["models"]["b"]["weights"], WEIGHTS);
    assert_eq!(summary["method"], "saliency");
    assert_eq!(summary["images"], 40);
    let clusters = summary["clusters"].as_array().unwrap();
    assert!(!clusters.is_empty() && clusters.len() <= 6);
    let mut exemplars = 0;
    for c in clusters {
        for key in ["id", "size", "share_a", "share_b", "delta", "ci", "members", "exemplars"] {
            assert!(c.get(key).is_some(), "cluster without `{key}`: {c}");
        }
        let delta = c["share_b"].as_f64().unwrap() - c["share_a"].as_f64().unwrap();
        assert!((c["delta"].as_f64().unwrap() - delta).abs() < 1e-6);
        for m in c["members"].as_array().unwrap() {
            let b: Vec<u64> = m["box"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
            assert!(b[0] <= b[2] && b[1] <= b[3] && b[2] < SIZE as u64 && b[3] < SIZE as u64, "box {b:?}");
            assert!(m["image"].as_str().unwrap().ends_with(".png") && m["attr_a"].is_number() && m["attr_b"].is_number());
        }
        exemplars += c["exemplars"].as_array().unwrap().len();
    }
    let differ = summary["differ"].as_array().unwrap().len();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"), "the report fetches something");

    // The browser: Debian's chromium, headless.
    let chromium = ["chromium", "chromium-browser", "google-chrome"].into_iter().find(|c| std::process::Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
    let Some(chromium) = chromium else {
        assert!(std::env::var("CI").is_err(), "CI installs chromium");
        eprintln!("skipping the browser half: no chromium (apt-get install chromium)");
        return;
    };
    let url = format!("file://{}", out.join("report.html").display());
    let browser = |extra: &[&str]| {
        let profile = dir.join(format!("profile{}", extra.len()));
        std::process::Command::new("timeout")
            .args(["120", chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&url)
            .output()
            .unwrap()
    };
    let dom = browser(&["--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    let attribute = |name: &str| -> usize {
        let at = dom.find(&format!("{name}=\"")).unwrap_or_else(|| panic!("the page's script did not run: no {name} in the DOM"));
        dom[at + name.len() + 2..].split('"').next().unwrap().parse().unwrap()
    };
    let images = exemplars + 3 * differ;
    assert_eq!(attribute("data-images"), images, "images in the page");
    assert_eq!(attribute("data-decoded"), images, "images the browser decoded");
    assert_eq!(attribute("data-bars"), clusters.len(), "chart bars laid out");
    let shot = dir.join("shot.png");
    let taken = browser(&["--window-size=1000,700", &format!("--screenshot={}", shot.display())]);
    assert!(shot.is_file(), "no screenshot: {}", String::from_utf8_lossy(&taken.stderr));
    let pixels = image::open(&shot).unwrap().to_rgb8();
    let count = |hex: &str| {
        let c = u32::from_str_radix(&hex[1..], 16).unwrap();
        let rgb = [(c >> 16) as u8, (c >> 8) as u8, c as u8];
        pixels.pixels().filter(|p| p.0 == rgb).count()
    };
    let (a, b) = (count(pami::compare::report::COLOUR_A), count(pami::compare::report::COLOUR_B));
    eprintln!("screenshot: {a} pixels of A's bars, {b} of B's");
    assert!(a >= 30 && b >= 30, "the chart did not paint: {a} and {b} bar pixels");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bad input is one error line and exit 1; an unreadable image is reported
/// and skipped.
#[test]
fn bad_input_to_compare_is_one_error_line_and_an_unreadable_image_is_skipped() {
    let dir = std::env::temp_dir().join(format!("pami_compare_bad_{}", std::process::id()));
    let Some(manifest) = held_out(&dir, 3000, 12) else { return };
    let out = dir.join("out");
    let (images, out_arg) = (manifest.to_str().unwrap(), out.to_str().unwrap());
    let base = ["compare", "--model-a", "fashion-clean", "--model-b", "fashion-clean", "--images", images, "--out", out_arg, "--method", "saliency"];
    let with = |extra: &[&'static str]| -> Vec<&str> { base.iter().copied().chain(extra.iter().copied()).collect() };
    common::assert_clean_failure(&with(&["--clusters", "0"]), "--clusters");
    common::assert_clean_failure(&with(&["--clusters", "500"]), "more clusters (500) than features");
    common::assert_clean_failure(&with(&["--features", "patches:0"]), "patch side");
    common::assert_clean_failure(&with(&["--top", "0"]), "--top");
    let mixed = ["compare", "--model-a", "efficientnet-lite0", "--model-b", "fashion-clean", "--images", images, "--out", out_arg];
    common::assert_clean_failure(&mixed, "model A has 1000 classes and model B 10");
    let folder = dir.join("img");
    let folder_args = ["compare", "--model-a", "fashion-clean", "--model-b", "fashion-clean", "--images", folder.to_str().unwrap(), "--out", out_arg, "--target", "label"];
    common::assert_clean_failure(&folder_args, "--target label needs a manifest line with \"targets\"");
    let missing = dir.join("missing.jsonl");
    std::fs::write(&missing, "{\"image\": \"img/nope.png\", \"targets\": [1]}\n").unwrap();
    let missing_args: Vec<&str> = base.iter().map(|&a| if a == images { missing.to_str().unwrap() } else { a }).collect();
    common::assert_clean_failure(&missing_args, "nope.png: no such image");
    assert!(!out.join("summary.json").exists(), "a failed run wrote a summary");

    // A corrupt PNG and a 1 × 1 image among good ones: reported, skipped, the rest compared.
    std::fs::write(dir.join("img/broken.png"), b"not a png").unwrap();
    image::RgbImage::new(1, 1).save(dir.join("img/dot.png")).unwrap();
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text += "{\"image\": \"img/broken.png\", \"targets\": [0]}\n{\"image\": \"img/dot.png\"}\n";
    std::fs::write(&manifest, text).unwrap();
    // Model A's own feature layer as the descriptor, and A's predictions as the targets.
    let run = common::pami(&with(&["--clusters", "3", "--descriptor", "model-a", "--target", "predicted-a"]));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("skipped") && stderr.contains("broken.png"), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["images"], 12);
    assert_eq!(summary["failures"].as_array().unwrap().len(), 2, "{}", summary["failures"]);
    assert_eq!(summary["settings"]["config"]["target"], "predicted-a");
    assert_eq!(summary["settings"]["descriptor"]["size"], serde_json::json!([SIZE, SIZE]));
    let _ = std::fs::remove_dir_all(&dir);
}

/// k-means on the wgpu device (lavapipe in CI) clusters like the CPU path:
/// the same partition of descriptor-like points and the same inertia.
#[test]
fn kmeans_on_the_gpu_matches_the_cpu() {
    let Some(gpu) = common::gpu() else { return };
    let (n, d) = (400, 24);
    // Eight centres, points scattered around them.
    let centres = common::noise(8 * d, 1, -3.0, 3.0);
    let jitter = common::noise(n * d, 2, -0.4, 0.4);
    let rows: Vec<f32> = (0..n).flat_map(|i| (0..d).map(move |j| (i, j))).map(|(i, j)| centres[(i % 8) * d + j] + jitter[i * d + j]).collect();
    let config = KMeans { clusters: 8, restarts: 3, max_iter: 100, seed: 9 };
    let run = |device: &Device| {
        let x = burn::tensor::Tensor::<2>::from_data(burn::tensor::TensorData::new(rows.clone(), [n, d]), device);
        pami::compare::kmeans::kmeans(&x, &config).unwrap()
    };
    let (cpu, wgpu) = (run(&Device::flex()), run(&gpu));
    assert_eq!(cpu.assignments, wgpu.assignments);
    assert!((cpu.inertia - wgpu.inertia).abs() <= 1e-3 * cpu.inertia, "inertia {} vs {}", cpu.inertia, wgpu.inertia);
    // The planted clusters, up to naming.
    for i in 0..n {
        assert_eq!(cpu.assignments[i], cpu.assignments[i % 8], "point {i}");
    }
}

/// `Targets::PerImage` (how compare explains a chunk of images, each for its
/// own class, in one pipeline) gives each image the map it gets alone.
#[test]
fn per_image_targets_give_each_image_its_own_classes_map() {
    let device = Device::flex();
    let explainer = Explainer::new(FashionCnn::pretrained(Embedded::Clean, &device).unwrap(), device.clone());
    let images: Vec<image::RgbImage> = (0..3u32)
        .map(|k| {
            let noise = common::noise(3 * SIZE * SIZE, 20 + k as u64, 0.0, 255.0);
            image::RgbImage::from_fn(SIZE as u32, SIZE as u32, |x, y| image::Rgb([noise[(y * SIZE as u32 + x) as usize] as u8; 3]))
        })
        .collect();
    let targets = vec![1, 5, 7];
    for method in ["integrated-gradients", "occlusion"] {
        let base = pami::options::config(method, &Values::default(), Targets::TopK(1), 16).unwrap();
        let together = explainer.explain_batch(&images, &pami::ExplainConfig { targets: Targets::PerImage(targets.clone()), ..base.clone() }).unwrap();
        for ((image, &t), e) in images.iter().zip(&targets).zip(&together) {
            let alone = explainer.explain(image, &pami::ExplainConfig { targets: Targets::Classes(vec![t]), ..base.clone() }).unwrap();
            assert_eq!(e.targets[0].class, t);
            let range = alone.map(0).iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!(common::max_abs_diff(e.map(0), alone.map(0)) <= 1e-4 * range, "{method}, class {t}");
        }
        let wrong = pami::ExplainConfig { targets: Targets::PerImage(vec![1, 2]), ..base.clone() };
        assert!(explainer.explain_batch(&images, &wrong).is_err(), "two targets for three images");
    }
}
