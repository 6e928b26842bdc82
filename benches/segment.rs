//! The paper's preset (`pami::segment::paper()`), method by method —
//! Felzenszwalb at six scales, SLIC at eight segment counts, SEEDS at three
//! superpixel counts, the watershed at three marker counts — on one 224² image, a batch of 16 and one 1024² image,
//! on Burn's CPU backend (the CPU twins) and on the wgpu adapter. `tools/bench_segment.sh` runs this and
//! scikit-image's timing of the same work back to back.

use std::hint::black_box;
use std::time::Duration;

use burn::tensor::{Device, Tensor, TensorData};
use criterion::Criterion;
use pami::segment::{Segmenter, paper, segment_all};

const STEMS: [&str; 7] =
    ["astronaut_224", "chelsea_224", "china_224", "coffee_224", "flower_224", "motorcycle_left_224", "rocket_224"];

fn chw(image: &image::RgbImage) -> Vec<f32> {
    pami::explain::to_chw(image)
}

fn fixture(stem: &str) -> image::RgbImage {
    let path = format!("{}/tests/fixtures/segments/{stem}.png", env!("CARGO_MANIFEST_DIR"));
    pami::io::load_image(path.as_ref()).unwrap()
}

fn batch(images: &[image::RgbImage], device: &Device) -> Tensor<4> {
    let (w, h) = images[0].dimensions();
    let values: Vec<f32> = images.iter().flat_map(chw).collect();
    Tensor::from_data(TensorData::new(values, [images.len(), 3, h as usize, w as usize]), device)
}

/// Every setting of one method in the paper's preset (Felzenszwalb's six
/// together, the others one batched call each), synchronised at the end.
fn settings(method: &str) -> Vec<Segmenter> {
    paper().into_iter().filter(|s| s.name().starts_with(method)).collect()
}

fn run(settings: &[Segmenter], x: &Tensor<4>, device: &Device) {
    let out = segment_all(x, settings).unwrap();
    device.sync().unwrap();
    black_box(out);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let one = vec![fixture("astronaut_224")];
    let sixteen: Vec<_> = STEMS.iter().cycle().take(16).map(|s| fixture(s)).collect();
    let astronaut = pami::io::load_image(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/astronaut.png").as_ref()).unwrap();
    let large = vec![image::imageops::resize(&astronaut, 1024, 1024, image::imageops::FilterType::Triangle)];
    let mut devices = vec![("cpu", Device::flex())];
    if let Ok((gpu, _)) = pami::device::wgpu_device() {
        devices.push(("wgpu", gpu));
    }
    // On lavapipe the watershed's flooding sweeps and Felzenszwalb's sequential chunks are
    // slow: their larger cases would take an hour.
    let cases = |tag: &str, method: &str| -> Vec<(&str, &Vec<image::RgbImage>)> {
        match (tag, method) {
            ("cpu", _) | (_, "slic") => vec![("1×224²", &one), ("16×224²", &sixteen), ("1×1024²", &large)],
            (_, "felzenszwalb" | "seeds") => vec![("1×224²", &one), ("16×224²", &sixteen)],
            _ => vec![("1×224²", &one)],
        }
    };
    for (tag, device) in &devices {
        for method in ["felzenszwalb", "slic", "seeds", "watershed"] {
            let list = settings(method);
            let mut g = c.benchmark_group(format!("{method} {} settings/{tag}", list.len()));
            g.sample_size(10).measurement_time(Duration::from_secs(20));
            for (name, images) in cases(tag, method) {
                let x = batch(images, device);
                g.bench_function(name, |b| b.iter(|| run(&list, &x, device)));
            }
            g.finish();
        }
    }
    c.final_summary();
}
