//! CPU twins of the WGSL kernels in `shaders/`, one module per shader with the
//! same name, parameters and loop structure. They are the test oracle for the
//! GPU kernels and the implementation of the backend extension on Burn's CPU
//! backend (`flex`).

pub mod aggregate;
pub mod blur;
pub mod components;
pub mod compose;
pub mod felzenszwalb;
pub mod fill;
pub mod parts;
pub mod rank;
pub mod render;
pub mod seeds;
pub mod segment;
pub mod slic;
pub mod watershed;

/// `floor(sqrt(v))` of an integer below 2^42, bit by bit.
pub(crate) fn isqrt(v: u64) -> u32 {
    let mut root = 0u32;
    for bit in (0..=20).rev() {
        let candidate = root | (1 << bit);
        if candidate as u64 * candidate as u64 <= v {
            root = candidate;
        }
    }
    root
}
