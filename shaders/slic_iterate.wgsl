// SLIC's k-means rounds in one dispatch, one workgroup per image: every
// round assigns each pixel its nearest cluster (shared/slic_nearest.wgsl),
// then, except after the last round, moves every cluster to the mean of its
// pixels: integer sums with atomics (exact in any order), then the means.
// The same rounds as slic_assign and slic_update dispatched one by one.
// This dispatch runs rounds first..first + count of total; a chain of
// dispatches continues from the clusters it leaves (llvmpipe caps an
// invocation's loop iterations; elsewhere one dispatch runs them all).
// CPU twin: slic_iterate in src/cpu/slic.rs.

@group(0) @binding(0) var<storage, read_write> lab: array<i32>;       // [N, 3, H, W]
@group(0) @binding(1) var<storage, read_write> clusters: array<i32>;  // [N, K, 8], updated in place
@group(0) @binding(2) var<storage, read_write> labels: array<i32>;    // [N, H, W]
@group(0) @binding(3) var<storage, read_write> sums: array<atomic<i32>>; // [N, K, 6]: count, y, x (as u32 bits), L, a, b
@group(0) @binding(4) var<uniform> params: SlicParams;
// import shared/slic_params.wgsl
// import shared/slic.wgsl
// import shared/wide.wgsl
// import shared/slic_nearest.wgsl

const THREADS: u32 = 256u;

struct Plan {
    live: u32,    // 1: this workgroup has an image
    first: u32,   // first round of this dispatch
    last: u32,    // one past its last round
    total: u32,   // rounds in all
}

var<workgroup> plan: Plan;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) thread: u32,
) {
    let n = group.y * groups.x + group.x;
    if thread == 0u {
        plan = Plan(select(0u, 1u, n < params.images), params.first_round, params.first_round + params.round_count, params.rounds);
    }
    let p = workgroupUniformLoad(&plan);
    if p.live == 0u {
        return;
    }
    let width = params.width;
    let plane = width * params.height;
    let k_count = params.clusters;
    for (var round = p.first; round < p.last; round++) {
        for (var i = thread; i < plane; i += THREADS) {
            labels[n * plane + i] = nearest_cluster(n, i % width, i / width);
        }
        if round + 1u >= p.total {
            break;
        }
        for (var s = thread; s < k_count * 6u; s += THREADS) {
            atomicStore(&sums[n * k_count * 6u + s], 0);
        }
        storageBarrier();
        for (var i = thread; i < plane; i += THREADS) {
            let k = labels[n * plane + i];
            if k < 0 {
                continue;
            }
            let at = (n * k_count + u32(k)) * 6u;
            let c = n * 3u * plane + i;
            atomicAdd(&sums[at], 1);
            atomicAdd(&sums[at + 1u], i32(i / width));
            atomicAdd(&sums[at + 2u], i32(i % width));
            atomicAdd(&sums[at + 3u], lab[c]);
            atomicAdd(&sums[at + 4u], lab[c + plane]);
            atomicAdd(&sums[at + 5u], lab[c + 2u * plane]);
        }
        storageBarrier();
        for (var k = thread; k < k_count; k += THREADS) {
            let row = (n * k_count + k) * C_STRIDE;
            if clusters[row + C_COUNT] == 0 {
                continue;
            }
            let at = (n * k_count + k) * 6u;
            let count = u32(atomicLoad(&sums[at]));
            let sum_y = bitcast<u32>(atomicLoad(&sums[at + 1u]));
            let sum_x = bitcast<u32>(atomicLoad(&sums[at + 2u]));
            let sum_c = vec3<i32>(atomicLoad(&sums[at + 3u]), atomicLoad(&sums[at + 4u]), atomicLoad(&sums[at + 5u]));
            move_cluster(row, count, sum_y, sum_x, sum_c);
        }
        storageBarrier();
    }
}
