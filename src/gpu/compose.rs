use bytemuck::{Pod, Zeroable};

/// Parameters of one composed batch. Keep in sync with the `P_*` indices in
/// `shaders/compose.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq)]
pub struct ComposeParams {
    pub width: u32,
    pub height: u32,
    /// Number of parts (images) in this batch.
    pub batch: u32,
    /// Index of the batch's first part in the parts table.
    pub first: u32,
    /// A [`crate::PartKind`] code.
    pub kind: u32,
    /// 1: keep everything except the part.
    pub invert: u32,
    /// Number of label maps, RISE grids or rank maps.
    pub runs: u32,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// Images in the image and baseline tensors.
    pub images: u32,
}

pub(crate) const SOURCE: &str = include_str!("../../shaders/compose.wgsl");
