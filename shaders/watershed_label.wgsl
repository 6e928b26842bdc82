// Watershed, stage 4: folds one group of markers into each pixel's best
// (lowest level, then lowest marker index) so far. Groups come in marker
// order, so a tie keeps the earlier marker.
// CPU twin: watershed_label in src/cpu/watershed.rs.

@group(0) @binding(0) var<storage, read_write> level: array<u32>;  // [N, G, H, W]
@group(0) @binding(1) var<storage, read_write> best: array<u32>;   // [N, H, W], starts unreached
@group(0) @binding(2) var<storage, read_write> labels: array<i32>; // [N, H, W]
@group(0) @binding(3) var<uniform> params: WatershedParams;
// import shared/watershed_params.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.x >= params.width || gid.y >= params.height || gid.z >= params.batch {
        return;
    }
    let plane = params.width * params.height;
    let n = gid.z;
    let at = n * plane + gid.y * params.width + gid.x;
    let group = params.group;
    for (var g = 0u; g < group; g++) {
        let t = level[(n * group + g) * plane + gid.y * params.width + gid.x];
        if t < best[at] {
            best[at] = t;
            labels[at] = i32(params.first + g);
        }
    }
}
