// Watershed, stage 4: folds one group of markers into each pixel's best
// (lowest level, then lowest marker index) so far. Groups come in marker
// order, so a tie keeps the earlier marker.
// CPU twin: watershed_label in src/cpu/watershed.rs.

@group(0) @binding(0) var<storage, read_write> level: array<u32>;  // [N, G, H, W]
@group(0) @binding(1) var<storage, read_write> best: array<u32>;   // [N, H, W], starts unreached
@group(0) @binding(2) var<storage, read_write> labels: array<i32>; // [N, H, W]
@group(0) @binding(3) var<storage, read_write> params: array<u32>;
// import shared/watershed_params.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.x >= params[P_WIDTH] || gid.y >= params[P_HEIGHT] || gid.z >= params[P_BATCH] {
        return;
    }
    let plane = params[P_WIDTH] * params[P_HEIGHT];
    let n = gid.z;
    let at = n * plane + gid.y * params[P_WIDTH] + gid.x;
    let group = params[P_GROUP];
    for (var g = 0u; g < group; g++) {
        let t = level[(n * group + g) * plane + gid.y * params[P_WIDTH] + gid.x];
        if t < best[at] {
            best[at] = t;
            labels[at] = i32(params[P_FIRST] + g);
        }
    }
}
