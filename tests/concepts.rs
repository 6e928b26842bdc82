//! `pami concepts`' generators: the procedural renderer on the device equals
//! its CPU twin, changing one concept's count moves nothing else, a seed
//! repeats; the HTTP generator against a loopback server; `pami concepts
//! render` end to end and its bad input. DEPICT's ranking on the ground
//! truth of `models/make_concepts.sh`: the order of the true strengths, the
//! decisive concept first, irrelevant concepts at 0, a background texture
//! found; repeatable by seed, the same on lavapipe; `pami concepts rank` end
//! to end (detector, real images, the HTTP generator) and its bad input.

mod common;

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use pami::concepts::metric::{Metric, spearman};
use pami::concepts::permute::permute_column;
use pami::concepts::rank::{RankConfig, Ranking, Scorer, rank};
use pami::concepts::render::{COLOURS, Layout, SHAPES, TEXTURES, image_seed};
use pami::concepts::{Caption, Dataset, Generator, Http, Procedural};
use pami::synthetic::SyntheticCnn;

fn captions(lines: &[&str]) -> Vec<Caption> {
    lines.iter().map(|l| Caption::parse(l).unwrap()).collect()
}

/// Every colour, shape and texture, two of some objects.
fn everything() -> (Dataset, Vec<Caption>) {
    let mut lines = Vec::new();
    for (t, texture) in TEXTURES.iter().enumerate() {
        let objects: Vec<String> = SHAPES.iter().enumerate().map(|(s, shape)| format!("{} {} {shape}", 1 + (s + t) % 2, COLOURS[(s + t) % COLOURS.len()].0)).collect();
        lines.push(format!("{}, 1 {texture} background", objects.join(", ")));
    }
    lines.push("1 white star".into());
    let c = captions(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    let labels = vec![0; c.len()];
    (Dataset::new(&c, labels), c)
}

fn floats(t: burn::tensor::Tensor<4>) -> Vec<f32> {
    common::floats(t)
}

#[test]
fn the_renderer_on_the_device_equals_its_cpu_twin_exactly() {
    let (dataset, captions) = everything();
    let generator = Procedural::new(&dataset).unwrap();
    let seeds: Vec<u64> = (0..captions.len()).map(|i| image_seed(7, i)).collect();
    let size = 77;
    let cpu = floats(generator.batch(&captions, &seeds, size, &Device::flex()).unwrap());
    // The twin's batch equals its image-at-a-time path.
    for (i, (caption, &seed)) in captions.iter().zip(&seeds).enumerate() {
        let one = pami::explain::to_chw(&generator.image(caption, seed, size).unwrap());
        assert_eq!(&cpu[i * one.len()..(i + 1) * one.len()], &one[..]);
    }
    let Some(gpu) = common::gpu() else { return };
    let wgpu = floats(generator.batch(&captions, &seeds, size, &gpu).unwrap());
    assert_eq!(cpu, wgpu, "the kernel and its twin differ");
}

#[test]
fn every_shape_colour_and_texture_is_drawn() {
    let size = 64;
    for (s, shape) in SHAPES.iter().enumerate() {
        for (name, rgb) in COLOURS {
            let c = captions(&[&format!("1 {name} {shape}")]);
            let g = Procedural::new(&Dataset::new(&c, vec![0])).unwrap();
            let image = g.image(&c[0], 3, size).unwrap();
            let hits = image.pixels().filter(|p| p.0 == rgb).count();
            // A shape covers a sizeable part of its cell and not all of it.
            assert!(hits > 40 && hits < size * size / 2, "{name} {shape} (shape {s}): {hits} pixels");
        }
    }
    let mut seen = Vec::new();
    for texture in TEXTURES {
        let c = captions(&[&format!("1 {texture} background")]);
        let g = Procedural::new(&Dataset::new(&c, vec![0])).unwrap();
        let image = g.image(&c[0], 3, size).unwrap();
        let mut greys: Vec<u8> = image.pixels().map(|p| p.0[0]).collect();
        greys.sort_unstable();
        greys.dedup();
        seen.push((texture, greys.len()));
    }
    // plain: one grey; striped and checkered: two; noisy and gradient: many.
    let counts: Vec<usize> = seen.iter().map(|s| s.1).collect();
    assert_eq!(&counts[..3], &[1, 2, 2], "{seen:?}");
    assert!(counts[3] > 50 && counts[4] > 30, "{seen:?}");
}

/// Pixels that differ between two renders of the same seed.
fn changed(a: &image::RgbImage, b: &image::RgbImage) -> Vec<(u32, u32)> {
    a.enumerate_pixels().filter(|(x, y, p)| b.get_pixel(*x, *y) != *p).map(|(x, y, _)| (x, y)).collect()
}

#[test]
fn changing_one_concepts_count_moves_nothing_else() {
    let lines = ["2 red circle, 1 blue square, 3 green triangle, 1 striped background", "1 red circle, 2 blue square, 1 yellow star"];
    let c = captions(&lines);
    let dataset = Dataset::new(&c, vec![0, 1]);
    let g = Procedural::new(&dataset).unwrap();
    let layout = Layout::for_dataset(&dataset).unwrap();
    for seed in 0..20 {
        let before = g.image(&c[0], seed, 64).unwrap();
        // One more blue square: only pixels inside the new square's box change.
        let more = Caption::parse("2 red circle, 2 blue square, 3 green triangle, 1 striped background").unwrap();
        let after = g.image(&more, seed, 64).unwrap();
        let old = layout.scenes(std::slice::from_ref(&c[0]), &[seed], 64).unwrap();
        let new = layout.scenes(std::slice::from_ref(&more), &[seed], 64).unwrap();
        // Every object of the first scene is in the second, unchanged.
        for row in old.objects.chunks(6) {
            assert!(new.objects.chunks(6).any(|r| r == row), "seed {seed}: object {row:?} moved");
        }
        assert_eq!(new.objects.len(), old.objects.len() + 6);
        let added: Vec<i32> = new.objects.chunks(6).find(|r| !old.objects.chunks(6).any(|o| o == *r)).unwrap().to_vec();
        let (cx, cy, r) = (added[2], added[3], added[4]);
        for (x, y) in changed(&before, &after) {
            let (px, py) = (2 * x as i32 + 1, 2 * y as i32 + 1);
            assert!((px - cx).abs() <= r && (py - cy).abs() <= r, "seed {seed}: pixel ({x}, {y}) outside the new square changed");
        }
        assert!(!changed(&before, &after).is_empty());
        // The background is the same texture draw.
        assert_eq!(old.backgrounds, new.backgrounds);
        // Same seed: the same image; another seed: another.
        assert_eq!(g.image(&c[0], seed, 64).unwrap(), before);
        assert_ne!(g.image(&c[0], seed + 1000, 64).unwrap(), before);
    }
    // No two objects share a cell, so none overlap.
    let scenes = layout.scenes(&c, &[1, 2], 64).unwrap();
    for image in 0..2 {
        let rows = &scenes.objects[scenes.offsets[image] as usize * 6..scenes.offsets[image + 1] as usize * 6];
        for (i, a) in rows.chunks(6).enumerate() {
            for b in rows.chunks(6).skip(i + 1) {
                let gap = (a[2] - b[2]).abs().max((a[3] - b[3]).abs());
                assert!(gap >= a[4] + b[4], "objects {a:?} and {b:?} overlap");
            }
        }
    }
}

#[test]
fn bad_captions_and_sizes_are_refused() {
    let c = captions(&["1 purple circle"]);
    let e = Procedural::new(&Dataset::new(&c, vec![0])).unwrap_err().to_string();
    assert!(e.contains("unknown colour `purple`"), "{e}");
    let two = captions(&["1 plain background, 1 noisy background"]);
    assert!(Procedural::new(&Dataset::new(&two, vec![0])).unwrap_err().to_string().contains("at most one background"));
    // Sixty squares do not fit 64 pixels in cells of 8.
    let crowded = captions(&["60 red square"]);
    let g = Procedural::new(&Dataset::new(&crowded, vec![0])).unwrap();
    assert!(g.check_size(64).unwrap_err().to_string().contains("at least"));
    assert!(g.check_size(128).is_ok());
}

/// A loopback text-to-image server in a thread: `/generate` answers with the
/// procedural renderer's PNG for the prompt; `/broken` with 500; `/text`
/// with a non-image; `/small` with a 2 × 2 PNG.
fn server(dataset: Dataset) -> String {
    use axum::{Router, body::Bytes, http::StatusCode, routing::post};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let generator = std::sync::Arc::new(Procedural::new(&dataset).unwrap());
            let generate = move |body: Bytes| {
                let generator = generator.clone();
                async move {
                    let request: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    let caption = Caption::parse(request["prompt"].as_str().unwrap()).unwrap();
                    let size = request["width"].as_u64().unwrap() as usize;
                    let image = generator.image(&caption, request["seed"].as_u64().unwrap(), size).unwrap();
                    pami::io::png_bytes(&image).unwrap()
                }
            };
            let router = Router::new()
                .route("/generate", post(generate))
                .route("/broken", post(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "out of memory") }))
                .route("/text", post(|| async { "hello" }))
                .route("/small", post(|| async { pami::io::png_bytes(&image::RgbImage::new(2, 2)).unwrap() }));
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    format!("http://{addr}")
}

