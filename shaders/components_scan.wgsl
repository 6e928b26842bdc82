// Connected components, stage 5 of 6: per image, turns the block root counts
// into exclusive offsets (in place) and writes the number of components.
// One invocation per image; an image has at most a few thousand blocks.
// CPU twin: components_scan in src/cpu/components.rs.

@group(0) @binding(0) var<storage, read_write> blocks: array<i32>;  // [N, blocks]
@group(0) @binding(1) var<storage, read_write> counts: array<i32>;  // [N]
@group(0) @binding(2) var<uniform> params: ComponentsParams;
// import shared/components_params.wgsl

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let image = gid.x;
    if image >= params.images {
        return;
    }
    let n = params.blocks;
    var running = 0;
    for (var b = 0u; b < n; b++) {
        let roots = blocks[image * n + b];
        blocks[image * n + b] = running;
        running += roots;
    }
    counts[image] = running;
}
