// Connected components and small-segment removal of one label map per
// workgroup, every round inside the dispatch:
//   1. components: union–find over 4-neighbours with equal labels (links
//      point at smaller pixels, so each root is its component's first pixel
//      in raster order), then every pixel points at its root;
//   2. numbering: roots counted per thread over contiguous pixel ranges, an
//      exclusive scan of the 256 counts, each root numbered in raster order;
//      the map takes its roots' numbers (0..n in order of first appearance);
//   3. sizes of the numbered segments;
//   4. stop when no segment is smaller than the map's minimum or the map is
//      one segment; else every small segment takes the label of the segment
//      just above (or left of) its first pixel, which is an earlier
//      neighbour, so merges never form cycles; segment 0 merges into segment
//      1 unless segment 1 merges into it. Then round again from 1.
// The same rounds as components_* + segment_sizes + segment_merge run one
// dispatch each, without the host checking between rounds. A map's table
// row holds its minimum size, then its segment count, a done flag and the
// rounds it took. A dispatch runs at most `params.rounds` rounds; the next
// one resumes from the labels it left (llvmpipe caps an invocation's loop
// iterations; elsewhere one dispatch runs until every map is done).
// CPU twin: segment_min_size in src/cpu/segment.rs.

@group(0) @binding(0) var<storage, read_write> labels: array<i32>;          // [M, H, W], in and out
@group(0) @binding(1) var<storage, read_write> parent: array<atomic<i32>>;  // [M, H, W]
@group(0) @binding(2) var<storage, read_write> sizes: array<atomic<u32>>;   // [M, H, W], by label
@group(0) @binding(3) var<storage, read_write> scratch: array<i32>;         // [M, 2, H, W]: first pixel by label; root numbers, then targets
@group(0) @binding(4) var<storage, read_write> table: array<i32>;           // [M, 4]: min size, count, done, rounds
@group(0) @binding(5) var<uniform> params: SegmentParams;
// import shared/segment_params.wgsl
// import shared/find.wgsl

const THREADS: u32 = 256u;

struct Plan {
    live: u32,     // 1: this workgroup has a map
    plane: u32,    // pixels per map
    rounds: u32,   // rounds this dispatch may run
}

var<workgroup> plan: Plan;
var<workgroup> stop: u32;
var<workgroup> segments: u32;
var<workgroup> counts: array<u32, 256>;
var<workgroup> small: atomic<u32>;

// The segment whose label small segment s takes (segment_merge's rule).
fn target_of(base: u32, first: u32, s: u32) -> i32 {
    let width = params.width;
    let r = u32(scratch[first + s]);
    var t: u32;
    if s == 0u {
        t = u32(scratch[first + 1u]);
    } else if r >= width {
        t = r - width;
    } else {
        t = r - 1u;
    }
    return labels[base + t];
}

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) thread: u32,
) {
    let m = group.y * groups.x + group.x;
    if thread == 0u {
        let live = m < params.images;
        plan = Plan(select(0u, 1u, live), params.width * params.height, params.rounds);
        stop = 1u;
        if live {
            stop = u32(table[4u * m + 2u]);
        }
    }
    let p = workgroupUniformLoad(&plan);
    if p.live == 0u {
        return;
    }
    let width = params.width;
    let height = params.height;
    let plane = p.plane;
    let base = m * plane;
    let first = 2u * m * plane;
    let numbers = first + plane;
    let min_size = u32(table[4u * m]);
    let span = (plane + THREADS - 1u) / THREADS;
    let lo = min(thread * span, plane);
    let hi = min(lo + span, plane);
    for (var round = 0u; round < p.rounds; round++) {
        if workgroupUniformLoad(&stop) != 0u {
            break;
        }
        // 1. Components.
        for (var i = thread; i < plane; i += THREADS) {
            atomicStore(&parent[base + i], i32(i));
            atomicStore(&sizes[base + i], 0u);
        }
        storageBarrier();
        for (var i = thread; i < plane; i += THREADS) {
            let label = labels[base + i];
            let x = i % width;
            if x + 1u < width && labels[base + i + 1u] == label {
                unite(base, i32(i), i32(i + 1u));
            }
            if i + width < plane && labels[base + i + width] == label {
                unite(base, i32(i), i32(i + width));
            }
        }
        storageBarrier();
        for (var i = thread; i < plane; i += THREADS) {
            atomicStore(&parent[base + i], find(base, i32(i)));
        }
        storageBarrier();
        // 2. Numbering in raster order.
        var roots = 0u;
        for (var i = lo; i < hi; i++) {
            roots += select(0u, 1u, atomicLoad(&parent[base + i]) == i32(i));
        }
        counts[thread] = roots;
        workgroupBarrier();
        if thread == 0u {
            var total = 0u;
            for (var t = 0u; t < THREADS; t++) {
                let c = counts[t];
                counts[t] = total;
                total += c;
            }
            segments = total;
        }
        workgroupBarrier();
        var number = counts[thread];
        for (var i = lo; i < hi; i++) {
            if atomicLoad(&parent[base + i]) == i32(i) {
                scratch[first + number] = i32(i);
                scratch[numbers + i] = i32(number);
                number++;
            }
        }
        storageBarrier();
        for (var i = thread; i < plane; i += THREADS) {
            let label = scratch[numbers + u32(atomicLoad(&parent[base + i]))];
            labels[base + i] = label;
            atomicAdd(&sizes[base + u32(label)], 1u);
        }
        if thread == 0u {
            atomicStore(&small, 0u);
        }
        storageBarrier();
        workgroupBarrier();
        // 3. Small segments left?
        let n = workgroupUniformLoad(&segments);
        var mine = 0u;
        for (var s = thread; s < n; s += THREADS) {
            mine += select(0u, 1u, atomicLoad(&sizes[base + s]) < min_size);
        }
        atomicAdd(&small, mine);
        workgroupBarrier();
        if thread == 0u {
            table[4u * m + 1u] = i32(n);
            if n <= 1u || atomicLoad(&small) == 0u {
                table[4u * m + 2u] = 1;
                stop = 1u;
            }
        }
        if workgroupUniformLoad(&stop) != 0u {
            break;
        }
        // 4. Merge: each segment's new label, then every pixel's.
        for (var s = thread; s < n; s += THREADS) {
            var t = i32(s);
            if atomicLoad(&sizes[base + s]) < min_size {
                t = target_of(base, first, s);
                if s == 0u && atomicLoad(&sizes[base + 1u]) < min_size && target_of(base, first, 1u) == 0 {
                    t = 0;
                }
            }
            scratch[numbers + s] = t;
        }
        storageBarrier();
        for (var i = thread; i < plane; i += THREADS) {
            labels[base + i] = scratch[numbers + u32(labels[base + i])];
        }
        if thread == 0u {
            table[4u * m + 3u] += 1;
        }
        storageBarrier();
    }
}