#[test]
fn the_http_generator_gets_the_servers_images_and_reports_its_failures() {
    let c = captions(&["2 red circle, 1 checkered background", "1 blue ring"]);
    let dataset = Dataset::new(&c, vec![0, 1]);
    let base = server(dataset.clone());
    let local = Procedural::new(&dataset).unwrap();
    let http = Http::new(&format!("{base}/generate")).unwrap();
    let device = Device::flex();
    let seeds = [image_seed(1, 0), image_seed(1, 1)];
    assert_eq!(floats(http.batch(&c, &seeds, 48, &device).unwrap()), floats(local.batch(&c, &seeds, 48, &device).unwrap()));
    for (path, says) in [("/broken", "500"), ("/text", "not a PNG"), ("/small", "got 2×2")] {
        let e = Http::new(&format!("{base}{path}")).unwrap().image(&c[0], 0, 48).unwrap_err().to_string();
        assert!(e.contains(says), "{path}: {e}");
    }
    assert!(Http::new("https://example.org/x").is_err());
    let down = Http::new("http://127.0.0.1:9/generate").unwrap().image(&c[0], 0, 48).unwrap_err().to_string();
    assert!(down.contains("127.0.0.1:9"), "{down}");
}

#[test]
fn the_cli_renders_a_caption_file_and_refuses_bad_input_writing_nothing() {
    let dir = std::env::temp_dir().join(format!("pami_concepts_render_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("captions.jsonl");
    std::fs::write(&file, "{\"caption\": \"2 red circle, 1 blue square, 1 striped background\", \"label\": 1}\n{\"caption\": \"1 green star\", \"label\": 0}\n\n{\"caption\": \"\", \"label\": 0}\n").unwrap();
    let out = dir.join("images");
    let run = common::pami(&["concepts", "render", "--captions", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--size", "48", "--seed", "3"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let manifest = std::fs::read_to_string(out.join("manifest.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = manifest.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["image"], "000000.png");
    assert_eq!(lines[0]["caption"], "2 red circle, 1 blue square, 1 striped background");
    assert_eq!(lines[0]["label"], 1);
    assert_eq!(lines[2]["caption"], "");
    let first = image::open(out.join("000000.png")).unwrap().to_rgb8();
    assert_eq!(first.dimensions(), (48, 48));
    let dataset = Dataset::read(&file).unwrap();
    let expected = Procedural::new(&dataset).unwrap().image(&dataset.caption(&dataset.counts[0]), image_seed(3, 0), 48).unwrap();
    assert_eq!(first, expected);

    let bad = dir.join("bad.jsonl");
    let target = dir.join("never");
    let args = |captions: &std::path::Path| vec!["concepts".to_string(), "render".into(), "--captions".into(), captions.display().to_string(), "--out".into(), target.display().to_string()];
    for (text, says) in [
        ("{\"caption\": \"1 purple circle\", \"label\": 0}\n", "unknown colour `purple`"),
        ("{\"caption\": \"1 red hexagon\", \"label\": 0}\n", "unknown shape `hexagon`"),
        ("{\"caption\": \"1 wavy background\", \"label\": 0}\n", "unknown texture `wavy`"),
        ("{\"caption\": \"red circle\", \"label\": 0}\n", "COUNT CONCEPT"),
        ("{\"caption\": \"1 red circle\"}\n", "label"),
    ] {
        std::fs::write(&bad, text).unwrap();
        let a = args(&bad);
        common::assert_clean_failure(&a.iter().map(String::as_str).collect::<Vec<_>>(), says);
        assert!(!target.exists(), "{says}: something was written");
    }
    let mut down = args(&file);
    down.extend(["--generator".into(), "http://127.0.0.1:9/generate".into()]);
    common::assert_clean_failure(&down.iter().map(String::as_str).collect::<Vec<_>>(), "127.0.0.1:9");
    assert!(!target.exists(), "a failed render left its folder");
    assert_eq!(std::fs::read_dir(&dir).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".tmp")).count(), 0);
    let again = args(&file);
    let mut again: Vec<String> = again;
    again[5] = out.display().to_string();
    common::assert_clean_failure(&again.iter().map(String::as_str).collect::<Vec<_>>(), "not empty");
    let _ = std::fs::remove_dir_all(&dir);
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The first `lines` lines of a held-out ground-truth caption file.
fn ground_truth(task: &str, lines: usize) -> Dataset {
    let mut d = Dataset::read(&repo(&format!("tests/data/concepts/{task}.jsonl"))).unwrap();
    d.counts.truncate(lines);
    d.labels.truncate(lines);
    d
}

/// `task`'s classifier ranked over its first `lines` lines.
fn ranking(task: &str, lines: usize, permutations: usize, seed: u64, device: &Device) -> (Dataset, Ranking) {
    let dataset = ground_truth(task, lines);
    let model = SyntheticCnn::load_concept(&repo(&format!("models/concepts_{task}.bpk")), None, 64, device).unwrap();
    let generator = Procedural::new(&dataset).unwrap();
    let scorer = Scorer { generator: &generator, model: &model, detector: None, device: device.clone(), size: 64, batch: 64, seed };
    let config = RankConfig { metric: Metric::Auroc, target_class: None, permutations, size: 64, seed, batch: 64 };
    let r = rank(&dataset, &scorer, &config, None, || {}).unwrap();
    (dataset, r)
}

fn importance<'a>(r: &'a Ranking, concept: &str) -> &'a pami::concepts::rank::ConceptImportance {
    r.concepts.iter().find(|c| c.concept == concept).unwrap_or_else(|| panic!("no `{concept}` in the ranking"))
}

