// Size and first pixel (raster order) of every segment of a label map
// (labels 0..n per image), with integer atomics: the same on any schedule.
// `sizes` starts at 0 and `first` at 0xffffffff (filled by fill.wgsl).
// CPU twin: segment_sizes in src/cpu/segment.rs.

@group(0) @binding(0) var<storage, read_write> labels: array<i32>;        // [N, H, W]
@group(0) @binding(1) var<storage, read_write> sizes: array<atomic<u32>>; // [N, H*W], by label
@group(0) @binding(2) var<storage, read_write> first: array<atomic<u32>>; // [N, H*W], by label
@group(0) @binding(3) var<uniform> params: SegmentParams;
// import shared/segment_params.wgsl
// import shared/grid.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if outside(gid) {
        return;
    }
    let width = params.width;
    let height = params.height;
    let plane = width * height;
    let pixel = gid.y * width + gid.x;
    let slot = gid.z * plane + u32(labels[gid.z * plane + pixel]);
    atomicAdd(&sizes[slot], 1u);
    atomicMin(&first[slot], pixel);
}
