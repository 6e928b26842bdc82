//! Each pixel's position when a map is sorted by decreasing value (ties by
//! pixel index), by a bitonic sort on the device (`shaders/rank_*.wgsl`):
//! the order of insertion and deletion. Burn's own argsort reads the tensor
//! back to the host on wgpu.
//!
//! - WGSL: `shaders/rank_{init,sort,scatter}.wgsl`, with
//!   `shaders/shared/rank_params.wgsl` (the params struct);
//! - params: [`RankParams`], here;
//! - launch: [`rank`], here (called by `PerturbationBackend::rank` in
//!   `src/backend/perturbation.rs`, from `ops::rank` in `src/ops.rs`);
//! - CPU twin: `src/cpu/rank.rs`.

use burn::backend::DType;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::Shape;
use bytemuck::{Pod, Zeroable};

use super::launch::{empty, float, launch, lines};

/// Keep in sync with `struct RankParams` in `shaders/shared/rank_params.wgsl`
/// (tests/params.rs compares the layouts).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct RankParams {
    /// Pixels per map.
    pub plane: u32,
    /// Keys per map: the power of two at or above `plane`.
    pub span: u32,
    pub maps: u32,
    /// Bitonic block size of a sort step.
    pub block: u32,
    /// Compare distance of a sort step.
    pub step: u32,
}

impl RankParams {
    pub fn new(maps: usize, plane: usize) -> Self {
        RankParams { plane: plane as u32, span: plane.next_power_of_two() as u32, maps: maps as u32, block: 0, step: 0 }
    }

    /// The `(block, step)` of every compare-exchange step, in order.
    pub fn steps(&self) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut block = 2;
        while block <= self.span {
            let mut step = block / 2;
            while step > 0 {
                out.push((block, step));
                step /= 2;
            }
            block *= 2;
        }
        out
    }
}

const INIT: &str = include_str!("../../shaders/rank_init.wgsl");
const SORT: &str = include_str!("../../shaders/rank_sort.wgsl");
const SCATTER: &str = include_str!("../../shaders/rank_scatter.wgsl");

/// `maps [M, H, W]` (f32) → ranks of the same shape (i32).
pub fn rank(maps: CubeTensor) -> CubeTensor {
    let maps = float(maps);
    let shape = maps.meta.shape().clone();
    let p = RankParams::new(shape[0], shape[1] * shape[2]);
    let keys = empty(&maps, Shape::new([p.maps as usize, p.span as usize]), DType::I32);
    let ranks = empty(&maps, shape, DType::I32);
    launch("rank_init", INIT, lines(p.span, p.maps), &[&keys], &p);
    for (block, step) in p.steps() {
        let stage = RankParams { block, step, ..p };
        launch("rank_sort", SORT, lines(p.span / 2, p.maps), &[&maps, &keys], &stage);
    }
    launch("rank_scatter", SCATTER, lines(p.plane, p.maps), &[&keys, &ranks], &p);
    ranks
}
