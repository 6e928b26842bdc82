//! The `pami` command line: flags in, one line per error out. Everything it
//! runs is the library's (`pami::…`).

mod agnostic;
mod compare;
mod concepts;
mod flags;
mod segment;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// mimalloc instead of glibc's malloc: the CPU path allocates and frees
/// buffers of a few hundred KB to a few MB every forward pass, which glibc
/// serves with mmap/munmap; with Burn's threads those unmaps become TLB
/// shootdowns, and one batch shape in three took twice as long for it
/// (`cargo bench --bench throughput`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use pami::{DeviceChoice, EfficientNetLite0, Explainer, Explanation, Model, Targets, Zoo, io};

use flags::{MethodFlags, strategies};

#[derive(Parser)]
#[command(name = "pami", version, about = "Explain what an image classifier looks at (PAMI, on the GPU)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Importance maps for one image.
    Explain(ExplainArgs),
    /// The model's most probable classes for each image.
    Predict(PredictArgs),
    /// Superpixels of one image, as a label map.
    Segment(segment::SegmentArgs),
    /// Score explanation methods against annotated boxes: pointing game, insertion, deletion.
    Eval(EvalArgs),
    /// Explain a whole dataset: resumable, shardable, images batched together.
    Run(RunArgs),
    /// Serve explanations over HTTP: POST /explain (image bytes, options as query parameters), GET /healthz.
    Serve(ServeArgs),
    /// Train the synthetic ground-truth CNN (coloured shape among grey distractors).
    TrainSynthetic(TrainArgs),
    /// Input-agnostic saliency of classes (Akhtar & Jalwana 2023): one perturbation that sends fresh random inputs to the class.
    Agnostic(agnostic::AgnosticArgs),
    /// Scan every class for a backdoor: agnostic saliency (or Neural Cleanse) per class, anomaly index over classes: scan.json, scan.png.
    BackdoorScan(agnostic::ScanArgs),
    /// Train the BadNets ground truth on Fashion-MNIST: a CNN with a trigger backdoor, or with --clean its clean twin.
    TrainBadnets(agnostic::BadnetsArgs),
    /// Compare two models over a dataset by their attributions (IMACS): salient features clustered, each cluster's share of either model's attribution: summary.json, report.html.
    Compare(compare::CompareArgs),
    /// Concept importance over a dataset by permuting captions and regenerating images (DEPICT): render, rank, train.
    Concepts(concepts::ConceptsArgs),
    /// Benchmark the engine on every wgpu adapter (Vulkan, Metal, DX12, GL) and the CPU path: bench.json, bench.md.
    Bench(BenchArgs),
}

#[derive(Args)]
struct BenchArgs {
    /// The adapters to run: all, or part of an adapter's name or backend (e.g. `nvidia`, `vulkan`, `metal`, `dx12`, `gl`).
    #[arg(long, default_value = "all", value_name = "all|NAME")]
    adapter: String,
    /// auto: the adapters and the CPU path (the CPU path alone when there is no adapter); wgpu: the adapters; cpu: the CPU path.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// A smaller workload that finishes in under a minute on a CPU.
    #[arg(long)]
    quick: bool,
    /// Run only the rows whose id starts with PREFIX (repeatable), e.g. `--only model/`.
    #[arg(long, value_name = "PREFIX")]
    only: Vec<String>,
    /// Output directory for bench.json and bench.md.
    #[arg(long)]
    out: PathBuf,
}

fn bench(args: BenchArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}: cannot create directory", args.out.display()))?;
    let any_adapter = pami::device::probe_adapter().is_some();
    let (gpu, cpu) = match args.device {
        DeviceChoice::Auto => (any_adapter, true),
        DeviceChoice::Wgpu => (true, false),
        DeviceChoice::Cpu => (false, true),
    };
    let options = pami::bench::BenchOptions { adapter: args.adapter, gpu, cpu, quick: args.quick, only: args.only };
    let report = pami::bench::run(&options, |id| eprintln!("pami bench: {id}"))?;
    let json = serde_json::to_string_pretty(&report)?;
    io::write_atomic(&args.out.join("bench.json"), json.as_bytes())?;
    let md = pami::bench::markdown(&report);
    io::write_atomic(&args.out.join("bench.md"), md.as_bytes())?;
    print!("{md}");
    // An adapter that cannot run the workload is reported in bench.md and
    // bench.json; the command fails only when no target finished.
    for t in report.targets.iter().filter(|t| t.error.is_some()) {
        let name = t.adapter.as_ref().map_or("the CPU path".to_string(), |a| format!("{} ({})", a.name, a.backend));
        eprintln!("pami bench: {name} stopped early: {}", t.error.as_deref().unwrap_or_default());
    }
    if report.targets.iter().all(|t| t.error.is_some()) {
        anyhow::bail!("no target finished the workload (see bench.md)");
    }
    Ok(())
}

