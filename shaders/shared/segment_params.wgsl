// Parameters of the segment_* stages. Keep in sync with SegmentParams in
// src/gpu/segment.rs (tests/params.rs compares the layouts).
struct SegmentParams {
    width: u32,
    height: u32,
    images: u32,
    min_size: u32,   // segment_merge: segments smaller than this merge
    rounds: u32,     // segment_min_size: rounds this dispatch may run
}
