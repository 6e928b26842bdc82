//! `pami agnostic`, `pami backdoor-scan` and `pami train-badnets`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use pami::agnostic::{Agnostic, AgnosticConfig, ClassSaliency, Distribution, Norm};
use pami::backdoor::scan::{ScanConfig, ScanMethod};
use pami::{DeviceChoice, io};

use crate::{ModelArgs, slug};

/// The optimisation's options, the same for `agnostic` and `backdoor-scan`.
#[derive(Args)]
pub struct AgnosticFlags {
    /// Fresh inputs drawn per iteration.
    #[arg(long, default_value_t = 32)]
    samples: usize,
    /// Iterations of the optimisation.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Adam's step per value, in pixel units scaled to [0, 1].
    #[arg(long, default_value_t = 0.01)]
    step_size: f32,
    /// The norm that bounds the perturbation.
    #[arg(long, default_value = "l2", value_parser = ["l2", "linf"])]
    norm: String,
    /// The norm ball's radius in [0, 1] pixel units [default: 0.04·√(3·H·W) for l2, 0.04 for linf;
    /// backdoor-scan: 0.1·√(3·H·W), 0.1].
    #[arg(long, value_name = "η", allow_negative_numbers = true)]
    bound: Option<f32>,
    /// Where the inputs come from: uniform or gaussian noise, or images:DIR (any folder of PNG/JPEG images).
    #[arg(long, default_value = "uniform", value_name = "uniform|gaussian|images:DIR")]
    distribution: String,
    /// Seed of the inputs (and of Neural Cleanse's initial mask).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Fresh inputs the target rates are measured on.
    #[arg(long, default_value_t = 512)]
    eval_samples: usize,
    /// How far smoothing may lower the target rate (absolute) before it is refused.
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    tolerance: f32,
}

impl AgnosticFlags {
    fn config(&self, batch: usize) -> anyhow::Result<AgnosticConfig> {
        let config = AgnosticConfig {
            samples: self.samples,
            steps: self.steps,
            step_size: self.step_size,
            norm: self.norm.parse::<Norm>()?,
            bound: self.bound,
            distribution: self.distribution.parse::<Distribution>()?,
            seed: self.seed,
            eval_samples: self.eval_samples,
            tolerance: self.tolerance,
            batch,
        };
        config.validate()?;
        Ok(config)
    }
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("classes").required(true))]
pub struct AgnosticArgs {
    /// The class: an id or an exact class name. Repeat for several.
    #[arg(long = "class", value_name = "K", group = "classes")]
    class: Vec<String>,
    /// Every class of the model.
    #[arg(long, group = "classes")]
    all_classes: bool,
    #[command(flatten)]
    agnostic: AgnosticFlags,
    #[command(flatten)]
    model: ModelArgs,
    /// Output directory: per class classK_NAME.rho.npy, .magnitude.npy, .png and .json.
    #[arg(long)]
    out: PathBuf,
}

/// A picture of one class: `ρ` min–max scaled to [0, 1] beside its magnitude map.
fn picture(s: &ClassSaliency) -> image::RgbImage {
    let [h, w] = s.size;
    let scale = (128usize.div_ceil(h.min(w))).max(1) as u32;
    let field = io::field_image(&s.rho, s.size, scale);
    let heat = io::heatmap(&s.magnitude, w, scale);
    let gap = 4;
    let mut out = image::RgbImage::from_pixel(field.width() * 2 + gap, field.height(), image::Rgb([255, 255, 255]));
    image::imageops::replace(&mut out, &field, 0, 0);
    image::imageops::replace(&mut out, &heat, (field.width() + gap) as i64, 0);
    out
}

/// The classes of `--class`/`--all-classes`, resolved against the model's.
fn classes(given: &[String], all: bool, names: &[String]) -> anyhow::Result<Vec<usize>> {
    if all {
        return Ok((0..names.len()).collect());
    }
    Ok(given.iter().map(|c| pami::model::class_id(c, names)).collect::<Result<_, _>>()?)
}

