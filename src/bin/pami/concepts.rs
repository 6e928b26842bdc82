//! `pami concepts render`: a caption file's images from a generator.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use pami::concepts::{Dataset, render::image_seed};
use pami::{DeviceChoice, io};

#[derive(Args)]
pub struct ConceptsArgs {
    #[command(subcommand)]
    command: ConceptsCommand,
}

#[derive(Subcommand)]
enum ConceptsCommand {
    /// Render a caption file's images: DIR/NNNNNN.png (line order) and DIR/manifest.jsonl.
    Render(RenderArgs),
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
    }
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
