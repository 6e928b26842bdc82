//! `pami explain` end to end, and a one-line error with a non-zero exit for
//! every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{assert_clean_failure, pami};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");


fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pami-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bad_inputs_get_one_line_errors() {
    let dir = scratch("bad");
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    let text = dir.join("notes.png");
    std::fs::write(&text, "not an image").unwrap();
    let coffee = std::fs::read(format!("{ROOT}/assets/coffee.png")).unwrap();
    let truncated = dir.join("truncated.png");
    std::fs::write(&truncated, &coffee[..coffee.len() / 3]).unwrap();
    let tiny = dir.join("tiny.png");
    image::RgbImage::new(1, 1).save(&tiny).unwrap();
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let coffee = format!("{ROOT}/assets/coffee.png");

    assert_clean_failure(&["explain", "/no/such/image.png", "--out", out], "No such file");
    assert_clean_failure(&["explain", &path(&text), "--out", out], "not a readable image");
    assert_clean_failure(&["explain", &path(&truncated), "--out", out], "not a readable image");
    assert_clean_failure(&["explain", &path(&tiny), "--out", out], "1×1");
    assert_clean_failure(&["explain", &coffee, "--target", "1000", "--out", out], "unknown class `1000`");
    assert_clean_failure(&["explain", &coffee, "--target", "flying teapot", "--out", out], "unknown class");
    assert_clean_failure(&["explain", &coffee, "--radius", "0", "--out", out], "radius");
    assert_clean_failure(&["explain", &coffee, "--stride", "300", "--out", out], "stride 300");
    assert_clean_failure(&["explain", &coffee, "--blur", "gaussian:4:2", "--out", out], "odd");
    assert_clean_failure(&["explain", &coffee, "--weights", "/no/such.pth", "--out", out], "no such file");
    assert_clean_failure(&["explain", &coffee, "--strategy", "occlusion", "--window", "300", "--out", out], "window 300");
    assert_clean_failure(&["explain", &coffee, "--strategy", "rise", "--grid", "1", "--out", out], "grid 1");
    assert_clean_failure(&["explain", &coffee, "--strategy", "rise", "--keep", "1.5", "--out", out], "1.5");
    assert_clean_failure(&["explain", &coffee, "--radius", "20", "--radius", "30", "--stride", "4", "--stride", "5", "--stride", "6", "--out", out], "--stride");
    assert_clean_failure(&["explain", &coffee, "--strategy", "integrated-gradients", "--steps", "0", "--out", out], "steps");
    assert_clean_failure(&["explain", &coffee, "--strategy", "integrated-gradients", "--internal-batch", "0", "--out", out], "internal batch");
    assert_clean_failure(&["explain", &coffee, "--strategy", "smoothgrad", "--samples", "0", "--out", out], "sample");
    assert_clean_failure(&["explain", &coffee, "--strategy", "smoothgrad", "--noise", "-1", "--out", out], "noise");
    assert!(!Path::new(out).exists(), "a failed run wrote outputs");
}

/// The gradient methods through the command line: integrated gradients
/// writes its maps and reports its completeness gap per target; Grad-CAM
/// and saliency name the class they explain.
#[test]
fn explain_runs_gradient_methods() {
    let dir = scratch("gradients");
    let coffee = format!("{ROOT}/assets/coffee.png");
    for (strategy, extra) in [("integrated-gradients", &["--steps", "8", "--baseline", "black"][..]), ("gradcam", &[][..]), ("saliency", &[][..])] {
        let out = dir.join(strategy);
        let mut args = vec!["explain", &coffee, "--strategy", strategy, "--target", "espresso", "--out", out.to_str().unwrap()];
        args.extend(extra);
        let run = pami(&args);
        assert!(run.status.success(), "{strategy}: {}", String::from_utf8_lossy(&run.stderr));
        let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("coffee.json")).unwrap()).unwrap();
        let e = &summary["explanation"];
        assert_eq!(e["targets"][0]["class"], 967);
        assert_eq!(summary["config"]["score"], "logit", "{strategy}: gradient methods attribute the logit by default");
        assert!(e["timings"]["gradient"].as_f64().unwrap() > 0.0, "{strategy}");
        let (map, shape) = pami::io::read_npy(&out.join("coffee.class967_espresso.npy")).unwrap();
        assert_eq!(shape, [224, 224]);
        assert!(map.iter().all(|v| v.is_finite()) && map.iter().any(|v| *v != 0.0), "{strategy}");
        if strategy == "integrated-gradients" {
            assert_eq!(summary["config"]["strategy"]["integrated-gradients"]["steps"], 8);
            assert_eq!(summary["config"]["baseline"], "black");
            let gap = e["completeness_gap"][0].as_f64().unwrap();
            assert!(gap.is_finite() && gap >= 0.0, "completeness gap {gap}");
        } else {
            assert!(e.get("completeness_gap").is_none(), "{strategy}");
        }
    }
}

