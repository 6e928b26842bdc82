//! `pami segment`: superpixels of one image, one algorithm or the paper's preset.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use pami::{DeviceChoice, io};

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
pub struct SegmentArgs {
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
    /// auto, wgpu or cpu.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// Label map output: int32 `.npy` of shape [H, W], labels 0..n (a directory with --preset).
    #[arg(long)]
    out: PathBuf,
    /// Also write the image with the segment boundaries drawn.
    #[arg(long, value_name = "PNG")]
    png: Option<PathBuf>,
}

pub fn segment(args: SegmentArgs) -> anyhow::Result<()> {
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

