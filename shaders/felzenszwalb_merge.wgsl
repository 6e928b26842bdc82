// Felzenszwalb, stage 4: scikit-image's two passes over the edges in order of
// (cost, edge index), by deterministic reservations: one workgroup per image
// and setting (all in parallel, sharing the image's sorted edges) takes a
// window of the next 256 undecided sorted positions per round. Each edge of
// the window whose ends are in two segments reserves both roots with its
// position (atomicMin); an edge holding both reservations is the earliest
// undecided edge touching either segment, so the segments are exactly those
// the sequential pass would see there: it decides (joins or not) and is done.
// Edges within one segment are done at once; the rest retry next round. The
// window then moves to the first undecided position. The result is the
// sequential pass's forest (the CPU twin runs it edge by edge).
// Pass MERGE_JOIN joins two segments when the edge costs less than both
// segments' internal difference plus scale/size; pass MERGE_MIN_SIZE joins
// any two segments of which one is under min_size. Trees are joined by size
// (ties: the lesser root stays root), so a walk is at most 21 steps on 2^20
// pixels. A dispatch runs at most `params.rounds` rounds and keeps its place
// in `progress`, so a chain of dispatches continues the pass (llvmpipe caps
// an invocation's loop iterations; elsewhere one dispatch runs the pass).
// CPU twin: felzenszwalb_merge in src/cpu/felzenszwalb.rs.

@group(0) @binding(0) var<storage, read_write> costs: array<u32>;    // [N, 4HW]
@group(0) @binding(1) var<storage, read_write> order: array<u32>;    // [N, 4HW]
@group(0) @binding(2) var<storage, read_write> counts: array<u32>;   // [N, COUNTS]: TOTAL edges
@group(0) @binding(3) var<storage, read_write> forest: array<u32>;   // [N·settings, 3, HW]
@group(0) @binding(4) var<storage, read_write> settings: array<u32>; // [settings, 2]: limit, min_size
@group(0) @binding(5) var<storage, read_write> progress: array<u32>; // [N·settings, 1 + 4HW]: window start, then 1 per decided position
@group(0) @binding(6) var<storage, read_write> reserve: array<atomic<u32>>; // [N·settings, HW]: least reserving position per root, NONE between rounds
@group(0) @binding(7) var<uniform> params: FelzenszwalbParams;
// import shared/felzenszwalb_params.wgsl

const THREADS: u32 = 256u;
const NONE: u32 = 0xffffffffu;

struct Plan {
    live: u32,    // 1: this workgroup has an item
    total: u32,   // edges of the image
    rounds: u32,  // rounds this dispatch may run
}

var<workgroup> plan: Plan;
var<workgroup> head: u32;
var<workgroup> first_pending: atomic<u32>;

fn root(tree: u32, x: u32) -> u32 {
    var r = x;
    loop {
        let up = forest[tree + r];
        if up == r {
            break;
        }
        r = up;
    }
    return r;
}

// scikit-image's `cost < internal + scale / size`, in integers.
fn joins(tree: u32, plane: u32, limit: u32, cost: u32, r: u32) -> bool {
    let inner = forest[tree + FIELD_INNER * plane + r];
    return limit > 0u && (cost <= inner || cost - inner <= (limit - 1u) / forest[tree + FIELD_SIZE * plane + r]);
}

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) thread: u32,
) {
    let item = group.y * groups.x + group.x;
    let width = params.width;
    let plane = width * params.height;
    let edges = 4u * plane;
    let n = item / params.settings;
    let setting = item % params.settings;
    let state = item * (1u + edges);
    if thread == 0u {
        let live = item < params.images * params.settings;
        plan = Plan(select(0u, 1u, live), 0u, params.rounds);
        head = 0u;
        if live {
            plan.total = counts[n * COUNTS + TOTAL];
            head = progress[state];
        }
    }
    let p = workgroupUniformLoad(&plan);
    if p.live == 0u {
        return;
    }
    let tree = item * 3u * plane;
    let roots = item * plane;
    let e0 = n * edges;
    let limit = settings[2u * setting];
    let min_size = settings[2u * setting + 1u];
    for (var round = 0u; round < p.rounds; round++) {
        let start = workgroupUniformLoad(&head);
        if start >= p.total {
            break;
        }
        if thread == 0u {
            atomicStore(&first_pending, THREADS);
        }
        let i = start + thread;
        var pending = i < p.total && progress[state + 1u + i] == 0u;
        var reserved = false;
        var a = 0u;
        var b = 0u;
        if pending {
            let pixels = edge_ends(order[e0 + i], width, plane);
            a = root(tree, pixels.x);
            b = root(tree, pixels.y);
            if a == b {
                progress[state + 1u + i] = 1u;
                pending = false;
            } else {
                atomicMin(&reserve[roots + a], i);
                atomicMin(&reserve[roots + b], i);
                reserved = true;
            }
        }
        storageBarrier();
        if pending && atomicLoad(&reserve[roots + a]) == i && atomicLoad(&reserve[roots + b]) == i {
            let cost = costs[e0 + order[e0 + i]];
            let size_a = forest[tree + FIELD_SIZE * plane + a];
            let size_b = forest[tree + FIELD_SIZE * plane + b];
            var join = size_a < min_size || size_b < min_size;
            if params.merge_pass == MERGE_JOIN {
                join = joins(tree, plane, limit, cost, a) && joins(tree, plane, limit, cost, b);
            }
            if join {
                // The larger tree takes the smaller; on equal sizes the lesser root stays.
                var keep = min(a, b);
                if size_a != size_b {
                    keep = select(b, a, size_a > size_b);
                }
                let gone = select(a, b, keep == a);
                forest[tree + FIELD_SIZE * plane + keep] = size_a + size_b;
                if params.merge_pass == MERGE_JOIN {
                    forest[tree + FIELD_INNER * plane + keep] = cost;
                }
                forest[tree + gone] = keep;
            }
            progress[state + 1u + i] = 1u;
            pending = false;
        }
        storageBarrier();
        if reserved {
            atomicStore(&reserve[roots + a], NONE);
            atomicStore(&reserve[roots + b], NONE);
        }
        if pending {
            atomicMin(&first_pending, thread);
        }
        storageBarrier();
        workgroupBarrier();
        if thread == 0u {
            head = start + atomicLoad(&first_pending);
        }
    }
    workgroupBarrier();
    if thread == 0u {
        progress[state] = head;
    }
}
