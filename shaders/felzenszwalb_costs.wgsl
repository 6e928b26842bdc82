// Felzenszwalb, stage 2: the cost of every edge of the 8-connected grid (the
// Euclidean colour distance of the smoothed pixels, floor of the square root
// in 1/4096 grey level), and each pixel as its own segment in every
// setting's forest.
// CPU twin: felzenszwalb_costs in src/cpu/felzenszwalb.rs.

@group(0) @binding(0) var<storage, read_write> smoothed: array<u32>;           // [N, 3, H, W]
@group(0) @binding(1) var<storage, read_write> costs: array<u32>;              // [N, 4, H, W]
@group(0) @binding(2) var<storage, read_write> forest: array<u32>;             // [N·settings, 3, H, W]
@group(0) @binding(3) var<uniform> params: FelzenszwalbParams;
// import shared/felzenszwalb_params.wgsl
// import shared/grid.wgsl
// import shared/wide.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if outside(gid) {
        return;
    }
    let width = params.width;
    let plane = width * params.height;
    let p = gid.y * width + gid.x;
    for (var setting = 0u; setting < params.settings; setting++) {
        let tree = (gid.z * params.settings + setting) * 3u * plane;
        forest[tree + FIELD_PARENT * plane + p] = p;
        forest[tree + FIELD_SIZE * plane + p] = 1u;
        forest[tree + FIELD_INNER * plane + p] = 0u;
    }
    let right = gid.x + 1u < width;
    let down = gid.y + 1u < params.height;
    var exists = array<bool, 4>(right, down, right && down, right && down);
    for (var kind = 0u; kind < 4u; kind++) {
        let e = kind * plane + p;
        var cost = NO_EDGE;
        if exists[kind] {
            let ends = edge_ends(e, width, plane);
            var d2 = vec2<u32>(0u, 0u);
            for (var c = 0u; c < 3u; c++) {
                let base = (gid.z * 3u + c) * plane;
                let d = u32(abs(i32(smoothed[base + ends.x]) - i32(smoothed[base + ends.y])));
                d2 = wide_add(d2, wide_mul(d, d));
            }
            cost = wide_sqrt(d2);
        }
        costs[gid.z * 4u * plane + e] = cost;
    }
}
