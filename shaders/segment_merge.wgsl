// One round of small-segment removal on a connected label map (labels
// 0..n in order of first appearance): every segment smaller than the minimum
// takes the label of the segment just above (or left of) its first pixel,
// which is an earlier neighbour, so merges never form cycles; segment 0
// merges into segment 1 (whose first pixel touches it) unless segment 1
// merges into it. Rerun connected components and repeat until no segment is
// small. CPU twin: segment_merge in src/cpu/segment.rs.

@group(0) @binding(0) var<storage, read_write> labels: array<i32>;  // [N, H, W]
@group(0) @binding(1) var<storage, read_write> sizes: array<u32>;   // [N, H*W]
@group(0) @binding(2) var<storage, read_write> first: array<u32>;   // [N, H*W]
@group(0) @binding(3) var<storage, read_write> counts: array<i32>;  // [N]
@group(0) @binding(4) var<storage, read_write> output: array<i32>;  // [N, H, W]
@group(0) @binding(5) var<uniform> params: SegmentParams;
// import shared/segment_params.wgsl
// import shared/grid.wgsl

// The segment whose label a small segment `s` takes.
fn target_of(n: u32, s: u32) -> u32 {
    let width = params.width;
    let plane = width * params.height;
    let r = first[n * plane + s];
    var t: u32;
    if s == 0u {
        t = first[n * plane + 1u];
    } else if r >= width {
        t = r - width;
    } else {
        t = r - 1u;
    }
    return u32(labels[n * plane + t]);
}

fn small(n: u32, s: u32) -> bool {
    let plane = params.width * params.height;
    return sizes[n * plane + s] < params.min_size;
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if outside(gid) {
        return;
    }
    let width = params.width;
    let height = params.height;
    let n = gid.z;
    let at = n * width * height + gid.y * width + gid.x;
    let s = u32(labels[at]);
    var out = s;
    if counts[n] > 1 && small(n, s) {
        out = target_of(n, s);
        if s == 0u && small(n, 1u) && target_of(n, 1u) == 0u {
            out = 0u;
        }
    }
    output[at] = i32(out);
}
