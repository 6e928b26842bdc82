//! Device choice: the wgpu path on a real GPU adapter, Burn's CPU backend
//! (`flex`) with the CPU twins otherwise.

use std::sync::OnceLock;

use burn::tensor::Device;
use serde::Serialize;

use crate::Error;

/// What the user asked for (`--device`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// A real GPU if there is one, else the CPU.
    #[default]
    Auto,
    /// The wgpu adapter, even a software one (lavapipe).
    Wgpu,
    /// Burn's CPU backend.
    Cpu,
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(DeviceChoice::Auto),
            "wgpu" => Ok(DeviceChoice::Wgpu),
            "cpu" => Ok(DeviceChoice::Cpu),
            other => Err(format!("unknown device `{other}`: use auto, wgpu or cpu")),
        }
    }
}

/// The device a run uses and why.
#[derive(Clone, Debug, Serialize)]
pub struct Runtime {
    #[serde(skip)]
    pub device: Device,
    /// `wgpu` or `cpu`.
    pub backend: &'static str,
    /// The adapter's name, or the CPU backend's.
    pub adapter: String,
    /// One line on why this device runs.
    pub reason: String,
    /// The wgpu device's largest storage buffer binding, in bytes (`None` on the CPU).
    pub max_binding: Option<u64>,
}

/// The most composites per forward pass [`Runtime::batch_for`] picks: beyond
/// it a GPU gains little and each pass holds the host longer.
pub const MAX_AUTO_BATCH: usize = 64;

/// Composites per pass on the CPU: flex gains nothing from larger batches
/// on these machines (batch 64 is about 50% slower per image than 16: the
/// README, `pami explain`).
pub const CPU_BATCH: usize = 16;

impl Runtime {
    /// Composites per forward pass for `model` on this device: on wgpu, as
    /// many as keep the model's largest activation within one storage
    /// binding (every tensor of a pass is one binding), at most
    /// [`MAX_AUTO_BATCH`]; on the CPU, [`CPU_BATCH`].
    pub fn batch_for(&self, model: &dyn crate::Model) -> usize {
        match self.max_binding {
            None => CPU_BATCH,
            Some(limit) => {
                let per_image = model.activation_bytes().max(1) as u64;
                ((limit / per_image) as usize).clamp(1, MAX_AUTO_BATCH)
            }
        }
    }
}

/// Name, type and API of the adapter wgpu would pick, without creating a device.
pub fn probe_adapter() -> Option<wgpu::AdapterInfo> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let options = wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    };
    pollster::block_on(instance.request_adapter(&options)).ok().map(|a| a.get_info())
}

fn describe(info: &wgpu::AdapterInfo) -> String {
    format!("{} ({:?}, {:?})", info.name, info.device_type, info.backend)
}

/// Burn's wgpu device, initialised once per process (Burn's runtime can be
/// initialised only once).
pub fn wgpu_device() -> Result<(Device, String), Error> {
    wgpu_setup().map(|(device, adapter, _)| (device, adapter))
}

/// [`wgpu_device`] with its largest storage binding.
fn wgpu_setup() -> Result<(Device, String, u64), Error> {
    static GPU: OnceLock<Result<(Device, String, u64), String>> = OnceLock::new();
    GPU.get_or_init(|| {
        if probe_adapter().is_none() {
            return Err("wgpu found no adapter (install a Vulkan/Metal/DX12 driver, e.g. mesa-vulkan-drivers)".into());
        }
        let (device, setup) = Device::wgpu_options().init_with_setup().map_err(|e| e.to_string())?;
        let max_binding = setup.device.limits().max_storage_buffer_binding_size;
        crate::gpu::launch::note_adapter(&setup.adapter.get_info(), max_binding);
        Ok((device, describe(&setup.adapter.get_info()), max_binding))
    })
    .clone()
    .map_err(Error::NoGpu)
}

/// The wgpu version and setup type a caller's handles must come from (the
/// wgpu major Burn 0.22 runs on).
pub use burn::tensor::wgpu::{WgpuSetup, wgpu as burn_wgpu};