/// |mean| within two standard errors (sd / √permutations) of 0.
fn assert_null(r: &Ranking, concept: &str) {
    let c = importance(r, concept);
    let se = c.importance_sd / (c.per_permutation.len() as f64).sqrt();
    assert!(c.importance_mean.abs() <= 2.0 * se, "`{concept}` should not matter: {:+.5} ± {se:.5} (SE)", c.importance_mean);
}

#[test]
fn the_ranking_follows_the_true_strengths_and_irrelevant_concepts_stay_at_zero() {
    // Label = [red circle] or [blue square], present in 1/2 and 1/4 of the lines: a perfect
    // model's importances are 0.4 and 0.2, and 0 for the others (tools/concept_captions.py).
    let strengths = [("red circle", 0.4), ("blue square", 0.2), ("green triangle", 0.0), ("black star", 0.0)];
    let (dataset, r) = ranking("strengths", 1000, 10, 0, &Device::flex());
    // Each permutation keeps its column's multiset and leaves every other column untouched.
    for c in 0..dataset.concepts.len() {
        for k in 0..10 {
            let p = permute_column(&dataset.counts, c, 0, k);
            let (mut a, mut b): (Vec<u32>, Vec<u32>) = (dataset.counts.iter().map(|r| r[c]).collect(), p.iter().map(|r| r[c]).collect());
            assert_ne!(a, b, "column {c}, permutation {k} is the identity");
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b);
            assert!(dataset.counts.iter().zip(&p).all(|(x, y)| (0..x.len()).all(|j| j == c || x[j] == y[j])));
        }
    }
    assert!(r.baseline > 0.97, "baseline AUROC {}", r.baseline);
    assert_eq!(r.concepts[0].concept, "red circle", "{:#?}", r.concepts);
    let ours: Vec<f64> = strengths.iter().map(|(c, _)| importance(&r, c).importance_mean).collect();
    let truth: Vec<f64> = strengths.iter().map(|&(_, s)| s).collect();
    let rho = spearman(&ours, &truth);
    assert!(rho >= 0.9, "Spearman {rho}: {ours:?}");
    for (concept, expected) in &strengths[..2] {
        let c = importance(&r, concept);
        assert!((c.importance_mean - expected).abs() < 0.07, "{concept}: {:+.4}, expected {expected}", c.importance_mean);
        assert!(c.importance_mean > 2.0 * c.importance_sd / 10f64.sqrt(), "{c:?}");
    }
    assert_null(&r, "green triangle");
    assert_null(&r, "black star");
    // A shuffled column changes 1 − Σ p² of the lines (0.41 to 0.63 here); the rest keep their scores.
    assert!(r.concepts.iter().all(|c| (0.3..0.75).contains(&c.regenerated)), "{:?}", r.concepts.iter().map(|c| c.regenerated).collect::<Vec<_>>());
}

