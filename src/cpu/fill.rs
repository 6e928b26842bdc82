//! CPU twin of `shaders/fill.wgsl`.

use crate::gpu::fill::FillParams;

/// Sets the first `p.len` elements of `target` to `p.value`.
pub fn fill(target: &mut [u32], p: &FillParams) {
    target[..p.len as usize].fill(p.value);
}
