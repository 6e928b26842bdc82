// Watershed, stage 4: folds one group of markers into each pixel's best
// (lowest level, then lowest marker index) so far, per setting: a map
// counts for its marker's setting and labels the pixel with the marker's
// index within that setting. Groups come in marker order, so a tie keeps
// the earlier marker.
// CPU twin: watershed_label in src/cpu/watershed.rs.

@group(0) @binding(0) var<storage, read_write> level: array<u32>;  // [N, G, H, W]
@group(0) @binding(1) var<storage, read_write> markers: array<i32>; // [M, MARKER_FIELDS]
@group(0) @binding(2) var<storage, read_write> best: array<u32>;   // [settings, N, H, W], starts unreached
@group(0) @binding(3) var<storage, read_write> labels: array<i32>; // [settings, N, H, W]
@group(0) @binding(4) var<uniform> params: WatershedParams;
// import shared/watershed_params.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.x >= params.width || gid.y >= params.height || gid.z >= params.batch {
        return;
    }
    let plane = params.width * params.height;
    let n = gid.z;
    let pixel = gid.y * params.width + gid.x;
    let group = params.group;
    for (var g = 0u; g < group; g++) {
        let m = params.first + g;
        let at = (u32(markers[MARKER_FIELDS * m + MARKER_SETTING]) * params.batch + n) * plane + pixel;
        let t = level[(n * group + g) * plane + pixel];
        if t < best[at] {
            best[at] = t;
            labels[at] = markers[MARKER_FIELDS * m + MARKER_INDEX];
        }
    }
}
