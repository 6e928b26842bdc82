// Felzenszwalb, stage 3: stable sort of each image's edges by cost, a
// two-digit LSD radix sort, one invocation per image (images in parallel).
// SORT_SCAN turns both digit histograms in `counts` into cursors and stores
// the number of edges; SORT_LOW places one chunk of edges, in index order,
// into `spare` by the low digit; SORT_HIGH moves one chunk of `spare`, in
// order, into `order` by the high digit. Equal costs keep their index order, which is
// Kruskal's tie order in the merge.
// CPU twin: felzenszwalb_sort in src/cpu/felzenszwalb.rs.

@group(0) @binding(0) var<storage, read_write> costs: array<u32>;   // [N, 4HW]
@group(0) @binding(1) var<storage, read_write> counts: array<u32>;  // [N, COUNTS]
@group(0) @binding(2) var<storage, read_write> spare: array<u32>;   // [N, 4HW]
@group(0) @binding(3) var<storage, read_write> order: array<u32>;   // [N, 4HW]
@group(0) @binding(4) var<uniform> params: FelzenszwalbParams;
// import shared/felzenszwalb_params.wgsl

@compute @workgroup_size(1, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>) {
    let n = wg.x;
    let edges = 4u * params.width * params.height;
    let at = n * COUNTS;
    let e0 = n * edges;
    let step = params.sort_step;
    if step == SORT_SCAN {
        for (var digit = 0u; digit < 2u; digit++) {
            var run = 0u;
            for (var b = 0u; b < DIGITS; b++) {
                let count = counts[at + digit * DIGITS + b];
                counts[at + digit * DIGITS + b] = run;
                run += count;
            }
            counts[at + TOTAL] = run;
        }
        return;
    }
    let first = params.first;
    if step == SORT_LOW {
        for (var e = first; e < min(first + SORT_CHUNK, edges); e++) {
            let cost = costs[e0 + e];
            if cost != NO_EDGE {
                let cursor = at + (cost & (DIGITS - 1u));
                spare[e0 + counts[cursor]] = e;
                counts[cursor] += 1u;
            }
        }
        return;
    }
    for (var i = first; i < min(first + SORT_CHUNK, counts[at + TOTAL]); i++) {
        let e = spare[e0 + i];
        let cursor = at + DIGITS + (costs[e0 + e] >> DIGIT_BITS);
        order[e0 + counts[cursor]] = e;
        counts[cursor] += 1u;
    }
}