/// The model and the device, the same on every command.
#[derive(Args, Clone)]
struct ModelArgs {
    /// The model: efficientnet-lite0, synthetic-shapes, fashion-badnets or fashion-clean (weights
    /// embedded; the fashion models also take a burnpack of `pami train-badnets` as --weights),
    /// concept-cnn with the --weights of `pami concepts train` (--input-size N: its training size, default 64), or a torchvision
    /// architecture with --weights (resnet18…resnet152, vgg11…vgg19_bn, densenet121…201,
    /// mobilenet_v2, convnext_tiny…large, vit_b_16, vit_b_32, vit_l_16, vit_l_32, swin_t, swin_s, swin_b).
    #[arg(long, default_value = "efficientnet-lite0", value_name = "NAME")]
    model: String,
    /// Weights: a torchvision state_dict (`torch.save(model.state_dict())`, .pth, or the same
    /// tensors in .safetensors); for efficientnet-lite0, a PyTorch checkpoint instead of the embedded weights.
    #[arg(long, value_name = "FILE")]
    weights: Option<PathBuf>,
    /// Outputs of a torchvision model's classifier (the `num_classes` it was built with).
    #[arg(long, value_name = "C")]
    num_classes: Option<usize>,
    /// auto: a real GPU if present, else the CPU; wgpu forces the GPU path; cpu.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// Class names, one per line, one per model output (instead of the model's own).
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// A torchvision model's input size, N or HxW (default 224; a ViT takes squares whose side is a
    /// multiple of its patch, its position embeddings interpolated as torchvision does).
    #[arg(long, value_name = "N|HxW", value_parser = parse_size)]
    input_size: Option<[usize; 2]>,
    /// Per-channel mean on pixels scaled to [0, 1] (default: the model's; ImageNet's for torchvision).
    #[arg(long, value_name = "R,G,B", value_parser = parse_rgb, requires = "std")]
    mean: Option<[f32; 3]>,
    /// Per-channel standard deviation on pixels scaled to [0, 1].
    #[arg(long, value_name = "R,G,B", value_parser = parse_rgb, requires = "mean")]
    std: Option<[f32; 3]>,
}

/// The small CNN `pami concepts train` writes (its weights a burnpack).
const CONCEPT_CNN: &str = "concept-cnn";

