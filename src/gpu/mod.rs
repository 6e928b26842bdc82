//! WGSL kernels launched through Burn's compute client on the tensors' own
//! buffers (the form of Burn's `examples/custom-wgpu-kernel`). Each module
//! holds the kernel's parameter block — `#[repr(C)]` and `Pod`, kept in sync
//! with the constants at the top of `shaders/<op>.wgsl` — and its launch.

pub mod aggregate;
pub mod blur;
pub mod compose;
pub(crate) mod launch;

/// Every kernel here uses 16×16 workgroups over (x, y) and the z grid for
/// planes, batch items or targets.
pub(crate) const TILE: u32 = 16;
