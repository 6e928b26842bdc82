// Watershed, stage 3: one relaxation sweep of every marker's flooding level
//   T_m(p) = max(U(p) + D(|p − m|²), min over 4-neighbours q of T_m(q)),
// the minimax cost of a path from marker m to p, where a pixel costs its
// gradient plus the compactness term D (a host-built table of
// floor(compactness · 144250 · distance)). Levels only decrease from
// "unreached" and the least cost over paths is unique, so in-place sweeps in
// any order, here or on the CPU, end at the same levels. `changed` counts
// updates so the host knows when to stop.
// CPU twin: watershed_flood in src/cpu/watershed.rs.

@group(0) @binding(0) var<storage, read_write> gradient: array<u32>;      // [N, H, W]
@group(0) @binding(1) var<storage, read_write> markers: array<i32>;       // [M, 2]: y, x
@group(0) @binding(2) var<storage, read_write> distance: array<u32>;      // [(H-1)² + (W-1)² + 1]
@group(0) @binding(3) var<storage, read_write> level: array<atomic<u32>>; // [N, G, H, W]
@group(0) @binding(4) var<storage, read_write> changed: array<atomic<u32>>; // [1]
@group(0) @binding(5) var<storage, read_write> params: WatershedParams;
// import shared/watershed_params.wgsl
// import shared/grid.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if outside(gid) {
        return;
    }
    let width = params.width;
    let height = params.height;
    let plane = width * height;
    let n = gid.z / params.group;
    let m = params.first + gid.z % params.group;
    let dy = i32(gid.y) - markers[2u * m];
    let dx = i32(gid.x) - markers[2u * m + 1u];
    if dy == 0 && dx == 0 {
        return;
    }
    let base = gid.z * plane;
    let pixel = gid.y * width + gid.x;
    var best = UNREACHED;
    if gid.x > 0u {
        best = min(best, atomicLoad(&level[base + pixel - 1u]));
    }
    if gid.x + 1u < width {
        best = min(best, atomicLoad(&level[base + pixel + 1u]));
    }
    if gid.y > 0u {
        best = min(best, atomicLoad(&level[base + pixel - width]));
    }
    if gid.y + 1u < height {
        best = min(best, atomicLoad(&level[base + pixel + width]));
    }
    if best == UNREACHED {
        return;
    }
    let cost = gradient[n * plane + pixel] + distance[u32(dy * dy + dx * dx)];
    let candidate = max(cost, best);
    if candidate < atomicMin(&level[base + pixel], candidate) {
        atomicAdd(&changed[0], 1u);
    }
}
