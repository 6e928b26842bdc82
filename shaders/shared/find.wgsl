// The root of x in the union–find forest `parent` (image-local indices from
// `base`); parents only ever point at smaller indices, so the walk ends.
fn find(base: u32, x: i32) -> i32 {
    var r = x;
    loop {
        let p = atomicLoad(&parent[base + u32(r)]);
        if p == r {
            break;
        }
        r = p;
    }
    return r;
}
