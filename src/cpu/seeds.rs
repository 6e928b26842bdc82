//! CPU twins of `shaders/seeds_{histograms,blocks,labels,pixels}.wgsl` on
//! the state rows of `gpu::seeds::Layout`: the same classes of independent
//! sweep positions, each decided from the state as the class found it and
//! then applied, the same integer comparisons; images in parallel (rayon).

use rayon::prelude::*;

use crate::gpu::seeds::{BINS, CELLS, HEADER, LEVEL_FIELDS, SeedsParams, block_step, block_steps};

/// The layout table of `gpu::seeds::Layout::table`, read as the kernels do.
struct Table<'a>(&'a [u32]);

impl Table<'_> {
    fn levels(&self) -> usize {
        self.0[0] as usize
    }
    fn top(&self) -> usize {
        self.levels() - 1
    }
    fn words(&self) -> usize {
        self.0[3] as usize
    }
    fn partitions(&self) -> usize {
        self.0[4] as usize
    }
    fn bins(&self) -> usize {
        self.0[5] as usize
    }
    fn labels(&self) -> usize {
        self.0[6] as usize
    }
    fn slots(&self) -> usize {
        self.0[7] as usize
    }
    fn outs(&self) -> usize {
        self.0[8] as usize
    }
    fn field(&self, level: usize, f: usize) -> usize {
        self.0[HEADER + LEVEL_FIELDS * level + f] as usize
    }
    fn nw(&self, level: usize) -> usize {
        self.field(level, 0)
    }
    fn nh(&self, level: usize) -> usize {
        self.field(level, 1)
    }
    fn superpixels(&self) -> usize {
        self.nw(self.top()) * self.nh(self.top())
    }
    fn hist(&self, level: usize, label: usize) -> usize {
        self.field(level, 2) + label * CELLS as usize
    }
    fn count(&self, level: usize, label: usize) -> usize {
        self.field(level, 3) + label
    }
    fn parent(&self, level: usize, label: usize) -> usize {
        self.field(level, 4) + label
    }
    fn initial_parent(&self, level: usize, label: usize) -> u32 {
        self.0[self.field(level, 5) + label]
    }
    /// OpenCV's computeLabel: the level-`level` grid cell of pixel (x, y).
    fn grid_label(&self, level: usize, x: usize, y: usize, p: &SeedsParams) -> usize {
        let (nw, nh) = (self.nw(level), self.nh(level));
        (y * nh / p.height as usize).min(nh - 1) * nw + (x * nw / p.width as usize).min(nw - 1)
    }
}

/// The items of a launch as `(image, the setting's layout table, the item's
/// state)`, from the directory of `gpu::seeds::group_table`: item `image ·
/// settings + setting`, each its own slice of `state`.
fn items<'a>(table: &'a [u32], state: &'a mut [u32], p: &SeedsParams) -> Vec<(usize, Table<'a>, &'a mut [u32])> {
    let (settings, row) = (table[0] as usize, table[1] as usize);
    let images = p.items as usize / settings;
    let mut out = Vec::with_capacity(images * settings);
    for (n, mut rest) in state.chunks_mut(row).take(images).enumerate() {
        let mut consumed = 0;
        for k in 0..settings {
            let t = Table(&table[table[2 + 2 * k] as usize..]);
            let at = table[3 + 2 * k] as usize;
            let (item, tail) = std::mem::take(&mut rest)[at - consumed..].split_at_mut(t.words());
            consumed = at + t.words();
            rest = tail;
            out.push((n, t, item));
        }
    }
    out
}

/// Classes of a sweep: positions 3 apart along x and 2 (horizontal) or 3
/// (vertical) apart along y never read what another writes.
fn classes(vertical: bool) -> usize {
    if vertical { 9 } else { 6 }
}

/// Class `c`'s positions on a `w × h` grid, (along a row, rows), within
/// OpenCV's sweep bounds.
fn class_extent(w: usize, h: usize, vertical: bool, c: usize) -> (usize, usize) {
    let (row, rows) = if vertical { (h.saturating_sub(3), w.saturating_sub(2)) } else { (w.saturating_sub(3), h.saturating_sub(2)) };
    let stride = if vertical { 3 } else { 2 };
    let (u, v) = (c % 3, c / 3);
    (row.saturating_sub(u).div_ceil(3), rows.saturating_sub(v).div_ceil(stride))
}

