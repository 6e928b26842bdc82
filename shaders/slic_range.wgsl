// SLIC, stage 0: the smallest and largest value of each image (all channels),
// which scikit-image rescales the image by. One workgroup per image; the
// values are integers, so the reduction is exact in any order.
// CPU twin: slic_range in src/cpu/slic.rs.

@group(0) @binding(0) var<storage, read_write> image: array<f32>;  // [N, 3, H, W], values 0..255
@group(0) @binding(1) var<storage, read_write> range: array<i32>;  // [N, 2]: min, max
@group(0) @binding(2) var<uniform> params: SlicParams;
// import shared/slic_params.wgsl

var<workgroup> lows: array<i32, 64>;
var<workgroup> highs: array<i32, 64>;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) group: vec3<u32>) {
    let n = group.y;
    let len = 3u * params.width * params.height;
    var lo = 255;
    var hi = 0;
    if n < params.images {
        for (var i = lane; i < len; i += 64u) {
            let v = i32(round(image[n * len + i]));
            lo = min(lo, v);
            hi = max(hi, v);
        }
    }
    lows[lane] = lo;
    highs[lane] = hi;
    workgroupBarrier();
    for (var stride = 32u; stride > 0u; stride >>= 1u) {
        if lane < stride {
            lows[lane] = min(lows[lane], lows[lane + stride]);
            highs[lane] = max(highs[lane], highs[lane + stride]);
        }
        workgroupBarrier();
    }
    if lane == 0u && n < params.images {
        range[2u * n] = lows[0];
        range[2u * n + 1u] = highs[0];
    }
}
