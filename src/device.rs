//! Device choice: the wgpu path on a real GPU adapter, Burn's CPU backend
//! (`flex`) with the CPU twins otherwise.

use std::sync::OnceLock;

use burn::tensor::Device;
use serde::Serialize;

use crate::Error;

/// What the user asked for (`--device`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DeviceChoice {
    /// A real GPU if there is one, else the CPU.
    #[default]
    Auto,
    /// The wgpu adapter, even a software one (lavapipe).
    Wgpu,
    /// Burn's CPU backend.
    Cpu,
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
    static GPU: OnceLock<Result<(Device, String), String>> = OnceLock::new();
    GPU.get_or_init(|| {
        if probe_adapter().is_none() {
            return Err("wgpu found no adapter (install a Vulkan/Metal/DX12 driver, e.g. mesa-vulkan-drivers)".into());
        }
        let (device, setup) = Device::wgpu_options().init_with_setup().map_err(|e| e.to_string())?;
        Ok((device, describe(&setup.adapter.get_info())))
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
    let device = Device::wgpu_options().setup(setup).init().map_err(|e| Error::Device(e.to_string()))?;
    Ok(Runtime { device, backend: "wgpu", adapter, reason: "the caller's wgpu device".into() })
}

pub fn cpu_runtime(reason: String) -> Runtime {
    Runtime { device: Device::flex(), backend: "cpu", adapter: "burn flex (CPU)".into(), reason }
}

/// Picks the device for `choice`.
pub fn select(choice: DeviceChoice) -> Result<Runtime, Error> {
    match choice {
        DeviceChoice::Cpu => Ok(cpu_runtime("--device cpu".into())),
        DeviceChoice::Wgpu => {
            let (device, adapter) = wgpu_device()?;
            Ok(Runtime { device, backend: "wgpu", adapter, reason: "--device wgpu".into() })
        }
        DeviceChoice::Auto => match probe_adapter() {
            Some(info) if info.device_type != wgpu::DeviceType::Cpu => {
                let (device, adapter) = wgpu_device()?;
                Ok(Runtime { device, backend: "wgpu", adapter, reason: "a GPU adapter is present".into() })
            }
            Some(info) => Ok(cpu_runtime(format!(
                "the only adapter, {}, is a software rasteriser; Burn's CPU backend is faster (--device wgpu to override)",
                describe(&info)
            ))),
            None => Ok(cpu_runtime("no GPU adapter found".into())),
        },
    }
}
