// SEEDS, stage 3: OpenCV's goDownOneLevel from level `params.level` to the one
// below, one invocation per image: each lower block takes its parent's
// superpixel; partitions are recounted (4 per block, 1 on level 0).
// CPU twin: seeds_descend in src/cpu/seeds.rs.

@group(0) @binding(0) var<storage, read_write> table: array<u32>;   // Layout::table
@group(0) @binding(1) var<storage, read_write> state: array<u32>;   // [N, S]
@group(0) @binding(2) var<storage, read_write> params: SeedsParams;
// import shared/seeds_params.wgsl
// import shared/seeds.wgsl

@compute @workgroup_size(1, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>) {
    let s = wg.x * words();
    let upper = params.level;
    let lower = upper - 1u;
    let t = top();
    for (var label = 0u; label < nw(t) * nh(t); label++) {
        state[s + partitions() + label] = 0u;
    }
    let part = select(1u, 4u, lower != 0u);
    for (var label = 0u; label < nw(lower) * nh(lower); label++) {
        let up = state[s + parent_at(upper, state[s + parent_at(lower, label)])];
        state[s + parent_at(lower, label)] = up;
        state[s + partitions() + up] += part;
    }
}
