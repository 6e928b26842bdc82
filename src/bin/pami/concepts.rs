//! `pami concepts`: a caption file's images from a generator (`render`),
//! the concepts ranked by permutation (`rank`), and the ground-truth
//! classifiers and detectors trained on generated images (`train`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use pami::concepts::rank::{RankConfig, Scorer};
use pami::concepts::train::{Task, TrainConfig};
use pami::concepts::{Dataset, render::image_seed};
use pami::{DeviceChoice, io};

use crate::ModelArgs;

#[derive(Args)]
pub struct ConceptsArgs {
    #[command(subcommand)]
    command: ConceptsCommand,
}

#[derive(Subcommand)]
enum ConceptsCommand {
    /// Render a caption file's images: DIR/NNNNNN.png (line order) and DIR/manifest.jsonl.
    Render(RenderArgs),
    /// Rank the concepts by the drop in a model's performance when each is permuted across the captions and the images regenerated: importance.json, importance.png.
    Rank(RankArgs),
    /// Train a classifier of the captions' labels (or with --detector, a detector of their concepts) on generated images: a concept-cnn burnpack and its .json.
    Train(TrainArgs),
}

#[derive(Args)]
struct RankArgs {
    /// JSON lines {"caption": "2 red circle, 1 striped background", "label": K}.
    #[arg(long)]
    captions: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    /// AUROC of this class against the rest [default: class 1 of a two-class model, else the mean over the labels' classes].
    #[arg(long, value_name = "K")]
    target_class: Option<usize>,
    /// The performance measured: auroc or accuracy.
    #[arg(long, default_value = "auroc", value_parser = ["auroc", "accuracy"])]
    metric: String,
    /// Permutations per concept.
    #[arg(long, default_value_t = 25)]
    permutations: usize,
    /// Side of the generated images (each resized to the model's input on the device).
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Seeds the layouts (line i has the same one in every permutation) and the permutations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The embedded procedural renderer (default), or a text-to-image server http://HOST:PORT/PATH.
    #[arg(long, value_name = "URL")]
    generator: Option<String>,
    /// A concept detector for the independence check: any --model name with one sigmoid output per concept (outputs named after the concepts, as `concepts train --detector` names them, or in the captions' column order).
    #[arg(long, value_name = "NAME")]
    detector: Option<String>,
    /// The detector's weights, as --weights.
    #[arg(long, value_name = "FILE", requires = "detector")]
    detector_weights: Option<PathBuf>,
    /// The detector's input size, as --input-size.
    #[arg(long, value_name = "N|HxW", value_parser = crate::parse_size, requires = "detector")]
    detector_input_size: Option<[usize; 2]>,
    /// Real images for the effective-generation check: a folder with manifest.jsonl lines {"image": "file", "label": K} (as `concepts render` writes).
    #[arg(long, value_name = "DIR")]
    real: Option<PathBuf>,
    /// Images per generation and model batch.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Output folder: importance.json and importance.png.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct TrainArgs {
    /// JSON lines {"caption", "label"}: the training lines (each step gives them fresh layouts).
    #[arg(long)]
    captions: PathBuf,
    /// The burnpack to write (and its settings and held-out accuracy beside it, as .json).
    #[arg(long)]
    out: PathBuf,
    /// Train a detector of every concept's presence (one sigmoid output per concept) instead of a classifier of the labels.
    #[arg(long)]
    detector: bool,
    #[arg(long, default_value_t = 1500)]
    steps: usize,
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 0.002)]
    lr: f64,
    /// Side of the generated training images (and the model's input).
    #[arg(long, default_value_t = 64)]
    size: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The embedded procedural renderer (default), or a text-to-image server http://HOST:PORT/PATH.
    #[arg(long, value_name = "URL")]
    generator: Option<String>,
    /// auto, wgpu or cpu.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
}

