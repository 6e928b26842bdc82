//! SLIC in three stages (see `shaders/slic_*.wgsl`).

use bytemuck::{Pod, Zeroable};

/// Keep in sync with the `P_*` constants in `shaders/shared/slic_params.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct SlicParams {
    pub width: u32,
    pub height: u32,
    pub images: u32,
    /// Clusters per image.
    pub clusters: u32,
    /// A cluster considers pixels within `2 * window` of its centre.
    pub window: u32,
    /// Weight of the squared distance in 1/16 px (`m²` in 1/256 units).
    pub w_space: u32,
    /// Weight of the squared Lab distance in 1/4 units (`16 S²` in 1/256 units).
    pub w_color: u32,
    /// Update: the band of window rows this dispatch adds up, or [`FINISH`].
    pub band: u32,
}

/// `band` of the update dispatch that turns the sums into means.
pub const FINISH: u32 = u32::MAX;

/// Window rows one update dispatch adds up: at most about 60,000 pixels per
/// cluster, as lavapipe stops an invocation's loops after 65,535 iterations.
pub fn band_rows(window: u32) -> u32 {
    (60_000 / (4 * window + 2)).max(1)
}

/// The update's dispatches for one k-means round: every band of the widest
/// window (`4 · window + 1` rows), then the means.
pub fn update_bands(params: &SlicParams) -> impl Iterator<Item = SlicParams> + '_ {
    let bands = (4 * params.window + 1).div_ceil(band_rows(params.window));
    (0..bands).chain([FINISH]).map(|band| SlicParams { band, ..*params })
}

/// Columns of a cluster row: centre y, x (1/16 px), L, a, b (1/4 units), pixel count.
pub const CLUSTER_STRIDE: usize = 8;

pub(crate) const RANGE: &str = include_str!("../../shaders/slic_range.wgsl");
pub(crate) const LAB: &str = include_str!("../../shaders/slic_lab.wgsl");
pub(crate) const ASSIGN: &str = include_str!("../../shaders/slic_assign.wgsl");
pub(crate) const UPDATE: &str = include_str!("../../shaders/slic_update.wgsl");
