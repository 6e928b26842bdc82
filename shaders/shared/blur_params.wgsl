// Parameters of one blur pass (shaders/blur.wgsl). Keep in sync with
// BlurParams in src/gpu/blur.rs (tests/params.rs compares the layouts).
struct BlurParams {
    width: u32,
    height: u32,
    planes: u32,
    radius: u32,
    axis: u32,      // AXIS_X or AXIS_Y
    padding: u32,   // PADDING_ZERO or PADDING_REFLECT
}

const AXIS_X: u32 = 0u;
const AXIS_Y: u32 = 1u;
const PADDING_ZERO: u32 = 0u;
// Mirror without repeating the edge.
const PADDING_REFLECT: u32 = 1u;
