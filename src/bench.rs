//! `pami bench`: a fixed workload with stable ids, run on every adapter a
//! user picks and on the CPU path, written as `bench.json` and `bench.md`.
//!
//! Every measurement syncs the device before the clock starts and after each
//! repetition, and counts what one repetition asks of the device
//! ([`crate::counters`]). Ids are stable across releases so results from
//! Vulkan, Metal, DX12 and GL machines can be compared row by row:
//!
//! - `kernel/{blur,compose,aggregate,connected-components}`: one kernel on 224²;
//! - `segment/{felzenszwalb,slic,seeds,watershed,table3}/{1,16}`: each
//!   algorithm at its Table-3 settings, and all twenty, on 1 and 16 images;
//! - `model/{efficientnet-lite0,resnet50,vgg16_bn,densenet121,mobilenet_v2,convnext_tiny}/{1,16,64}`:
//!   a model's forward pass at a batch (the quick workload: the first two at 1 and 16);
//! - `method/<strategy>`: each method end to end on EfficientNet-Lite0;
//! - `dataset/in-flight-{1,4,16}`: a dataset explained (Strategy II) with
//!   that many images per batch.
//!
//! `--quick` keeps the rows that finish in under a minute on a CPU: batch 1
//! and 16, Strategy II and feature ablation, and an 8-image dataset of the
//! synthetic-shapes model. `--only PREFIX` keeps the rows whose id starts with it.

use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use serde::Serialize;

use crate::counters::{Counts, measure};
use crate::method::registry;
use crate::segment::{Segmenter, paper};
use crate::{Blur, Error, ExplainConfig, Explainer, Model, PartKind, Parts, Targets, WindowGrid, Zoo, ops};

/// What to run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// `all`, or part of an adapter's name or backend (case-insensitive:
    /// `nvidia`, `vulkan`, `metal`, `dx12`, `gl`).
    pub adapter: String,
    /// Run the wgpu adapters.
    pub gpu: bool,
    /// Run the CPU path.
    pub cpu: bool,
    pub quick: bool,
    /// Run only the rows whose id starts with one of these (all rows when empty).
    pub only: Vec<String>,
}

impl BenchOptions {
    fn wants(&self, id: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|prefix| id.starts_with(prefix.as_str()))
    }
}

/// A wgpu adapter as `bench.json` describes it.
#[derive(Clone, Debug, Serialize)]
pub struct AdapterReport {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
    pub limits: Limits,
}

/// The adapter limits pami's kernels depend on.
#[derive(Clone, Debug, Serialize)]
pub struct Limits {
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroups_per_dimension: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroup_storage_size: u32,
}

/// What one repetition asked of the device.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DeviceWork {
    pub dispatches: u64,
    pub readbacks: u64,
    pub syncs: u64,
}

impl From<&Counts> for DeviceWork {
    fn from(c: &Counts) -> Self {
        DeviceWork { dispatches: c.dispatch_total(), readbacks: c.readback_total(), syncs: c.syncs }
    }
}

/// One row: the median time of `reps` repetitions.
#[derive(Clone, Debug, Serialize)]
pub struct Measurement {
    pub id: String,
    pub seconds: f64,
    pub min_seconds: f64,
    pub reps: usize,
    /// Images (or items) one repetition handles.
    pub items: usize,
    pub work: DeviceWork,
    /// An explanation's stages (seconds), for `method/*` rows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<(String, f64)>,
}

/// Ratios of one target's rows.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Ratios {
    /// Strategy II: the twenty segmentations' time over the forward passes' time.
    pub segmentation_vs_model: Option<f64>,
    /// Strategy II: the share of the explanation's time outside the model (prediction and forward passes).
    pub outside_model_share: Option<f64>,
    /// `segment/table3/1`: seconds on the CPU path over seconds here (wgpu targets).
    pub cpu_over_this: Option<f64>,
}

/// One device the workload ran on.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    /// `wgpu` or `cpu`.
    pub kind: &'static str,
    pub adapter: Option<AdapterReport>,
    pub results: Vec<Measurement>,
    pub ratios: Ratios,
    /// Why the workload stopped early on this target, if it did.
    pub error: Option<String>,
}

/// `bench.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub pami_version: &'static str,
    pub quick: bool,
    /// Every adapter wgpu enumerates, whether picked or not.
    pub adapters: Vec<AdapterReport>,
    pub targets: Vec<Target>,
}

