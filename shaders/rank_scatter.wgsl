// Ranking, stage 3: ranks[m, keys[m, r]] = r for the first `plane` sorted
// keys (the padding sorted last). CPU twin: src/cpu/rank.rs.

@group(0) @binding(0) var<storage, read_write> keys: array<u32>;   // [M, span]
@group(0) @binding(1) var<storage, read_write> ranks: array<i32>;  // [M, plane]
@group(0) @binding(2) var<uniform> params: RankParams;

// import shared/rank_params.wgsl

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let plane = params.plane;
    let m = gid.y;
    let r = gid.x;
    if r >= plane || m >= params.maps {
        return;
    }
    let pixel = keys[m * params.span + r];
    if pixel < plane {
        ranks[m * plane + pixel] = i32(r);
    }
}
