// Parameters of the SLIC stages. Keep in sync with SlicParams in src/gpu/slic.rs.
const P_WIDTH: u32 = 0u;
const P_HEIGHT: u32 = 1u;
const P_IMAGES: u32 = 2u;
const P_CLUSTERS: u32 = 3u;   // clusters per image
const P_WINDOW: u32 = 4u;     // a cluster sees pixels within 2 * P_WINDOW of its centre
const P_W_SPACE: u32 = 5u;    // weight of the squared distance in 1/16 px
const P_W_COLOR: u32 = 6u;    // weight of the squared Lab distance in 1/4 units
const P_BAND: u32 = 7u;       // update: band of window rows to add up, or FINISH
const FINISH: u32 = 0xffffffffu;

// Cluster table rows [N, K, 8] (i32): centre y, x in 1/16 px, L, a, b in 1/4
// Lab units, pixel count (0: the cluster is empty and takes no pixels).
const C_Y: u32 = 0u;
const C_X: u32 = 1u;
const C_L: u32 = 2u;
const C_COUNT: u32 = 5u;
const C_STRIDE: u32 = 8u;

// Rows [y_min, y_max) of a cluster centred at `c16` (1/16 px), as
// scikit-image's int(max(c - 2S, 0)) and int(min(c + 2S + 1, size)).
fn window(c16: i32, size: u32) -> vec2<u32> {
    let s16 = 32 * i32(params[P_WINDOW]);
    let lo = max(c16 - s16, 0) / 16;
    let hi = min(c16 + s16 + 16, 16 * i32(size)) / 16;
    return vec2<u32>(u32(lo), u32(max(hi, 0)));
}

// Window rows one update dispatch adds up (keep in sync with band_rows in src/gpu/slic.rs).
fn band_rows(window: u32) -> u32 {
    return max(60000u / (4u * window + 2u), 1u);
}
