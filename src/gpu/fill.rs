//! Filling a buffer with one value: zeroed sums and counters, the starting
//! values of atomics.
//!
//! - WGSL: `shaders/fill.wgsl`, with `shaders/shared/fill_params.wgsl` (the
//!   params struct);
//! - params: [`FillParams`], here;
//! - launch: `fill` in `src/gpu/launch.rs` (every kernel family's buffers
//!   are cleared through it);
//! - CPU twin: `src/cpu/fill.rs`.

use bytemuck::{Pod, Zeroable};

/// Keep in sync with `struct FillParams` in `shaders/shared/fill_params.wgsl`
/// (tests/params.rs compares the layouts).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct FillParams {
    /// Elements to fill.
    pub len: u32,
    /// Their value, as bits.
    pub value: u32,
}

pub(crate) const SOURCE: &str = include_str!("../../shaders/fill.wgsl");
