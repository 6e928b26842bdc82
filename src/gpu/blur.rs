use bytemuck::{Pod, Zeroable};

/// Parameters of one blur pass. Keep in sync with the `P_*` indices in `shaders/blur.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct BlurParams {
    pub width: u32,
    pub height: u32,
    pub planes: u32,
    pub radius: u32,
    /// 0: along x, 1: along y.
    pub axis: u32,
    /// 0: zero padding, 1: reflect.
    pub padding: u32,
}

pub(crate) const SOURCE: &str = include_str!("../../shaders/blur.wgsl");
