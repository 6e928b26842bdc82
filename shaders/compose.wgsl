// Masked-batch composition: for each part b of a batch, with w its weight at
// the pixel (shared/parts.wgsl; 1 − w when inverted), writes
// normalise(w·image + (1 − w)·baseline) into the model's input tensor
// [B, 3, H, W], reading the part's own image. Binary weights give exactly the image or the baseline.
// CPU twin: src/cpu/compose.rs. Params: keep in sync with ComposeParams in
// src/gpu/compose.rs.

@group(0) @binding(0) var<storage, read_write> image: array<f32>;     // [I, 3, H, W]
@group(0) @binding(1) var<storage, read_write> baseline: array<f32>;  // [I, 3, H, W]
@group(0) @binding(2) var<storage, read_write> parts: array<i32>;     // [P, 5]: image, a, b, c, d
@group(0) @binding(3) var<storage, read_write> labels: array<i32>;    // label maps, RISE grids or rank maps
@group(0) @binding(4) var<storage, read_write> output: array<f32>;    // [B, 3, H, W]
@group(0) @binding(5) var<storage, read_write> params: array<u32>;

const P_WIDTH: u32 = 0u;
const P_HEIGHT: u32 = 1u;
const P_BATCH: u32 = 2u;
const P_FIRST: u32 = 3u;   // index of the batch's first part in `parts`
const P_KIND: u32 = 4u;    // a KIND_* of shared/parts.wgsl
const P_INVERT: u32 = 5u;  // 1: keep everything but the part (occlusion, deletion)
const P_RUNS: u32 = 6u;    // number of label maps, RISE grids or rank maps
const P_MEAN: u32 = 7u;    // 3 x f32 bits
const P_STD: u32 = 10u;    // 3 x f32 bits
const P_IMAGES: u32 = 13u; // images in `image` and `baseline`

// import shared/parts.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let width = params[P_WIDTH];
    let height = params[P_HEIGHT];
    let b = gid.z;
    if gid.x >= width || gid.y >= height || b >= params[P_BATCH] {
        return;
    }
    let part = params[P_FIRST] + b;
    let source = parts[part * 5u];
    if source < 0 || u32(source) >= params[P_IMAGES] {
        return;
    }
    var w = part_weight(part, i32(gid.x), i32(gid.y), params[P_KIND], params[P_RUNS], width, height);
    if params[P_INVERT] == 1u {
        w = 1.0 - w;
    }
    let plane = width * height;
    let pixel = gid.y * width + gid.x;
    for (var c = 0u; c < 3u; c++) {
        let i = c * plane + pixel;
        let j = u32(source) * 3u * plane + i;
        let v = w * image[j] + (1.0 - w) * baseline[j];
        let mean = bitcast<f32>(params[P_MEAN + c]);
        let deviation = bitcast<f32>(params[P_STD + c]);
        output[b * 3u * plane + i] = (v - mean) / deviation;
    }
}
