// SLIC, stage 3: every cluster moves to the mean position and colour of the
// pixels it took. Each invocation gathers its own cluster over that
// cluster's window (a pixel can only take a cluster whose window contains
// it), in raster order with integer sums: no atomics, same result anywhere.
// A dispatch adds up one band of window rows into `sums` (bounded loops, see
// band_rows in src/gpu/slic.rs); the finishing dispatch (`params.finish`)
// writes the means.
// CPU twin: slic_update in src/cpu/slic.rs.

@group(0) @binding(0) var<storage, read_write> lab: array<i32>;       // [N, 3, H, W]
@group(0) @binding(1) var<storage, read_write> labels: array<i32>;    // [N, H, W]
@group(0) @binding(2) var<storage, read_write> clusters: array<i32>;  // [N, K, 8], updated in place
@group(0) @binding(3) var<storage, read_write> sums: array<u32>;      // [N, K, 8]: count, y, x, L, a, b; zeroed
@group(0) @binding(4) var<uniform> params: SlicParams;
// import shared/slic_params.wgsl
// import shared/slic.wgsl
// import shared/wide.wgsl
// import shared/slic_nearest.wgsl

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let k = gid.x;
    let n = gid.y;
    let k_count = params.clusters;
    if k >= k_count || n >= params.images {
        return;
    }
    let width = params.width;
    let height = params.height;
    let plane = width * height;
    let row = (n * k_count + k) * C_STRIDE;
    if clusters[row + C_COUNT] == 0 {
        return;
    }
    if params.finish == 0u {
        let rows = window(clusters[row + C_Y], height, params.window);
        let cols = window(clusters[row + C_X], width, params.window);
        let band = band_rows(params.window);
        var sum = vec3<u32>(sums[row], sums[row + 1u], sums[row + 2u]);
        var sum_c = vec3<i32>(i32(sums[row + 3u]), i32(sums[row + 4u]), i32(sums[row + 5u]));
        let first = rows.x + params.band * band;
        for (var y = first; y < min(first + band, rows.y); y++) {
            for (var x = cols.x; x < cols.y; x++) {
                let pixel = y * width + x;
                if labels[n * plane + pixel] != i32(k) {
                    continue;
                }
                sum += vec3<u32>(1u, y, x);
                let at = n * 3u * plane + pixel;
                sum_c += vec3<i32>(lab[at], lab[at + plane], lab[at + 2u * plane]);
            }
        }
        sums[row] = sum.x;
        sums[row + 1u] = sum.y;
        sums[row + 2u] = sum.z;
        sums[row + 3u] = u32(sum_c.x);
        sums[row + 4u] = u32(sum_c.y);
        sums[row + 5u] = u32(sum_c.z);
        return;
    }
    let sum_c = vec3<i32>(i32(sums[row + 3u]), i32(sums[row + 4u]), i32(sums[row + 5u]));
    move_cluster(row, sums[row], sums[row + 1u], sums[row + 2u], sum_c);
}
