//! WGSL kernels launched through Burn's compute client on the tensors' own
//! buffers (the form of Burn's `examples/custom-wgpu-kernel`). One name finds
//! a kernel family `<op>`:
//!
//! - its WGSL: `shaders/<op>.wgsl` or `shaders/<op>_<stage>.wgsl`, each
//!   binding its parameter block last as `var<uniform> params: <Op>Params`,
//!   the struct declared in `shaders/shared/<op>_params.wgsl`;
//! - its parameter block: `<Op>Params` in `src/gpu/<op>.rs`, `#[repr(C)]`
//!   and `Pod`, the mirror of that WGSL struct (`tests/params.rs` compares
//!   their layouts);
//! - its launch: the functions in `src/gpu/<op>.rs` (the buffer fill in
//!   [`launch`]), called by the backend extension in `src/backend/`;
//! - its CPU twin: `src/cpu/<op>.rs`, functions named as the shaders.
//!
//! Each module's own header says which files hold what.

pub mod aggregate;
pub mod blur;
pub mod components;
pub mod compose;
pub mod felzenszwalb;
pub mod fill;
pub(crate) mod launch;
pub mod rank;
pub mod render;
pub mod seeds;
pub mod segment;
pub mod slic;
pub mod watershed;

/// Code shared between shaders, pulled in by a line `// import shared/NAME.wgsl`.
const SHARED: &[(&str, &str)] = &[
    ("shared/aggregate_params.wgsl", include_str!("../../shaders/shared/aggregate_params.wgsl")),
    ("shared/blur_params.wgsl", include_str!("../../shaders/shared/blur_params.wgsl")),
    ("shared/components_params.wgsl", include_str!("../../shaders/shared/components_params.wgsl")),
    ("shared/compose_params.wgsl", include_str!("../../shaders/shared/compose_params.wgsl")),
    ("shared/felzenszwalb_params.wgsl", include_str!("../../shaders/shared/felzenszwalb_params.wgsl")),
    ("shared/fill_params.wgsl", include_str!("../../shaders/shared/fill_params.wgsl")),
    ("shared/find.wgsl", include_str!("../../shaders/shared/find.wgsl")),
    ("shared/grid.wgsl", include_str!("../../shaders/shared/grid.wgsl")),
    ("shared/segment_params.wgsl", include_str!("../../shaders/shared/segment_params.wgsl")),
    ("shared/parts.wgsl", include_str!("../../shaders/shared/parts.wgsl")),
    ("shared/rank_params.wgsl", include_str!("../../shaders/shared/rank_params.wgsl")),
    ("shared/render_params.wgsl", include_str!("../../shaders/shared/render_params.wgsl")),
    ("shared/seeds.wgsl", include_str!("../../shaders/shared/seeds.wgsl")),
    ("shared/seeds_params.wgsl", include_str!("../../shaders/shared/seeds_params.wgsl")),
    ("shared/seeds_phases.wgsl", include_str!("../../shaders/shared/seeds_phases.wgsl")),
    ("shared/slic.wgsl", include_str!("../../shaders/shared/slic.wgsl")),
    ("shared/slic_params.wgsl", include_str!("../../shaders/shared/slic_params.wgsl")),
    ("shared/slic_nearest.wgsl", include_str!("../../shaders/shared/slic_nearest.wgsl")),
    ("shared/steps.wgsl", include_str!("../../shaders/shared/steps.wgsl")),
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
