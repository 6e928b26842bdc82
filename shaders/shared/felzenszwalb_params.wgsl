// Parameters of the felzenszwalb_* stages. Keep in sync with FelzenszwalbParams
// in src/gpu/felzenszwalb.rs (tests/params.rs compares the layouts).
struct FelzenszwalbParams {
    width: u32,
    height: u32,
    images: u32,
    radius: u32,       // smoothing kernel radius
    settings: u32,     // settings per image (each its own forest and merge)
    sort_first: u32,   // felzenszwalb_sort: the first step (pass · 3 + phase) of this dispatch
    merge_pass: u32,   // felzenszwalb_merge: MERGE_JOIN or MERGE_MIN_SIZE
    sort_steps: u32,   // felzenszwalb_sort: steps in this dispatch
    rounds: u32,       // felzenszwalb_merge: rounds this dispatch may run
}

// Merge passes; keep in sync with src/gpu/felzenszwalb.rs.
const MERGE_JOIN: u32 = 0u;      // join by the internal differences
const MERGE_MIN_SIZE: u32 = 1u;  // join segments under min_size

const NO_EDGE: u32 = 0xffffffffu;
// Costs (at most isqrt(3 · (255 · 4096)²) < 2^21) sort by three 7-bit digits.
const DIGIT_BITS: u32 = 7u;
const DIGITS: u32 = 128u;
// Invocations of felzenszwalb_sort per image.
const SORT_THREADS: u32 = 256u;
// counts [N, COUNTS]: per image a pass's digit counts per invocation
// [DIGITS, SORT_THREADS], then the number of edges.
const COUNTS: u32 = 32769u;
const TOTAL: u32 = 32768u;

// The forest of the merge: [N, 3, H, W] of parent, size, internal difference.
const FIELD_PARENT: u32 = 0u;
const FIELD_SIZE: u32 = 1u;
const FIELD_INNER: u32 = 2u;

// The two pixels of edge `e` of an image: slots [4, H, W] of kind right,
// down, down-right, up-right (scikit-image's order), each at its upper-left
// pixel p. The caller checks the edge exists (cost != NO_EDGE).
fn edge_ends(e: u32, width: u32, plane: u32) -> vec2<u32> {
    let kind = e / plane;
    let p = e % plane;
    switch kind {
        case 0u: { return vec2<u32>(p, p + 1u); }
        case 1u: { return vec2<u32>(p, p + width); }
        case 2u: { return vec2<u32>(p, p + width + 1u); }
        default: { return vec2<u32>(p + 1u, p + width); }
    }
}