/// The positions (x, y) of class `c`, in the kernels' order.
fn class_cells(w: usize, h: usize, vertical: bool, c: usize) -> impl Iterator<Item = (usize, usize)> {
    let (along, rows) = class_extent(w, h, vertical, c);
    let stride = if vertical { 3 } else { 2 };
    (0..along * rows).map(move |m| {
        let (u, v) = (1 + c % 3 + 3 * (m % along), 1 + c / 3 + stride * (m / along));
        if vertical { (v, u) } else { (u, v) }
    })
}

/// Level 0: each pixel's histogram cell (OpenCV's order: B, G, R digits) and
/// the pixel histograms of the smallest blocks. Level l ≥ 1: the blocks of
/// level l − 1 join their initial parents' histograms (OpenCV's assignLabels
/// and computeHistograms); at the top, every superpixel has 4 partitions.
pub fn seeds_histograms(image: &[f32], table: &[u32], state: &mut [u32], p: &SeedsParams) {
    let (w, plane) = (p.width as usize, (p.width * p.height) as usize);
    items(table, state, p).into_par_iter().for_each(|(n, t, s)| {
        let level = p.level as usize;
        if level >= t.levels() {
            return;
        }
        if level == 0 {
            for i in 0..plane {
                let value = |c: usize| image[(n * 3 + c) * plane + i].round().clamp(0.0, 255.0) as u32 * BINS / 256;
                let cell = (value(2) * BINS + value(1)) * BINS + value(0);
                s[t.bins() + i] = cell;
                let label = t.grid_label(0, i % w, i / w, p);
                s[t.hist(0, label) + cell as usize] += 1;
                s[t.count(0, label)] += 1;
            }
            return;
        }
        for block in 0..t.nw(level - 1) * t.nh(level - 1) {
            let up = t.initial_parent(level - 1, block) as usize;
            s[t.parent(level - 1, block)] = up as u32;
            for c in 0..CELLS as usize {
                s[t.hist(level, up) + c] += s[t.hist(level - 1, block) + c];
            }
            s[t.count(level, up)] += s[t.count(level - 1, block)];
        }
        if level == t.top() {
            for label in 0..t.nw(level) * t.nh(level) {
                s[t.partitions() + label] = 4;
            }
        }
    });
}

// OpenCV's split checks: false when moving the centre (a22) would cut its superpixel.
fn split_hf(a11: u32, a12: u32, a21: u32, a22: u32, a31: u32, a32: u32) -> bool {
    !((a22 != a21 && a22 == a12 && a22 == a32)
        || (a22 != a11 && a22 == a12 && a22 == a21)
        || (a22 != a31 && a22 == a32 && a22 == a21))
}
fn split_hb(a12: u32, a13: u32, a22: u32, a23: u32, a32: u32, a33: u32) -> bool {
    !((a22 != a23 && a22 == a12 && a22 == a32)
        || (a22 != a13 && a22 == a12 && a22 == a23)
        || (a22 != a33 && a22 == a32 && a22 == a23))
}
fn split_vf(a11: u32, a12: u32, a13: u32, a21: u32, a22: u32, a23: u32) -> bool {
    !((a22 != a12 && a22 == a21 && a22 == a23)
        || (a22 != a11 && a22 == a21 && a22 == a12)
        || (a22 != a13 && a22 == a23 && a22 == a12))
}
fn split_vb(a21: u32, a22: u32, a23: u32, a31: u32, a32: u32, a33: u32) -> bool {
    !((a22 != a32 && a22 == a21 && a22 == a23)
        || (a22 != a31 && a22 == a21 && a22 == a32)
        || (a22 != a33 && a22 == a23 && a22 == a32))
}

/// OpenCV's intersectConf(top, x, y, level, block) > `req` thousandths,
/// exactly: does block `block` of `level` fit superpixel `x` better than its
/// owner `y`? (S_a / (c_x·c_b) − S_b / (c_y·c_b) > req, multiplied out.)
fn confident(t: &Table, s: &[u32], level: usize, x: usize, y: usize, block: usize, req: u32) -> bool {
    let top = t.top();
    let c_x = s[t.count(top, x)] as u64;
    let c_b = s[t.count(level, block)] as u64;
    let c_y = s[t.count(top, y)] as u64 - c_b;
    let (mut sum_a, mut sum_b) = (0u64, 0u64);
    for c in 0..CELLS as usize {
        let h_x = s[t.hist(top, x) + c] as u64;
        let h_b = s[t.hist(level, block) + c] as u64;
        let h_y = s[t.hist(top, y) + c] as u64 - h_b;
        sum_a += (h_x * c_b).min(h_b * c_x);
        sum_b += (h_y * c_b).min(h_b * c_y);
    }
    let left = sum_a as u128 * c_y as u128 * 1000;
    let right = sum_b as u128 * c_x as u128 * 1000 + (c_x * c_y) as u128 * c_b as u128 * req as u128;
    right < left
}

