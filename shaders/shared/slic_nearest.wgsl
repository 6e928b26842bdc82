// SLIC's assignment of one pixel (after shared/slic_params.wgsl,
// shared/slic.wgsl and shared/wide.wgsl; reads bindings `lab` [N, 3, H, W]
// and `clusters`, setting `s`'s rows of image n): the cluster at the smallest distance
//   D = |Δpos|² / S² + |ΔLab|² / m²
// among the clusters whose window (2S around the centre) contains it, ties to
// the lower index, as scikit-image's _slic_cython. D is evaluated as the
// integer w_space·|Δpos₁₆|² + w_color·|ΔLab₄|² in 64 bits, so every device
// picks the same cluster; -1 if no window contains the pixel.
fn nearest_cluster(n: u32, x: u32, y: u32, s: Setting) -> i32 {
    let width = params.width;
    let height = params.height;
    let plane = width * height;
    let at = n * 3u * plane + y * width + x;
    let colour = vec3<i32>(lab[at], lab[at + plane], lab[at + 2u * plane]);
    let y16 = 16 * i32(y);
    let x16 = 16 * i32(x);
    var best = vec2<u32>(0xffffffffu, 0xffffffffu);
    var label = -1;
    for (var k = 0u; k < s.clusters; k++) {
        let row = (s.base + k) * C_STRIDE;
        if clusters[row + C_COUNT] == 0 {
            continue;
        }
        let cy = clusters[row + C_Y];
        let cx = clusters[row + C_X];
        let rows = window(cy, height, s.window);
        let cols = window(cx, width, s.window);
        if y < rows.x || y >= rows.y || x < cols.x || x >= cols.y {
            continue;
        }
        let dy = y16 - cy;
        let dx = x16 - cx;
        let dc = colour - vec3<i32>(clusters[row + C_L], clusters[row + C_L + 1u], clusters[row + C_L + 2u]);
        let space = u32(dy * dy + dx * dx);
        let color = u32(dot(dc, dc));
        let d = wide_add(wide_mul(space, s.w_space), wide_mul(color, s.w_color));
        if wide_less(d, best) {
            best = d;
            label = i32(k);
        }
    }
    return label;
}

// round(sum / count) with halves away from zero, for count > 0.
fn mean(sum: i32, count: i32) -> i32 {
    let q = (2 * abs(sum) + count) / (2 * count);
    return select(q, -q, sum < 0);
}

// Cluster row `row` moved to the mean of its pixels: `count` pixels with
// coordinate sums `sum_y`, `sum_x` and Lab sums `sum_c`.
fn move_cluster(row: u32, count: u32, sum_y: u32, sum_x: u32, sum_c: vec3<i32>) {
    clusters[row + C_COUNT] = i32(count);
    if count == 0u {
        return;
    }
    // Centre in 1/16 px: 16 q + round(16 r / count), without overflowing 16 * sum.
    let half = count / 2u;
    clusters[row + C_Y] = i32(16u * (sum_y / count) + (16u * (sum_y % count) + half) / count);
    clusters[row + C_X] = i32(16u * (sum_x / count) + (16u * (sum_x % count) + half) / count);
    clusters[row + C_L] = mean(sum_c.x, i32(count));
    clusters[row + C_L + 1u] = mean(sum_c.y, i32(count));
    clusters[row + C_L + 2u] = mean(sum_c.z, i32(count));
}
