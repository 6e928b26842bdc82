// Watershed, stage 2: each marker's flooding level starts unreached except
// at the marker, where it is the gradient there.
// CPU twin: watershed_init in src/cpu/watershed.rs.

@group(0) @binding(0) var<storage, read_write> gradient: array<u32>;  // [N, H, W]
@group(0) @binding(1) var<storage, read_write> markers: array<i32>;   // [M, MARKER_FIELDS]
@group(0) @binding(2) var<storage, read_write> level: array<u32>;     // [N, G, H, W]
@group(0) @binding(3) var<uniform> params: WatershedParams;
// import shared/watershed_params.wgsl
// import shared/grid.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if outside(gid) {
        return;
    }
    let plane = params.width * params.height;
    let n = gid.z / params.group;
    let m = params.first + gid.z % params.group;
    let pixel = gid.y * params.width + gid.x;
    var value = UNREACHED;
    if i32(gid.y) == markers[MARKER_FIELDS * m + MARKER_Y] && i32(gid.x) == markers[MARKER_FIELDS * m + MARKER_X] {
        value = gradient[n * plane + pixel];
    }
    level[gid.z * plane + pixel] = value;
}
