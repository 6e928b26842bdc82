// Felzenszwalb, stage 4: scikit-image's two passes over the edges in order of
// (cost, edge index), one invocation per image and setting (all in
// parallel, sharing the image's sorted edges), one chunk of sorted
// positions per dispatch. Pass MERGE_JOIN joins two segments when the edge
// costs less than both segments' internal difference plus scale/size; pass
// MERGE_MIN_SIZE joins any two segments of which one is under min_size.
// Trees are joined by size (ties: the lesser root stays root) and walked
// with path halving, so a walk is at most 21 steps on 2^20 pixels.
// CPU twin: felzenszwalb_merge in src/cpu/felzenszwalb.rs.

@group(0) @binding(0) var<storage, read_write> costs: array<u32>;    // [N, 4HW]
@group(0) @binding(1) var<storage, read_write> order: array<u32>;    // [N, 4HW]
@group(0) @binding(2) var<storage, read_write> counts: array<u32>;   // [N, COUNTS]: TOTAL edges
@group(0) @binding(3) var<storage, read_write> forest: array<u32>;   // [N·settings, 3, HW]
@group(0) @binding(4) var<storage, read_write> settings: array<u32>; // [settings, 2]: limit, min_size
@group(0) @binding(5) var<storage, read_write> params: FelzenszwalbParams;
// import shared/felzenszwalb_params.wgsl

var<private> tree: u32;   // this item's forest
var<private> plane: u32;
var<private> limit: u32;

fn root(x: u32) -> u32 {
    var r = x;
    loop {
        let up = forest[tree + r];
        if up == r {
            break;
        }
        let grand = forest[tree + up];
        forest[tree + r] = grand;
        r = grand;
    }
    return r;
}

// scikit-image's `cost < internal + scale / size`, in integers.
fn joins(cost: u32, r: u32) -> bool {
    let inner = forest[tree + FIELD_INNER * plane + r];
    return limit > 0u && (cost <= inner || cost - inner <= (limit - 1u) / forest[tree + FIELD_SIZE * plane + r]);
}

@compute @workgroup_size(1, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>) {
    let item = wg.x;
    let n = item / params.settings;
    let setting = item % params.settings;
    let width = params.width;
    plane = width * params.height;
    tree = item * 3u * plane;
    let e0 = n * 4u * plane;
    limit = settings[2u * setting];
    let min_size = settings[2u * setting + 1u];
    let last = min(params.first + MERGE_CHUNK, counts[n * COUNTS + TOTAL]);
    for (var i = params.first; i < last; i++) {
        let e = order[e0 + i];
        let pixels = edge_ends(e, width, plane);
        let a = root(pixels.x);
        let b = root(pixels.y);
        if a == b {
            continue;
        }
        let cost = costs[e0 + e];
        let size_a = forest[tree + FIELD_SIZE * plane + a];
        let size_b = forest[tree + FIELD_SIZE * plane + b];
        var join = size_a < min_size || size_b < min_size;
        if params.merge_pass == MERGE_JOIN {
            join = joins(cost, a) && joins(cost, b);
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
    }
}
