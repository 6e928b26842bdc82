// Unsigned 64-bit arithmetic on vec2<u32>(lo, hi): WGSL has no 64-bit
// integers, and integer distances keep the GPU bit-identical to the CPU twin
// (which uses u64).

fn wide_mul(a: u32, b: u32) -> vec2<u32> {
    let a_lo = a & 0xffffu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xffffu;
    let b_hi = b >> 16u;
    let lo_lo = a_lo * b_lo;
    let hi_lo = a_hi * b_lo;
    let lo_hi = a_lo * b_hi;
    let hi_hi = a_hi * b_hi;
    let mid = (lo_lo >> 16u) + (hi_lo & 0xffffu) + (lo_hi & 0xffffu);
    let lo = (lo_lo & 0xffffu) | (mid << 16u);
    let hi = hi_hi + (hi_lo >> 16u) + (lo_hi >> 16u) + (mid >> 16u);
    return vec2<u32>(lo, hi);
}

fn wide_add(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    let carry = select(0u, 1u, lo < a.x);
    return vec2<u32>(lo, a.y + b.y + carry);
}

fn wide_less(a: vec2<u32>, b: vec2<u32>) -> bool {
    return a.y < b.y || (a.y == b.y && a.x < b.x);
}

// floor(sqrt(v)) for v < 2^42, bit by bit.
fn wide_sqrt(v: vec2<u32>) -> u32 {
    var root = 0u;
    for (var bit = 20; bit >= 0; bit--) {
        let candidate = root | (1u << u32(bit));
        if !wide_less(v, wide_mul(candidate, candidate)) {
            root = candidate;
        }
    }
    return root;
}

// Unsigned 128-bit arithmetic on vec4<u32> (least significant word first),
// for exact comparisons of products of pixel counts (SEEDS); straight-line
// code, no loops. Callers keep their values below 2^128.

fn long(v: vec2<u32>) -> vec4<u32> {
    return vec4<u32>(v.x, v.y, 0u, 0u);
}

fn long_add(a: vec4<u32>, b: vec4<u32>) -> vec4<u32> {
    let x = a.x + b.x;
    let cx = select(0u, 1u, x < a.x);
    let y0 = a.y + b.y;
    let y = y0 + cx;
    let cy = select(0u, 1u, y0 < a.y) + select(0u, 1u, y < y0);
    let z0 = a.z + b.z;
    let z = z0 + cy;
    let cz = select(0u, 1u, z0 < a.z) + select(0u, 1u, z < z0);
    return vec4<u32>(x, y, z, a.w + b.w + cz);
}

// a · m (the product's bits above 128 are dropped).
fn long_mul(a: vec4<u32>, m: u32) -> vec4<u32> {
    let p0 = wide_mul(a.x, m);
    let p1 = wide_mul(a.y, m);
    let p2 = wide_mul(a.z, m);
    let p3 = wide_mul(a.w, m);
    return long_add(vec4<u32>(p0.x, p0.y, p2.x, p2.y), vec4<u32>(0u, p1.x, p1.y, p3.x));
}

// a · m for a 64-bit m.
fn long_mul_wide(a: vec4<u32>, m: vec2<u32>) -> vec4<u32> {
    let high = long_mul(a, m.y);
    return long_add(long_mul(a, m.x), vec4<u32>(0u, high.x, high.y, high.z));
}

fn long_less(a: vec4<u32>, b: vec4<u32>) -> bool {
    if a.w != b.w {
        return a.w < b.w;
    }
    if a.z != b.z {
        return a.z < b.z;
    }
    if a.y != b.y {
        return a.y < b.y;
    }
    return a.x < b.x;
}
