//! WGSL kernels launched through Burn's compute client on the tensors' own
//! buffers (the form of Burn's `examples/custom-wgpu-kernel`). Each module
//! holds the kernel's parameter block — `#[repr(C)]` and `Pod`, kept in sync
//! with the constants at the top of `shaders/<op>.wgsl` — and its launch.

pub mod aggregate;
pub mod blur;
pub mod components;
pub mod compose;
pub mod felzenszwalb;
pub(crate) mod launch;
pub mod merge;
pub mod rank;
pub mod seeds;
pub mod slic;
pub mod watershed;

/// Code shared between shaders, pulled in by a line `// import shared/NAME.wgsl`.
const SHARED: &[(&str, &str)] = &[
    ("shared/components_params.wgsl", include_str!("../../shaders/shared/components_params.wgsl")),
    ("shared/felzenszwalb_params.wgsl", include_str!("../../shaders/shared/felzenszwalb_params.wgsl")),
    ("shared/find.wgsl", include_str!("../../shaders/shared/find.wgsl")),
    ("shared/grid.wgsl", include_str!("../../shaders/shared/grid.wgsl")),
    ("shared/merge_params.wgsl", include_str!("../../shaders/shared/merge_params.wgsl")),
    ("shared/parts.wgsl", include_str!("../../shaders/shared/parts.wgsl")),
    ("shared/rank_params.wgsl", include_str!("../../shaders/shared/rank_params.wgsl")),
    ("shared/seeds.wgsl", include_str!("../../shaders/shared/seeds.wgsl")),
    ("shared/seeds_sweep.wgsl", include_str!("../../shaders/shared/seeds_sweep.wgsl")),
    ("shared/slic_params.wgsl", include_str!("../../shaders/shared/slic_params.wgsl")),
    ("shared/watershed_params.wgsl", include_str!("../../shaders/shared/watershed_params.wgsl")),
    ("shared/wide.wgsl", include_str!("../../shaders/shared/wide.wgsl")),
];

/// A shader's complete WGSL: its text with every `// import shared/…` line
/// replaced by that file. The naga test validates exactly this text.
pub fn resolve_imports(text: &str) -> String {
    text.lines()
        .map(|line| match line.trim().strip_prefix("// import ") {
            Some(name) => SHARED
                .iter()
                .find(|(n, _)| *n == name.trim())
                .map(|(_, code)| code.to_string())
                .unwrap_or_else(|| panic!("unknown shared WGSL file {name}")),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Image kernels use 16×16 workgroups over (x, y) and the z grid for planes,
/// batch items or targets.
pub(crate) const TILE: u32 = 16;
/// Line kernels use 64×1 workgroups over x and the y grid for images.
pub(crate) const LINE: u32 = 64;
