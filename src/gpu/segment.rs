//! Small-segment removal on connected label maps.
//!
//! - WGSL: `shaders/segment_sizes.wgsl` and `shaders/segment_merge.wgsl`,
//!   with `shaders/shared/segment_params.wgsl` (the params struct);
//! - params: [`SegmentParams`], here;
//! - launch: [`segment_sizes`] and [`segment_merge`], here (called by
//!   `SegmentationBackend` in `src/backend/segmentation.rs`, driven by
//!   `enforce_min_size` in `src/segment/mod.rs`);
//! - CPU twin: `src/cpu/segment.rs`.

use burn::backend::DType;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::Shape;
use bytemuck::{Pod, Zeroable};

use super::launch::{cast, empty, fill, int, launch, launch_into, tiles};

/// Keep in sync with `struct SegmentParams` in `shaders/shared/segment_params.wgsl`
/// (tests/params.rs compares the layouts).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct SegmentParams {
    pub width: u32,
    pub height: u32,
    pub images: u32,
    /// Segments with fewer pixels merge into a neighbour.
    pub min_size: u32,
}

const SIZES: &str = include_str!("../../shaders/segment_sizes.wgsl");
const MERGE: &str = include_str!("../../shaders/segment_merge.wgsl");

/// Size and first pixel of every segment of `labels [N, H, W]`, each
/// `[N, H·W]` indexed by label, in the labels' int dtype.
pub fn segment_sizes(labels: CubeTensor, params: SegmentParams) -> (CubeTensor, CubeTensor) {
    let dtype = labels.dtype;
    let labels = int(labels);
    let plane = (params.width * params.height) as usize;
    let shape = Shape::new([params.images as usize, plane]);
    let sizes = empty(&labels, shape.clone(), DType::I32);
    let first = empty(&labels, shape, DType::I32);
    fill(&sizes, 0);
    fill(&first, u32::MAX);
    let grid = tiles(params.width, params.height, params.images);
    launch("segment_sizes", SIZES, grid, &[&labels, &sizes, &first], &params);
    (cast(sizes, dtype), cast(first, dtype))
}

/// One round of small-segment removal (see `shaders/segment_merge.wgsl`).
pub fn segment_merge(
    labels: CubeTensor,
    sizes: CubeTensor,
    first: CubeTensor,
    counts: CubeTensor,
    params: SegmentParams,
) -> CubeTensor {
    let dtype = labels.dtype;
    let (labels, sizes, first, counts) = (int(labels), int(sizes), int(first), int(counts));
    let shape = labels.meta.shape().clone();
    let grid = tiles(params.width, params.height, params.images);
    let inputs = [&labels, &sizes, &first, &counts];
    cast(launch_into("segment_merge", MERGE, grid, &inputs, (shape, DType::I32), &params), dtype)
}