fn report(info: &wgpu::AdapterInfo, limits: &wgpu::Limits) -> AdapterReport {
    AdapterReport {
        name: info.name.clone(),
        backend: format!("{:?}", info.backend),
        device_type: format!("{:?}", info.device_type),
        driver: info.driver.clone(),
        driver_info: info.driver_info.clone(),
        limits: Limits {
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
            max_buffer_size: limits.max_buffer_size,
            max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
        },
    }
}

/// Runs the workload; `progress` hears each row's id as it starts.
pub fn run(options: &BenchOptions, mut progress: impl FnMut(&str)) -> Result<Report, Error> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    let described: Vec<AdapterReport> = adapters.iter().map(|a| report(&a.get_info(), &a.limits())).collect();
    let wanted = options.adapter.to_ascii_lowercase();
    let picked: Vec<&wgpu::Adapter> = adapters
        .iter()
        .filter(|a| {
            let info = a.get_info();
            wanted == "all" || format!("{} {:?}", info.name, info.backend).to_ascii_lowercase().contains(&wanted)
        })
        .collect();
    if options.gpu && picked.is_empty() {
        let names: Vec<&str> = described.iter().map(|a| a.name.as_str()).collect();
        return Err(Error::NoGpu(format!("no wgpu adapter matches `{}` (adapters: {names:?})", options.adapter)));
    }
    let mut targets = Vec::new();
    if options.gpu {
        for adapter in picked {
            let info = adapter.get_info();
            let mut target =
                Target { kind: "wgpu", adapter: Some(report(&info, &adapter.limits())), results: Vec::new(), ratios: Ratios::default(), error: None };
            match open(&instance, adapter) {
                Ok(device) => {
                    if let Err(e) = workload(&device, options, &mut target.results, &mut progress) {
                        target.error = Some(e.to_string());
                    }
                }
                Err(e) => target.error = Some(e.to_string()),
            }
            targets.push(target);
        }
    }
    if options.cpu {
        let mut target = Target { kind: "cpu", adapter: None, results: Vec::new(), ratios: Ratios::default(), error: None };
        if let Err(e) = workload(&Device::flex(), options, &mut target.results, &mut progress) {
            target.error = Some(e.to_string());
        }
        targets.push(target);
    }
    let cpu_table3 = targets.iter().find(|t| t.kind == "cpu").and_then(|t| seconds(&t.results, "segment/table3/1"));
    for target in &mut targets {
        target.ratios = ratios(&target.results, if target.kind == "wgpu" { cpu_table3 } else { None });
    }
    Ok(Report { pami_version: env!("CARGO_PKG_VERSION"), quick: options.quick, adapters: described, targets })
}

/// A device on `adapter` with its features and limits, registered with Burn.
fn open(instance: &wgpu::Instance, adapter: &wgpu::Adapter) -> Result<Device, Error> {
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("pami bench"),
        required_features: adapter.features().difference(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS),
        required_limits: adapter.limits(),
        ..Default::default()
    }))
    .map_err(|e| Error::Device(format!("cannot open {}: {e}", adapter.get_info().name)))?;
    let backend = adapter.get_info().backend;
    let setup = crate::device::WgpuSetup { instance: instance.clone(), adapter: adapter.clone(), device, queue, backend };
    Ok(crate::device::init_device(setup)?.device)
}

fn seconds(results: &[Measurement], id: &str) -> Option<f64> {
    results.iter().find(|m| m.id == id).map(|m| m.seconds)
}

fn ratios(results: &[Measurement], cpu_table3: Option<f64>) -> Ratios {
    let strategy_two = results.iter().find(|m| m.id == "method/segments");
    let stage = |name: &str| strategy_two.and_then(|m| m.stages.iter().find(|(s, _)| s == name).map(|(_, v)| *v));
    let total = stage("total");
    let model = stage("model").map(|m| m + stage("predict").unwrap_or(0.0));
    Ratios {
        segmentation_vs_model: stage("partition").zip(stage("model")).map(|(p, m)| p / m),
        outside_model_share: total.zip(model).map(|(t, m)| (t - m) / t),
        cpu_over_this: cpu_table3.zip(seconds(results, "segment/table3/1")).map(|(c, g)| c / g),
    }
}

/// Times `f` `reps` times (after `warm` untimed runs), syncing the device
/// around each; the counts are those of the first timed repetition.
fn time<T>(device: &Device, reps: usize, warm: usize, mut f: impl FnMut() -> Result<T, Error>) -> Result<(Vec<f64>, Counts, T), Error> {
    let sync = || device.sync().map_err(|e| Error::Device(e.to_string()));
    for _ in 0..warm {
        f()?;
        sync()?;
    }
    let mut times = Vec::with_capacity(reps);
    let mut first = None;
    for _ in 0..reps.max(1) {
        sync()?;
        let start = Instant::now();
        let (out, counts) = measure(|| {
            let out = f();
            (out, sync())
        });
        let (out, synced) = out;
        synced?;
        times.push(start.elapsed().as_secs_f64());
        if first.is_none() {
            first = Some((counts, out?));
        }
    }
    let (counts, out) = first.expect("at least one repetition");
    Ok((times, counts, out))
}

