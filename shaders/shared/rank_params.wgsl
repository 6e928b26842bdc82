// Parameters of the rank kernels. Keep in sync with RankParams in src/gpu/rank.rs.
const P_PLANE: u32 = 0u;  // pixels per map
const P_SPAN: u32 = 1u;   // keys per map: the power of two ≥ plane
const P_MAPS: u32 = 2u;
const P_BLOCK: u32 = 3u;  // bitonic block size k
const P_STEP: u32 = 4u;   // bitonic compare distance j
