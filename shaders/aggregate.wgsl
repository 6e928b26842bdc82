// Aggregation as a per-pixel gather (no float atomics):
//   h_t(p) = sum over parts j covering p of scores[j, t] / N(p).
// Windows: every window is tested against the pixel, in index order.
// Segments: each run is a partition, so pixel p gathers one score per run,
// scores[offsets[r] + labels[r, p], t], and N(p) = R.
// CPU twin: src/cpu/aggregate.rs. Params: keep in sync with AggregateParams
// in src/gpu/aggregate.rs.

@group(0) @binding(0) var<storage, read_write> scores: array<f32>;   // [P, T]
@group(0) @binding(1) var<storage, read_write> parts: array<i32>;    // [P, 4]
@group(0) @binding(2) var<storage, read_write> labels: array<i32>;   // [R, H, W]
@group(0) @binding(3) var<storage, read_write> offsets: array<i32>;  // [R]
@group(0) @binding(4) var<storage, read_write> maps: array<f32>;     // [T, H, W]
@group(0) @binding(5) var<storage, read_write> params: array<u32>;

const P_WIDTH: u32 = 0u;
const P_HEIGHT: u32 = 1u;
const P_PARTS: u32 = 2u;
const P_TARGETS: u32 = 3u;
const P_RUNS: u32 = 4u;
const P_KIND: u32 = 5u;    // 0: circle, 1: rectangle, 2: segments

const KIND_CIRCLE: u32 = 0u;
const KIND_RECT: u32 = 1u;

fn covers(j: u32, x: i32, y: i32) -> bool {
    let dx = x - parts[j * 4u];
    let dy = y - parts[j * 4u + 1u];
    let rx = parts[j * 4u + 2u];
    if params[P_KIND] == KIND_CIRCLE {
        return dx * dx + dy * dy <= rx * rx;
    }
    return abs(dx) <= rx && abs(dy) <= parts[j * 4u + 3u];
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let width = params[P_WIDTH];
    let height = params[P_HEIGHT];
    let targets = params[P_TARGETS];
    let t = gid.z;
    if gid.x >= width || gid.y >= height || t >= targets {
        return;
    }
    let pixel = gid.y * width + gid.x;
    var sum = 0.0;
    var count = 0u;
    if params[P_KIND] <= KIND_RECT {
        let n = params[P_PARTS];
        for (var j = 0u; j < n; j++) {
            if covers(j, i32(gid.x), i32(gid.y)) {
                sum += scores[j * targets + t];
                count += 1u;
            }
        }
    } else {
        let runs = params[P_RUNS];
        let n = i32(params[P_PARTS]);
        let plane = width * height;
        for (var r = 0u; r < runs; r++) {
            // A label outside the run's parts adds nothing (labels are validated on upload).
            let part = offsets[r] + labels[r * plane + pixel];
            if part >= 0 && part < n {
                sum += scores[u32(part) * targets + t];
            }
        }
        count = runs;
    }
    var value = 0.0;
    if count > 0u {
        value = sum / f32(count);
    }
    maps[t * width * height + pixel] = value;
}