/// Moves block `block` of `level` from superpixel `from` to `to`.
fn move_block(t: &Table, s: &mut [u32], level: usize, block: usize, from: usize, to: usize) {
    let top = t.top();
    for c in 0..CELLS as usize {
        let v = s[t.hist(level, block) + c];
        s[t.hist(top, from) + c] -= v;
        s[t.hist(top, to) + c] += v;
    }
    let v = s[t.count(level, block)];
    s[t.count(top, from)] -= v;
    s[t.count(top, to)] += v;
    s[t.partitions() + from] -= 1;
    s[t.partitions() + to] += 1;
    s[t.parent(level, block)] = to as u32;
}

/// Position (x, y)'s block decision: 0, 1 (the block here moves to its
/// neighbour's owner) or 2 (the neighbour's block moves here), with the
/// giver's partitions above the two bits; counts the giver's moves in `outs`.
fn decide_block(t: &Table, s: &mut [u32], level: usize, (x, y): (usize, usize), vertical: bool, req: u32, outs: usize) -> u32 {
    let nw = t.nw(level);
    let at = |s: &[u32], dy: isize, dx: isize| s[t.parent(level, ((y as isize + dy) as usize) * nw + (x as isize + dx) as usize)];
    let here = y * nw + x;
    let there = if vertical { here + nw } else { here + 1 };
    let (a, b) = (at(s, 0, 0), s[t.parent(level, there)]);
    if a == b {
        return 0;
    }
    let (pa, pb) = (s[t.partitions() + a as usize], s[t.partitions() + b as usize]);
    let (forward_ok, backward_ok) = if vertical {
        (
            split_vf(at(s, -1, -1), at(s, -1, 0), at(s, -1, 1), at(s, 0, -1), a, at(s, 0, 1)),
            split_vb(at(s, 1, -1), b, at(s, 1, 1), at(s, 2, -1), at(s, 2, 0), at(s, 2, 1)),
        )
    } else {
        (
            split_hf(at(s, -1, -1), at(s, -1, 0), at(s, 0, -1), a, at(s, 1, -1), at(s, 1, 0)),
            split_hb(at(s, -1, 1), at(s, -1, 2), b, at(s, 0, 2), at(s, 1, 1), at(s, 1, 2)),
        )
    };
    if (pa == 2 || (pa > 2 && forward_ok)) && confident(t, s, level, b as usize, a as usize, here, req) {
        s[outs + a as usize] += 1;
        return 1 | pa << 2;
    }
    if pb > 1 && (pb <= 2 || backward_ok) && confident(t, s, level, a as usize, b as usize, there, req) {
        s[outs + b as usize] += 1;
        return 2 | pb << 2;
    }
    0
}

/// One block sweep over `level`, class by class: every position decides,
/// then the moves apply unless a superpixel would lose all its partitions.
fn block_sweep(t: &Table, s: &mut [u32], level: usize, req: u32, vertical: bool) {
    let (w, h, k) = (t.nw(level), t.nh(level), t.superpixels());
    s[t.outs()..t.outs() + 2 * k].fill(0);
    for c in 0..classes(vertical) {
        let outs = t.outs() + (c % 2) * k;
        for cell in class_cells(w, h, vertical, c) {
            let slot = decide_block(t, s, level, cell, vertical, req, outs);
            s[t.slots() + cell.1 * w + cell.0] = slot;
        }
        for (x, y) in class_cells(w, h, vertical, c) {
            let here = y * w + x;
            let slot = s[t.slots() + here];
            if slot == 0 {
                continue;
            }
            let there = if vertical { here + w } else { here + 1 };
            let (a, b) = (s[t.parent(level, here)] as usize, s[t.parent(level, there)] as usize);
            let (block, from, to) = if slot & 3 == 1 { (here, a, b) } else { (there, b, a) };
            if s[outs + from] < slot >> 2 {
                move_block(t, s, level, block, from, to);
            }
        }
        let other = t.outs() + ((c + 1) % 2) * k;
        s[other..other + k].fill(0);
    }
}

