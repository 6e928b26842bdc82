// Fills the first `params.len` elements of a 4-byte buffer with
// `params.value` (zeroed sums and counters, starting values of atomics).
// Launched by `fill` in src/gpu/launch.rs over rows of workgroups (a grid
// dimension holds at most 65,535 workgroups). CPU twin: src/cpu/fill.rs.

@group(0) @binding(0) var<storage, read_write> target_: array<u32>;
@group(0) @binding(1) var<uniform> params: FillParams;
// import shared/fill_params.wgsl

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.y * groups.x * 64u + gid.x;
    if i >= params.len {
        return;
    }
    target_[i] = params.value;
}
