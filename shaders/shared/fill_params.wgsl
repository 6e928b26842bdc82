// Parameters of shaders/fill.wgsl. Keep in sync with FillParams in
// src/gpu/fill.rs (tests/params.rs compares the layouts).
struct FillParams {
    len: u32,     // elements to fill
    value: u32,   // their value (bits)
}
