//! Small-segment removal on connected label maps (see `shaders/segment_*.wgsl`).

use bytemuck::{Pod, Zeroable};

/// Keep in sync with the `P_*` constants in `shaders/shared/merge_params.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct MergeParams {
    pub width: u32,
    pub height: u32,
    pub images: u32,
    /// Segments with fewer pixels merge into a neighbour.
    pub min_size: u32,
    /// Fill value of `segment_clear`.
    pub value: u32,
}

pub(crate) const CLEAR: &str = include_str!("../../shaders/segment_clear.wgsl");
pub(crate) const SIZES: &str = include_str!("../../shaders/segment_sizes.wgsl");
pub(crate) const MERGE: &str = include_str!("../../shaders/segment_merge.wgsl");
