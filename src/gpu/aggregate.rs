//! Aggregation: the parts' scores gathered onto their pixels.
//!
//! - WGSL: `shaders/aggregate.wgsl`, with
//!   `shaders/shared/aggregate_params.wgsl` (the params struct) and
//!   `shaders/shared/parts.wgsl` (a part's weight);
//! - params: [`AggregateParams`], here;
//! - launch: [`aggregate`], here (called by `PerturbationBackend::aggregate`
//!   in `src/backend/perturbation.rs`, from `ops::aggregate_sum` in `src/ops.rs`);
//! - CPU twin: `src/cpu/aggregate.rs` (and `src/cpu/parts.rs`).

use burn::backend::DType;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::Shape;
use bytemuck::{Pod, Zeroable};

use super::launch::{float, int, launch_into, tiles};

/// Parameters of one chunk of the aggregation gather. Keep in sync with
/// `struct AggregateParams` in `shaders/shared/aggregate_params.wgsl`
/// (tests/params.rs compares the layouts).
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

const SOURCE: &str = include_str!("../../shaders/aggregate.wgsl");

/// The unnormalised maps `[T, H, W]` of one chunk: `scores [P, T]` gathered
/// onto the pixels of the parts (`offsets [R]`: each label map's first part).
pub fn aggregate(
    scores: CubeTensor,
    parts: CubeTensor,
    labels: CubeTensor,
    offsets: CubeTensor,
    params: AggregateParams,
) -> CubeTensor {
    let scores = float(scores);
    let (parts, labels, offsets) = (int(parts), int(labels), int(offsets));
    let shape = Shape::new([params.targets as usize, params.height as usize, params.width as usize]);
    let grid = tiles(params.width, params.height, params.targets);
    let inputs = [&scores, &parts, &labels, &offsets];
    launch_into("aggregate", SOURCE, grid, &inputs, (shape, DType::F32), &params)
}
