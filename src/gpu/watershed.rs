//! Compact watershed in four stages (see `shaders/watershed_*.wgsl`).

use bytemuck::{Pod, Zeroable};

/// Keep in sync with the `P_*` constants in `shaders/shared/watershed_params.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct WatershedParams {
    pub width: u32,
    pub height: u32,
    /// Images × markers of this group: the z extent of the per-marker stages.
    pub images: u32,
    /// Markers in this group.
    pub group: u32,
    /// Index of the group's first marker.
    pub first: u32,
    /// Images in the batch.
    pub batch: u32,
}

/// A flooding level no path has reached.
pub const UNREACHED: u32 = u32::MAX;

pub(crate) const GRADIENT: &str = include_str!("../../shaders/watershed_gradient.wgsl");
pub(crate) const INIT: &str = include_str!("../../shaders/watershed_init.wgsl");
pub(crate) const FLOOD: &str = include_str!("../../shaders/watershed_flood.wgsl");
pub(crate) const LABEL: &str = include_str!("../../shaders/watershed_label.wgsl");
