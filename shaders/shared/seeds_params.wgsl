// Parameters of the seeds_* stages. Keep in sync with SeedsParams in
// src/gpu/seeds.rs (tests/params.rs compares the layouts).
struct SeedsParams {
    width: u32,
    height: u32,
    items: u32,         // images × settings (item = image · settings + setting)
    level: u32,         // seeds_histograms: the level built (from the one below)
    count: u32,         // seeds_histograms: invocations per image (pixels or blocks below)
    first: u32,         // seeds_blocks, seeds_pixels: the first step of this dispatch
    steps: u32,         // seeds_blocks, seeds_pixels: steps in this dispatch
    double_step: u32,   // seeds_blocks: 1 for two block sweeps per level (the first requiring confidence 0.1)
    prior: u32,         // seeds_pixels: OpenCV's prior (0..=5)
}