fn row(id: String, items: usize, (mut times, counts): (Vec<f64>, Counts)) -> Measurement {
    times.sort_by(f64::total_cmp);
    Measurement {
        id,
        seconds: times[times.len() / 2],
        min_seconds: times[0],
        reps: times.len(),
        items,
        work: DeviceWork::from(&counts),
        stages: Vec::new(),
    }
}

/// The bench image: the espresso photo at 224², embedded.
fn coffee() -> Result<RgbImage, Error> {
    crate::io::decode_image(include_bytes!("../tests/fixtures/segments/coffee_224.png"), "coffee_224.png".as_ref())
}

/// `[n, 3, H, W]` pixel values of `image` repeated, on `device`.
fn batch(image: &RgbImage, n: usize, device: &Device) -> Tensor<4> {
    let [w, h] = [image.width() as usize, image.height() as usize];
    let chw = crate::explain::to_chw(image);
    Tensor::<3>::from_data(TensorData::new(chw, [3, h, w]), device).unsqueeze::<4>().repeat_dim(0, n)
}

fn workload(device: &Device, options: &BenchOptions, out: &mut Vec<Measurement>, progress: &mut impl FnMut(&str)) -> Result<(), Error> {
    let quick = options.quick;
    let reps = if quick { 3 } else { 10 };
    let image = coffee()?;
    let one = batch(&image, 1, device);
    let x = one.clone().squeeze::<3>();

    // Kernels.
    let parts = Parts::windows(PartKind::Circle, &WindowGrid::default().rows(224, 224)?, 1, 224, 224, device);
    let baseline = ops::blur(x.clone(), &Blur::paper()).unsqueeze::<4>();
    let norm = crate::Normalisation::LITE;
    let scores = Tensor::<2>::ones([parts.len(), 1], device);
    let labels = crate::segment::Slic { n_segments: 80, ..Default::default() }.segment(&one)?.labels;
    let kernels: [(&str, usize, &dyn Fn() -> Result<(), Error>); 4] = [
        ("kernel/blur", 1, &|| Ok(drop(ops::blur(x.clone(), &Blur::paper())))),
        ("kernel/compose", 16, &|| Ok(drop(ops::compose(&one, &baseline, &parts, 0, 16, false, &norm)))),
        ("kernel/aggregate", parts.len(), &|| Ok(drop(ops::aggregate(&scores, &parts, 0)))),
        ("kernel/connected-components", 1, &|| crate::segment::connected_components(labels.clone()).map(drop)),
    ];
    for (id, items, kernel) in kernels {
        if options.wants(id) {
            progress(id);
            let (t, c, _) = time(device, reps, 1, kernel)?;
            out.push(row(id.into(), items, (t, c)));
        }
    }

    // Segmenters at the paper's Table-3 settings.
    let table3 = paper();
    let family = |name: &str| -> Vec<Segmenter> {
        table3.iter().copied().filter(|s| s.name().starts_with(name)).collect()
    };
    let sizes: &[usize] = if quick { &[1] } else { &[1, 16] };
    for &n in sizes {
        let images = batch(&image, n, device);
        for name in ["felzenszwalb", "slic", "seeds", "watershed", "table3"] {
            let set = if name == "table3" { table3.clone() } else { family(name) };
            let id = format!("segment/{name}/{n}");
            if !options.wants(&id) {
                continue;
            }
            progress(&id);
            let (t, c, _) = time(device, reps, 1, || crate::segment::segment_all(&images, &set))?;
            out.push(row(id, n, (t, c)));
        }
    }

    // The models' forward passes: the embedded default, then torchvision's.
    let model = Zoo::EfficientnetLite0.load(device)?;
    let batches: &[usize] = if quick { &[1, 16] } else { &[1, 16, 64] };
    let mut forward_rows = |name: &str, model: &dyn Model| -> Result<(), Error> {
        for &n in batches {
            let id = format!("model/{name}/{n}");
            if !options.wants(&id) {
                continue;
            }
            let input = batch(&image, n, device) / 255.0;
            progress(&id);
            // Batch 64 of ResNet-50 takes seconds a pass on a CPU.
            let reps = if n >= 64 { reps.min(3) } else { reps };
            let (t, c, _) = time(device, reps, 1, || Ok(model.forward(input.clone())))?;
            out.push(row(id, n, (t, c)));
        }
        Ok(())
    };
    forward_rows("efficientnet-lite0", &*model)?;
    // torchvision's CNNs at their initial weights (a forward's time does not
    // depend on the values); the quick workload keeps ResNet-50.
    let torchvision: &[&str] = if quick { &["resnet50"] } else { &["resnet50", "vgg16_bn", "densenet121", "mobilenet_v2", "convnext_tiny"] };
    for name in torchvision {
        if batches.iter().any(|n| options.wants(&format!("model/{name}/{n}"))) {
            forward_rows(name, &crate::model::torchvision::Torchvision::init(name, 1000, device)?)?;
        }
    }

    // Each method end to end.
    let explainer = Explainer::new(model, device.clone());
    let methods: &[&str] = if quick { &["segments", "ablation"] } else { &["window", "segments", "occlusion", "rise", "ablation"] };
    let method_reps = if quick { 1 } else { 3 };
    for strategy in methods {
        let config = method_config(strategy, 16)?;
        let id = format!("method/{strategy}");
        if !options.wants(&id) {
            continue;
        }
        progress(&id);
        let (t, c, e) = time(device, method_reps, 0, || explainer.explain(&image, &config))?;
        let mut m = row(id, 1, (t, c));
        m.stages = e.timings.iter().map(|(s, v)| (s.to_string(), v)).collect();
        out.push(m);
    }

    // A dataset, several images per batch.
    let (dataset, explainer, in_flight): (Vec<RgbImage>, Explainer<Box<dyn Model>>, &[usize]) = if quick {
        let images = (0..8).map(|i| crate::synthetic::sample(crate::synthetic::HELD_OUT + i).image).collect();
        (images, Explainer::new(Zoo::SyntheticShapes.load(device)?, device.clone()), &[1, 4])
    } else {
        (vec![image.clone(); 64], explainer, &[1, 4, 16])
    };
    // Throughput: no syncs between stages.
    let config = ExplainConfig { timing: crate::Timing::Total, ..method_config("segments", 16)? };
    for &k in in_flight {
        let id = format!("dataset/in-flight-{k}");
        if !options.wants(&id) {
            continue;
        }
        progress(&id);
        let (t, c, _) = time(device, 1, 0, || {
            for group in dataset.chunks(k) {
                explainer.explain_batch(group, &config)?;
            }
            Ok(())
        })?;
        out.push(row(id, dataset.len(), (t, c)));
    }
    Ok(())
}

