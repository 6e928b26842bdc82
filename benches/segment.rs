//! SLIC at the paper's eight settings (n_segments 10…80, compactness 20) and
//! the watershed at its three (markers 10, 20, 30, compactness 1e-4) on one
//! 224² image, a batch of 16 and one 1024² image, on Burn's CPU backend (the
//! CPU twins) and on the wgpu adapter. `tools/bench_segment.sh` runs this and
//! scikit-image's timing of the same work back to back.

use std::hint::black_box;
use std::time::Duration;

use burn::tensor::{Device, Tensor, TensorData};
use criterion::Criterion;
use pami::segment::{Slic, Watershed};

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

/// The eight SLIC settings of Table 3, each one batched call, synchronised at the end.
fn slic_settings(x: &Tensor<4>, device: &Device) {
    let mut out = Vec::new();
    for n_segments in (10..=80).step_by(10) {
        out.push(Slic { n_segments, compactness: 20.0, ..Slic::default() }.segment(x).unwrap());
    }
    device.sync().unwrap();
    black_box(out);
}

/// The three watershed settings of Table 3.
fn watershed_settings(x: &Tensor<4>, device: &Device) {
    let mut out = Vec::new();
    for markers in [10, 20, 30] {
        out.push(Watershed { markers, compactness: 1e-4 }.segment(x).unwrap());
    }
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
    // lavapipe runs the watershed's flooding sweeps slowly: its larger cases would take an hour.
    let cases = |tag: &str, method: &str| -> Vec<(&str, &Vec<image::RgbImage>)> {
        match (tag, method) {
            ("cpu", _) | (_, "slic 8 settings") => vec![("1×224²", &one), ("16×224²", &sixteen), ("1×1024²", &large)],
            _ => vec![("1×224²", &one)],
        }
    };
    for (tag, device) in &devices {
        for (method, run) in [("slic 8 settings", slic_settings as fn(&Tensor<4>, &Device)), ("watershed 3 settings", watershed_settings)] {
            let mut g = c.benchmark_group(format!("{method}/{tag}"));
            g.sample_size(10).measurement_time(Duration::from_secs(20));
            for (name, images) in cases(tag, method) {
                let x = batch(images, device);
                g.bench_function(name, |b| b.iter(|| run(&x, device)));
            }
            g.finish();
        }
    }
    c.final_summary();
}