#[test]
fn a_background_texture_the_label_depends_on_is_found() {
    let (_, r) = ranking("texture", 1000, 10, 0, &Device::flex());
    assert!(r.baseline > 0.95, "baseline AUROC {}", r.baseline);
    assert_eq!(r.concepts[0].concept, "striped background");
    assert!(r.concepts[0].importance_mean > 0.3, "{:?}", r.concepts[0]);
    for object in ["red circle", "blue square", "green triangle"] {
        assert_null(&r, object);
    }
}

#[test]
fn the_same_seed_gives_the_same_table_and_the_device_gives_the_cpus() {
    let cpu = Device::flex();
    let (_, a) = ranking("strengths", 160, 3, 7, &cpu);
    let (_, b) = ranking("strengths", 160, 3, 7, &cpu);
    let (_, c) = ranking("strengths", 160, 3, 8, &cpu);
    let table = |r: &Ranking| serde_json::to_string(r).unwrap();
    assert_eq!(table(&a), table(&b));
    assert_ne!(table(&a), table(&c));
    let Some(gpu) = common::gpu() else { return };
    // Fewer images on lavapipe, whose convolutions score about 10 images/s.
    let (_, a) = ranking("strengths", 96, 2, 7, &cpu);
    let (_, g) = ranking("strengths", 96, 2, 7, &gpu);
    assert!((g.baseline - a.baseline).abs() < 1e-3, "baseline {} on the device, {} on the CPU", g.baseline, a.baseline);
    for c in &a.concepts {
        let d = importance(&g, &c.concept);
        for (x, y) in c.per_permutation.iter().zip(&d.per_permutation) {
            assert!((x - y).abs() < 1e-3, "{}: {x} on the CPU, {y} on the device", c.concept);
        }
    }
}

