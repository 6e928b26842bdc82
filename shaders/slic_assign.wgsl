// SLIC, stage 2: each pixel takes the cluster at the smallest distance
//   D = |Δpos|² / S² + |ΔLab|² / m²
// among the clusters whose window (2S around the centre) contains it, ties to
// the lower index, as scikit-image's _slic_cython. D is evaluated as the
// integer w_space·|Δpos₁₆|² + w_color·|ΔLab₄|² in 64 bits, so every device
// picks the same cluster. CPU twin: slic_assign in src/cpu/slic.rs.

@group(0) @binding(0) var<storage, read_write> lab: array<i32>;       // [N, 3, H, W]
@group(0) @binding(1) var<storage, read_write> clusters: array<i32>;  // [N, K, 8]
@group(0) @binding(2) var<storage, read_write> labels: array<i32>;    // [N, H, W]
@group(0) @binding(3) var<storage, read_write> params: SlicParams;
// import shared/slic_params.wgsl
// import shared/slic.wgsl
// import shared/grid.wgsl
// import shared/wide.wgsl

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
    let at = n * 3u * plane + pixel;
    let colour = vec3<i32>(lab[at], lab[at + plane], lab[at + 2u * plane]);
    let y16 = 16 * i32(gid.y);
    let x16 = 16 * i32(gid.x);
    let k_count = params.clusters;
    var best = vec2<u32>(0xffffffffu, 0xffffffffu);
    var label = -1;
    for (var k = 0u; k < k_count; k++) {
        let row = (n * k_count + k) * C_STRIDE;
        if clusters[row + C_COUNT] == 0 {
            continue;
        }
        let cy = clusters[row + C_Y];
        let cx = clusters[row + C_X];
        let rows = window(cy, height);
        let cols = window(cx, width);
        if gid.y < rows.x || gid.y >= rows.y || gid.x < cols.x || gid.x >= cols.y {
            continue;
        }
        let dy = y16 - cy;
        let dx = x16 - cx;
        let dc = colour - vec3<i32>(clusters[row + C_L], clusters[row + C_L + 1u], clusters[row + C_L + 2u]);
        let space = u32(dy * dy + dx * dx);
        let color = u32(dot(dc, dc));
        let d = wide_add(wide_mul(space, params.w_space), wide_mul(color, params.w_color));
        if wide_less(d, best) {
            best = d;
            label = i32(k);
        }
    }
    labels[n * plane + pixel] = label;
}
