// SEEDS, stage 4: OpenCV's updateLabels, one invocation per pixel: each
// pixel takes the superpixel of its smallest block.
// CPU twin: seeds_labels in src/cpu/seeds.rs.

@group(0) @binding(0) var<storage, read_write> table: array<u32>;   // Layout::table
@group(0) @binding(1) var<storage, read_write> state: array<u32>;   // [N, S]
@group(0) @binding(2) var<uniform> params: SeedsParams;
// import shared/seeds_params.wgsl
// import shared/seeds.wgsl

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if gid.y >= params.items || i >= params.width * params.height {
        return;
    }
    enter(gid.y);
    let block = grid_label(0u, i % params.width, i / params.width);
    state[s + labels_at() + i] = state[s + parent_at(0u, block)];
}