#[derive(Args)]
struct RenderArgs {
    /// JSON lines {"caption": "2 red circle, 1 striped background", "label": K}.
    #[arg(long)]
    captions: PathBuf,
    /// Output folder (created; must not hold files already).
    #[arg(long)]
    out: PathBuf,
    /// Image side in pixels.
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Seeds every image's layout (line i gets its own seed from it).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The embedded procedural renderer (default), or a text-to-image server http://HOST:PORT/PATH.
    #[arg(long, value_name = "URL")]
    generator: Option<String>,
    /// auto, wgpu or cpu: where the procedural renderer runs.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
}

pub fn concepts(args: ConceptsArgs) -> anyhow::Result<()> {
    match args.command {
        ConceptsCommand::Render(args) => render(args),
        ConceptsCommand::Rank(args) => rank(args),
        ConceptsCommand::Train(args) => train(args),
    }
}

/// The manifest of `--real DIR`: its images and labels (a line without a
/// label takes the caption file's label of the same line).
fn real_images(dir: &Path, dataset: &Dataset) -> anyhow::Result<(Vec<image::RgbImage>, Vec<usize>)> {
    #[derive(serde::Deserialize)]
    struct Line {
        image: String,
        label: Option<i64>,
    }
    let path = dir.join("manifest.jsonl");
    let text = std::fs::read_to_string(&path).with_context(|| format!("--real {}: cannot read manifest.jsonl", dir.display()))?;
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = || format!("{}:{}", path.display(), n + 1);
        let line: Line = serde_json::from_str(line).with_context(at)?;
        let label = match line.label {
            Some(l) => usize::try_from(l).map_err(|_| anyhow::anyhow!("{}: label {l} is not a class id ≥ 0", at()))?,
            None => *dataset.labels.get(images.len()).ok_or_else(|| anyhow::anyhow!("{}: no label, and the captions have no line {}", at(), images.len() + 1))?,
        };
        images.push(io::load_image(&dir.join(&line.image))?);
        labels.push(label);
    }
    anyhow::ensure!(!images.is_empty(), "--real {}: manifest.jsonl lists no images", dir.display());
    Ok((images, labels))
}

