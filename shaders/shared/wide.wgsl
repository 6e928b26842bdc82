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
