// Connected components, stage 4 of 6: the number of roots in each block of
// BLOCK consecutive pixels of each image.
// CPU twin: components_count in src/cpu/components.rs.

@group(0) @binding(0) var<storage, read_write> parent: array<i32>;  // [N, H, W], compressed
@group(0) @binding(1) var<storage, read_write> blocks: array<i32>;  // [N, blocks]
@group(0) @binding(2) var<uniform> params: ComponentsParams;
// import shared/components_params.wgsl

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let block = gid.x;
    let image = gid.y;
    let pixels = params.width * params.height;
    if block >= params.blocks || image >= params.images {
        return;
    }
    let base = image * pixels;
    let end = min((block + 1u) * BLOCK, pixels);
    var roots = 0;
    for (var i = block * BLOCK; i < end; i++) {
        if parent[base + i] == i32(i) {
            roots += 1;
        }
    }
    blocks[image * params.blocks + block] = roots;
}
