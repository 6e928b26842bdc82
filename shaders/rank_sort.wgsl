// Ranking, stage 2: one compare-exchange step (block k, distance j) of a
// bitonic sort of each map's keys into descending value order, ties by
// ascending pixel index, padding last. Every key pair is distinct, so the
// order is total and the result is the same on every device. One invocation
// per pair. CPU twin: src/cpu/rank.rs.

@group(0) @binding(0) var<storage, read_write> values: array<f32>;  // [M, plane]
@group(0) @binding(1) var<storage, read_write> keys: array<u32>;    // [M, span]
@group(0) @binding(2) var<uniform> params: RankParams;

// import shared/rank_params.wgsl

// Whether pixel a of map m comes before pixel b.
fn before(m: u32, a: u32, b: u32) -> bool {
    let plane = params.plane;
    if a >= plane || b >= plane {
        return a < b;
    }
    let va = values[m * plane + a];
    let vb = values[m * plane + b];
    return va > vb || (va == vb && a < b);
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let span = params.span;
    let m = gid.y;
    let pair = gid.x;
    if pair >= span / 2u || m >= params.maps {
        return;
    }
    let j = params.step;
    let k = params.block;
    let i = (pair / j) * 2u * j + pair % j;
    let l = i + j;
    let a = keys[m * span + i];
    let b = keys[m * span + l];
    // Blocks alternate direction so that each merged block is bitonic.
    let forward = (i & k) == 0u;
    if before(m, b, a) == forward {
        keys[m * span + i] = b;
        keys[m * span + l] = a;
    }
}