/// The output names `pami concepts train` wrote beside a concept-cnn's
/// weights (`MODEL.json`, `classes`), if it is there.
fn concept_names(weights: &Path) -> anyhow::Result<Option<Vec<String>>> {
    let meta = weights.with_extension("json");
    if !meta.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&meta).with_context(|| format!("{}: cannot read", meta.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", meta.display()))?;
    Ok(value.get("classes").and_then(|c| serde_json::from_value(c.clone()).ok()))
}

/// `N` (a square) or `HxW`.
fn parse_size(text: &str) -> Result<[usize; 2], String> {
    let side = |t: &str| t.trim().parse::<usize>().ok().filter(|&n| n > 0);
    let size = match text.split_once(['x', 'X']) {
        Some((h, w)) => side(h).zip(side(w)).map(|(h, w)| [h, w]),
        None => side(text).map(|n| [n, n]),
    };
    size.ok_or_else(|| format!("`{text}` is not N or HxW (positive whole numbers)"))
}

/// Three comma-separated numbers.
fn parse_rgb(text: &str) -> Result<[f32; 3], String> {
    let values: Vec<f32> = text.split(',').map(|v| v.trim().parse::<f32>()).collect::<Result<_, _>>().map_err(|_| format!("`{text}` is not R,G,B"))?;
    values.try_into().map_err(|_| format!("`{text}` is not three numbers R,G,B"))
}

impl ModelArgs {
    /// The device (its choice printed) and the model on it.
    fn load(&self) -> anyhow::Result<(pami::Runtime, Explainer<Box<dyn Model>>)> {
        self.check()?;
        let runtime = pami::device::select(self.device)?;
        eprintln!("pami: running on {} ({}): {}", runtime.backend, runtime.adapter, runtime.reason);
        let explainer = self.load_on(&runtime)?;
        Ok((runtime, explainer))
    }

    /// Refuses flags that do not fit the model, before anything loads.
    fn check(&self) -> anyhow::Result<()> {
        let zoo = self.model.parse::<Zoo>().ok();
        let torchvision = pami::model::torchvision::NAMES.contains(&self.model.as_str());
        let concept = self.model == CONCEPT_CNN;
        match (zoo, &self.weights) {
            (None, _) if !torchvision && !concept => {
                let names: Vec<&str> = Zoo::ALL.iter().map(|z| z.name()).chain([CONCEPT_CNN]).chain(pami::model::torchvision::NAMES).collect();
                anyhow::bail!("unknown model `{}`: use {}", self.model, names.join(", "))
            }
            (None, None) if concept => anyhow::bail!("--model {CONCEPT_CNN} needs --weights (a burnpack of `pami concepts train`)"),
            (None, Some(_)) if concept && self.num_classes.is_some() => anyhow::bail!("--num-classes does not apply to {CONCEPT_CNN} (its outputs are read from the weights)"),
            (None, Some(_)) if concept && self.input_size.is_some_and(|[h, w]| h != w) => anyhow::bail!("{CONCEPT_CNN} takes square inputs: --input-size N"),
            (None, None) => anyhow::bail!("--model {} needs --weights (a torchvision state_dict, .pth or .safetensors)", self.model),
            (Some(Zoo::SyntheticShapes), Some(_)) => anyhow::bail!("--weights does not apply to synthetic-shapes (its weights are embedded)"),
            (Some(_), _) if self.num_classes.is_some() => anyhow::bail!("--num-classes applies to torchvision models, not {}", self.model),
            (Some(_), _) if self.input_size.is_some() => anyhow::bail!("--input-size applies to torchvision models, not {} (it runs at its trained size)", self.model),
            _ => {}
        }
        Ok(())
    }

    /// The model on `runtime`'s device (flags checked by [`Self::check`]).
    fn load_on(&self, runtime: &pami::Runtime) -> anyhow::Result<Explainer<Box<dyn Model>>> {
        let zoo = self.model.parse::<Zoo>().ok();
        let device = &runtime.device;
        let model: Box<dyn Model> = match (zoo, &self.weights) {
            (Some(Zoo::EfficientnetLite0), Some(path)) => Box::new(EfficientNetLite0::from_pytorch(path, device)?),
            (Some(Zoo::FashionBadnets | Zoo::FashionClean), Some(path)) => Box::new(pami::backdoor::FashionCnn::load(path, device)?),
            (Some(zoo), _) => zoo.load(device)?,
            (None, Some(path)) if self.model == CONCEPT_CNN => {
                let side = self.input_size.map_or(64, |[h, _]| h);
                Box::new(pami::synthetic::SyntheticCnn::load_concept(path, concept_names(path)?, side, device)?)
            }
            (None, Some(path)) => {
                let classes = self.num_classes.unwrap_or(1000);
                let model = pami::model::torchvision::Torchvision::load(&self.model, classes, path, device)?;
                match self.input_size {
                    Some(size) => Box::new(model.with_input_size(size).context("--input-size")?),
                    None => Box::new(model),
                }
            }
            (None, None) => unreachable!("checked above"),
        };
        let mut model = pami::model::Configured::new(model);
        if let Some(path) = &self.labels {
            let names = pami::model::labels::read(path)?;
            model = model.with_names(names).with_context(|| format!("--labels {}", path.display()))?;
        }
        if let (Some(mean), Some(std)) = (self.mean, self.std) {
            // Given on [0, 1], applied to pixels 0..255.
            let normalisation = pami::Normalisation { mean: mean.map(|m| m * 255.0), std: std.map(|s| s * 255.0) };
            model = model.with_normalisation(normalisation).context("--mean/--std")?;
        }
        let model: Box<dyn Model> = Box::new(model);
        Ok(Explainer::new(model, runtime.device.clone()))
    }
}

/// The explanation method's configuration from its flags; the batch from
/// the device unless `--batch` is given.
fn method_config(strategy: &str, flags: &MethodFlags, targets: Targets, runtime: &pami::Runtime, model: &dyn Model) -> anyhow::Result<pami::ExplainConfig> {
    Ok(pami::options::config(strategy, &flags.values, targets, runtime.batch_for(model))?)
}

#[derive(Args)]
struct ExplainArgs {
    /// The image (PNG or JPEG).
    image: PathBuf,
    /// Class to explain: an ImageNet id (0–999) or an exact class name. Repeat for several.
    #[arg(long = "target", value_name = "CLASS", conflicts_with = "top_k")]
    targets: Vec<String>,
    /// Explain the K most probable classes (default 1 when no --target is given).
    #[arg(long, value_name = "K")]
    top_k: Option<usize>,
    /// The method.
    #[arg(long, default_value = "window", value_parser = strategies())]
    strategy: String,
    #[command(flatten)]
    method: MethodFlags,
    #[command(flatten)]
    model: ModelArgs,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
}

/// A file-name-safe form of a class name.
fn slug(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect()
}

fn write_outputs(out: &Path, stem: &str, image: &image::RgbImage, e: &Explanation, json: serde_json::Value) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create directory", out.display()))?;
    for (t, target) in e.targets.iter().enumerate() {
        let base = format!("{stem}.class{}_{}", target.class, slug(&target.name));
        io::write_npy(&out.join(format!("{base}.npy")), e.map(t), &e.map_size)?;
        io::write_npy(&out.join(format!("{base}.full.npy")), e.map_full(t), &e.image_size)?;
        io::write_png(&out.join(format!("{base}.png")), &io::overlay(image, e.map_full(t)))?;
    }
    let text = serde_json::to_string_pretty(&json)?;
    io::write_atomic(&out.join(format!("{stem}.json")), text.as_bytes())?;
    Ok(())
}

