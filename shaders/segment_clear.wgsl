// Fills one [N, H, W] buffer with a value (the starting state of atomic counters).
// CPU twin: segment_clear in src/cpu/merge.rs.

@group(0) @binding(0) var<storage, read_write> target_: array<u32>;  // [N, H, W]
@group(0) @binding(1) var<storage, read_write> params: array<u32>;
// import shared/merge_params.wgsl

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let plane = params[P_WIDTH] * params[P_HEIGHT];
    if gid.x >= plane || gid.y >= params[P_IMAGES] {
        return;
    }
    target_[gid.y * plane + gid.x] = params[P_VALUE];
}
