// Felzenszwalb, stage 5: every pixel's root in the merged forest (any id of
// its segment; connected components renumber them afterwards), and for each
// image and setting whether the merge stopped before its last edge.
// CPU twin: felzenszwalb_label in src/cpu/felzenszwalb.rs.

@group(0) @binding(0) var<storage, read_write> forest: array<u32>;   // [N·settings, 3, HW]
@group(0) @binding(1) var<storage, read_write> progress: array<u32>; // [N·settings, 1 + 4HW]: the merge's window start
@group(0) @binding(2) var<storage, read_write> counts: array<u32>;   // [N, COUNTS]: TOTAL edges
@group(0) @binding(3) var<storage, read_write> unfinished: array<i32>; // [N·settings]
@group(0) @binding(4) var<storage, read_write> labels: array<i32>;   // [N·settings, H, W]
@group(0) @binding(5) var<uniform> params: FelzenszwalbParams;
// import shared/felzenszwalb_params.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.x >= params.width || gid.y >= params.height || gid.z >= params.images * params.settings {
        return;
    }
    let plane = params.width * params.height;
    if gid.x == 0u && gid.y == 0u {
        let total = counts[(gid.z / params.settings) * COUNTS + TOTAL];
        unfinished[gid.z] = select(0, 1, progress[gid.z * (1u + 4u * plane)] < total);
    }
    let tree = gid.z * 3u * plane;
    var r = gid.y * params.width + gid.x;
    loop {
        let up = forest[tree + r];
        if up == r {
            break;
        }
        r = up;
    }
    labels[gid.z * plane + gid.y * params.width + gid.x] = i32(r);
}