/// Registers a caller's own wgpu device and queue (with the instance and
/// adapter they came from) as the device pami and Burn run on. Tensors,
/// models and explanations created on the returned [`Runtime`]'s device live
/// in the caller's device memory and are submitted on the caller's queue, so
/// a renderer or inference server shares buffers with pami without copies.
///
/// Register a setup once and clone the returned device; flush pami's work
/// (`device.sync()`) before submitting your own work that reads its outputs.
/// Request the device with the adapter's features (all but
/// `MAPPABLE_PRIMARY_BUFFERS`) and limits, as Burn does for its own devices:
/// Burn's runtime uses what the adapter offers (timestamp queries, for one)
/// and fails on a device that lacks it, so a missing feature is an error here.
pub fn init_device(setup: WgpuSetup) -> Result<Runtime, Error> {
    let adapter = describe(&setup.adapter.get_info());
    let wanted = setup.adapter.features().difference(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS);
    let missing = wanted.difference(setup.device.features());
    if !missing.is_empty() {
        return Err(Error::Device(format!(
            "the device lacks adapter features Burn's runtime uses ({missing:?}); request it with `required_features: adapter.features()`"
        )));
    }
    let max_binding = setup.device.limits().max_storage_buffer_binding_size;
    crate::gpu::launch::note_adapter(&setup.adapter.get_info(), max_binding);
    let device = Device::wgpu_options().setup(setup).init().map_err(|e| Error::Device(e.to_string()))?;
    Ok(Runtime { device, backend: "wgpu", adapter, reason: "the caller's wgpu device".into(), max_binding: Some(max_binding) })
}

pub fn cpu_runtime(reason: String) -> Runtime {
    Runtime { device: Device::flex(), backend: "cpu", adapter: "burn flex (CPU)".into(), reason, max_binding: None }
}

/// Picks the device for `choice`.
pub fn select(choice: DeviceChoice) -> Result<Runtime, Error> {
    match choice {
        DeviceChoice::Cpu => Ok(cpu_runtime("--device cpu".into())),
        DeviceChoice::Wgpu => {
            let (device, adapter, max_binding) = wgpu_setup()?;
            Ok(Runtime { device, backend: "wgpu", adapter, reason: "--device wgpu".into(), max_binding: Some(max_binding) })
        }
        DeviceChoice::Auto => match probe_adapter() {
            Some(info) if info.device_type != wgpu::DeviceType::Cpu => {
                let (device, adapter, max_binding) = wgpu_setup()?;
                Ok(Runtime { device, backend: "wgpu", adapter, reason: "a GPU adapter is present".into(), max_binding: Some(max_binding) })
            }
            Some(info) => Ok(cpu_runtime(format!(
                "the only adapter, {}, is a software rasteriser; Burn's CPU backend is faster (--device wgpu to override)",
                describe(&info)
            ))),
            None => Ok(cpu_runtime("no GPU adapter found".into())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Model, Normalisation};
    use burn::tensor::Tensor;

    /// A model described only by its activation size.
    struct Sized(usize);

    impl Model for Sized {
        fn input_size(&self) -> [usize; 2] {
            [224, 224]
        }
        fn normalisation(&self) -> Normalisation {
            Normalisation::LITE
        }
        fn forward(&self, x: Tensor<4>) -> Tensor<2> {
            x.flatten(1, 3)
        }
        fn class_names(&self) -> &[String] {
            &[]
        }
        fn activation_bytes(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn batches_fill_the_storage_binding_limit() {
        let gpu = |limit: u64| Runtime { max_binding: Some(limit), ..cpu_runtime(String::new()) };
        let efficientnet = Sized(96 * 112 * 112 * 4);
        // WebGPU's default binding limit (128 MiB) holds 27 EfficientNet-Lite0 activations.
        assert_eq!(gpu(128 << 20).batch_for(&efficientnet), 27);
        assert_eq!(gpu(4 << 30).batch_for(&efficientnet), MAX_AUTO_BATCH);
        assert_eq!(gpu(1 << 20).batch_for(&efficientnet), 1, "never below one composite");
        assert_eq!(cpu_runtime(String::new()).batch_for(&efficientnet), CPU_BATCH);
    }
}