/// OpenCV's goDownOneLevel from `upper` to the level below: the lower
/// blocks take their parents' superpixels; partitions are recounted.
fn descend(t: &Table, s: &mut [u32], upper: usize) {
    let lower = upper - 1;
    s[t.partitions()..t.partitions() + t.superpixels()].fill(0);
    let part = if lower != 0 { 4 } else { 1 };
    for label in 0..t.nw(lower) * t.nh(lower) {
        let up = s[t.parent(upper, s[t.parent(lower, label)] as usize)];
        s[t.parent(lower, label)] = up;
        s[t.partitions() + up as usize] += part;
    }
}

/// Steps `p.first..p.first + p.steps` of the block stage (`gpu::seeds::block_step`).
pub fn seeds_blocks(table: &[u32], state: &mut [u32], p: &SeedsParams) {
    items(table, state, p).into_par_iter().for_each(|(_, t, s)| {
        for step in p.first..(p.first + p.steps).min(block_steps(t.levels(), p.double_step != 0)) {
            match block_step(t.levels(), p.double_step != 0, step) {
                (level, Some((req, vertical))) => block_sweep(&t, s, level, req, vertical),
                (level, None) => descend(&t, s, level),
            }
        }
    });
}

/// OpenCV's updateLabels: every pixel takes its smallest block's superpixel.
pub fn seeds_labels(table: &[u32], state: &mut [u32], p: &SeedsParams) {
    let w = p.width as usize;
    items(table, state, p).into_par_iter().for_each(|(_, t, s)| {
        for i in 0..(p.width * p.height) as usize {
            s[t.labels() + i] = s[t.parent(0, t.grid_label(0, i % w, i / w, p))];
        }
    });
}

/// `v`^(2^(prior − 1)) for prior 1..=5 (OpenCV squares q once per prior above 1).
fn power(v: u32, prior: u32) -> u128 {
    (1..prior.min(5)).fold(v as u128, |q, _| q * q)
}

/// OpenCV's probability(), exactly: true if pixel `i` should move from `l1`
/// to `l2`, with `n1`, `n2` the neighbours of `l1`, `l2` in the prior window.
fn probability(t: &Table, s: &[u32], i: usize, (l1, l2): (usize, usize), (n1, n2): (u32, u32), prior: u32) -> bool {
    let top = t.top();
    let cell = s[t.bins() + i] as usize;
    let (t1, t2) = (s[t.count(top, l1)] as u128, s[t.count(top, l2)] as u128);
    let mut p1 = s[t.hist(top, l1) + cell] as u128 * t2;
    let mut p2 = s[t.hist(top, l2) + cell] as u128 * t1;
    if prior >= 2 {
        p1 *= t2;
        p2 *= t1;
    }
    if prior != 0 && n2 != 0 {
        p1 *= power(n1, prior);
        p2 *= power(n2, prior);
    }
    p2 > p1
}

/// OpenCV's update(): pixel `i` moves from `from` to `to`.
fn move_pixel(t: &Table, s: &mut [u32], i: usize, from: u32, to: u32) {
    let top = t.top();
    let cell = s[t.bins() + i] as usize;
    s[t.hist(top, from as usize) + cell] -= 1;
    s[t.count(top, from as usize)] -= 1;
    s[t.hist(top, to as usize) + cell] += 1;
    s[t.count(top, to as usize)] += 1;
    s[t.labels() + i] = to;
}

/// Neighbours of (x, y) with `label` among OpenCV's 3×4 (horizontal) or 4×3
/// (vertical, with its x + 2 columns) prior windows, by flat index.
fn neighbours(t: &Table, s: &[u32], base: usize, w: usize, label: u32, vertical: bool) -> u32 {
    let w = w as isize;
    let offsets: [isize; 10] = if vertical {
        [-w - 1, -w, -w + 1, -1, 2, w - 1, w + 2, 2 * w - 1, 2 * w, 2 * w + 1]
    } else {
        [-w - 1, -w, -w + 1, -w + 2, -1, 2, w - 1, w, w + 1, w + 2]
    };
    offsets.iter().filter(|&&o| s[t.labels() + (base as isize + o) as usize] == label).count() as u32
}

