// SEEDS, stage 1. Level 0 (one invocation per pixel): the pixel's histogram
// cell (OpenCV's order: B, G, R digits of v·5/256) into the smallest block's
// histogram and count. Level l ≥ 1 (one invocation per block of level l − 1):
// the block joins its initial parent's histogram (OpenCV's assignLabels and
// computeHistograms); at the top, every superpixel starts with 4 partitions.
// CPU twin: seeds_histograms in src/cpu/seeds.rs.

@group(0) @binding(0) var<storage, read_write> image: array<f32>;         // [N, 3, H, W], 0..255
@group(0) @binding(1) var<storage, read_write> table: array<u32>;         // Layout::table
@group(0) @binding(2) var<storage, read_write> state: array<atomic<u32>>; // [N, S], zeroed
@group(0) @binding(3) var<uniform> params: SeedsParams;
// import shared/seeds_params.wgsl
// import shared/seeds.wgsl

fn value(at: u32) -> u32 {
    return u32(clamp(round(image[at]), 0.0, 255.0)) * BINS / 256u;
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.y >= params.items {
        return;
    }
    enter(gid.y);
    let n = gid.y / table[0];
    let level = params.level;
    if level >= levels() || gid.x >= select(params.width * params.height, nw(max(level, 1u) - 1u) * nh(max(level, 1u) - 1u), level > 0u) {
        return;
    }
    if level == 0u {
        let plane = params.width * params.height;
        let i = gid.x;
        let at = n * 3u * plane + i;
        let cell = (value(at + 2u * plane) * BINS + value(at + plane)) * BINS + value(at);
        atomicStore(&state[s + bins_at() + i], cell);
        let label = grid_label(0u, i % params.width, i / params.width);
        atomicAdd(&state[s + hist(0u, label) + cell], 1u);
        atomicAdd(&state[s + count_at(0u, label)], 1u);
        return;
    }
    let block = gid.x;
    let up = initial_parent(level - 1u, block);
    atomicStore(&state[s + parent_at(level - 1u, block)], up);
    for (var c = 0u; c < CELLS; c++) {
        atomicAdd(&state[s + hist(level, up) + c], atomicLoad(&state[s + hist(level - 1u, block) + c]));
    }
    atomicAdd(&state[s + count_at(level, up)], atomicLoad(&state[s + count_at(level - 1u, block)]));
    if level == top() && block < nw(level) * nh(level) {
        atomicStore(&state[s + partitions() + block], 4u);
    }
}