fn explain(args: ExplainArgs) -> anyhow::Result<()> {
    let image = io::load_image(&args.image)?;
    let (runtime, explainer) = args.model.load()?;
    let targets = Targets::from_classes(&args.targets, args.top_k, explainer.model.class_names())?;
    let config = method_config(&args.strategy, &args.method, targets, &runtime, &explainer.model)?;
    let explanation = explainer.explain(&image, &config)?;
    let stem = args.image.file_stem().and_then(|s| s.to_str()).unwrap_or("image").to_owned();
    let json = serde_json::json!({
        "image": args.image,
        "backend": runtime.backend,
        "adapter": runtime.adapter,
        "model": args.model.model.as_str(),
        "config": config,
        "explanation": explanation,
    });
    write_outputs(&args.out, &stem, &image, &explanation, json)?;
    for t in &explanation.targets {
        eprintln!("pami: class {} ({}), p = {:.3}", t.class, t.name, t.probability);
    }
    eprintln!(
        "pami: {} parts, {} forward passes, {:.1} s; wrote {}",
        explanation.parts,
        explanation.forward_passes,
        explanation.timings.total(),
        args.out.display()
    );
    Ok(())
}

#[derive(Args)]
struct PredictArgs {
    /// The images (PNG or JPEG).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    /// Classes per image, most probable first.
    #[arg(long, default_value_t = 5, value_name = "K")]
    top_k: usize,
    /// Print `[{"image", "predictions": [{"class", "name", "logit", "probability"}]}]` on stdout.
    #[arg(long)]
    json: bool,
}

