// Felzenszwalb, stage 1: scikit-image's Gaussian pre-smoothing (truncate 4,
// mode 'reflect') in integers. Pixels are rounded to 0..255, the 1-D weights
// sum to 1024 on each axis, the row sums of each tap row are weighted by the
// column weights, and the result is kept in 1/4096 of a grey level.
// CPU twin: felzenszwalb_smooth in src/cpu/felzenszwalb.rs.

@group(0) @binding(0) var<storage, read_write> image: array<f32>;    // [N, 3, H, W], 0..255
@group(0) @binding(1) var<storage, read_write> weights: array<i32>;  // [2r + 1], sum 1024
@group(0) @binding(2) var<storage, read_write> smoothed: array<u32>;   // [N, 3, H, W], 1/4096 grey level
@group(0) @binding(3) var<uniform> params: FelzenszwalbParams;
// import shared/felzenszwalb_params.wgsl
// import shared/grid.wgsl

// scipy's 'reflect' (d c b a | a b c d | d c b a) for any offset.
fn reflect(i: i32, n: i32) -> u32 {
    let period = 2 * n;
    let m = ((i % period) + period) % period;
    return u32(select(m, period - 1 - m, m >= n));
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if outside(gid) {
        return;
    }
    let width = params.width;
    let plane = width * params.height;
    let r = i32(params.radius);
    for (var c = 0u; c < 3u; c++) {
        let base = (gid.z * 3u + c) * plane;
        var sum = 0u;
        for (var dy = -r; dy <= r; dy++) {
            let y = reflect(i32(gid.y) + dy, i32(params.height));
            var row = 0u;
            for (var dx = -r; dx <= r; dx++) {
                let x = reflect(i32(gid.x) + dx, i32(width));
                let v = u32(clamp(round(image[base + y * width + x]), 0.0, 255.0));
                row += u32(weights[dx + r]) * v;
            }
            sum += u32(weights[dy + r]) * row;
        }
        smoothed[base + gid.y * width + gid.x] = (sum + 128u) >> 8u;
    }
}