fn rank(args: RankArgs) -> anyhow::Result<()> {
    let dataset = Dataset::read(&args.captions)?;
    let metric: pami::concepts::metric::Metric = args.metric.parse()?;
    anyhow::ensure!(args.permutations > 0, "--permutations must be at least 1");
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
    anyhow::ensure!((8..=1024).contains(&args.size), "--size must be between 8 and 1024 pixels");
    anyhow::ensure!(!dataset.concepts.is_empty(), "{}: the captions name no concept to permute", args.captions.display());
    let generator = pami::concepts::generator(args.generator.as_deref(), &dataset)?;
    generator.check_size(args.size)?;
    args.model.check()?;
    let detector_args = args.detector.as_ref().map(|name| ModelArgs {
        model: name.clone(),
        weights: args.detector_weights.clone(),
        num_classes: pami::model::torchvision::NAMES.contains(&name.as_str()).then_some(dataset.concepts.len()),
        input_size: args.detector_input_size,
        labels: None,
        mean: None,
        std: None,
        device: args.model.device,
    });
    if let Some(d) = &detector_args {
        d.check().context("--detector")?;
    }
    let real = args.real.as_ref().map(|dir| real_images(dir, &dataset)).transpose()?;
    anyhow::ensure!(!args.out.is_file(), "{}: is a file, not a folder", args.out.display());

    let runtime = pami::device::select(args.model.device)?;
    eprintln!("pami: running on {} ({}): {}", runtime.backend, runtime.adapter, runtime.reason);
    let model = args.model.load_on(&runtime)?;
    let detector = detector_args.as_ref().map(|d| d.load_on(&runtime)).transpose().context("--detector")?;
    let config = RankConfig { metric, target_class: args.target_class, permutations: args.permutations, size: args.size, seed: args.seed, batch: args.batch };
    let scorer = Scorer {
        generator: generator.as_ref(),
        model: model.model.as_ref(),
        detector: detector.as_ref().map(|d| d.model.as_ref() as &dyn pami::Model),
        device: runtime.device.clone(),
        size: args.size,
        batch: args.batch,
        seed: args.seed,
    };
    let steps = 1 + dataset.concepts.len() * args.permutations;
    eprintln!(
        "pami: {} lines, {} concepts × {} permutations, {} by {} on {}",
        dataset.len(),
        dataset.concepts.len(),
        args.permutations,
        args.metric,
        args.model.model,
        generator.name()
    );
    let bar = indicatif::ProgressBar::new(steps as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} image sets (baseline, then permutations), {per_sec}, ETA {eta}").expect("a valid progress template"));
    let start = std::time::Instant::now();
    let real_pair = real.as_ref().map(|(images, labels)| (images.as_slice(), labels.as_slice()));
    let ranking = pami::concepts::rank::rank(&dataset, &scorer, &config, real_pair, || bar.inc(1))?;
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let generated: f64 = dataset.len() as f64 * (1.0 + ranking.concepts.iter().map(|c| c.regenerated).sum::<f64>() * args.permutations as f64);

    let mut json = serde_json::to_value(&ranking)?;
    let extra = serde_json::json!({
        "target_class": args.target_class,
        "images": dataset.len(),
        "permutations": args.permutations,
        "size": args.size,
        "seed": args.seed,
        "generator": generator.name(),
        "model": args.model.model,
        "device": format!("{} ({})", runtime.backend, runtime.adapter),
        "images_generated": generated.round() as u64,
        "seconds": seconds,
        "images_per_second": generated / seconds.max(1e-9),
    });
    if let (Some(object), serde_json::Value::Object(more)) = (json.as_object_mut(), extra) {
        object.extend(more);
    }
    let plot = pami::concepts::plot::box_plot(&ranking, 720)?;
    // Both files are complete before either is in place.
    let png = io::png_bytes(&plot).context("importance.png")?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}: cannot create directory", args.out.display()))?;
    io::write_atomic(&args.out.join("importance.json"), serde_json::to_string_pretty(&json)?.as_bytes())?;
    io::write_atomic(&args.out.join("importance.png"), &png)?;
    println!("{:<28} {:>10} {:>8} {:>5}", "concept", "importance", "sd", "rank");
    for c in &ranking.concepts {
        println!("{:<28} {:>+10.4} {:>8.4} {:>5}", c.concept, c.importance_mean, c.importance_sd, c.rank);
    }
    eprintln!("pami: baseline {} {:.4}; {} images generated in {seconds:.1} s; wrote importance.json and importance.png to {}", args.metric, ranking.baseline, generated.round(), args.out.display());
    Ok(())
}

fn train(args: TrainArgs) -> anyhow::Result<()> {
    let dataset = Dataset::read(&args.captions)?;
    let generator = pami::concepts::generator(args.generator.as_deref(), &dataset)?;
    anyhow::ensure!((8..=1024).contains(&args.size), "--size must be between 8 and 1024 pixels");
    generator.check_size(args.size)?;
    let task = if args.detector { Task::Detect } else { Task::Classify };
    let config = TrainConfig { task, steps: args.steps, batch: args.batch, lr: args.lr, size: args.size, seed: args.seed };
    let runtime = pami::device::select(args.device)?;
    eprintln!("pami: training a {} on {} lines ({} concepts) on {} ({})", if args.detector { "detector" } else { "classifier" }, dataset.len(), dataset.concepts.len(), runtime.backend, runtime.adapter);
    let start = std::time::Instant::now();
    let model = pami::concepts::train::train(&dataset, generator.as_ref(), &config, &runtime.device, |step, loss, accuracy| {
        eprintln!("pami: step {step:>5}  loss {loss:.4}  held-out accuracy {accuracy:.3}  ({:.0} s)", start.elapsed().as_secs_f64());
    })?;
    let accuracy = pami::concepts::train::accuracy(&model, task, generator.as_ref(), &dataset, args.size, 1000, &runtime.device)?;
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create directory", parent.display()))?;
    }
    model.save(&args.out)?;
    let meta = serde_json::json!({
        "architecture": "concept-cnn",
        "classes": pami::concepts::train::outputs(task, &dataset),
        "concepts": dataset.concepts,
        "held_out_accuracy": accuracy,
        "training": config,
        "captions": args.captions,
        "seconds": start.elapsed().as_secs_f64(),
    });
    io::write_atomic(&args.out.with_extension("json"), serde_json::to_string_pretty(&meta)?.as_bytes())?;
    eprintln!("pami: wrote {}; held-out accuracy on {} lines with fresh layouts {accuracy:.3}", args.out.display(), dataset.len().min(1000));
    Ok(())
}

