// Connected components, stage 1 of 6: every pixel of every image starts as
// its own root of a union–find forest of image-local pixel indices.
// CPU twin: components_init in src/cpu/components.rs.

@group(0) @binding(0) var<storage, read_write> parent: array<i32>;  // [N, H, W]
@group(0) @binding(1) var<uniform> params: ComponentsParams;
// import shared/components_params.wgsl
// import shared/grid.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if outside(gid) {
        return;
    }
    let width = params.width;
    let height = params.height;
    let pixel = gid.y * width + gid.x;
    parent[gid.z * width * height + pixel] = i32(pixel);
}
