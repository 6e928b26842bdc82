// The cluster table and windows of the slic_* stages (after
// shared/slic_params.wgsl; reads `params`).

// Cluster table rows [N, K, 8] (i32): centre y, x in 1/16 px, L, a, b in 1/4
// Lab units, pixel count (0: the cluster is empty and takes no pixels).
// Keep in sync with CLUSTER_STRIDE in src/gpu/slic.rs.
const C_Y: u32 = 0u;
const C_X: u32 = 1u;
const C_L: u32 = 2u;
const C_COUNT: u32 = 5u;
const C_STRIDE: u32 = 8u;

// One setting's k-means: `clusters` rows from row `base` of the cluster
// table (one image's), each seeing pixels within 2 * window of its centre,
// and the weights of the squared distance and Lab distance.
struct Setting {
    clusters: u32,
    base: u32,
    window: u32,
    w_space: u32,
    w_color: u32,
}

// Columns of slic_iterate's settings table. Keep in sync with
// SETTING_FIELDS in src/gpu/slic.rs.
const SETTING_FIELDS: u32 = 8u;
const S_CLUSTERS: u32 = 0u;
const S_FIRST_ROW: u32 = 1u;
const S_WINDOW: u32 = 2u;
const S_W_SPACE: u32 = 3u;
const S_W_COLOR: u32 = 4u;
const S_ROUNDS: u32 = 5u;

// The one setting of `params` (slic_assign, slic_update), for image n.
fn params_setting(n: u32) -> Setting {
    return Setting(params.clusters, n * params.clusters, params.window, params.w_space, params.w_color);
}

// Rows [y_min, y_max) of a cluster centred at `c16` (1/16 px), as
// scikit-image's int(max(c - 2S, 0)) and int(min(c + 2S + 1, size)).
fn window(c16: i32, size: u32, half: u32) -> vec2<u32> {
    let s16 = 32 * i32(half);
    let lo = max(c16 - s16, 0) / 16;
    let hi = min(c16 + s16 + 16, 16 * i32(size)) / 16;
    return vec2<u32>(u32(lo), u32(max(hi, 0)));
}

// Window rows one update dispatch adds up (keep in sync with band_rows in src/gpu/slic.rs).
fn band_rows(window: u32) -> u32 {
    return max(60000u / (4u * window + 2u), 1u);
}
