// Parameters of the rank_* kernels. Keep in sync with RankParams in
// src/gpu/rank.rs (tests/params.rs compares the layouts).
struct RankParams {
    plane: u32,   // pixels per map
    span: u32,    // keys per map: the power of two ≥ plane
    maps: u32,
    block: u32,   // rank_sort: bitonic block size k
    step: u32,    // rank_sort: bitonic compare distance j
}
