// Parameters of one rendered batch (shaders/render.wgsl). Keep in sync with
// RenderParams in src/gpu/render.rs (tests/params.rs compares the layouts).
struct RenderParams {
    width: u32,
    height: u32,
    images: u32,                // images in this batch (the z grid)
    objects: u32,               // rows of the object table
}
