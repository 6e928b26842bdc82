// Watershed, stage 3: relaxes every marker's flooding level to its fixed point
//   T_m(p) = max(U(p) + D(|p − m|²), min over 4-neighbours q of T_m(q)),
// the minimax cost of a path from marker m to p, where a pixel costs its
// gradient plus the compactness term D (a host-built table per setting of
// floor(compactness · 144250 · distance)). The markers of several settings
// flood in one launch, each map reading its marker's setting's table.
//
// One workgroup per (image, marker) map runs rounds of four wavefront passes
// inside the dispatch: each pass walks the anti-diagonals of one direction
// (↘, ↖, ↗, ↙), a barrier between diagonals, so a path that is monotone in x
// and y is settled in one pass (a chamfer scan, done in parallel along each
// diagonal; a diagonal's pixels are never each other's neighbours). A round
// in which no level dropped is the fixed point, and the map is marked
// settled. Levels only decrease from "unreached" and the least cost over
// paths is unique, so any order of relaxations, here or on the CPU, ends at
// the same levels.
//
// A step is one (pass, diagonal); this dispatch runs steps step..step+steps
// of the schedule and stops early once its map is settled, so a dispatch
// chain that stops short of the fixed point resumes where it left off
// (llvmpipe caps an invocation's loop iterations; elsewhere one dispatch
// runs until the map settles).
// CPU twin: watershed_flood in src/cpu/watershed.rs.

@group(0) @binding(0) var<storage, read_write> gradient: array<u32>;  // [N, H, W]
@group(0) @binding(1) var<storage, read_write> markers: array<i32>;   // [M, MARKER_FIELDS]
@group(0) @binding(2) var<storage, read_write> distance: array<u32>;  // [settings, (H-1)² + (W-1)² + 1]
@group(0) @binding(3) var<storage, read_write> level: array<u32>;     // [N·G, H, W]
@group(0) @binding(4) var<storage, read_write> state: array<atomic<u32>>; // [N·G, 2]: settled, level drops this round
@group(0) @binding(5) var<uniform> params: WatershedParams;
// import shared/watershed_params.wgsl

const THREADS: u32 = 256u;

// The schedule, read from `params` by one thread and broadcast with
// workgroupUniformLoad, so every barrier sits in uniform control flow.
struct Schedule {
    live: u32,     // 1: this workgroup has a map
    first: u32,      // first step
    last: u32,       // one past the last step
    diagonals: u32,  // W + H − 1
}

var<workgroup> schedule: Schedule;
var<workgroup> stop: u32;

// One relaxation of pixel (x, y) of map z; true if its level dropped.
fn relax(z: u32, x: u32, y: u32) -> bool {
    let width = params.width;
    let height = params.height;
    let plane = width * height;
    let n = z / params.group;
    let m = params.first + z % params.group;
    let dy = i32(y) - markers[MARKER_FIELDS * m + MARKER_Y];
    let dx = i32(x) - markers[MARKER_FIELDS * m + MARKER_X];
    if dy == 0 && dx == 0 {
        return false;
    }
    let base = z * plane;
    let pixel = y * width + x;
    var best = UNREACHED;
    if x > 0u {
        best = min(best, level[base + pixel - 1u]);
    }
    if x + 1u < width {
        best = min(best, level[base + pixel + 1u]);
    }
    if y > 0u {
        best = min(best, level[base + pixel - width]);
    }
    if y + 1u < height {
        best = min(best, level[base + pixel + width]);
    }
    if best == UNREACHED {
        return false;
    }
    let table = u32(markers[MARKER_FIELDS * m + MARKER_SETTING]) * distances(width, height);
    let candidate = max(gradient[n * plane + pixel] + distance[table + u32(dy * dy + dx * dx)], best);
    if candidate < level[base + pixel] {
        level[base + pixel] = candidate;
        return true;
    }
    return false;
}

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) thread: u32,
) {
    let z = group.y * groups.x + group.x;
    if thread == 0u {
        let live = z < params.images;
        schedule = Schedule(select(0u, 1u, live), params.step, params.step + params.steps, params.width + params.height - 1u);
        stop = 1u;
        if live {
            stop = atomicLoad(&state[2u * z]);
        }
    }
    let plan = workgroupUniformLoad(&schedule);
    if plan.live == 0u {
        return;
    }
    let height = params.height;
    let width = params.width;
    let diagonals = plan.diagonals;
    let per_round = 4u * diagonals;
    for (var s = plan.first; s < plan.last; s++) {
        if workgroupUniformLoad(&stop) != 0u {
            break;
        }
        let within = s % per_round;
        let direction = within / diagonals;
        var d = within % diagonals;
        if direction % 2u == 1u {
            d = diagonals - 1u - d;
        }
        if within == 0u {
            if thread == 0u {
                atomicStore(&state[2u * z + 1u], 0u);
            }
            storageBarrier();
        }
        var dropped = 0u;
        for (var y = thread; y < height; y += THREADS) {
            // ↘ and ↖ walk x + y = d; ↗ and ↙ walk x + (H − 1 − y) = d.
            var offset = y;
            if direction >= 2u {
                offset = height - 1u - y;
            }
            if d >= offset && d - offset < width {
                dropped += select(0u, 1u, relax(z, d - offset, y));
            }
        }
        if dropped > 0u {
            atomicAdd(&state[2u * z + 1u], dropped);
        }
        storageBarrier();
        if within == per_round - 1u && thread == 0u && atomicLoad(&state[2u * z + 1u]) == 0u {
            atomicStore(&state[2u * z], 1u);
            stop = 1u;
        }
    }
}
