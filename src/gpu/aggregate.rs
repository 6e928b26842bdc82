use bytemuck::{Pod, Zeroable};

/// Parameters of the aggregation gather. Keep in sync with the `P_*` indices in
/// `shaders/aggregate.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct AggregateParams {
    pub width: u32,
    pub height: u32,
    /// Number of parts (rows of the score table).
    pub parts: u32,
    /// Number of targets (columns of the score table).
    pub targets: u32,
    /// Number of label maps (segment kind only).
    pub runs: u32,
    /// 0: circle, 1: rectangle, 2: segments (see [`crate::PartKind`]).
    pub kind: u32,
}

pub(crate) const SOURCE: &str = include_str!("../../shaders/aggregate.wgsl");
