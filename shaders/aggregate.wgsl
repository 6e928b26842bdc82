// Aggregation as a per-pixel gather (no float atomics), unnormalised: for the
// parts first..first + count,
//   windows, RISE: sums[t, p] = Σ_j w_j(p) · scores[j, t]   (w of shared/parts.wgsl)
//   segments:      sums[t, p] = Σ_r scores[offsets[r] + labels[r, p], t]
// (each run of label maps is a partition: one part per run covers p).
// `ops::aggregate` adds the chunks and divides by the coverage. Chunks keep
// every invocation's loop short (llvmpipe stops a shader's loops after 65,535
// iterations in all). CPU twin: src/cpu/aggregate.rs. Params:
// shared/aggregate_params.wgsl.

@group(0) @binding(0) var<storage, read_write> scores: array<f32>;   // [P, T]
@group(0) @binding(1) var<storage, read_write> parts: array<i32>;    // [P, 5]
@group(0) @binding(2) var<storage, read_write> labels: array<i32>;   // label maps or RISE grids
@group(0) @binding(3) var<storage, read_write> offsets: array<i32>;  // [R]
@group(0) @binding(4) var<storage, read_write> sums: array<f32>;     // [T, H, W]
@group(0) @binding(5) var<uniform> params: AggregateParams;
// import shared/aggregate_params.wgsl
// import shared/parts.wgsl

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let width = params.width;
    let height = params.height;
    let targets = params.targets;
    let t = gid.z;
    if gid.x >= width || gid.y >= height || t >= targets {
        return;
    }
    let pixel = gid.y * width + gid.x;
    let n = params.parts;
    let kind = params.kind;
    let runs = params.runs;
    let last = params.first + params.count;
    var sum = 0.0;
    if kind == KIND_SEGMENT {
        let plane = width * height;
        for (var r = params.first; r < min(last, runs); r++) {
            // A label outside the run's parts adds nothing (labels are validated on upload).
            let part = offsets[r] + labels[r * plane + pixel];
            if part >= 0 && u32(part) < n {
                sum += scores[u32(part) * targets + t];
            }
        }
    } else {
        for (var j = params.first; j < min(last, n); j++) {
            let w = part_weight(j, i32(gid.x), i32(gid.y), kind, runs, width, height);
            if w > 0.0 {
                sum += w * scores[j * targets + t];
            }
        }
    }
    sums[t * width * height + pixel] = sum;
}
