//! The `pami` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod serve;

/// mimalloc instead of glibc's malloc: the CPU path allocates and frees
/// buffers of a few hundred KB to a few MB every forward pass, which glibc
/// serves with mmap/munmap; with Burn's threads those unmaps become TLB
/// shootdowns, and one batch shape in three took twice as long for it
/// (`cargo bench --bench throughput`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use pami::{
    Baseline, Blur, DeviceChoice, EfficientNetLite0, ExplainConfig, Explainer, Explanation, Occlusion, Padding, PartKind,
    Rise, Score, SegmentsConfig, Shifts, Strategy, Targets, WindowGrid, Zoo, io,
};

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
    /// Superpixels of one image, as a label map.
    Segment(SegmentArgs),
    /// Score explanation methods against annotated boxes: pointing game, insertion, deletion.
    Eval(EvalArgs),
    /// Explain a whole dataset: resumable, shardable, images batched together.
    Run(RunArgs),
    /// Serve explanations over HTTP: POST /explain (image bytes, options as query parameters), GET /healthz.
    Serve(serve::ServeArgs),
    /// Train the synthetic ground-truth CNN (coloured shape among grey distractors).
    TrainSynthetic(TrainArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum MethodArg {
    /// SLIC (scikit-image's slic semantics).
    Slic,
    /// Felzenszwalb–Huttenlocher graph segmentation (scikit-image's felzenszwalb).
    Felzenszwalb,
    /// SEEDS (OpenCV ximgproc's createSuperpixelSEEDS + iterate).
    Seeds,
    /// Compact watershed on the Sobel gradient from a grid of markers.
    Watershed,
}

#[derive(Clone, Copy, ValueEnum)]
enum PresetArg {
    /// The paper's twenty settings (Table 3); `--out` is a directory.
    Paper,
}

#[derive(Args)]
struct SegmentArgs {
    /// The image (PNG or JPEG).
    image: PathBuf,
    #[arg(long, value_enum, default_value = "slic")]
    method: MethodArg,
    /// Resize the image to N×N first (the model input is 224×224).
    #[arg(long, value_name = "N")]
    resize: Option<u32>,
    /// SLIC: approximate number of segments.
    #[arg(long, default_value_t = 100)]
    n_segments: usize,
    /// SLIC: balance of colour and space proximity (default 10); watershed: weight of
    /// the distance to the marker (default 0).
    #[arg(long, allow_negative_numbers = true)]
    compactness: Option<f32>,
    /// Watershed: number of markers on a regular grid.
    #[arg(long, default_value_t = 100)]
    markers: usize,
    /// SLIC: k-means iterations.
    #[arg(long, default_value_t = 10)]
    max_num_iter: usize,
    /// Gaussian pre-smoothing: SLIC only supports 0 (its default); Felzenszwalb default 0.8.
    #[arg(long, allow_negative_numbers = true)]
    sigma: Option<f32>,
    /// Felzenszwalb: observation scale, higher for larger segments.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    scale: f32,
    /// Felzenszwalb: segments under this many pixels join a neighbour.
    #[arg(long, default_value_t = 20)]
    min_size: usize,
    /// SEEDS: requested superpixels (OpenCV's block grid gives fewer).
    #[arg(long, default_value_t = 100)]
    num_superpixels: usize,
    /// SEEDS: block levels.
    #[arg(long, default_value_t = 4)]
    num_levels: usize,
    /// SEEDS: pixel-update iterations.
    #[arg(long, default_value_t = 4)]
    iterations: usize,
    /// SEEDS: shape prior, 0..=5.
    #[arg(long, default_value_t = 2)]
    prior: u32,
    /// SEEDS: two block-update rounds per level.
    #[arg(long)]
    double_step: bool,
    /// Run a preset ensemble instead of one method: writes DIR/<setting>.npy,
    /// DIR/<setting>.png (boundaries) and DIR/segments.json.
    #[arg(long, value_enum, conflicts_with_all = ["method", "png"])]
    preset: Option<PresetArg>,
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceChoice,
    /// Label map output: int32 `.npy` of shape [H, W], labels 0..n (a directory with --preset).
    #[arg(long)]
    out: PathBuf,
    /// Also write the image with the segment boundaries drawn.
    #[arg(long, value_name = "PNG")]
    png: Option<PathBuf>,
}

fn segment(args: SegmentArgs) -> anyhow::Result<()> {
    let mut image = io::load_image(&args.image)?;
    if let Some(n) = args.resize {
        anyhow::ensure!(n >= 2, "--resize must be at least 2");
        image = image::imageops::resize(&image, n, n, image::imageops::FilterType::Triangle);
    }
    let runtime = pami::device::select(args.device)?;
    eprintln!("pami: running on {} ({}): {}", runtime.backend, runtime.adapter, runtime.reason);
    let (w, h) = (image.width() as usize, image.height() as usize);
    let x = burn::tensor::Tensor::<4>::from_data(
        burn::tensor::TensorData::new(pami::explain::to_chw(&image), [1, 3, h, w]),
        &runtime.device,
    );
    if args.preset.is_some() {
        return segment_preset(&image, &x, &args.out);
    }
    let seg = match args.method {
        MethodArg::Slic => pami::segment::Slic {
            n_segments: args.n_segments,
            compactness: args.compactness.unwrap_or(10.0),
            max_num_iter: args.max_num_iter,
            sigma: args.sigma.unwrap_or(0.0),
            ..Default::default()
        }
        .segment(&x)?,
        MethodArg::Felzenszwalb => {
            pami::segment::Felzenszwalb { scale: args.scale, sigma: args.sigma.unwrap_or(0.8), min_size: args.min_size }
                .segment(&x)?
        }
        MethodArg::Seeds => pami::segment::Seeds {
            num_superpixels: args.num_superpixels,
            num_levels: args.num_levels,
            iterations: args.iterations,
            prior: args.prior,
            double_step: args.double_step,
            ..Default::default()
        }
        .segment(&x)?,
        MethodArg::Watershed => {
            pami::segment::Watershed { markers: args.markers, compactness: args.compactness.unwrap_or(0.0) }.segment(&x)?
        }
    };
    let labels: Vec<i32> = seg.labels.into_data().convert::<i32>().try_into_vec().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    io::write_npy(&args.out, &labels, &[h, w])?;
    if let Some(png) = &args.png {
        io::write_png(png, &io::mark_boundaries(&image, &labels))?;
    }
    eprintln!("pami: {} segments; wrote {}", seg.counts[0], args.out.display());
    Ok(())
}

/// Every setting of the paper's preset on one image, one label map per setting.
fn segment_preset(image: &image::RgbImage, x: &burn::tensor::Tensor<4>, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let (w, h) = (image.width() as usize, image.height() as usize);
    let preset = pami::segment::paper();
    let start = std::time::Instant::now();
    let segmentations = pami::segment::segment_all(x, &preset)?;
    let mut summary = Vec::new();
    for (segmenter, seg) in preset.iter().zip(segmentations) {
        let labels: Vec<i32> = seg.labels.into_data().convert::<i32>().try_into_vec().map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let name = segmenter.name();
        io::write_npy(&dir.join(format!("{name}.npy")), &labels, &[h, w])?;
        io::write_png(&dir.join(format!("{name}.png")), &io::mark_boundaries(image, &labels))?;
        eprintln!("pami: {name}: {} segments", seg.counts[0]);
        summary.push(serde_json::json!({ "setting": name, "segmenter": segmenter, "segments": seg.counts[0] }));
    }
    let seconds = start.elapsed().as_secs_f64();
    let json = serde_json::to_vec_pretty(&serde_json::json!({ "preset": "paper", "width": w, "height": h, "seconds": seconds, "settings": summary }))?;
    io::write_atomic(&dir.join("segments.json"), &json)?;
    eprintln!("pami: wrote {} label maps to {} ({seconds:.2} s)", summary.len(), dir.display());
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StrategyArg {
    /// Sliding windows (PAMI Strategy I).
    Window,
    /// The segments of the paper's twenty pre-segmentations (PAMI Strategy II).
    Segments,
    /// Occlusion (Captum's Occlusion: the score drop when a square is replaced by the baseline).
    Occlusion,
    /// RISE (random soft masks, score-weighted).
    Rise,
}

impl StrategyArg {
    /// The name `pami eval --methods` uses.
    fn from_method(name: &str) -> Option<Self> {
        Some(match name {
            "pami-window" | "window" => StrategyArg::Window,
            "pami-segments" | "segments" => StrategyArg::Segments,
            "occlusion" => StrategyArg::Occlusion,
            "rise" => StrategyArg::Rise,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ShapeArg {
    Circle,
    Rect,
}

#[derive(Clone, Copy, ValueEnum)]
enum BaselineArg {
    Blur,
    Black,
    White,
    Mean,
    /// Zero in the model's normalised input (Captum's and RISE's default).
    Zero,
}

#[derive(Clone, Copy, ValueEnum)]
enum PaddingArg {
    Zero,
    Reflect,
}

/// How a method partitions, perturbs and scores; shared by `explain` and `eval`.
#[derive(Args)]
struct MethodArgs {
    /// Window shape (window strategy).
    #[arg(long, value_enum, default_value = "circle")]
    shape: ShapeArg,
    /// Window radius (or half side) in model-input pixels; repeat for multi-scale windows.
    #[arg(long, default_values_t = [40])]
    radius: Vec<u32>,
    /// Distance between windows in model-input pixels (window: 6, one per radius or one
    /// for all; occlusion: 8).
    #[arg(long)]
    stride: Vec<u32>,
    /// Segments strategy: explain again with the segments of the colour-mapped first map.
    #[arg(long)]
    second_run: bool,
    /// Segments strategy: average over cyclic shifts of the image (reference: the public
    /// code's 13).
    #[arg(long, value_enum, default_value = "none")]
    shifts: Shifts,
    /// Occlusion: side of the occluded square in model-input pixels.
    #[arg(long, default_value_t = 15)]
    window: u32,
    /// RISE: number of masks.
    #[arg(long, default_value_t = 4000)]
    masks: usize,
    /// RISE: grid side.
    #[arg(long, default_value_t = 7)]
    grid: usize,
    /// RISE: probability that a grid cell keeps the image.
    #[arg(long, default_value_t = 0.5)]
    keep: f32,
    /// RISE: seed of the masks.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// What replaces the removed pixels (default: blur for PAMI, zero for occlusion and RISE).
    #[arg(long, value_enum)]
    baseline: Option<BaselineArg>,
    /// Blur kernel: paper (49×49, σ 100), gaussian:SIZE:SIGMA or box:SIZE.
    #[arg(long, default_value = "paper")]
    blur: String,
    /// Blur edge handling.
    #[arg(long, value_enum, default_value = "zero")]
    padding: PaddingArg,
    /// Score of a composite: softmax probability (paper) or logit.
    #[arg(long, value_enum, default_value = "probability")]
    score: Score,
    /// Composites per forward pass [default: as many as the device's storage
    /// binding holds for the model, at most 64; 16 on the CPU].
    #[arg(long)]
    batch: Option<usize>,
}

impl MethodArgs {
    /// `--batch`, or the size the device's limits allow for `model`.
    fn batch_for(&self, runtime: &pami::Runtime, model: &dyn pami::Model) -> usize {
        self.batch.unwrap_or_else(|| runtime.batch_for(model))
    }
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
    #[arg(long, value_enum, default_value = "window")]
    strategy: StrategyArg,
    #[command(flatten)]
    method: MethodArgs,
    /// auto: a real GPU if present, else the CPU; wgpu forces the GPU path.
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceChoice,
    /// The model to explain (its weights are embedded).
    #[arg(long, value_enum, default_value = "efficientnet-lite0")]
    model: Zoo,
    /// EfficientNet-Lite0 weights as a PyTorch checkpoint instead of the embedded ones.
    #[arg(long, value_name = "PTH")]
    weights: Option<PathBuf>,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
}

fn strategy(kind: StrategyArg, args: &MethodArgs) -> anyhow::Result<Strategy> {
    Ok(match kind {
        StrategyArg::Window => {
            let shape = match args.shape {
                ShapeArg::Circle => PartKind::Circle,
                ShapeArg::Rect => PartKind::Rect,
            };
            let strides = if args.stride.is_empty() { vec![6] } else { args.stride.clone() };
            anyhow::ensure!(
                strides.len() == 1 || strides.len() == args.radius.len(),
                "give one --stride, or one per --radius ({} radii, {} strides)",
                args.radius.len(),
                strides.len()
            );
            let grids = args
                .radius
                .iter()
                .enumerate()
                .map(|(i, &radius)| WindowGrid { shape, radius, stride: strides[i.min(strides.len() - 1)] })
                .collect();
            Strategy::Window(grids)
        }
        StrategyArg::Segments => Strategy::Segments(SegmentsConfig { second_run: args.second_run, shifts: args.shifts }),
        StrategyArg::Occlusion => {
            anyhow::ensure!(args.stride.len() <= 1, "occlusion takes one --stride");
            Strategy::Occlusion(Occlusion { window: args.window, stride: args.stride.first().copied().unwrap_or(8) })
        }
        StrategyArg::Rise => Strategy::Rise(Rise { masks: args.masks, grid: args.grid, probability: args.keep, seed: args.seed }),
    })
}

fn config(kind: StrategyArg, args: &MethodArgs, targets: Targets) -> anyhow::Result<ExplainConfig> {
    let padding = match args.padding {
        PaddingArg::Zero => Padding::Zero,
        PaddingArg::Reflect => Padding::Reflect,
    };
    let default = match kind {
        StrategyArg::Window | StrategyArg::Segments => BaselineArg::Blur,
        StrategyArg::Occlusion | StrategyArg::Rise => BaselineArg::Zero,
    };
    let baseline = match args.baseline.unwrap_or(default) {
        BaselineArg::Blur => Baseline::Blur(Blur::parse(&args.blur)?.with_padding(padding)),
        BaselineArg::Black => Baseline::Black,
        BaselineArg::White => Baseline::White,
        BaselineArg::Mean => Baseline::Mean,
        BaselineArg::Zero => Baseline::Zero,
    };
    Ok(ExplainConfig { strategy: strategy(kind, args)?, baseline, targets, score: args.score, batch: args.batch.unwrap_or(pami::device::CPU_BATCH), top: 5 })
}

/// The `--target` classes (ids or names among `names`), else the `--top-k`
/// most probable (one by default); `explain` and `serve` read them alike.
fn targets(classes: &[String], top_k: Option<usize>, names: &[String]) -> Result<Targets, pami::Error> {
    if classes.is_empty() {
        return Ok(Targets::TopK(top_k.unwrap_or(1)));
    }
    classes.iter().map(|c| pami::model::class_id(c, names)).collect::<Result<_, _>>().map(Targets::Classes)
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
    let runtime = pami::device::select(args.device)?;
    eprintln!("pami: running on {} ({}): {}", runtime.backend, runtime.adapter, runtime.reason);
    let model: Box<dyn pami::Model> = match (&args.weights, args.model) {
        (Some(path), Zoo::EfficientnetLite0) => Box::new(EfficientNetLite0::from_pytorch(path, &runtime.device)?),
        (Some(_), other) => anyhow::bail!("--weights loads EfficientNet-Lite0 checkpoints, not {}", other.name()),
        (None, zoo) => zoo.load(&runtime.device)?,
    };
    let explainer = Explainer::new(model, runtime.device.clone());
    let targets = targets(&args.targets, args.top_k, pami::Model::class_names(&explainer.model))?;
    let mut config = config(args.strategy, &args.method, targets)?;
    config.batch = args.method.batch_for(&runtime, &explainer.model);
    let explanation = explainer.explain(&image, &config)?;
    let stem = args.image.file_stem().and_then(|s| s.to_str()).unwrap_or("image").to_owned();
    let json = serde_json::json!({
        "image": args.image,
        "backend": runtime.backend,
        "adapter": runtime.adapter,
        "model": args.model.name(),
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
        explanation.timings.total,
        args.out.display()
    );
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
    /// Methods to compare: pami-window, pami-segments, occlusion, rise.
    #[arg(long, value_delimiter = ',', default_value = "pami-window,pami-segments,occlusion,rise")]
    methods: Vec<String>,
    /// Pixels inserted or deleted per step of the curves (of the 224² model input).
    #[arg(long, default_value_t = 224)]
    step: usize,
    /// Pointing-game tolerance in image pixels.
    #[arg(long, default_value_t = 15.0)]
    tolerance: f32,
    #[command(flatten)]
    method: MethodArgs,
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceChoice,
    /// Output directory: results.md, results.csv, images/<image>.json.
    #[arg(long)]
    out: PathBuf,
}

fn eval(args: EvalArgs) -> anyhow::Result<()> {
    use pami::eval;
    let mut methods = Vec::new();
    for name in &args.methods {
        let kind = StrategyArg::from_method(name)
            .ok_or_else(|| anyhow::anyhow!("unknown method `{name}`: use pami-window, pami-segments, occlusion or rise"))?;
        let config = config(kind, &args.method, Targets::TopK(1))?;
        methods.push((config.strategy.name().to_owned(), config));
    }
    anyhow::ensure!(!methods.is_empty(), "no method given");
    let runtime = pami::device::select(args.device)?;
    eprintln!("pami: running on {} ({}): {}", runtime.backend, runtime.adapter, runtime.reason);
    let model = EfficientNetLite0::pretrained(&runtime.device)?;
    let explainer = Explainer::new(model, runtime.device.clone());
    let batch = args.method.batch_for(&runtime, &explainer.model);
    for (_, method) in methods.iter_mut() {
        method.batch = batch;
    }
    for (name, method) in &methods {
        explainer.validate(method).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    }
    let (annotated, unannotated) =
        eval::annotated_images(&args.images, &args.boxes, pami::Model::class_names(&explainer.model).len())?;
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
    /// Output folder: per image <name>.class<id>.npy and <name>.json, and results.jsonl.
    #[arg(long)]
    out: PathBuf,
    /// Explain the K most probable classes of each image.
    #[arg(long, default_value_t = 1)]
    top_k: usize,
    #[arg(long, value_enum, default_value = "window")]
    strategy: StrategyArg,
    #[command(flatten)]
    method: MethodArgs,
    /// Images whose parts share model batches.
    #[arg(long, default_value_t = 4)]
    images_per_batch: usize,
    #[arg(long, value_enum, default_value = "efficientnet-lite0")]
    model: Zoo,
    /// This process's share i/n of the dataset (every n-th image from the i-th, in name order).
    #[arg(long, value_name = "I/N")]
    shard: Option<pami::run::Shard>,
    /// Also write an overlay PNG per target.
    #[arg(long)]
    png: bool,
    /// Pointing-game tolerance in image pixels, for manifest lines with boxes.
    #[arg(long, default_value_t = 15.0)]
    tolerance: f32,
    #[arg(long, value_enum, default_value = "auto")]
    device: DeviceChoice,
}

/// Writes one explained image's outputs, its JSON last (the mark of a finished image).
fn write_job(out: &Path, job: &pami::run::Job, image: &image::RgbImage, e: &Explanation, args: &RunArgs) -> anyhow::Result<()> {
    let mut maps = Vec::new();
    for (t, target) in e.targets.iter().enumerate() {
        let name = format!("{}.class{}.npy", job.stem, target.class);
        io::write_npy(&out.join(&name), e.map(t), &e.map_size)?;
        if args.png {
            io::write_png(&out.join(format!("{}.class{}.png", job.stem, target.class)), &io::overlay(image, e.map_full(t)))?;
        }
        maps.push(name);
    }
    let boxes = job.all_boxes();
    let mut json = serde_json::json!({
        "image": job.image,
        "targets": e.targets,
        "predictions": e.predictions,
        "maps": maps,
        "map_size": e.map_size,
        "image_size": e.image_size,
        "parts": e.parts,
        "forward_passes": e.forward_passes,
        "timings": e.timings,
    });
    if !boxes.is_empty() {
        // Zhang et al.'s pointing game on the map at the image's size, one hit per target.
        let hits: Vec<bool> = (0..e.targets.len())
            .map(|t| pami::metrics::pointing_game(e.map_full(t), e.image_size[1], &boxes, args.tolerance))
            .collect();
        json["boxes"] = serde_json::json!(boxes);
        json["pointing_game"] = serde_json::json!({ "hits": hits, "tolerance": args.tolerance });
    }
    io::write_atomic(&pami::run::done_marker(out, job), serde_json::to_string(&json)?.as_bytes())?;
    Ok(())
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    use pami::run::Job;
    use std::sync::mpsc;
    anyhow::ensure!(args.images_per_batch >= 1, "--images-per-batch must be at least 1");
    let mut config = config(args.strategy, &args.method, Targets::TopK(args.top_k))?;
    let mut jobs = pami::run::jobs(&args.input)?;
    if let Some(shard) = args.shard {
        jobs = shard.select(jobs);
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}: cannot create directory", args.out.display()))?;
    // A run killed while writing leaves only temporary files (final names are renamed into place).
    if let Ok(entries) = std::fs::read_dir(&args.out) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().contains(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let total = jobs.len();
    let todo: Vec<Job> = jobs.iter().filter(|j| !pami::run::done_marker(&args.out, j).exists()).cloned().collect();
    let runtime = pami::device::select(args.device)?;
    eprintln!("pami: running on {} ({}): {}", runtime.backend, runtime.adapter, runtime.reason);
    eprintln!("pami: {total} images, {} already done, {} to explain", total - todo.len(), todo.len());
    let explainer = Explainer::new(args.model.load(&runtime.device)?, runtime.device.clone());
    config.batch = args.method.batch_for(&runtime, &explainer.model);
    explainer.validate(&config)?;
    let classes = pami::Model::class_names(&explainer.model).len();
    for job in &todo {
        if let Some(bad) = job.targets.iter().flatten().find(|&&c| c >= classes) {
            anyhow::bail!("{}: target class {bad} is not below the model's {classes} classes", job.image.display());
        }
    }
    eprintln!("pami: {}, {} composites per forward pass, {} images per batch", args.model.name(), config.batch, args.images_per_batch);

    // Decoding on a CPU thread overlaps the device's work; the bounded channel bounds memory.
    let (sender, receiver) = mpsc::sync_channel(2 * args.images_per_batch);
    let decoder = std::thread::spawn({
        let todo = todo.clone();
        move || {
            for job in todo {
                let image = io::load_image(&job.image);
                if sender.send((job, image)).is_err() {
                    break;
                }
            }
        }
    });
    let bar = indicatif::ProgressBar::new(todo.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} images, {per_sec}, ETA {eta} {msg}")
            .expect("a valid progress template"),
    );
    let mut failures: Vec<(PathBuf, String)> = Vec::new();
    let mut fail = |job: &Job, error: String, bar: &indicatif::ProgressBar| {
        bar.suspend(|| eprintln!("pami: failed {}: {error}", job.image.display()));
        failures.push((job.image.clone(), error));
    };
    let mut received = receiver.into_iter().peekable();
    while received.peek().is_some() {
        // A group: up to K decoded images that share their targets (manifests may set them per image).
        let mut group: Vec<(Job, image::RgbImage)> = Vec::new();
        while group.len() < args.images_per_batch {
            match received.peek() {
                Some((job, _)) if group.first().is_some_and(|(first, _)| first.targets != job.targets) => break,
                None => break,
                _ => {}
            }
            let (job, image) = received.next().expect("peeked");
            match image {
                Ok(image) => group.push((job, image)),
                Err(e) => {
                    fail(&job, e.to_string(), &bar);
                    bar.inc(1);
                }
            }
        }
        if group.is_empty() {
            continue;
        }
        let mut group_config = config.clone();
        if let Some(targets) = &group[0].0.targets {
            group_config.targets = Targets::Classes(targets.clone());
        }
        let images: Vec<_> = group.iter().map(|(_, i)| i.clone()).collect();
        // If the group fails together, each image is tried alone so one cannot sink the others.
        let explained: Vec<Result<Explanation, pami::Error>> = match explainer.explain_batch(&images, &group_config) {
            Ok(explanations) => explanations.into_iter().map(Ok).collect(),
            Err(_) if images.len() > 1 => images.iter().map(|i| explainer.explain(i, &group_config)).collect(),
            Err(e) => vec![Err(e)],
        };
        for ((job, image), result) in group.iter().zip(explained) {
            let written = result.map_err(anyhow::Error::from).and_then(|e| write_job(&args.out, job, image, &e, &args));
            if let Err(e) = written {
                fail(job, format!("{e:#}"), &bar);
            }
        }
        bar.inc(group.len() as u64);
    }
    bar.finish_and_clear();
    decoder.join().map_err(|_| anyhow::anyhow!("the decoding thread panicked"))?;

    // results.jsonl: every finished image of this shard in name order (rebuilt from their
    // JSON files), then this run's failures as {"image", "error"}; failures.jsonl has those alone.
    let mut lines = String::new();
    let mut done = 0;
    for job in &jobs {
        if let Ok(text) = std::fs::read_to_string(pami::run::done_marker(&args.out, job)) {
            lines += text.trim();
            lines.push('\n');
            done += 1;
        }
    }
    let mut failed = String::new();
    for (image, reason) in &failures {
        failed += &serde_json::json!({ "image": image, "error": reason }).to_string();
        failed.push('\n');
    }
    lines += &failed;
    io::write_atomic(&args.out.join("results.jsonl"), lines.as_bytes())?;
    io::write_atomic(&args.out.join("failures.jsonl"), failed.as_bytes())?;
    eprintln!("pami: {done} of {total} images done, {} failed; wrote {}", failures.len(), args.out.display());
    anyhow::ensure!(failures.is_empty(), "{} images failed (listed in {})", failures.len(), args.out.join("failures.jsonl").display());
    Ok(())
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
    #[arg(long, value_enum, default_value = "cpu")]
    device: DeviceChoice,
    /// Where the weights go (burnpack).
    #[arg(long, default_value = "models/synthetic_shapes.bpk")]
    out: PathBuf,
}

fn train_synthetic(args: TrainArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.steps > 0 && args.batch > 0, "--steps and --batch must be at least 1");
    let runtime = pami::device::select(args.device)?;
    eprintln!("pami: training on {} ({})", runtime.backend, runtime.adapter);
    let start = std::time::Instant::now();
    let model = pami::synthetic::train::train(args.steps, args.batch, args.lr, &runtime.device, |step, loss, accuracy| {
        eprintln!("pami: step {step:>5}  loss {loss:.4}  held-out accuracy {accuracy:.3}  ({:.0} s)", start.elapsed().as_secs_f64());
    });
    model.save(&args.out)?;
    let accuracy = pami::synthetic::train::accuracy(&model, 1000, &runtime.device);
    eprintln!("pami: wrote {}; held-out accuracy on 1000 images {accuracy:.3}", args.out.display());
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
        Command::Segment(args) => segment(args),
        Command::Eval(args) => eval(args),
        Command::Run(args) => run(args),
        Command::Serve(args) => serve::serve(args),
        Command::TrainSynthetic(args) => train_synthetic(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
