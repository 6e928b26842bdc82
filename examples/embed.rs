//! Embedding pami in an application that already owns a wgpu device.
//!
//! The application opens its own wgpu instance, adapter, device and queue,
//! hands them to pami (`pami::device::init_device`), defines its own Burn
//! model and implements `pami::Model` for it, puts its image on the device
//! itself and explains it there (`Explainer::explain_tensor`). Everything
//! lives in the application's device memory; the only read-back is the
//! three numbers printed at the end.
//!
//!     cargo run --release --example embed

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Tensor, TensorData};
use pami::device::{WgpuSetup, burn_wgpu as wgpu};
use pami::{ExplainConfig, Explainer, Model, Normalisation, Targets, WindowGrid};

/// The model's input side.
pub const SIZE: usize = 96;
/// Where the scene's red disc is (x, y), and its radius.
pub const RED: (usize, usize, usize) = (70, 28, 12);
/// A blue disc of the same size: a distractor the map must not point at.
pub const BLUE: (usize, usize, usize) = (26, 64, 12);

/// The application's own classifier. Class 0, "red", scores the reddest
/// 9 × 9 patch of the image (a convolution computing r − (g + b)/2 and a
/// global max-pool); class 1, "other", is a constant.
#[derive(Module, Debug)]
pub struct RedSpotter {
    redness: Conv2d,
    #[module(skip)]
    classes: Vec<String>,
}

impl RedSpotter {
    pub fn new(device: &Device) -> Self {
        let mut redness = Conv2dConfig::new([3, 1], [9, 9]).init(device);
        let taps = 81;
        let mut weights = vec![1.0 / taps as f32; taps];
        weights.extend(vec![-0.5 / taps as f32; 2 * taps]);
        redness.weight = Param::from_tensor(Tensor::from_data(TensorData::new(weights, [1, 3, 9, 9]), device));
        redness.bias = Some(Param::from_tensor(Tensor::zeros([1], device)));
        RedSpotter { redness, classes: vec!["red".into(), "other".into()] }
    }
}

impl Model for RedSpotter {
    fn input_size(&self) -> [usize; 2] {
        [SIZE, SIZE]
    }

    /// Pixel values 0..255 become 0..1.
    fn normalisation(&self) -> Normalisation {
        Normalisation { mean: [0.0; 3], std: [255.0; 3] }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let b = x.dims()[0];
        let red = self.redness.forward(x).max_dim(3).max_dim(2).reshape([b, 1]) * 8.0;
        let other = Tensor::<2>::full([b, 1], 4.0, &red.device());
        Tensor::cat(vec![red, other], 1)
    }

    fn class_names(&self) -> &[String] {
        &self.classes
    }
}

/// A grey, lightly textured scene with the red and the blue disc: `[3, SIZE, SIZE]` values in 0..255.
pub fn scene() -> Vec<f32> {
    let plane = SIZE * SIZE;
    let mut chw = vec![0.0; 3 * plane];
    for y in 0..SIZE {
        for x in 0..SIZE {
            let inside = |(cx, cy, r): (usize, usize, usize)| {
                let (dx, dy) = (x as f32 - cx as f32, y as f32 - cy as f32);
                dx * dx + dy * dy <= (r * r) as f32
            };
            let grey = 110.0 + 30.0 * (((x / 6) + (y / 6)) % 2) as f32;
            let rgb = if inside(RED) {
                [250.0, 10.0, 10.0]
            } else if inside(BLUE) {
                [10.0, 10.0, 250.0]
            } else {
                [grey; 3]
            };
            for c in 0..3 {
                chw[c * plane + y * SIZE + x] = rgb[c];
            }
        }
    }
    chw
}

/// What the application opens for itself: an instance, an adapter, a device
/// with the adapter's features and limits (Burn's runtime uses them), and its queue.
pub fn application_device() -> Result<WgpuSetup, String> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }))
    .map_err(|e| format!("no wgpu adapter: {e}"))?;
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("the application's device"),
        required_features: adapter.features().difference(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS),
        required_limits: adapter.limits(),
        ..Default::default()
    }))
    .map_err(|e| format!("cannot open the device: {e}"))?;
    let backend = adapter.get_info().backend;
    Ok(WgpuSetup { instance, adapter, device, queue, backend })
}

/// The explanation's verdict, read back from the device.
#[derive(Debug)]
pub struct Outcome {
    pub adapter: String,
    pub probability: f32,
    /// The map's maximum, in model-input pixels (x, y).
    pub peak: (usize, usize),
}

/// Explains the scene for class "red" with PAMI windows on the application's device.
pub fn run(setup: WgpuSetup) -> Result<Outcome, pami::Error> {
    let runtime = pami::device::init_device(setup)?;
    let device = runtime.device.clone();
    let explainer = Explainer::new(RedSpotter::new(&device), device.clone());

    // The application's image, put on its device by the application.
    let image = Tensor::<1>::from_data(TensorData::new(scene(), [3 * SIZE * SIZE]), &device).reshape([1, 3, SIZE, SIZE]);
    let config = ExplainConfig {
        method: std::sync::Arc::new(pami::Window::new(vec![WindowGrid { radius: 12, stride: 4, ..WindowGrid::default() }])),
        targets: Targets::Classes(vec![0]),
        ..ExplainConfig::default()
    };
    let explanation = explainer.explain_tensor(image, &config)?;

    // Still on the device: the map [1, 1, SIZE, SIZE]. Its argmax is computed there too.
    let peak = explanation.maps.reshape([SIZE * SIZE]).argmax(0).into_scalar::<i64>() as usize;
    let probability = explanation.target_probabilities.into_scalar::<f32>();
    Ok(Outcome { adapter: runtime.adapter, probability, peak: (peak % SIZE, peak / SIZE) })
}

#[allow(dead_code)]
fn main() -> std::process::ExitCode {
    let outcome = application_device().map_err(pami::Error::Device).and_then(run);
    match outcome {
        Ok(o) => {
            println!("adapter: {}", o.adapter);
            println!("p(red) on the whole scene: {:.3}", o.probability);
            println!("map peak at (x, y) = {:?}; the red disc is at {:?}, the blue one at {:?}", o.peak, RED, BLUE);
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
