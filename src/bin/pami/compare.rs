//! `pami compare`: two models, one dataset, where their attributions differ.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pami::compare::{CompareConfig, Descriptor, Features, KMeans, Sides, TargetChoice};
use pami::{DeviceChoice, EfficientNetLite0, Model, Targets, io};

use crate::flags::{CompareMethodFlags, strategies};
use crate::{ModelArgs, parse_rgb, parse_size};

#[derive(Args)]
pub struct CompareArgs {
    /// Model A (the reference): any --model name.
    #[arg(long, default_value = "efficientnet-lite0", value_name = "NAME")]
    model_a: String,
    /// Model A's weights, as --weights.
    #[arg(long, value_name = "FILE")]
    weights_a: Option<PathBuf>,
    /// Model B (the one compared with A).
    #[arg(long, default_value = "efficientnet-lite0", value_name = "NAME")]
    model_b: String,
    #[arg(long, value_name = "FILE")]
    weights_b: Option<PathBuf>,
    /// Outputs of the torchvision model(s) among the two.
    #[arg(long, value_name = "C")]
    num_classes: Option<usize>,
    /// Input size of the torchvision model(s) among the two, N or HxW.
    #[arg(long, value_name = "N|HxW", value_parser = parse_size)]
    input_size: Option<[usize; 2]>,
    /// Per-channel mean on [0, 1] pixels, for both models.
    #[arg(long, value_name = "R,G,B", value_parser = parse_rgb, requires = "std")]
    mean: Option<[f32; 3]>,
    #[arg(long, value_name = "R,G,B", value_parser = parse_rgb, requires = "mean")]
    std: Option<[f32; 3]>,
    /// Class names, one per line, for both models.
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// auto, wgpu or cpu (both models and the descriptor on it).
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// A folder of PNG/JPEG images or a JSON-lines manifest of {"image": "path", "targets": [class]}.
    #[arg(long)]
    images: PathBuf,
    /// Output folder: summary.json, report.html.
    #[arg(long)]
    out: PathBuf,
    /// The attribution method, for both models.
    #[arg(long, default_value = "integrated-gradients", value_parser = strategies())]
    method: String,
    /// label: the manifest's class; predicted-a: model A's prediction [default: the manifest's class where a line gives one, else A's prediction].
    #[arg(long, value_name = "label|predicted-a")]
    target: Option<String>,
    /// segments (SLIC, n_segments 100), segments:SEGMENTER (e.g. segments:slic:50, segments:felzenszwalb:100) or patches:S (S × S pixels).
    #[arg(long, default_value = "segments")]
    features: String,
    /// Each model's top fraction of an image's features by mean attribution; their union is kept.
    #[arg(long, default_value_t = 0.1)]
    top: f32,
    /// k of k-means.
    #[arg(long, default_value_t = 20)]
    clusters: usize,
    /// k-means++ restarts (seeds S, S+1, …); the least inertia wins.
    #[arg(long, default_value_t = 4)]
    restarts: usize,
    /// Bootstrap resamples of the images for each cluster's 95 % interval.
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    /// Seeds k-means, the bootstrap, and the method when it draws (RISE, SmoothGrad).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// What embeds a feature's crop: efficientnet-lite0 (embedded, pooled penultimate features) or model-a (its Grad-CAM layer, pooled).
    #[arg(long, default_value = "efficientnet-lite0", value_parser = ["efficientnet-lite0", "model-a"])]
    descriptor: String,
    /// Side the crops are resized to for the EfficientNet descriptor.
    #[arg(long, default_value_t = 64)]
    descriptor_size: usize,
    /// Exemplars listed per cluster.
    #[arg(long, default_value_t = 8)]
    exemplars: usize,
    /// Images explained together.
    #[arg(long, default_value_t = 8)]
    images_per_batch: usize,
    #[command(flatten)]
    options: CompareMethodFlags,
}

impl CompareArgs {
    /// One side's model flags: the shared ones, the torchvision-only ones where they apply.
    fn side(&self, model: &str, weights: &Option<PathBuf>) -> ModelArgs {
        let torchvision = pami::model::torchvision::NAMES.contains(&model);
        ModelArgs {
            model: model.to_owned(),
            weights: weights.clone(),
            num_classes: self.num_classes.filter(|_| torchvision),
            device: self.device,
            labels: self.labels.clone(),
            input_size: self.input_size.filter(|_| torchvision),
            mean: self.mean,
            std: self.std,
        }
    }
}

