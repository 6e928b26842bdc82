// Watershed, stage 1: the Sobel gradient magnitude of the grey image, as
// skimage.filters.sobel(rgb2gray(image)) (grey 0.2125 R + 0.7154 G + 0.0721 B,
// 3×3 Sobel, 'reflect' edges), in integers: grey in 1/25500 of the range and
// U = floor(sqrt(Gx² + Gy²)), about 144,250 × scikit-image's value.
// CPU twin: watershed_gradient in src/cpu/watershed.rs.

@group(0) @binding(0) var<storage, read_write> image: array<f32>;     // [N, 3, H, W], values 0..255
@group(0) @binding(1) var<storage, read_write> gradient: array<u32>;  // [N, H, W]
@group(0) @binding(2) var<uniform> params: WatershedParams;
// import shared/watershed_params.wgsl
// import shared/wide.wgsl

fn grey(n: u32, y: i32, x: i32) -> i32 {
    let width = i32(params.width);
    let height = i32(params.height);
    // scipy's 'reflect' repeats the edge pixel: -1 -> 0, size -> size - 1.
    let yy = u32(clamp(y, 0, height - 1));
    let xx = u32(clamp(x, 0, width - 1));
    let plane = u32(width * height);
    let at = n * 3u * plane + yy * u32(width) + xx;
    let r = i32(round(image[at]));
    let g = i32(round(image[at + plane]));
    let b = i32(round(image[at + 2u * plane]));
    return (2125 * r + 7154 * g + 721 * b + 50) / 100;
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.x >= params.width || gid.y >= params.height || gid.z >= params.batch {
        return;
    }
    let n = gid.z;
    let y = i32(gid.y);
    let x = i32(gid.x);
    var gx = 0;
    var gy = 0;
    for (var d = -1; d <= 1; d++) {
        let w = 2 - abs(d);
        gx += w * (grey(n, y + d, x + 1) - grey(n, y + d, x - 1));
        gy += w * (grey(n, y + 1, x + d) - grey(n, y - 1, x + d));
    }
    let sq = wide_add(wide_mul(u32(abs(gx)), u32(abs(gx))), wide_mul(u32(abs(gy)), u32(abs(gy))));
    gradient[n * params.width * params.height + gid.y * params.width + gid.x] = wide_sqrt(sq);
}