/// A method at its defaults (as `pami explain --strategy` runs it), explaining the top class.
fn method_config(strategy: &str, batch: usize) -> Result<ExplainConfig, Error> {
    crate::options::config(strategy, &registry::Values::default(), Targets::TopK(1), batch)
}

/// `bench.md`: the adapters, one table per target, and the ratios.
pub fn markdown(report: &Report) -> String {
    let mut md = format!("# pami bench{}\n\n", if report.quick { " (--quick)" } else { "" });
    md.push_str("| adapter | backend | type | driver | max storage binding |\n|---|---|---|---|---|\n");
    for a in &report.adapters {
        md.push_str(&format!(
            "| {} | {} | {} | {} {} | {} MiB |\n",
            a.name,
            a.backend,
            a.device_type,
            a.driver,
            a.driver_info,
            a.limits.max_storage_buffer_binding_size >> 20
        ));
    }
    for t in &report.targets {
        let name = t.adapter.as_ref().map_or("CPU path (burn flex)".to_string(), |a| format!("{} ({})", a.name, a.backend));
        md.push_str(&format!("\n## {name}\n\n"));
        if let Some(e) = &t.error {
            md.push_str(&format!("Stopped early: {e}\n\n"));
        }
        md.push_str("| id | seconds (median) | per item | dispatches | readbacks | syncs |\n|---|---|---|---|---|---|\n");
        for m in &t.results {
            md.push_str(&format!(
                "| `{}` | {:.4} | {:.4} | {} | {} | {} |\n",
                m.id,
                m.seconds,
                m.seconds / m.items.max(1) as f64,
                m.work.dispatches,
                m.work.readbacks,
                m.work.syncs
            ));
        }
        let r = &t.ratios;
        let show = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
        md.push_str(&format!(
            "\n| segmentation / model (Strategy II) | share outside the model (Strategy II) | CPU path / this (twenty segmentations) |\n|---|---|---|\n| {} | {} | {} |\n",
            show(r.segmentation_vs_model),
            show(r.outside_model_share),
            show(r.cpu_over_this)
        ));
    }
    md
}