fn predict(args: PredictArgs) -> anyhow::Result<()> {
    // Every image is read before the model is loaded: a bad one is the only error.
    let images = args.images.iter().map(|p| io::load_image(p)).collect::<Result<Vec<_>, _>>()?;
    let (runtime, explainer) = args.model.load()?;
    let scores = explainer.predict(&images, args.top_k, runtime.batch_for(&explainer.model))?;
    if args.json {
        #[derive(serde::Serialize)]
        struct Row<'a> {
            image: &'a Path,
            predictions: &'a [pami::ClassScore],
        }
        let rows: Vec<Row> = args.images.iter().zip(&scores).map(|(image, predictions)| Row { image, predictions }).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for (image, predictions) in args.images.iter().zip(&scores) {
        println!("{}", image.display());
        for (rank, p) in predictions.iter().enumerate() {
            println!("  {}. class {} ({}): p = {:.4}, logit {:.3}", rank + 1, p.class, p.name, p.probability, p.logit);
        }
    }
    Ok(())
}

#[derive(Args)]
struct EvalArgs {
    /// Folder of PNG/JPEG images.
    #[arg(long)]
    images: PathBuf,
    /// JSON: {"file.png": {"classes": [ids], "box": [x0, y0, x1, y1]}, …} (inclusive pixels).
    #[arg(long)]
    boxes: PathBuf,
    /// Methods to compare, by report name (pami-window, pami-segments, occlusion, rise, ablation, saliency, integrated-gradients, smoothgrad, gradcam) or --strategy value.
    #[arg(long, value_delimiter = ',', default_value = "pami-window,pami-segments,occlusion,rise")]
    methods: Vec<String>,
    /// Pixels inserted or deleted per step of the curves (of the 224² model input).
    #[arg(long, default_value_t = 224)]
    step: usize,
    /// Pointing-game tolerance in image pixels.
    #[arg(long, default_value_t = 15.0)]
    tolerance: f32,
    #[command(flatten)]
    method: MethodFlags,
    #[command(flatten)]
    model: ModelArgs,
    /// Output directory: results.md, results.csv, images/<image>.json.
    #[arg(long)]
    out: PathBuf,
}

fn eval(args: EvalArgs) -> anyhow::Result<()> {
    use pami::eval;
    anyhow::ensure!(!args.methods.is_empty(), "no method given");
    // Every method's options are checked before the model loads or any image is read.
    for name in &args.methods {
        pami::options::config(name, &args.method.values, Targets::TopK(1), 1)?;
    }
    let (runtime, explainer) = args.model.load()?;
    let mut methods = Vec::new();
    for name in &args.methods {
        let config = method_config(name, &args.method, Targets::TopK(1), &runtime, &explainer.model)?;
        methods.push((config.method.name().to_owned(), config));
    }
    let batch = methods[0].1.batch;
    for (name, method) in &methods {
        explainer.validate(method).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    }
    let (annotated, unannotated) =
        eval::annotated_images(&args.images, &args.boxes, explainer.model.class_names().len())?;
    if !unannotated.is_empty() {
        let names: Vec<String> = unannotated.iter().filter_map(|p| p.file_name()).map(|f| f.to_string_lossy().into_owned()).collect();
        eprintln!("pami: no box in {} for {}: not evaluated", args.boxes.display(), names.join(", "));
    }
    let per_image = args.out.join("images");
    std::fs::create_dir_all(&per_image).with_context(|| format!("{}: cannot create directory", per_image.display()))?;
    let curves = pami::metrics::CurveConfig { step: args.step, batch, ..Default::default() };
    let config = eval::EvalConfig { methods, curves, tolerance: args.tolerance };
    let mut results = Vec::new();
    let mut failures = Vec::new();
    for (i, (path, annotation)) in annotated.iter().enumerate() {
        let name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        eprintln!("pami: [{}/{}] {name}", i + 1, annotated.len());
        match eval::evaluate_image(&explainer, path, annotation, &config) {
            Ok(result) => {
                let stem = path.file_stem().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                io::write_atomic(&per_image.join(format!("{stem}.json")), &serde_json::to_vec_pretty(&result)?)?;
                for m in &result.methods {
                    eprintln!(
                        "pami:   {:<14} pointing {} insertion {:.3} deletion {:.3} ({:.1} s)",
                        m.method, m.pointing_hit as u8, m.curves.insertion_auc, m.curves.deletion_auc, m.seconds
                    );
                }
                results.push(result);
            }
            Err(e) => {
                eprintln!("pami:   skipped: {e}");
                failures.push((name, e.to_string()));
            }
        }
    }
    let summary = eval::summarise(&results);
    io::write_atomic(&args.out.join("results.md"), eval::markdown(&summary, &failures).as_bytes())?;
    io::write_atomic(&args.out.join("results.csv"), eval::csv(&results).as_bytes())?;
    let json = serde_json::json!({ "summary": summary, "failures": failures, "step": args.step, "tolerance": args.tolerance });
    io::write_atomic(&args.out.join("results.json"), &serde_json::to_vec_pretty(&json)?)?;
    print!("{}", eval::markdown(&summary, &failures));
    anyhow::ensure!(failures.is_empty(), "{} of {} images could not be evaluated (listed in {})", failures.len(), annotated.len(), args.out.join("results.md").display());
    Ok(())
}