/// `pami predict`: the top k per image in the order given, as text and as
/// JSON with the contract's fields; bad input is one error line.
#[test]
fn predict_prints_the_top_classes_as_text_and_json() {
    let coffee = format!("{ROOT}/assets/coffee.png");
    let astronaut = format!("{ROOT}/assets/astronaut.png");
    let out = pami(&["predict", &coffee, &astronaut, "--top-k", "3", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["image"], coffee.as_str());
    assert_eq!(rows[1]["image"], astronaut.as_str());
    for row in rows {
        let predictions = row["predictions"].as_array().unwrap();
        assert_eq!(predictions.len(), 3);
        let field = |p: &serde_json::Value, k: &str| p[k].as_f64().unwrap_or_else(|| panic!("no {k} in {p}"));
        for pair in predictions.windows(2) {
            assert!(field(&pair[0], "probability") >= field(&pair[1], "probability"));
            assert!(field(&pair[0], "logit") >= field(&pair[1], "logit"));
        }
        for p in predictions {
            let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys.len(), 4, "{p}");
            assert!(p["class"].is_u64() && p["name"].is_string() && (0.0..=1.0).contains(&field(p, "probability")), "{p}");
        }
    }
    assert_eq!((rows[0]["predictions"][0]["class"].as_u64(), rows[0]["predictions"][0]["name"].as_str()), (Some(967), Some("espresso")));
    let text = pami(&["predict", &coffee, "--top-k", "2"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("1. class 967 (espresso)") && text.lines().count() == 3, "{text}");

    let dir = scratch("predict");
    let tiny = dir.join("tiny.png");
    image::RgbImage::new(1, 1).save(&tiny).unwrap();
    assert_clean_failure(&["predict", &coffee, "--top-k", "0"], "top-k");
    assert_clean_failure(&["predict", &coffee, "--top-k", "1001"], "1000 classes");
    assert_clean_failure(&["predict", &coffee, "/no/such/image.png"], "No such file");
    assert_clean_failure(&["predict", tiny.to_str().unwrap()], "1×1");

    // --labels renames the classes, one name per line and per output.
    let labels = dir.join("labels.txt");
    std::fs::write(&labels, (0..1000).map(|i| format!("label {i}\n")).collect::<String>()).unwrap();
    let renamed = pami(&["predict", &coffee, "--top-k", "1", "--json", "--labels", labels.to_str().unwrap()]);
    let renamed: serde_json::Value = serde_json::from_slice(&renamed.stdout).unwrap();
    assert_eq!(renamed[0]["predictions"][0]["name"], "label 967");
    let short = dir.join("short.txt");
    std::fs::write(&short, "cat\ndog\nbird\n").unwrap();
    assert_clean_failure(&["predict", &coffee, "--labels", short.to_str().unwrap()], "3 class names for a model with 1000 classes");
    std::fs::write(&short, "cat\n\ndog\nbird\n\n").unwrap();
    assert_clean_failure(&["predict", &coffee, "--labels", short.to_str().unwrap()], "line 2 is blank");
}

#[test]
fn explain_writes_maps_overlays_and_summary() {
    let dir = scratch("ok");
    let out = dir.join("out");
    let coffee = format!("{ROOT}/assets/coffee.png");
    let run = pami(&[
        "explain", &coffee, "--target", "espresso", "--target", "968", "--stride", "28", "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("coffee.json")).unwrap()).unwrap();
    let e = &summary["explanation"];
    assert_eq!(summary["backend"], "cpu");
    assert_eq!(e["predictions"][0]["name"], "espresso");
    assert_eq!(e["targets"][1]["class"], 968);
    assert_eq!(e["parts"], 64);
    assert!(e["timings"]["model"].as_f64().unwrap() > 0.0);
    for (class, name) in [(967, "espresso"), (968, "cup")] {
        let file = |suffix: &str| out.join(format!("coffee.class{class}_{name}.{suffix}"));
        let (map, shape) = pami::io::read_npy(&file("npy")).unwrap();
        assert_eq!(shape, [224, 224]);
        assert!(map.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
        let (_, full) = pami::io::read_npy(&file("full.npy")).unwrap();
        assert_eq!(full, [400, 600]);
        let overlay = image::open(file("png")).unwrap();
        assert_eq!((overlay.width(), overlay.height()), (600, 400));
    }
}

#[test]
fn segment_writes_a_connected_label_map_and_rejects_bad_parameters() {
    let dir = scratch("segment");
    let (labels, png) = (dir.join("labels.npy"), dir.join("boundaries.png"));
    let coffee = format!("{ROOT}/assets/coffee.png");
    let run = pami(&[
        "segment", &coffee, "--method", "slic", "--resize", "224", "--n-segments", "30", "--compactness", "20",
        "--out", labels.to_str().unwrap(), "--png", png.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let file = std::fs::read(&labels).unwrap();
    let npy = npyz::NpyFile::new(&file[..]).unwrap();
    assert_eq!(npy.shape(), [224, 224]);
    let map: Vec<i32> = npy.into_vec().unwrap();
    let n = pami::segment::metrics::segment_count(&map);
    assert!((15..=35).contains(&n), "{n} segments for n_segments 30");
    assert_eq!(*map.iter().max().unwrap() as usize, n - 1, "labels are 0..n");
    assert!(pami::segment::metrics::is_four_connected(&map, 224));
    assert_eq!(image::open(&png).unwrap().width(), 224);

    let out = labels.to_str().unwrap();
    assert_clean_failure(&["segment", &coffee, "--n-segments", "0", "--out", out], "n_segments");
    assert_clean_failure(&["segment", &coffee, "--compactness", "-1", "--out", out], "compactness");
    assert_clean_failure(&["segment", &coffee, "--sigma", "-1", "--out", out], "sigma");
    assert_clean_failure(&["segment", &coffee, "--resize", "8", "--n-segments", "65", "--out", out], "exceeds");
    assert_clean_failure(&["segment", &coffee, "--method", "watershed", "--markers", "0", "--out", out], "markers");
    assert_clean_failure(&["segment", &coffee, "--method", "watershed", "--compactness", "-1", "--out", out], "compactness");
    let run = pami(&["segment", &coffee, "--method", "watershed", "--resize", "224", "--markers", "20", "--out", out]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let map: Vec<i32> = npyz::NpyFile::new(&std::fs::read(&labels).unwrap()[..]).unwrap().into_vec().unwrap();
    assert!(pami::segment::metrics::is_four_connected(&map, 224));
    assert!((10..=24).contains(&pami::segment::metrics::segment_count(&map)));
    assert_clean_failure(&["segment", &coffee, "--method", "felzenszwalb", "--scale", "-1", "--out", out], "scale");
    assert_clean_failure(&["segment", &coffee, "--method", "felzenszwalb", "--sigma", "-0.5", "--out", out], "sigma");
    let args = ["--method", "felzenszwalb", "--resize", "224", "--scale", "100", "--min-size", "784", "--out", out];
    let run = pami(&[&["segment", &coffee][..], &args].concat());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let map: Vec<i32> = npyz::NpyFile::new(&std::fs::read(&labels).unwrap()[..]).unwrap().into_vec().unwrap();
    assert!(pami::segment::metrics::is_four_connected(&map, 224));
    let mut sizes = vec![0; pami::segment::metrics::segment_count(&map)];
    map.iter().for_each(|&l| sizes[l as usize] += 1);
    assert!(sizes.len() >= 5 && sizes.iter().all(|&s| s >= 784), "{sizes:?}");
    let run = pami(&["segment", &coffee, "--method", "seeds", "--resize", "224", "--num-superpixels", "30", "--num-levels", "5", "--iterations", "10", "--out", out]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let map: Vec<i32> = npyz::NpyFile::new(&std::fs::read(&labels).unwrap()[..]).unwrap().into_vec().unwrap();
    assert!(pami::segment::metrics::is_four_connected(&map, 224));
    assert!((16..=24).contains(&pami::segment::metrics::segment_count(&map)), "OpenCV's 4×4 grid, split into pieces");
    assert_clean_failure(&["segment", &coffee, "--method", "seeds", "--resize", "8", "--num-superpixels", "30", "--out", out], "seeds");
}

#[test]
fn segment_preset_paper_writes_every_setting() {
    let dir = scratch("preset");
    let coffee = format!("{ROOT}/assets/coffee.png");
    let out = dir.join("paper");
    let run = pami(&["segment", &coffee, "--resize", "224", "--preset", "paper", "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("segments.json")).unwrap()).unwrap();
    let settings = summary["settings"].as_array().unwrap();
    let names: Vec<String> = pami::segment::paper().iter().map(|s| s.name()).collect();
    assert_eq!(settings.len(), names.len());
    for (entry, name) in settings.iter().zip(&names) {
        assert_eq!(entry["setting"], name.as_str());
        let map: Vec<i32> = npyz::NpyFile::new(&std::fs::read(out.join(format!("{name}.npy"))).unwrap()[..])
            .unwrap()
            .into_vec()
            .unwrap();
        assert!(pami::segment::metrics::is_four_connected(&map, 224), "{name}");
        assert_eq!(pami::segment::metrics::segment_count(&map) as u64, entry["segments"].as_u64().unwrap(), "{name}");
        assert!(out.join(format!("{name}.png")).exists(), "{name}");
    }
    // --preset writes a directory; one-map flags do not apply (clap's usage error, exit 2).
    let run = pami(&["segment", &coffee, "--preset", "paper", "--method", "slic", "--out", "x"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.lines().next().unwrap().contains("cannot be used with"), "{stderr}");
}

/// A folder with coffee and chelsea and a boxes file for them.
fn eval_folder(name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(name);
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    for f in ["coffee.png", "chelsea.png"] {
        std::fs::copy(format!("{ROOT}/assets/{f}"), images.join(f)).unwrap();
    }
    let boxes = dir.join("boxes.json");
    std::fs::write(
        &boxes,
        r#"{"coffee.png": {"classes": [967, 968], "box": [170, 15, 412, 310]},
            "chelsea.png": {"classes": [281, 282, 285], "box": [30, 0, 400, 299]}}"#,
    )
    .unwrap();
    (images, boxes)
}

/// Cheap method settings: 4 occlusion windows, 20 RISE masks, 9-step curves.
const CHEAP: [&str; 10] = ["--methods", "occlusion,rise", "--window", "112", "--stride", "112", "--masks", "20", "--step", "6000"];

#[test]
fn eval_rejects_bad_boxes_naming_the_file() {
    let (images, boxes) = eval_folder("eval-bad");
    let dir = images.parent().unwrap();
    let out = dir.join("out");
    let (images, out) = (images.to_str().unwrap(), out.to_str().unwrap());
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let missing = write("missing.json", r#"{"dog.png": {"classes": [1], "box": [0, 0, 5, 5]}}"#);
    assert_clean_failure(&["eval", "--images", images, "--boxes", &missing, "--out", out], "`dog.png` matches no image");
    let class = write("class.json", r#"{"coffee.png": {"classes": [1000], "box": [0, 0, 5, 5]}}"#);
    assert_clean_failure(&["eval", "--images", images, "--boxes", &class, "--out", out], "class.json: `coffee.png`: class 1000");
    let outside = write("outside.json", r#"{"coffee.png": {"classes": [967], "box": [0, 0, 600, 5]}}"#);
    assert_clean_failure(&["eval", "--images", images, "--boxes", &outside, "--out", out], "not inside the 600×400 image");
    let broken = write("broken.json", "{ not json");
    assert_clean_failure(&["eval", "--images", images, "--boxes", &broken, "--out", out], "broken.json");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_clean_failure(&["eval", "--images", empty.to_str().unwrap(), "--boxes", boxes.to_str().unwrap(), "--out", out], "no PNG or JPEG");
    assert_clean_failure(&["eval", "--images", images, "--boxes", boxes.to_str().unwrap(), "--methods", "lime", "--out", out], "unknown method `lime`");
    assert_clean_failure(&["eval", "--images", images, "--boxes", boxes.to_str().unwrap(), "--methods", "rise", "--masks", "0", "--out", out], "rise: RISE needs at least one mask");
    assert!(!Path::new(out).exists(), "a rejected run wrote outputs");
}

#[test]
fn eval_reports_and_skips_a_bad_image_and_keeps_the_others() {
    let (images, boxes) = eval_folder("eval-skip");
    std::fs::write(images.join("broken.png"), "not an image").unwrap();
    let mut table: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&boxes).unwrap()).unwrap();
    table["broken.png"] = serde_json::json!({"classes": [1], "box": [0, 0, 1, 1]});
    std::fs::write(&boxes, table.to_string()).unwrap();
    let out = images.parent().unwrap().join("out");
    let mut args = vec!["eval", "--images", images.to_str().unwrap(), "--boxes", boxes.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend(CHEAP);
    let result = pami(&args);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "a skipped image makes the run fail at its end: {stderr}");
    assert!(stderr.contains("broken.png") && !stderr.contains("panicked"), "{stderr}");
    for f in ["results.md", "results.csv", "results.json", "images/coffee.json", "images/chelsea.json"] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("| occlusion | 2 |") && md.contains("| rise | 2 |") && md.contains("`broken.png`"), "{md}");
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * 4, "header + 2 images × (2 methods + centre + random)");
    let coffee: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("images/coffee.json")).unwrap()).unwrap();
    assert_eq!(coffee["class"], 967, "the annotated class the model ranks highest");
    let occlusion = &coffee["methods"][0];
    assert_eq!(occlusion["method"], "occlusion");
    let insertion = occlusion["insertion"].as_array().unwrap();
    assert_eq!(insertion.len(), 224 * 224 / 6000 + 2, "0 pixels, 9 steps of 6000, then all");
    assert!(occlusion["insertion_auc"].as_f64().unwrap() > 0.0);
}

#[test]
fn eval_explains_with_the_model_it_is_given() {
    let dir = scratch("eval-model");
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    let mut table = serde_json::Map::new();
    let mut classes = Vec::new();
    for i in 0..3 {
        let sample = pami::synthetic::sample(pami::synthetic::HELD_OUT + i);
        sample.image.save(images.join(format!("s{i}.png"))).unwrap();
        // All four classes are acceptable: the explained one is the one the model ranks highest.
        table.insert(format!("s{i}.png"), serde_json::json!({"classes": [0, 1, 2, 3], "box": sample.bbox}));
        classes.push(sample.class);
    }
    let boxes = dir.join("boxes.json");
    std::fs::write(&boxes, serde_json::Value::Object(table).to_string()).unwrap();
    let out = dir.join("out");
    let args = [
        "eval", "--images", images.to_str().unwrap(), "--boxes", boxes.to_str().unwrap(), "--out", out.to_str().unwrap(),
        "--model", "synthetic-shapes", "--methods", "occlusion,ablation", "--window", "8", "--stride", "8",
        "--segmentation", "watershed:64,compactness=0.01", "--step", "256",
    ];
    let result = pami(&args);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    for (i, class) in classes.iter().enumerate() {
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join(format!("images/s{i}.json"))).unwrap()).unwrap();
        assert_eq!(json["class"], *class, "s{i}: the synthetic model's class, not EfficientNet's");
        assert_eq!(json["methods"][1]["method"], "ablation");
        assert_eq!(json["methods"][0]["insertion"].as_array().unwrap().len(), 64 * 64 / 256 + 1, "curves over the 64² input");
    }
    let md = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert!(md.contains("| occlusion | 3 |") && md.contains("| ablation | 3 |"), "{md}");
}

#[test]
fn run_resumes_after_a_kill_and_shards_split_the_dataset() {
    let dir = scratch("run");
    let input = dir.join("input");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    for i in 0..5 {
        std::fs::copy(format!("{ROOT}/assets/coffee.png"), input.join(format!("coffee{i}.png"))).unwrap();
    }
    std::fs::copy(format!("{ROOT}/assets/chelsea.png"), input.join("sub/coffee0.png")).unwrap();
    let out = dir.join("out");
    // 100 windows per image, one image per batch: a few seconds per image on the CPU.
    let args = |out: &Path| -> Vec<String> {
        ["run", "--input", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "--stride", "24", "--images-per-batch", "1", "--device", "cpu"]
            .map(String::from)
            .to_vec()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_pami")).args(args(&out)).stderr(std::process::Stdio::null()).spawn().unwrap();
    let finished = |out: &Path| std::fs::read_dir(out).map(|d| d.flatten().filter(|e| e.file_name().to_string_lossy().ends_with(".json")).count()).unwrap_or(0);
    let start = std::time::Instant::now();
    while finished(&out) < 1 && start.elapsed().as_secs() < 600 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = finished(&out);
    assert!((1..6).contains(&before), "killed after {before} images");
    // Every JSON that exists is complete and its map is there.
    for entry in std::fs::read_dir(&out).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
            assert!(out.join(json["maps"][0].as_str().unwrap()).exists());
        }
    }
    let rerun = Command::new(env!("CARGO_BIN_EXE_pami")).args(args(&out)).output().unwrap();
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(rerun.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("6 images, {before} already done")), "{stderr}");
    assert_eq!(finished(&out), 6);
    assert!(std::fs::read_dir(&out).unwrap().flatten().all(|e| !e.file_name().to_string_lossy().contains(".tmp")));
    let lines = std::fs::read_to_string(out.join("results.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 6);
    assert!(out.join("sub~coffee0.efficientnet-lite0.pami-window.class285.npy").exists(), "a subfolder's image keeps its own name");
    // Another method in the same folder: nothing of the first run counts as done for it, nothing is overwritten.
    let other = [
        "run", "--input", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "--strategy", "occlusion", "--window", "112",
        "--stride", "112", "--device", "cpu",
    ];
    let second = Command::new(env!("CARGO_BIN_EXE_pami")).args(other).output().unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success() && stderr.contains("6 images, 0 already done"), "{stderr}");
    assert_eq!(finished(&out), 12);
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(out.join("results.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 12);
    for method in ["pami-window", "occlusion"] {
        assert_eq!(lines.iter().filter(|l| l["method"] == method).count(), 6, "{method}");
    }
    // Two shards: disjoint, together the dataset.
    let mut seen = Vec::new();
    for i in 0..2 {
        let shard_out = dir.join(format!("shard{i}"));
        let shard = format!("{i}/2");
        let a = [
            "run", "--input", input.to_str().unwrap(), "--out", shard_out.to_str().unwrap(), "--shard", &shard,
            "--strategy", "occlusion", "--window", "112", "--stride", "112", "--device", "cpu",
        ];
        assert!(Command::new(env!("CARGO_BIN_EXE_pami")).args(&a).output().unwrap().status.success());
        let lines = std::fs::read_to_string(shard_out.join("results.jsonl")).unwrap();
        seen.extend(lines.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["image"].as_str().unwrap().to_owned()));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6, "the shards cover the dataset once");
}

/// A PNG whose header claims `width × height` but whose data is a few bytes:
/// what a decompression bomb or a truncated giant looks like to a decoder.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut typed = kind.to_vec();
        typed.extend_from_slice(data);
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&typed);
        out.extend_from_slice(&crc32(&typed).to_be_bytes());
        out
    };
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    png.extend(chunk(b"IEND", &[]));
    png
}

#[test]
fn run_reports_bad_images_and_scores_manifest_boxes() {
    let dir = scratch("manifest");
    let mut manifest = String::new();
    for seed in 0..6u64 {
        let sample = pami::synthetic::sample(pami::synthetic::HELD_OUT + 500 + seed);
        let name = format!("shape{seed}.png");
        sample.image.save(dir.join(&name)).unwrap();
        let line = serde_json::json!({ "image": name, "targets": [sample.class], "box": sample.bbox });
        manifest += &format!("{line}\n");
    }
    image::RgbImage::new(1, 1).save(dir.join("tiny.png")).unwrap();
    std::fs::write(dir.join("giant.png"), png_header_only(30_000, 30_000)).unwrap();
    std::fs::write(dir.join("text.png"), "not an image").unwrap();
    for bad in ["tiny.png", "giant.png", "text.png", "missing.png"] {
        manifest += &format!("{{\"image\": \"{bad}\"}}\n");
    }
    std::fs::write(dir.join("manifest.jsonl"), manifest).unwrap();
    let out = dir.join("out");
    let run = pami(&[
        "run", "--input", dir.join("manifest.jsonl").to_str().unwrap(), "--out", out.to_str().unwrap(),
        "--model", "synthetic-shapes", "--strategy", "occlusion", "--window", "12", "--stride", "6", "--tolerance", "2",
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "a run with failures exits 1 at the end: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("6 of 10 images done, 4 failed"), "{stderr}");
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(out.join("results.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 10, "one line per image, failed ones included");
    let errors: Vec<(String, String)> = lines
        .iter()
        .filter_map(|l| Some((l["image"].as_str()?.rsplit('/').next()?.to_owned(), l["error"].as_str()?.to_owned())))
        .collect();
    let error_of = |name: &str| errors.iter().find(|(n, _)| n == name).map(|(_, e)| e.clone()).unwrap_or_default();
    assert!(error_of("tiny.png").contains("1×1"), "{errors:?}");
    assert!(error_of("giant.png").contains("30000×30000"), "{errors:?}");
    assert!(error_of("text.png").contains("not a readable image"), "{errors:?}");
    assert!(!error_of("missing.png").is_empty(), "{errors:?}");
    assert_eq!(std::fs::read_to_string(out.join("failures.jsonl")).unwrap().lines().count(), 4);
    // The manifest's targets are the ones explained, and the trained model's maps hit the shapes.
    let mut hits = 0;
    for (seed, line) in lines.iter().take(6).enumerate() {
        let sample = pami::synthetic::sample(pami::synthetic::HELD_OUT + 500 + seed as u64);
        assert_eq!(line["targets"][0]["class"], sample.class, "{line}");
        hits += line["pointing_game"]["hits"][0].as_bool().unwrap() as usize;
    }
    assert!(hits >= 5, "pointing game {hits}/6");
}

/// `pami agnostic` writes ρ, its magnitude, a picture and the JSON per
/// class; `pami backdoor-scan` writes scan.json with every class's row and
/// the grid; bad classes, budgets, steps and folders are one error line.
#[test]
fn agnostic_and_backdoor_scan_write_their_outputs_and_refuse_bad_input() {
    let dir = scratch("agnostic");
    let out = dir.join("agnostic");
    let fast = ["--steps", "20", "--eval-samples", "64", "--model", "fashion-badnets"];
    let run = pami(&[&["agnostic", "--class", "Sneaker", "--class", "0", "--out", out.to_str().unwrap()], &fast[..]].concat());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    for (stem, class) in [("class7_sneaker", 7), ("class0_t_shirt_top", 0)] {
        let (rho, shape) = pami::io::read_npy(&out.join(format!("{stem}.rho.npy"))).unwrap();
        assert_eq!(shape, [3, 28, 28]);
        assert!(rho.iter().any(|v| *v != 0.0));
        let (magnitude, shape) = pami::io::read_npy(&out.join(format!("{stem}.magnitude.npy"))).unwrap();
        assert_eq!(shape, [28, 28]);
        assert!(magnitude.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(image::open(out.join(format!("{stem}.png"))).is_ok());
        let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join(format!("{stem}.json"))).unwrap()).unwrap();
        assert_eq!(json["result"]["class"], class);
        for field in ["target_rate", "clean_rate", "norm", "bound", "seconds"] {
            assert!(json["result"][field].is_number(), "{field} missing: {json}");
        }
        assert_eq!(json["settings"]["steps"], 20);
    }
    // A probe of three 28² images, one of them too large (resized on reading).
    let probe = dir.join("probe");
    std::fs::create_dir_all(&probe).unwrap();
    for (i, side) in [28u32, 28, 40].into_iter().enumerate() {
        image::GrayImage::from_fn(side, side, |x, y| image::Luma([((x * 7 + y * 3 + i as u32 * 50) % 256) as u8])).save(probe.join(format!("{i}.png"))).unwrap();
    }
    let scan_dir = dir.join("scan");
    let run = pami(&[&["backdoor-scan", "--probe", probe.to_str().unwrap(), "--out", scan_dir.to_str().unwrap()], &fast[..]].concat());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let scan: serde_json::Value = serde_json::from_slice(&std::fs::read(scan_dir.join("scan.json")).unwrap()).unwrap();
    assert!(scan["flagged"].is_array());
    let classes = scan["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 10);
    for (i, row) in classes.iter().enumerate() {
        assert_eq!(row["class"], i);
        for field in ["target_rate", "concentration", "anomaly_index", "window_rate", "probe_clean_rate"] {
            assert!(row[field].is_number(), "{field}: {row}");
        }
        // Flip rates on a probe of three images are multiples of a third or a half.
        let flip = row["window_rate"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&flip) && [2.0, 3.0].iter().any(|n| ((flip * n).round() - flip * n).abs() < 1e-4), "{row}");
        assert!(row["budget"].is_number() || row["budget"].is_null());
        assert!(row["flagged"].is_boolean() && row["name"].is_string());
        let b: Vec<u64> = row["box"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert!(b.len() == 4 && b[0] <= b[2] && b[1] <= b[3] && b[2] < 28 && b[3] < 28, "{row}");
    }
    assert!(image::open(scan_dir.join("scan.png")).is_ok());

    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = dir.join("bad");
    let o = o.to_str().unwrap();
    let images = format!("images:{}", empty.display());
    let missing = format!("images:{}", dir.join("no-such-folder").display());
    for (args, expect) in [
        (vec!["agnostic", "--class", "10", "--model", "fashion-clean"], "unknown class"),
        (vec!["agnostic", "--class", "0", "--bound", "0"], "--bound"),
        (vec!["agnostic", "--class", "0", "--bound", "-1"], "--bound"),
        (vec!["agnostic", "--class", "0", "--steps", "0"], "--steps"),
        (vec!["agnostic", "--class", "0", "--model", "fashion-clean", "--distribution", &missing], "no-such-folder"),
        (vec!["agnostic", "--class", "0", "--model", "fashion-clean", "--distribution", &images], "no PNG or JPEG"),
        (vec!["agnostic", "--class", "0", "--distribution", "pink"], "unknown distribution"),
        (vec!["backdoor-scan", "--steps", "0"], "--steps"),
        (vec!["backdoor-scan", "--bound", "-0.5"], "--bound"),
        (vec!["backdoor-scan", "--target-rate", "1.5"], "--target-rate"),
        (vec!["backdoor-scan", "--probe", missing.trim_start_matches("images:")], "no-such-folder"),
        (vec!["backdoor-scan", "--probe", empty.to_str().unwrap()], "no PNG or JPEG"),
    ] {
        assert_clean_failure(&[&args[..], &["--out", o]].concat(), expect);
    }
}
