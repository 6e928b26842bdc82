#![allow(dead_code)]

use burn::tensor::Device;

/// Burn's wgpu device for GPU tests, or `None` (with a notice) when there is
/// no adapter. With `PAMI_REQUIRE_GPU=1` (CI) a missing adapter fails.
pub fn gpu() -> Option<Device> {
    match pami::device::wgpu_device() {
        Ok((device, _)) => Some(device),
        Err(e) if std::env::var("PAMI_REQUIRE_GPU").as_deref() == Ok("1") => {
            panic!("PAMI_REQUIRE_GPU=1 but there is no wgpu adapter: {e}")
        }
        Err(e) => {
            eprintln!("skipping the GPU half of this test: {e}");
            None
        }
    }
}

/// Deterministic pseudo-random values in `[lo, hi)` (xorshift; tests need no rand crate).
pub fn noise(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

/// Largest absolute difference, after checking lengths.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

pub fn floats<const D: usize>(t: burn::tensor::Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}

/// The segmentation reference fixtures (tools/make_segment_refs.py).
pub const SEGMENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/segments");

/// The seven 224² fixture inputs.
pub const STEMS: [&str; 7] =
    ["astronaut_224", "chelsea_224", "china_224", "coffee_224", "flower_224", "motorcycle_left_224", "rocket_224"];

/// Every reference input with its size: the seven at 224² and astronaut at 512².
pub const INPUTS: [(&str, usize); 8] = [
    ("astronaut_224", 224),
    ("chelsea_224", 224),
    ("china_224", 224),
    ("coffee_224", 224),
    ("flower_224", 224),
    ("motorcycle_left_224", 224),
    ("rocket_224", 224),
    ("astronaut_512", 512),
];

/// A fixture input as a `[1, 3, H, W]` batch of values 0..255.
pub fn fixture_input(stem: &str, device: &burn::tensor::Device) -> burn::tensor::Tensor<4> {
    let image = pami::io::load_image(format!("{SEGMENTS}/{stem}.png").as_ref()).unwrap();
    let (w, h) = image.dimensions();
    let chw = pami::explain::to_chw(&image);
    burn::tensor::Tensor::from_data(burn::tensor::TensorData::new(chw, [1, 3, h as usize, w as usize]), device)
}

pub fn ints(t: burn::tensor::Tensor<3, burn::tensor::Int>) -> Vec<i32> {
    t.into_data().convert::<i32>().try_into_vec::<i32>().unwrap()
}

/// Two segmentations of the same images are the same: their segment
/// counts and every label.
pub fn assert_same_segmentation(a: &pami::segment::Segmentation, b: &pami::segment::Segmentation, what: impl std::fmt::Display) {
    assert_eq!(a.counts, b.counts, "{what}: segment counts differ");
    assert!(ints(a.labels.clone()) == ints(b.labels.clone()), "{what}: labels differ");
}

/// Settings of one algorithm run together (`segment_all`: one launch per
/// stage) give each setting's segmentation alone, on the two fixture images
/// `stems`, on the CPU path and on the GPU when there is one; and the GPU's
/// equal the CPU path's.
pub fn assert_settings_run_together(stems: [&str; 2], settings: &[pami::segment::Segmenter]) {
    use burn::tensor::Tensor;
    let batch = |d: &Device| Tensor::cat(stems.iter().map(|s| fixture_input(s, d)).collect(), 0);
    let mut first: Option<Vec<pami::segment::Segmentation>> = None;
    for device in std::iter::once(Device::flex()).chain(gpu()) {
        let together = pami::segment::segment_all(&batch(&device), settings).unwrap();
        for (setting, joint) in settings.iter().zip(&together) {
            assert_same_segmentation(&setting.segment(&batch(&device)).unwrap(), joint, format!("{setting:?} alone and together on {device:?}"));
        }
        match &first {
            None => first = Some(together),
            Some(cpu) => {
                for (setting, (a, b)) in settings.iter().zip(cpu.iter().zip(&together)) {
                    assert_same_segmentation(a, b, format!("{setting:?} on the CPU and the GPU"));
                }
            }
        }
    }
}

/// A reference label map: `setting` (e.g. `slic_n10`) of fixture `stem`.
pub fn reference(stem: &str, setting: &str) -> Vec<i32> {
    let mut npz = npyz::npz::NpzArchive::open(format!("{SEGMENTS}/{stem}.npz")).unwrap();
    npz.by_name(setting).unwrap().unwrap().into_vec::<i32>().unwrap()
}

/// A reference map as pami's parts must be: each label split into its
/// 4-connected pieces, pieces under `min_size` joined to a neighbour (the
/// post-processing pami applies to segments that are not 4-connected).
pub fn four_connected(labels: Vec<i32>, size: usize, min_size: usize) -> Vec<i32> {
    use burn::tensor::{Device, Int, Tensor, TensorData};
    let labels = Tensor::<3, Int>::from_data(TensorData::new(labels, [1, size, size]), &Device::flex());
    ints(pami::segment::enforce_min_size(labels, min_size).unwrap().labels)
}

/// Agreement of pami's label maps with the references, printed as a markdown table.
#[derive(Default)]
pub struct Agreement {
    pub worst_ari: f64,
    sum_ari: f64,
    sum_recall: f64,
    runs: f64,
}

impl Agreement {
    pub fn new(parameter: &str) -> Self {
        println!("| input | {parameter} | segments (reference) | ARI | boundary recall 2px | UE |");
        Agreement { worst_ari: f64::MAX, ..Default::default() }
    }

    /// Records one map pair (both `width` wide) and checks that ours is 4-connected.
    pub fn add(&mut self, stem: &str, value: usize, ours: &[i32], theirs: &[i32], width: usize) {
        use pami::segment::metrics;
        assert!(metrics::is_four_connected(ours, width), "{stem} {value}: a segment is not 4-connected");
        let ari = metrics::adjusted_rand_index(ours, theirs);
        let recall = metrics::boundary_recall(ours, theirs, width, 2);
        let ue = metrics::undersegmentation_error(ours, theirs);
        let (a, b) = (metrics::segment_count(ours), metrics::segment_count(theirs));
        println!("| {stem} | {value} | {a} ({b}) | {ari:.3} | {recall:.3} | {ue:.3} |");
        self.worst_ari = self.worst_ari.min(ari);
        self.sum_ari += ari;
        self.sum_recall += recall;
        self.runs += 1.0;
    }

    /// (mean ARI, mean boundary recall), after printing them with the worst ARI.
    pub fn summary(&self) -> (f64, f64) {
        let (ari, recall) = (self.sum_ari / self.runs, self.sum_recall / self.runs);
        println!("ARI worst {:.3} mean {ari:.3}; boundary recall mean {recall:.3}", self.worst_ari);
        (ari, recall)
    }
}

/// Every WGSL kernel of `shaders/` as launched (shared code imported), parsed
/// by naga: (path, source, module), in name order.
pub fn kernels() -> Vec<(std::path::PathBuf, String, naga::Module)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("wgsl"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let source = pami::gpu::resolve_imports(&std::fs::read_to_string(&path).unwrap());
            let module = naga::front::wgsl::parse_str(&source)
                .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.emit_to_string(&source)));
            (path, source, module)
        })
        .collect()
}

/// The `pami` binary with `args` on the CPU path.
pub fn pami(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pami")).args(args).args(["--device", "cpu"]).output().unwrap()
}

/// `pami args` exits 1 with exactly one `error:` line, which mentions `expect`, and no panic.
pub fn assert_clean_failure(args: &[&str], expect: &str) {
    let out = pami(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail with exit 1; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{args:?}: expected one error line, got: {stderr}");
    assert!(errors[0].contains(expect), "{args:?}: `{}` does not mention `{expect}`", errors[0]);
}
