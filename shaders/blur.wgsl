// One pass of a separable blur along one axis.
// Every plane (a colour channel of an image) is filtered independently.
// CPU twin: src/cpu/blur.rs. Params: shared/blur_params.wgsl.

@group(0) @binding(0) var<storage, read_write> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> weights: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> params: BlurParams;
// import shared/blur_params.wgsl

// Index along an axis of length n after reflecting c into [0, n). Folding by the
// period handles a kernel wider than the image.
fn reflect(c: i32, n: i32) -> i32 {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    var m = abs(c) % period;
    if m >= n {
        m = period - m;
    }
    return m;
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let width = params.width;
    let height = params.height;
    if gid.x >= width || gid.y >= height || gid.z >= params.planes {
        return;
    }
    let radius = i32(params.radius);
    let along_x = params.axis == AXIS_X;
    let reflect_edges = params.padding == PADDING_REFLECT;
    let n = select(i32(height), i32(width), along_x);
    let pos = select(i32(gid.y), i32(gid.x), along_x);
    let plane = gid.z * width * height;

    var sum = 0.0;
    for (var k = -radius; k <= radius; k++) {
        var c = pos + k;
        if c < 0 || c >= n {
            if !reflect_edges {
                continue;
            }
            c = reflect(c, n);
        }
        var idx: u32;
        if along_x {
            idx = plane + gid.y * width + u32(c);
        } else {
            idx = plane + u32(c) * width + gid.x;
        }
        sum += weights[u32(k + radius)] * src[idx];
    }
    dst[plane + gid.y * width + gid.x] = sum;
}
