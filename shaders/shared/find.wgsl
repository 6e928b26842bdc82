// The root of x in the union–find forest `parent` (image-local indices from
// `base`); parents only ever point at smaller indices, so the walk ends. The
// walk halves its path (atomicMin to the grandparent, an ancestor, so any
// interleaving keeps the forest valid), which keeps later walks short.
fn find(base: u32, x: i32) -> i32 {
    var r = x;
    loop {
        let p = atomicLoad(&parent[base + u32(r)]);
        if p == r {
            break;
        }
        let grand = atomicLoad(&parent[base + u32(p)]);
        if grand != p {
            atomicMin(&parent[base + u32(r)], grand);
        }
        r = p;
    }
    return r;
}

// Unites the trees of a0 and b0: the larger root goes under the smaller
// (atomicMin, retried when another union got there first).
fn unite(base: u32, a0: i32, b0: i32) {
    var a = a0;
    var b = b0;
    loop {
        a = find(base, a);
        b = find(base, b);
        if a < b {
            let old = atomicMin(&parent[base + u32(b)], a);
            if old == b {
                break;
            }
            b = old;
        } else if b < a {
            let old = atomicMin(&parent[base + u32(a)], b);
            if old == a {
                break;
            }
            a = old;
        } else {
            break;
        }
    }
}
