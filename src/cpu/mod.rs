//! CPU twins of the WGSL kernels in `shaders/`, one module per shader with the
//! same name, parameters and loop structure. They are the test oracle for the
//! GPU kernels and the implementation of the backend extension on Burn's CPU
//! backend (`flex`).

pub mod aggregate;
pub mod blur;
pub mod components;
pub mod compose;
pub mod merge;
pub mod slic;
pub mod watershed;
