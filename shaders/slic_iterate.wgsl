// SLIC's k-means rounds in one dispatch, one workgroup per (setting, image):
// every round assigns each pixel its nearest cluster
// (shared/slic_nearest.wgsl), then, except after the setting's last round,
// moves every cluster to the mean of its pixels: integer sums with atomics
// (exact in any order), then the means. The same rounds as slic_assign and
// slic_update dispatched one by one for each setting alone.
// Settings (cluster count, window, weights, rounds) come from a table, each
// setting's clusters a block [N, K_s, 8] of the cluster table, so all of
// them run in one launch sharing the Lab image.
// This dispatch runs rounds first..first + count (each setting stopping at
// its own total); a chain of dispatches continues from the clusters it
// leaves (llvmpipe caps an invocation's loop iterations; elsewhere one
// dispatch runs them all).
// CPU twin: slic_iterate in src/cpu/slic.rs.

@group(0) @binding(0) var<storage, read_write> lab: array<i32>;       // [N, 3, H, W]
@group(0) @binding(1) var<storage, read_write> clusters: array<i32>;  // [Σ N·K_s, 8], updated in place
@group(0) @binding(2) var<storage, read_write> labels: array<i32>;    // [S, N, H, W]
@group(0) @binding(3) var<storage, read_write> sums: array<atomic<i32>>; // [Σ N·K_s, 6]: count, y, x (as u32 bits), L, a, b
@group(0) @binding(4) var<storage, read_write> settings: array<u32>;  // [S, SETTING_FIELDS]
@group(0) @binding(5) var<uniform> params: SlicParams;
// import shared/slic_params.wgsl
// import shared/slic.wgsl
// import shared/wide.wgsl
// import shared/slic_nearest.wgsl

const THREADS: u32 = 256u;

struct Plan {
    live: u32,    // 1: this workgroup has a (setting, image)
    first: u32,   // first round of this dispatch
    last: u32,    // one past its last round
    total: u32,   // the setting's rounds in all
    setting: Setting,
}

var<workgroup> plan: Plan;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) thread: u32,
) {
    let z = group.y * groups.x + group.x;
    let n = z % params.images;
    if thread == 0u {
        plan = Plan(0u, 0u, 0u, 0u, Setting(0u, 0u, 0u, 0u, 0u));
        if z < params.images * params.settings {
            let s = z / params.images;
            let at = s * SETTING_FIELDS;
            let k_count = settings[at + S_CLUSTERS];
            let total = settings[at + S_ROUNDS];
            let base = settings[at + S_FIRST_ROW] + n * k_count;
            let setting = Setting(k_count, base, settings[at + S_WINDOW], settings[at + S_W_SPACE], settings[at + S_W_COLOR]);
            plan = Plan(1u, params.first_round, min(params.first_round + params.round_count, total), total, setting);
        }
    }
    let p = workgroupUniformLoad(&plan);
    if p.live == 0u {
        return;
    }
    let width = params.width;
    let plane = width * params.height;
    let k_count = p.setting.clusters;
    let base = p.setting.base;
    for (var round = p.first; round < p.last; round++) {
        for (var i = thread; i < plane; i += THREADS) {
            labels[z * plane + i] = nearest_cluster(n, i % width, i / width, p.setting);
        }
        if round + 1u >= p.total {
            break;
        }
        for (var s = thread; s < k_count * 6u; s += THREADS) {
            atomicStore(&sums[base * 6u + s], 0);
        }
        storageBarrier();
        for (var i = thread; i < plane; i += THREADS) {
            let k = labels[z * plane + i];
            if k < 0 {
                continue;
            }
            let at = (base + u32(k)) * 6u;
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
            let row = (base + k) * C_STRIDE;
            if clusters[row + C_COUNT] == 0 {
                continue;
            }
            let at = (base + k) * 6u;
            let count = u32(atomicLoad(&sums[at]));
            let sum_y = bitcast<u32>(atomicLoad(&sums[at + 1u]));
            let sum_x = bitcast<u32>(atomicLoad(&sums[at + 2u]));
            let sum_c = vec3<i32>(atomicLoad(&sums[at + 3u]), atomicLoad(&sums[at + 4u]), atomicLoad(&sums[at + 5u]));
            move_cluster(row, count, sum_y, sum_x, sum_c);
        }
        storageBarrier();
    }
}
