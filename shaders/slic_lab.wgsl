// SLIC, stage 1: CIE Lab (D65, 2°) of every pixel in 1/4 units, by exact
// integer arithmetic, as scikit-image's slic sees the image: values rescaled
// to [0, 1] by the image's min and max, sRGB-linearised, to XYZ, to Lab.
// The two non-linear steps are host-built tables, so the result is the same
// on every device. CPU twin: slic_lab in src/cpu/slic.rs.

@group(0) @binding(0) var<storage, read_write> image: array<f32>;   // [N, 3, H, W], values 0..255
@group(0) @binding(1) var<storage, read_write> range: array<i32>;   // [N, 2]: min, max over the image
@group(0) @binding(2) var<storage, read_write> linear: array<i32>;  // [256 * 256]: (value, max - min) -> linear, 2^16 = 1
@group(0) @binding(3) var<storage, read_write> cbrt: array<i32>;    // [2^16 + 1]: t -> f(t), 2^16 = 1
@group(0) @binding(4) var<storage, read_write> lab: array<i32>;     // [N, 3, H, W]
@group(0) @binding(5) var<uniform> params: SlicParams;
// import shared/slic_params.wgsl
// import shared/grid.wgsl

// XYZ-from-linear-RGB rows divided by the D65 white point, in 2^14 units.
// Keep in sync with XYZ in src/cpu/slic.rs.
const XYZ = array<vec3<i32>, 3>(
    vec3<i32>(7110, 6164, 3110),
    vec3<i32>(3484, 11717, 1182),
    vec3<i32>(291, 1794, 14298),
);

fn f(t: i32) -> i32 {
    return cbrt[u32(clamp(t, 0, 65536))];
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if outside(gid) {
        return;
    }
    let width = params.width;
    let height = params.height;
    let n = gid.z;
    let plane = width * height;
    let pixel = gid.y * width + gid.x;
    let lo = range[2u * n];
    let span = range[2u * n + 1u] - lo;
    var rgb: vec3<i32>;
    for (var c = 0u; c < 3u; c++) {
        let v = i32(round(image[(n * 3u + c) * plane + pixel])) - lo;
        rgb[c] = linear[u32(span * 256 + v)];
    }
    let fx = f((dot(XYZ[0], rgb) + 8192) >> 14u);
    let fy = f((dot(XYZ[1], rgb) + 8192) >> 14u);
    let fz = f((dot(XYZ[2], rgb) + 8192) >> 14u);
    // L = 116 fy - 16, a = 500 (fx - fy), b = 200 (fy - fz); in 1/4 units, rounded.
    let out = n * 3u * plane + pixel;
    lab[out] = (464 * fy - 64 * 65536 + 32768) >> 16u;
    lab[out + plane] = (2000 * (fx - fy) + 32768) >> 16u;
    lab[out + 2u * plane] = (800 * (fy - fz) + 32768) >> 16u;
}
