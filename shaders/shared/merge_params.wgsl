// Parameters of the segment_* stages. Keep in sync with MergeParams in src/gpu/merge.rs.
const P_WIDTH: u32 = 0u;
const P_HEIGHT: u32 = 1u;
const P_IMAGES: u32 = 2u;
const P_MIN_SIZE: u32 = 3u;   // segment_merge: segments smaller than this merge
const P_VALUE: u32 = 4u;      // segment_clear: the fill value
