// Connected components, stage 3 of 6: every pixel points straight at its root.
// Concurrent rewrites only ever store an ancestor, so a walk still ends at the root.
// CPU twin: components_compress in src/cpu/components.rs.

@group(0) @binding(0) var<storage, read_write> parent: array<atomic<i32>>;  // [N, H, W]
@group(0) @binding(1) var<uniform> params: ComponentsParams;
// import shared/components_params.wgsl
// import shared/grid.wgsl
// import shared/find.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if outside(gid) {
        return;
    }
    let width = params.width;
    let height = params.height;
    let base = gid.z * width * height;
    let pixel = gid.y * width + gid.x;
    atomicStore(&parent[base + pixel], find(base, i32(pixel)));
}