/// The first `lines` lines of a ground-truth file, written to `dir`.
fn subset(task: &str, lines: usize, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo(&format!("tests/data/concepts/{task}.jsonl"))).unwrap();
    let path = dir.join(format!("{task}_{lines}.jsonl"));
    std::fs::write(&path, text.lines().take(lines).map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    path
}

#[test]
fn the_cli_ranks_with_the_checks_and_writes_the_contract() {
    let dir = std::env::temp_dir().join(format!("pami_concepts_rank_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let captions = subset("strengths", 300, &dir);
    // "Real" images: the same captions under other layouts.
    let real = dir.join("real");
    let run = common::pami(&["concepts", "render", "--captions", captions.to_str().unwrap(), "--out", real.to_str().unwrap(), "--seed", "99"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let out = dir.join("rank");
    let weights = repo("models/concepts_strengths.bpk");
    let detector = repo("models/concepts_detector.bpk");
    let args = [
        "concepts", "rank", "--captions", captions.to_str().unwrap(), "--model", "concept-cnn", "--weights", weights.to_str().unwrap(),
        "--permutations", "4", "--detector", "concept-cnn", "--detector-weights", detector.to_str().unwrap(), "--real", real.to_str().unwrap(),
        "--out", out.to_str().unwrap(),
    ];
    let run = common::pami(&args);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("importance.json")).unwrap()).unwrap();
    assert_eq!(json["metric"], "auroc");
    let baseline = json["baseline"].as_f64().unwrap();
    let concepts = json["concepts"].as_array().unwrap();
    assert_eq!(concepts.len(), 4);
    for (i, c) in concepts.iter().enumerate() {
        assert_eq!(c["rank"], i + 1);
        let per: Vec<f64> = c["per_permutation"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(per.len(), 4);
        let mean = per.iter().sum::<f64>() / 4.0;
        assert!((c["importance_mean"].as_f64().unwrap() - mean).abs() < 1e-9);
        assert!(c["importance_sd"].as_f64().unwrap() >= 0.0);
        if i > 0 {
            assert!(c["importance_mean"].as_f64().unwrap() <= concepts[i - 1]["importance_mean"].as_f64().unwrap());
        }
    }
    assert_eq!(concepts[0]["concept"], "red circle");
    // Effective generation: the model does as well on the other layouts.
    let effective = &json["effective_generation"];
    assert_eq!(effective["generated"].as_f64().unwrap(), baseline);
    assert!(effective["gap"].as_f64().unwrap().abs() < 0.06, "{effective}");
    assert_eq!(effective["real_images"], 300);
    // Independence: permuting a concept moves the detector on that concept far more than on any other.
    let independence = &json["independence"];
    let change: Vec<Vec<f64>> = serde_json::from_value(independence["change"].clone()).unwrap();
    for (c, row) in change.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            if j != c {
                assert!(v < row[c] / 4.0, "permuting {c} moved detector output {j} by {v} (its own: {})", row[c]);
            }
        }
    }
    assert!(independence["min_diagonal"].as_f64().unwrap() > 0.5, "{independence}");
    assert!(independence["detector_auroc"].as_array().unwrap().iter().all(|a| a.as_f64().unwrap() > 0.95), "{independence}");
    // The box plot: one box per concept, drawn in its colour.
    let png = image::open(out.join("importance.png")).unwrap().to_rgb8();
    assert_eq!(png.width(), 720);
    let blue = png.pixels().filter(|p| p.0 == [40, 90, 200]).count();
    assert!(blue > 150, "{blue} box pixels");

    // The HTTP generator, served by a loopback server drawing the same images, gives the same table.
    let dataset = Dataset::read(&captions).unwrap();
    let base = server(dataset);
    let http_out = dir.join("http");
    let url = format!("{base}/generate");
    let run = common::pami(&[
        "concepts", "rank", "--captions", captions.to_str().unwrap(), "--model", "concept-cnn", "--weights", weights.to_str().unwrap(), "--permutations", "4",
        "--generator", &url, "--out", http_out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let http: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(http_out.join("importance.json")).unwrap()).unwrap();
    assert_eq!(http["concepts"], json["concepts"]);
    assert_eq!(http["baseline"], json["baseline"]);

    // Bad input: one error line, exit 1, nothing written.
    let never = dir.join("never");
    let bad = dir.join("bad.jsonl");
    let rank_args = |captions: &Path, more: &[&str]| {
        let mut a: Vec<String> = ["concepts", "rank", "--captions", captions.to_str().unwrap(), "--model", "concept-cnn", "--weights", weights.to_str().unwrap(), "--out", never.to_str().unwrap()]
            .map(String::from)
            .to_vec();
        a.extend(more.iter().map(|s| s.to_string()));
        a
    };
    for (text, says) in [
        ("{\"caption\": \"1 red circle, blue\", \"label\": 0}\n", "COUNT CONCEPT"),
        ("{\"caption\": \"1 purple circle\", \"label\": 0}\n{\"caption\": \"\", \"label\": 1}\n", "unknown colour `purple`"),
        ("{\"caption\": \"1 red circle\", \"label\": 0}\n{\"caption\": \"\", \"label\": 2}\n", "label 2 is outside the model's 2 classes"),
    ] {
        std::fs::write(&bad, text).unwrap();
        let a = rank_args(&bad, &[]);
        common::assert_clean_failure(&a.iter().map(String::as_str).collect::<Vec<_>>(), says);
    }
    let text_url = format!("{base}/text");
    for (more, says) in [
        (vec!["--permutations", "0"], "--permutations"),
        (vec!["--generator", "http://127.0.0.1:9/generate"], "127.0.0.1:9"),
        (vec!["--generator", text_url.as_str()], "not a PNG"),
        (vec!["--target-class", "5"], "--target-class 5"),
        (vec!["--detector", "concept-cnn", "--detector-weights", weights.to_str().unwrap()], "2 outputs for the captions' 4 concepts"),
    ] {
        let a = rank_args(&captions, &more);
        common::assert_clean_failure(&a.iter().map(String::as_str).collect::<Vec<_>>(), says);
    }
    assert!(!never.join("importance.json").exists() && !never.join("importance.png").exists(), "a failed rank wrote its outputs");
    let _ = std::fs::remove_dir_all(&dir);
}
