// Masked-batch composition: for each part b of a batch, with w its weight at
// the pixel (shared/parts.wgsl; 1 − w when inverted), writes
// normalise(w·image + (1 − w)·baseline) into the model's input tensor
// [B, 3, H, W], reading the part's own image. Binary weights give exactly the image or the baseline.
// CPU twin: src/cpu/compose.rs. Params: shared/compose_params.wgsl.

@group(0) @binding(0) var<storage, read_write> image: array<f32>;     // [I, 3, H, W]
@group(0) @binding(1) var<storage, read_write> baseline: array<f32>;  // [I, 3, H, W]
@group(0) @binding(2) var<storage, read_write> parts: array<i32>;     // [P, 5]: image, a, b, c, d
@group(0) @binding(3) var<storage, read_write> labels: array<i32>;    // label maps, RISE grids or rank maps
@group(0) @binding(4) var<storage, read_write> output: array<f32>;    // [B, 3, H, W]
@group(0) @binding(5) var<uniform> params: ComposeParams;
// import shared/compose_params.wgsl
// import shared/parts.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let width = params.width;
    let height = params.height;
    let b = gid.z;
    if gid.x >= width || gid.y >= height || b >= params.batch {
        return;
    }
    let part = params.first + b;
    let source = parts[part * 5u];
    if source < 0 || u32(source) >= params.images {
        return;
    }
    var w = part_weight(part, i32(gid.x), i32(gid.y), params.kind, params.runs, width, height);
    if params.invert == 1u {
        w = 1.0 - w;
    }
    let plane = width * height;
    let pixel = gid.y * width + gid.x;
    for (var c = 0u; c < 3u; c++) {
        let i = c * plane + pixel;
        let j = u32(source) * 3u * plane + i;
        let v = w * image[j] + (1.0 - w) * baseline[j];
        output[b * 3u * plane + i] = (v - params.mean[c]) / params.deviation[c];
    }
}
