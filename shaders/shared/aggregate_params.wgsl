// Parameters of one chunk of the aggregation gather (shaders/aggregate.wgsl).
// Keep in sync with AggregateParams in src/gpu/aggregate.rs (tests/params.rs
// compares the layouts).
struct AggregateParams {
    width: u32,
    height: u32,
    parts: u32,     // rows of `scores`
    targets: u32,   // columns of `scores`
    runs: u32,      // label maps or RISE grids
    kind: u32,      // a KIND_* of shared/parts.wgsl
    first: u32,     // first part (windows, RISE) or run (segments) of the chunk
    count: u32,     // parts or runs in the chunk
}
