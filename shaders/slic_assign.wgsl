// SLIC, stage 2: each pixel takes the nearest cluster whose window contains
// it (shared/slic_nearest.wgsl). CPU twin: slic_assign in src/cpu/slic.rs.

@group(0) @binding(0) var<storage, read_write> lab: array<i32>;       // [N, 3, H, W]
@group(0) @binding(1) var<storage, read_write> clusters: array<i32>;  // [N, K, 8]
@group(0) @binding(2) var<storage, read_write> labels: array<i32>;    // [N, H, W]
@group(0) @binding(3) var<uniform> params: SlicParams;
// import shared/slic_params.wgsl
// import shared/slic.wgsl
// import shared/grid.wgsl
// import shared/wide.wgsl
// import shared/slic_nearest.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if outside(gid) {
        return;
    }
    labels[gid.z * params.width * params.height + gid.y * params.width + gid.x] = nearest_cluster(gid.z, gid.x, gid.y, params_setting(gid.z));
}