pub fn compare(args: CompareArgs) -> anyhow::Result<()> {
    let mut values = args.options.values.clone();
    values.push("seed", args.seed.to_string());
    // Everything given is checked before any model loads or image is read.
    pami::options::config(&args.method, &values, Targets::TopK(1), 1)?;
    let config = CompareConfig {
        features: args.features.parse::<Features>()?,
        top: args.top,
        kmeans: KMeans { clusters: args.clusters, restarts: args.restarts, seed: args.seed, ..KMeans::default() },
        bootstrap: args.bootstrap,
        exemplars: args.exemplars,
        target: args.target.as_deref().map_or(Ok(TargetChoice::Auto), str::parse)?,
        images_per_batch: args.images_per_batch,
        ..CompareConfig::default()
    };
    config.validate()?;
    anyhow::ensure!(args.descriptor_size >= 16, "--descriptor-size must be at least 16");
    let (side_a, side_b) = (args.side(&args.model_a, &args.weights_a), args.side(&args.model_b, &args.weights_b));
    side_a.check().context("model A")?;
    side_b.check().context("model B")?;
    anyhow::ensure!(
        args.num_classes.is_none() || [&args.model_a, &args.model_b].iter().any(|m| pami::model::torchvision::NAMES.contains(&m.as_str())),
        "--num-classes applies to torchvision models, and neither model is one"
    );
    let jobs = pami::run::jobs(&args.images)?;

    let runtime = pami::device::select(args.device)?;
    eprintln!("pami: running on {} ({}): {}", runtime.backend, runtime.adapter, runtime.reason);
    let a = side_a.load_on(&runtime).context("model A")?;
    let b = side_b.load_on(&runtime).context("model B")?;
    let config_a = pami::options::config(&args.method, &values, Targets::TopK(1), runtime.batch_for(&a.model))?;
    let config_b = pami::options::config(&args.method, &values, Targets::TopK(1), runtime.batch_for(&b.model))?;
    let efficientnet;
    let descriptor = match args.descriptor.as_str() {
        "model-a" => Descriptor { model: &*a.model as &dyn Model, size: a.model.input_size(), name: format!("model-a ({})", args.model_a) },
        _ => {
            efficientnet = EfficientNetLite0::pretrained(&runtime.device)?;
            Descriptor { model: &efficientnet as &dyn Model, size: [args.descriptor_size; 2], name: "efficientnet-lite0".into() }
        }
    };
    let models = serde_json::json!({
        "a": { "model": args.model_a, "weights": args.weights_a, "classes": a.model.class_names().len() },
        "b": { "model": args.model_b, "weights": args.weights_b, "classes": b.model.class_names().len() },
    });
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}: cannot create directory", args.out.display()))?;
    eprintln!("pami: comparing {} and {} on {} images with {}", args.model_a, args.model_b, jobs.len(), config_a.method.name());
    let bar = indicatif::ProgressBar::new(jobs.len() as u64);
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} images, {per_sec}, ETA {eta} {msg}").expect("a valid progress template"));
    let sides = Sides { a: &a, b: &b, config_a: &config_a, config_b: &config_b };
    let comparison = pami::compare::compare(&sides, &descriptor, &jobs, &config, models, |job, error| {
        if let Some(error) = error {
            bar.suspend(|| eprintln!("pami: skipped {}: {error}", job.image.display()));
        }
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    let summary = &comparison.summary;
    io::write_atomic(&args.out.join("summary.json"), serde_json::to_string_pretty(summary)?.as_bytes())?;
    io::write_atomic(&args.out.join("report.html"), pami::compare::report::html(&comparison)?.as_bytes())?;
    for c in summary.clusters.iter().take(5) {
        eprintln!("pami: cluster {:>3} ({:>4} features): share A {:.3}, share B {:.3}, delta {:+.3} [{:+.3}, {:+.3}]", c.id, c.size, c.share_a, c.share_b, c.delta, c.ci[0], c.ci[1]);
    }
    eprintln!(
        "pami: {} images ({} skipped), {} features, {:.2} images/s; wrote {}",
        summary.images,
        summary.failures.len(),
        summary.features,
        summary.images_per_second,
        args.out.display()
    );
    Ok(())
}