/// Images per device batch.
const BATCH: usize = 64;

fn render(args: RenderArgs) -> anyhow::Result<()> {
    let dataset = Dataset::read(&args.captions)?;
    let generator = pami::concepts::generator(args.generator.as_deref(), &dataset)?;
    anyhow::ensure!((8..=1024).contains(&args.size), "--size must be between 8 and 1024 pixels");
    generator.check_size(args.size)?;
    if args.out.exists() && std::fs::read_dir(&args.out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        anyhow::bail!("{}: exists and is not empty", args.out.display());
    }
    let runtime = pami::device::select(args.device)?;
    eprintln!("pami: rendering {} captions with {} on {} ({})", dataset.len(), generator.name(), runtime.backend, runtime.adapter);
    // Everything goes to a sibling folder that is renamed into place at the end.
    let parent = args.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("{}: cannot create directory", parent.display()))?;
    let name = args.out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = write_all(&args, &dataset, generator.as_ref(), &runtime.device, &staging).and_then(|()| {
        if args.out.exists() {
            std::fs::remove_dir(&args.out).with_context(|| format!("{}: cannot replace", args.out.display()))?;
        }
        std::fs::rename(&staging, &args.out).with_context(|| format!("{}: cannot move into place", args.out.display()))
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result?;
    eprintln!("pami: wrote {} images and manifest.jsonl to {}", dataset.len(), args.out.display());
    Ok(())
}

fn write_all(args: &RenderArgs, dataset: &Dataset, generator: &dyn pami::concepts::Generator, device: &burn::tensor::Device, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create directory", dir.display()))?;
    let bar = indicatif::ProgressBar::new(dataset.len() as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} images, {per_sec}, ETA {eta}").expect("a valid progress template"));
    let mut manifest = String::new();
    let size = args.size;
    let rows: Vec<usize> = (0..dataset.len()).collect();
    for chunk in rows.chunks(BATCH) {
        let captions: Vec<_> = chunk.iter().map(|&i| dataset.caption(&dataset.counts[i])).collect();
        let seeds: Vec<u64> = chunk.iter().map(|&i| image_seed(args.seed, i)).collect();
        let pixels = generator.batch(&captions, &seeds, size, device)?;
        let values = pixels.into_data().convert::<f32>().try_into_vec::<f32>().map_err(|e| anyhow::anyhow!("device read: {e:?}"))?;
        for (k, &i) in chunk.iter().enumerate() {
            let plane = size * size;
            let image = image::RgbImage::from_fn(size as u32, size as u32, |x, y| {
                let p = k * 3 * plane + y as usize * size + x as usize;
                image::Rgb([0, 1, 2].map(|c| values[p + c * plane] as u8))
            });
            let file = format!("{i:06}.png");
            io::write_png(&dir.join(&file), &image)?;
            manifest += &serde_json::json!({ "image": file, "caption": captions[k].text(), "label": dataset.labels[i] }).to_string();
            manifest.push('\n');
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    io::write_atomic(&dir.join("manifest.jsonl"), manifest.as_bytes())?;
    Ok(())
}