#[derive(Args)]
struct RunArgs {
    /// A folder of PNG/JPEG images (searched recursively) or a JSON-lines manifest of {"image": "path"}.
    #[arg(long)]
    input: PathBuf,
    /// Output folder: per image <name>.<model>.<method>.class<id>.npy and <name>.<model>.<method>.json, and results.jsonl.
    #[arg(long)]
    out: PathBuf,
    /// Explain the K most probable classes of each image.
    #[arg(long, default_value_t = 1)]
    top_k: usize,
    /// The method.
    #[arg(long, default_value = "window", value_parser = strategies())]
    strategy: String,
    #[command(flatten)]
    method: MethodFlags,
    /// Images whose parts share model batches.
    #[arg(long, default_value_t = 4)]
    images_per_batch: usize,
    #[command(flatten)]
    model: ModelArgs,
    /// This process's share i/n of the dataset (every n-th image from the i-th, in name order).
    #[arg(long, value_name = "I/N")]
    shard: Option<pami::run::Shard>,
    /// Also write an overlay PNG per target.
    #[arg(long)]
    png: bool,
    /// Pointing-game tolerance in image pixels, for manifest lines with boxes.
    #[arg(long, default_value_t = 15.0)]
    tolerance: f32,
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.images_per_batch >= 1, "--images-per-batch must be at least 1");
    // Options are checked before any image is read.
    pami::options::config(&args.strategy, &args.method.values, Targets::TopK(args.top_k), 1)?;
    let mut jobs = pami::run::jobs(&args.input)?;
    if let Some(shard) = args.shard {
        jobs = shard.select(jobs);
    }
    let (runtime, explainer) = args.model.load()?;
    let config = method_config(&args.strategy, &args.method, Targets::TopK(args.top_k), &runtime, &explainer.model)?;
    explainer.validate(&config)?;
    let key = pami::run::RunKey { model: args.model.model.clone(), method: config.method.name().into() };
    let options = pami::run::RunOptions { out: args.out.clone(), key, images_per_batch: args.images_per_batch, png: args.png, tolerance: args.tolerance };
    let todo = options.pending(&jobs).len();
    eprintln!("pami: {} images, {} already done, {todo} to explain", jobs.len(), jobs.len() - todo);
    eprintln!("pami: {}, {}, {} composites per forward pass, {} images per batch", args.model.model.as_str(), config.method.name(), config.batch, args.images_per_batch);
    let bar = indicatif::ProgressBar::new(todo as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} images, {per_sec}, ETA {eta} {msg}")
            .expect("a valid progress template"),
    );
    let summary = pami::run::explain_dataset(&explainer, &jobs, &config, &options, |job, error| {
        if let Some(error) = error {
            bar.suspend(|| eprintln!("pami: failed {}: {error}", job.image.display()));
        }
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    let failed = summary.failures.len();
    eprintln!("pami: {} of {} images done, {failed} failed; wrote {}", summary.done, jobs.len(), args.out.display());
    anyhow::ensure!(failed == 0, "{failed} images failed (listed in {})", args.out.join("failures.jsonl").display());
    Ok(())
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (port 0: any free port; the chosen one is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    #[command(flatten)]
    model: ModelArgs,
    /// Images of different requests (same method and options) that share model batches.
    #[arg(long, default_value_t = 4)]
    images_per_batch: usize,
    /// Requests waiting for the device beyond which new ones get 503.
    #[arg(long, default_value_t = 64)]
    queue: usize,
    /// Largest request body in bytes (413 beyond).
    #[arg(long, default_value_t = 32 << 20)]
    max_body: usize,
    /// Seconds from a request's arrival to its answer (504 beyond).
    #[arg(long, default_value_t = 120.0)]
    timeout: f64,
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.timeout > 0.0 && args.timeout.is_finite(), "--timeout must be a positive number of seconds");
    let (runtime, explainer) = args.model.load()?;
    let batch = runtime.batch_for(&explainer.model);
    let info = serde_json::json!({ "model": args.model.model.as_str(), "backend": runtime.backend, "adapter": runtime.adapter });
    let options = pami::serve::ServeOptions {
        addr: args.addr,
        images_per_batch: args.images_per_batch,
        queue: args.queue,
        max_body: args.max_body,
        timeout: Duration::from_secs_f64(args.timeout),
    };
    Ok(pami::serve::serve(options, explainer, batch, info)?)
}

#[derive(Args)]
struct TrainArgs {
    /// Optimiser steps.
    #[arg(long, default_value_t = 1500)]
    steps: usize,
    /// Samples per step (each drawn fresh).
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Decay the learning rate to 0 along a half cosine over the steps (used for the ViT).
    #[arg(long)]
    cosine: bool,
    /// auto, wgpu or cpu.
    #[arg(long, default_value = "cpu")]
    device: DeviceChoice,
    /// The backbone: cnn (the embedded synthetic-shapes model), resnet18 (torchvision's) or vit
    /// (4 layers, 4 heads, width 128, 8×8 patches).
    #[arg(long, default_value = "cnn", value_name = "cnn|resnet18|vit")]
    backbone: String,
    /// Where the weights go (burnpack; default models/synthetic_shapes.bpk, models/synthetic_resnet18.bpk
    /// or models/synthetic_vit.bpk).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn train_synthetic(args: TrainArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.steps > 0 && args.batch > 0, "--steps and --batch must be at least 1");
    let runtime = pami::device::select(args.device)?;
    eprintln!("pami: training on {} ({})", runtime.backend, runtime.adapter);
    let start = std::time::Instant::now();
    let backbone: pami::synthetic::backbone::Backbone = args.backbone.parse()?;
    let out = args.out.unwrap_or_else(|| backbone.weights_file().into());
    let model = pami::synthetic::train::train_backbone(backbone, args.steps, args.batch, pami::synthetic::train::Schedule { lr: args.lr, cosine: args.cosine }, &runtime.device, |step, loss, accuracy| {
        eprintln!("pami: step {step:>5}  loss {loss:.4}  held-out accuracy {accuracy:.3}  ({:.0} s)", start.elapsed().as_secs_f64());
    });
    model.save(&out)?;
    let accuracy = pami::synthetic::train::model_accuracy(&model, 1000, &runtime.device);
    eprintln!("pami: wrote {}; held-out accuracy on 1000 images {accuracy:.3}", out.display());
    Ok(())
}


fn main() -> ExitCode {
    // Mesa's Vulkan drivers load libwayland, which prints "error: XDG_RUNTIME_DIR is
    // invalid or not set" on headless machines while wgpu enumerates adapters. That line
    // is not pami's error; give libwayland a directory to look in (and find no display).
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // SAFETY: no other thread exists yet.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir()) };
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Explain(args) => explain(args),
        Command::Predict(args) => predict(args),
        Command::Segment(args) => segment::segment(args),
        Command::Eval(args) => eval(args),
        Command::Run(args) => run(args),
        Command::Serve(args) => serve(args),
        Command::TrainSynthetic(args) => train_synthetic(args),
        Command::Bench(args) => bench(args),
        Command::Agnostic(args) => agnostic::agnostic(args),
        Command::BackdoorScan(args) => agnostic::backdoor_scan(args),
        Command::TrainBadnets(args) => agnostic::train_badnets(args),
        Command::Compare(args) => compare::compare(args),
        Command::Concepts(args) => concepts::concepts(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
