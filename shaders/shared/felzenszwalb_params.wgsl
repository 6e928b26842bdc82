// Parameters of the felzenszwalb_* stages. Keep in sync with FelzenszwalbParams in src/gpu/felzenszwalb.rs.
const P_WIDTH: u32 = 0u;
const P_HEIGHT: u32 = 1u;
const P_IMAGES: u32 = 2u;
const P_RADIUS: u32 = 3u;    // smoothing kernel radius
const P_SETTINGS: u32 = 4u;  // settings per image (each its own forest and merge)
const P_STEP: u32 = 5u;      // sort: 0 scan, 1 by low digit, 2 by high digit; merge: the pass
const P_FIRST: u32 = 6u;     // first edge or sorted position of this chunk
const NO_EDGE: u32 = 0xffffffffu;
// Costs (at most isqrt(3 · (255 · 4096)²) < 2^21) sort by two 11-bit digits.
const DIGIT_BITS: u32 = 11u;
const DIGITS: u32 = 2048u;
// counts [N, COUNTS]: per image the histograms of the low and the high
// digit, then the number of edges.
const COUNTS: u32 = 4097u;
const TOTAL: u32 = 4096u;
const SORT_CHUNK: u32 = 32768u;
const MERGE_CHUNK: u32 = 1024u;

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