/// Position (x, y)'s pixel decision: 0, 1 (pixel (x, y) takes its
/// neighbour's superpixel) or 2 (the neighbour takes (x, y)'s).
fn decide_pixel(t: &Table, s: &[u32], (x, y): (usize, usize), w: usize, vertical: bool, forward: bool, prior: u32) -> u32 {
    let label = |dx: isize, dy: isize| s[t.labels() + ((y as isize + dy) as usize) * w + (x as isize + dx) as usize];
    let i = y * w + x;
    let j = if vertical { i + w } else { i + 1 };
    let (a, b) = (s[t.labels() + i], s[t.labels() + j]);
    if a == b {
        return 0;
    }
    let (first_ok, second_ok) = if vertical {
        (
            split_vf(label(-1, -1), label(0, -1), label(1, -1), label(-1, 0), a, label(1, 0)),
            split_vb(label(-1, 1), b, label(1, 1), label(-1, 2), label(0, 2), label(1, 2)),
        )
    } else {
        (
            split_hf(label(-1, -1), label(0, -1), label(-1, 0), a, label(-1, 1), label(0, 1)),
            split_hb(label(1, -1), label(2, -1), b, label(2, 0), label(1, 1), label(2, 1)),
        )
    };
    if !(if forward { first_ok } else { second_ok }) {
        return 0;
    }
    let (n_a, n_b) = if prior != 0 {
        (neighbours(t, s, i, w, a, vertical), neighbours(t, s, i, w, b, vertical))
    } else {
        (0, 0)
    };
    let first = || probability(t, s, i, (a as usize, b as usize), (n_a, n_b), prior);
    let second = || probability(t, s, j, (b as usize, a as usize), (n_b, n_a), prior);
    if forward {
        if first() {
            return 1;
        }
        if second_ok && second() {
            return 2;
        }
    } else {
        if second() {
            return 2;
        }
        if first_ok && first() {
            return 1;
        }
    }
    0
}

/// One pixel sweep, class by class: every position decides, then the moves apply.
fn pixel_sweep(t: &Table, s: &mut [u32], p: &SeedsParams, vertical: bool, forward: bool) {
    let (w, h) = (p.width as usize, p.height as usize);
    for c in 0..classes(vertical) {
        for cell in class_cells(w, h, vertical, c) {
            s[t.slots() + cell.1 * w + cell.0] = decide_pixel(t, s, cell, w, vertical, forward, p.prior);
        }
        for (x, y) in class_cells(w, h, vertical, c) {
            let i = y * w + x;
            let slot = s[t.slots() + i];
            if slot == 0 {
                continue;
            }
            let j = if vertical { i + w } else { i + 1 };
            let (a, b) = (s[t.labels() + i], s[t.labels() + j]);
            if slot == 1 {
                move_pixel(t, s, i, a, b);
            } else {
                move_pixel(t, s, j, b, a);
            }
        }
    }
}

/// OpenCV's border fix-up: the top and bottom rows take the rows inside
/// them, then the left and right columns the columns inside.
fn border(t: &Table, s: &mut [u32], w: usize, h: usize) {
    let label = |s: &[u32], x: usize, y: usize| s[t.labels() + y * w + x];
    for x in 0..w {
        for (edge, inner) in [(0, 1), (h - 1, h - 2)] {
            let (a, b) = (label(s, x, edge), label(s, x, inner));
            if a != b {
                move_pixel(t, s, edge * w + x, a, b);
            }
        }
    }
    for y in 0..h {
        for (edge, inner) in [(0, 1), (w - 1, w - 2)] {
            let (a, b) = (label(s, edge, y), label(s, inner, y));
            if a != b {
                move_pixel(t, s, y * w + edge, a, b);
            }
        }
    }
}

/// Steps `p.first..p.first + p.steps` of the pixel stage: step k is, in
/// iteration k / 3 (forward when even), the horizontal sweep, the vertical
/// sweep or the border fix-up.
pub fn seeds_pixels(table: &[u32], state: &mut [u32], p: &SeedsParams) {
    items(table, state, p).into_par_iter().for_each(|(_, t, s)| {
        for step in p.first..p.first + p.steps {
            match step % 3 {
                2 => border(&t, s, p.width as usize, p.height as usize),
                kind => pixel_sweep(&t, s, p, kind == 1, (step / 3) % 2 == 0),
            }
        }
    });
}
