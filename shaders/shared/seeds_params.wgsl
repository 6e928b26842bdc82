// Parameters of the seeds_* stages. Keep in sync with SeedsParams in
// src/gpu/seeds.rs (tests/params.rs compares the layouts).
struct SeedsParams {
    width: u32,
    height: u32,
    images: u32,
    level: u32,         // the level a stage works on (histograms: built from the level below)
    sweep: u32,         // blocks, pixels: SWEEP_HORIZONTAL or SWEEP_VERTICAL; pixels also SWEEP_BORDER
    first: u32,         // first loop position of this chunk
    count: u32,         // loop positions in this chunk
    confidence: f32,    // seeds_blocks: the confidence a move requires
    forward: u32,       // seeds_pixels: 1 for the forward order
    prior: u32,         // OpenCV's prior (0..=5)
}

// SeedsParams::sweep; keep in sync with the SWEEP_* constants in src/gpu/seeds.rs.
const SWEEP_HORIZONTAL: u32 = 0u;
const SWEEP_VERTICAL: u32 = 1u;
const SWEEP_BORDER: u32 = 2u;   // seeds_pixels: the border fix-up
