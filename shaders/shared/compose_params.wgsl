// Parameters of one composed batch (shaders/compose.wgsl). Keep in sync with
// ComposeParams in src/gpu/compose.rs (tests/params.rs compares the layouts).
struct ComposeParams {
    width: u32,
    height: u32,
    batch: u32,
    first: u32,                 // index of the batch's first part in `parts`
    kind: u32,                  // a KIND_* of shared/parts.wgsl
    invert: u32,                // 1: keep everything but the part (occlusion, deletion)
    runs: u32,                  // number of label maps, RISE grids or rank maps
    images: u32,                // images in `image` and `baseline`
    mean: vec4<f32>,            // normalisation per channel (x, y, z)
    deviation: vec4<f32>,
}
