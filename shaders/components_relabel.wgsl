// Connected components, stage 6 of 6: a pixel's label is its root's rank
// among the image's roots in raster order (block offset + roots before it in
// its block), so labels are 0..n-1 in order of first appearance.
// CPU twin: components_relabel in src/cpu/components.rs.

@group(0) @binding(0) var<storage, read_write> parent: array<i32>;  // [N, H, W], compressed
@group(0) @binding(1) var<storage, read_write> blocks: array<i32>;  // [N, blocks], offsets
@group(0) @binding(2) var<storage, read_write> output: array<i32>;  // [N, H, W]
@group(0) @binding(3) var<uniform> params: ComponentsParams;
// import shared/components_params.wgsl
// import shared/grid.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if outside(gid) {
        return;
    }
    let width = params.width;
    let height = params.height;
    let base = gid.z * width * height;
    let root = u32(parent[base + gid.y * width + gid.x]);
    let block = root / BLOCK;
    var rank = blocks[gid.z * params.blocks + block];
    for (var i = block * BLOCK; i < root; i++) {
        if parent[base + i] == i32(i) {
            rank += 1;
        }
    }
    output[base + gid.y * width + gid.x] = rank;
}