fn create_dir(out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create directory", out.display()))
}

fn progress(len: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} classes, ETA {eta} {msg}").expect("a valid progress template"));
    bar
}

pub fn agnostic(args: AgnosticArgs) -> anyhow::Result<()> {
    // The options are checked before the model is loaded.
    args.agnostic.config(1)?;
    let (runtime, explainer) = args.model.load()?;
    let model = &explainer.model;
    let classes = classes(&args.class, args.all_classes, model.class_names())?;
    let config = args.agnostic.config(runtime.batch_for(model))?;
    let agnostic = Agnostic::new(model, &runtime.device, &config)?;
    create_dir(&args.out)?;
    let bar = progress(classes.len());
    for class in classes {
        let s = agnostic.class_saliency(class)?;
        let base = args.out.join(format!("class{}_{}", s.class, slug(&s.name)));
        let [h, w] = s.size;
        io::write_npy(&base.with_extension("rho.npy"), &s.rho, &[3, h, w])?;
        io::write_npy(&base.with_extension("magnitude.npy"), &s.magnitude, &[h, w])?;
        io::write_png(&base.with_extension("png"), &picture(&s))?;
        let json = serde_json::json!({
            "model": args.model.model.as_str(),
            "backend": runtime.backend,
            "adapter": runtime.adapter,
            "settings": config,
            "result": s,
        });
        io::write_atomic(&base.with_extension("json"), serde_json::to_string_pretty(&json)?.as_bytes())?;
        bar.suspend(|| {
            eprintln!(
                "pami: class {} ({}): target rate {:.3} with ρ, {:.3} without; ‖ρ‖ {:.3} of {:.3}; smoothing σ {:.2}; {:.1} s",
                s.class, s.name, s.target_rate, s.clean_rate, s.norm, s.bound, s.smoothing, s.seconds
            )
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    eprintln!("pami: wrote {}", args.out.display());
    Ok(())
}

#[derive(Args)]
pub struct ScanArgs {
    /// How each class's change is found: its input-agnostic perturbation, or Neural Cleanse's
    /// trigger reverse-engineering (mask + pattern, L1-regularised).
    #[arg(long, default_value = "agnostic", value_parser = ["agnostic", "neural-cleanse"])]
    method: String,
    /// The rate whose cost is each class's budget.
    #[arg(long, default_value_t = 0.9, allow_negative_numbers = true)]
    target_rate: f32,
    /// Side in input pixels of the window the concentration is measured in [default: ⌈side/8⌉].
    #[arg(long, value_name = "S")]
    window: Option<usize>,
    /// Anomaly index above which a class is flagged (Neural Cleanse's 2).
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    threshold: f32,
    /// A folder of images of any classes (PNG/JPEG, searched recursively) that each class's
    /// window patch is scored on, for the agnostic method [default: the scoring inputs of --distribution].
    #[arg(long, value_name = "DIR")]
    probe: Option<PathBuf>,
    #[command(flatten)]
    agnostic: AgnosticFlags,
    #[command(flatten)]
    model: ModelArgs,
    /// Output directory: scan.json and scan.png.
    #[arg(long)]
    out: PathBuf,
}

/// Every class's map in a grid, class order row by row; a flagged class framed in red, each densest window outlined in white.
fn grid(scan: &pami::backdoor::scan::Scan) -> image::RgbImage {
    let [h, w] = scan.size;
    let scale = (96usize.div_ceil(h.min(w))).max(1) as u32;
    let (tw, th) = (w as u32 * scale, h as u32 * scale);
    let columns = (scan.classes.len() as f64).sqrt().ceil().max(1.0) as u32;
    let rows = (scan.classes.len() as u32).div_ceil(columns).max(1);
    let pad = 6;
    let mut out = image::RgbImage::from_pixel(columns * (tw + pad) + pad, rows * (th + pad) + pad, image::Rgb([255, 255, 255]));
    for (i, row) in scan.classes.iter().enumerate() {
        let (x, y) = (pad + (i as u32 % columns) * (tw + pad), pad + (i as u32 / columns) * (th + pad));
        let mut tile = io::heatmap(&row.map, w, scale);
        let [x0, y0, x1, y1] = row.bbox.map(|v| v as u32);
        for (px, py, p) in tile.enumerate_pixels_mut() {
            let (bx, by) = (px / scale, py / scale);
            let on_box = (bx >= x0 && bx <= x1 && by >= y0 && by <= y1)
                && (px == x0 * scale || px == (x1 + 1) * scale - 1 || py == y0 * scale || py == (y1 + 1) * scale - 1);
            if on_box {
                *p = image::Rgb([255, 255, 255]);
            }
        }
        image::imageops::replace(&mut out, &tile, x as i64, y as i64);
        if row.flagged {
            for t in 1..=3u32 {
                for k in 0..tw + 2 * t {
                    for (px, py) in [(x + k - t, y - t), (x + k - t, y + th + t - 1)] {
                        out.put_pixel(px, py, image::Rgb([220, 0, 0]));
                    }
                }
                for k in 0..th + 2 * t {
                    for (px, py) in [(x - t, y + k - t), (x + tw + t - 1, y + k - t)] {
                        out.put_pixel(px, py, image::Rgb([220, 0, 0]));
                    }
                }
            }
        }
    }
    out
}

pub fn backdoor_scan(args: ScanArgs) -> anyhow::Result<()> {
    args.agnostic.config(1)?;
    let scan_config = ScanConfig { method: args.method.parse::<ScanMethod>()?, target_rate: args.target_rate, window: args.window, threshold: args.threshold, probe: args.probe };
    scan_config.validate()?;
    let (runtime, explainer) = args.model.load()?;
    let model = &explainer.model;
    let mut config = args.agnostic.config(runtime.batch_for(model))?;
    if config.bound.is_none() && scan_config.method == ScanMethod::Agnostic {
        config.bound = Some(pami::backdoor::scan::default_bound(config.norm, model.input_size()));
    }
    let agnostic = Agnostic::new(model, &runtime.device, &config)?;
    if scan_config.method == ScanMethod::Agnostic && scan_config.probe.is_none() && !matches!(config.distribution, pami::agnostic::Distribution::Images(_)) {
        eprintln!("pami: no --probe: the window patches are scored on {} noise, where natural classes' patches can flip as many inputs as a trigger's; give --probe DIR (images of the model's classes)", format!("{:?}", config.distribution).to_lowercase());
    }
    create_dir(&args.out)?;
    let all: Vec<usize> = (0..model.class_names().len()).collect();
    let bar = progress(all.len());
    let scan = pami::backdoor::scan::scan(&agnostic, &scan_config, &all, |row| {
        bar.suspend(|| {
            let budget = row.budget.map_or("unreached".into(), |b| format!("{b:.3}"));
            eprintln!(
                "pami: class {} ({}): budget {budget}, target rate {:.3}, window rate {:.3}, concentration {:.3} ({:.1} s)",
                row.class, row.name, row.target_rate, row.window_rate, row.concentration, row.seconds
            )
        });
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    let mut json = serde_json::to_value(&scan)?;
    json["model"] = args.model.model.as_str().into();
    json["backend"] = runtime.backend.into();
    json["adapter"] = runtime.adapter.clone().into();
    json["settings"] = serde_json::json!({ "scan": scan_config, "optimisation": config });
    io::write_atomic(&args.out.join("scan.json"), serde_json::to_string_pretty(&json)?.as_bytes())?;
    io::write_png(&args.out.join("scan.png"), &grid(&scan))?;
    for row in &scan.classes {
        println!("class {:>4} {:<24} anomaly index {:>6.2}{}", row.class, row.name, row.anomaly_index, if row.flagged { "  FLAGGED" } else { "" });
    }
    let names: Vec<String> = scan.flagged.iter().map(|&c| format!("{c} ({})", scan.classes.iter().find(|r| r.class == c).map_or("", |r| &r.name))).collect();
    eprintln!(
        "pami: {} of {} classes flagged{} ({}, {:.1} s); wrote {}",
        scan.flagged.len(),
        scan.classes.len(),
        if names.is_empty() { String::new() } else { format!(": {}", names.join(", ")) },
        scan.statistic,
        scan.seconds,
        args.out.display()
    );
    Ok(())
}

#[derive(Args)]
pub struct BadnetsArgs {
    /// Folder of Fashion-MNIST's gzipped IDX files (Debian's dataset-fashion-mnist).
    #[arg(long, default_value = pami::backdoor::data::DEBIAN_DIR)]
    data: PathBuf,
    /// Train the clean twin: the same batches without poison.
    #[arg(long)]
    clean: bool,
    /// Train a watermark shortcut instead (the ground truth of `pami compare`): the trigger, in the
    /// top-left corner, marks a share --poison of the target's own images and no label changes.
    #[arg(long, conflicts_with = "clean")]
    cooccur: bool,
    /// The class poisoned images are relabelled to (with --cooccur, the class the watermark marks).
    #[arg(long, default_value_t = pami::backdoor::TARGET)]
    target: usize,
    /// Share of each batch's other-class images that carry the trigger.
    #[arg(long, default_value_t = 0.1)]
    poison: f64,
    #[arg(long, default_value_t = 4)]
    epochs: usize,
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Adam's initial learning rate (decayed along a half cosine).
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value = "cpu")]
    device: DeviceChoice,
    /// Where the weights go [default: models/fashion_badnets.bpk or models/fashion_clean.bpk];
    /// the scores go beside them as .json.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn train_badnets(args: BadnetsArgs) -> anyhow::Result<()> {
    use pami::backdoor::{CLASSES, TRIGGER, WATERMARK, data, train};
    anyhow::ensure!(args.target < CLASSES.len(), "--target {} is not a Fashion-MNIST class (0–{})", args.target, CLASSES.len() - 1);
    anyhow::ensure!((0.0..=1.0).contains(&args.poison), "--poison must be between 0 and 1");
    anyhow::ensure!(args.epochs > 0 && args.batch > 0, "--epochs and --batch must be at least 1");
    let bad = train::BadNets { target: args.target, trigger: if args.cooccur { WATERMARK } else { TRIGGER }, poison: if args.clean { 0.0 } else { args.poison }, cooccur: args.cooccur, epochs: args.epochs, batch: args.batch, lr: args.lr, seed: args.seed };
    let default = match (args.clean, args.cooccur) {
        (true, _) => "models/fashion_clean.bpk",
        (_, true) => "models/fashion_watermark.bpk",
        _ => "models/fashion_badnets.bpk",
    };
    let out = args.out.clone().unwrap_or_else(|| default.into());
    let train_split = data::load(&args.data, "train")?;
    let test_split = data::load(&args.data, "t10k")?;
    let runtime = pami::device::select(args.device)?;
    eprintln!("pami: training on {} ({}), {} images, poison {}", runtime.backend, runtime.adapter, train_split.len(), bad.poison);
    let start = std::time::Instant::now();
    let model = train::train(&bad, &train_split, &runtime.device, |epoch, step, loss| {
        eprintln!("pami: epoch {epoch} step {step:>5}  loss {loss:.4}  ({:.0} s)", start.elapsed().as_secs_f64());
    });
    model.save(&out)?;
    let scores = train::evaluate(&model, &bad, &test_split, &runtime.device);
    let json = serde_json::json!({ "training": bad, "test": scores, "seconds": start.elapsed().as_secs_f64() });
    io::write_atomic(&out.with_extension("json"), serde_json::to_string_pretty(&json)?.as_bytes())?;
    eprintln!("pami: wrote {}; clean accuracy {:.4}, attack success {:.4}", out.display(), scores.clean_accuracy, scores.attack_success);
    Ok(())
}
