// Ranking, stage 1: every map's keys are its pixel indices 0..span (indices
// ≥ plane are padding that sorts last). CPU twin: src/cpu/rank.rs.

@group(0) @binding(0) var<storage, read_write> keys: array<u32>;  // [M, span]
@group(0) @binding(1) var<uniform> params: RankParams;

// import shared/rank_params.wgsl

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let span = params.span;
    if gid.x >= span || gid.y >= params.maps {
        return;
    }
    keys[gid.y * span + gid.x] = gid.x;
}
