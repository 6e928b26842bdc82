use bytemuck::{Pod, Zeroable};

/// Parameters of one chunk of the aggregation gather. Keep in sync with the
/// `P_*` indices in `shaders/aggregate.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct AggregateParams {
    pub width: u32,
    pub height: u32,
    /// Number of parts (rows of the score table).
    pub parts: u32,
    /// Number of targets (columns of the score table).
    pub targets: u32,
    /// Number of label maps (segments) or grids (RISE).
    pub runs: u32,
    /// A [`crate::PartKind`] code.
    pub kind: u32,
    /// First part (windows, RISE) or run (segments) of this chunk.
    pub first: u32,
    /// Parts or runs in this chunk.
    pub count: u32,
}

/// Parts or runs one aggregation dispatch gathers per pixel: far below the
/// 65,535 loop iterations llvmpipe allows an invocation.
pub const CHUNK: usize = 8192;

pub(crate) const SOURCE: &str = include_str!("../../shaders/aggregate.wgsl");
