// Connected components, stage 2 of 6: each pixel unites with its right and
// lower neighbour when their labels are equal (4-connectivity). Union links
// the larger root under the smaller with atomicMin (Playne & Hawick's
// equivalence method), so every component's root ends as its first pixel in
// raster order, whatever the schedule.
// CPU twin: components_merge in src/cpu/components.rs.

@group(0) @binding(0) var<storage, read_write> labels: array<i32>;          // [N, H, W]
@group(0) @binding(1) var<storage, read_write> parent: array<atomic<i32>>;  // [N, H, W]
@group(0) @binding(2) var<uniform> params: ComponentsParams;
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
    let label = labels[base + pixel];
    if gid.x + 1u < width && labels[base + pixel + 1u] == label {
        unite(base, i32(pixel), i32(pixel + 1u));
    }
    if gid.y + 1u < height && labels[base + pixel + width] == label {
        unite(base, i32(pixel), i32(pixel + width));
    }
}
