// Felzenszwalb, stage 3: stable sort of each image's edges by cost, an LSD
// radix sort of three 7-bit digits (costs < 2^21), one 256-invocation
// workgroup per image. Invocation t owns a contiguous chunk of a pass's
// input. A pass counts each chunk's digits into column t of the image's
// [DIGITS, SORT_THREADS] table in `counts`; scans the table in digit-major
// order, so each digit's edges land in chunk order (the sort is stable:
// equal costs keep their index order, Kruskal's tie order in the merge);
// then scatters each chunk in order. Pass 0 reads the edge indices (skipping
// the grid's missing edges) and stores the number of edges at TOTAL;
// passes write `order`, `spare`, `order`.
//
// A step is one (pass, phase): count, scan, scatter. This dispatch runs
// steps sort_first..sort_first + sort_steps (all nine in one dispatch; on
// llvmpipe a chain within its loop budget).
// CPU twin: felzenszwalb_sort in src/cpu/felzenszwalb.rs.

@group(0) @binding(0) var<storage, read_write> costs: array<u32>;   // [N, 4HW]
@group(0) @binding(1) var<storage, read_write> counts: array<u32>;  // [N, COUNTS]
@group(0) @binding(2) var<storage, read_write> spare: array<u32>;   // [N, 4HW]
@group(0) @binding(3) var<storage, read_write> order: array<u32>;   // [N, 4HW]
@group(0) @binding(4) var<uniform> params: FelzenszwalbParams;
// import shared/felzenszwalb_params.wgsl
// import shared/steps.wgsl

var<workgroup> sums: array<u32, SORT_THREADS>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let n = group.y * groups.x + group.x;
    let plan = plan_steps(t, n < params.images, params.sort_first, params.sort_steps);
    if plan.live == 0u {
        return;
    }
    let edges = 4u * params.width * params.height;
    let at = n * COUNTS;
    let e0 = n * edges;
    for (var step = plan.first; step < plan.last; step++) {
        let digit = step / 3u;
        let phase = step % 3u;
        var len = edges;
        if digit > 0u {
            len = counts[at + TOTAL];
        }
        let chunk = (len + SORT_THREADS - 1u) / SORT_THREADS;
        let lo = min(t * chunk, len);
        let hi = min(lo + chunk, len);
        let shift = DIGIT_BITS * digit;
        if phase == 1u {
            // Scan: invocation t sums its DIGITS entries of the flattened table,
            // the workgroup scans the sums, each rewrites its entries as cursors.
            var own = 0u;
            for (var k = t * DIGITS; k < (t + 1u) * DIGITS; k++) {
                own += counts[at + k];
            }
            sums[t] = own;
            workgroupBarrier();
            for (var offset = 1u; offset < SORT_THREADS; offset *= 2u) {
                var v = sums[t];
                if t >= offset {
                    v += sums[t - offset];
                }
                workgroupBarrier();
                sums[t] = v;
                workgroupBarrier();
            }
            var cursor = sums[t] - own;
            for (var k = t * DIGITS; k < (t + 1u) * DIGITS; k++) {
                let count = counts[at + k];
                counts[at + k] = cursor;
                cursor += count;
            }
            if digit == 0u && t == SORT_THREADS - 1u {
                counts[at + TOTAL] = sums[t];
            }
        } else {
            if phase == 0u {
                for (var d = 0u; d < DIGITS; d++) {
                    counts[at + d * SORT_THREADS + t] = 0u;
                }
            }
            for (var i = lo; i < hi; i++) {
                var e = i;
                if digit == 1u {
                    e = order[e0 + i];
                } else if digit == 2u {
                    e = spare[e0 + i];
                }
                let cost = costs[e0 + e];
                if cost == NO_EDGE {
                    continue;
                }
                let cell = at + ((cost >> shift) & (DIGITS - 1u)) * SORT_THREADS + t;
                if phase == 0u {
                    counts[cell] += 1u;
                } else {
                    if digit == 1u {
                        spare[e0 + counts[cell]] = e;
                    } else {
                        order[e0 + counts[cell]] = e;
                    }
                    counts[cell] += 1u;
                }
            }
        }
        storageBarrier();
    }
}
