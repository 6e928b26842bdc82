//! CPU twins of `shaders/seeds_{histograms,blocks,descend,labels,pixels}.wgsl`:
//! OpenCV ximgproc's SEEDS, step for step, on the state rows of
//! `gpu::seeds::Layout` (float32 arithmetic where OpenCV uses it, rounded
//! step by step; histogram cells and pixel counts are whole numbers).

use crate::gpu::seeds::{
    BINS, CELLS, HEADER, LEVEL_FIELDS, SWEEP_BORDER, SWEEP_HORIZONTAL, SWEEP_VERTICAL, SeedsParams, sweep,
};

const NONE: u32 = u32::MAX;

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
    fn skip(&self) -> usize {
        self.0[7] as usize
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
    /// A sweep's first chunk clears the skip carried across chunks.
    fn begin_chunk(&self, s: &mut [u32], first: u32) {
        if first == 0 {
            s[self.skip()] = NONE;
        }
    }
    /// True, clearing the skip, if position `k` is the one to skip.
    fn skipped(&self, s: &mut [u32], k: usize) -> bool {
        let hit = s[self.skip()] == k as u32;
        if hit {
            s[self.skip()] = NONE;
        }
        hit
    }
    /// After a backward move at `k`, the next position is skipped if it is in the same row.
    fn skip_next(&self, s: &mut [u32], k: usize, row: usize) {
        if k % row + 1 < row {
            s[self.skip()] = k as u32 + 1;
        }
    }
    /// OpenCV's computeLabel: the level-`level` grid cell of pixel (x, y).
    fn grid_label(&self, level: usize, x: usize, y: usize, p: &SeedsParams) -> usize {
        let (nw, nh) = (self.nw(level), self.nh(level));
        (y * nh / p.height as usize).min(nh - 1) * nw + (x * nw / p.width as usize).min(nw - 1)
    }
}

/// Level 0: each pixel's histogram cell (OpenCV's order: B, G, R digits) and
/// the pixel histograms of the smallest blocks. Level l ≥ 1: the blocks of
/// level l − 1 join their initial parents' histograms (OpenCV's assignLabels
/// and computeHistograms); at the top, every superpixel has 4 partitions.
pub fn seeds_histograms(image: &[f32], table: &[u32], state: &mut [u32], p: &SeedsParams) {
    let t = Table(table);
    let (w, plane) = (p.width as usize, (p.width * p.height) as usize);
    for n in 0..p.images as usize {
        let s = &mut state[n * t.words()..(n + 1) * t.words()];
        let level = p.level as usize;
        if level == 0 {
            for i in 0..plane {
                let value = |c: usize| image[(n * 3 + c) * plane + i].round().clamp(0.0, 255.0) as u32 * BINS / 256;
                let cell = (value(2) * BINS + value(1)) * BINS + value(0);
                s[t.bins() + i] = cell;
                let label = t.grid_label(0, i % w, i / w, p);
                s[t.hist(0, label) + cell as usize] += 1;
                s[t.count(0, label)] += 1;
            }
            continue;
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
    }
}

/// (x, y) of sweep position `k`: rows run along y (horizontal) or x (vertical), from 1.
fn sweep_cell(k: usize, row: usize, vertical: bool) -> (usize, usize) {
    let (major, minor) = (1 + k / row, 1 + k % row);
    if vertical { (major, minor) } else { (minor, major) }
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

/// OpenCV's intersectConf(top, x, y, level, block): how much better block
/// `block` of `level` fits superpixel `x` than its owner `y`.
fn confidence(t: &Table, s: &[u32], x: usize, y: usize, level: usize, block: usize) -> f32 {
    let top = t.top();
    let c_x = s[t.count(top, x)] as f32;
    let c_2 = s[t.count(level, block)] as f32;
    let c_y = s[t.count(top, y)] as f32 - c_2;
    let (mut sum_a, mut sum_b) = (0f32, 0f32);
    for c in 0..CELLS as usize {
        let h_x = s[t.hist(top, x) + c] as f32;
        let h_2 = s[t.hist(level, block) + c] as f32;
        let h_y = s[t.hist(top, y) + c] as f32;
        let (a, b) = (h_x * c_2, h_2 * c_x);
        sum_a += if a < b { a } else { b };
        let (a, b) = ((h_y - h_2) * c_2, h_2 * c_y);
        sum_b += if a < b { a } else { b };
    }
    sum_a / (c_x * c_2) - sum_b / (c_y * c_2)
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


/// One chunk of OpenCV's updateBlocks(level, req = `p.confidence`): the
/// horizontal or vertical sweep (`p.sweep`) over the blocks of `p.level`.
pub fn seeds_blocks(table: &[u32], state: &mut [u32], p: &SeedsParams) {
    let t = Table(table);
    let level = p.level as usize;
    let (nw, nh) = (t.nw(level), t.nh(level));
    let (rows, row) = sweep(nw, nh, p.sweep);
    for n in 0..p.images as usize {
        let s = &mut state[n * t.words()..(n + 1) * t.words()];
        t.begin_chunk(s, p.first);
        for k in p.first as usize..(p.first + p.count).min((rows * row) as u32) as usize {
            if t.skipped(s, k) {
                continue;
            }
            let (x, y) = sweep_cell(k, row, p.sweep == SWEEP_VERTICAL);
            let at = |s: &[u32], dy: isize, dx: isize| s[t.parent(level, ((y as isize + dy) as usize) * nw + (x as isize + dx) as usize)];
            let here = y * nw + x;
            let (there, a, b) = if p.sweep == SWEEP_HORIZONTAL { (here + 1, at(s, 0, 0), at(s, 0, 1)) } else { (here + nw, at(s, 0, 0), at(s, 1, 0)) };
            if a == b {
                continue;
            }
            let (pa, pb) = (s[t.partitions() + a as usize], s[t.partitions() + b as usize]);
            let forward_ok = if p.sweep == SWEEP_HORIZONTAL {
                split_hf(at(s, -1, -1), at(s, -1, 0), at(s, 0, -1), at(s, 0, 0), at(s, 1, -1), at(s, 1, 0))
            } else {
                split_vf(at(s, -1, -1), at(s, -1, 0), at(s, -1, 1), at(s, 0, -1), at(s, 0, 0), at(s, 0, 1))
            };
            if pa == 2 || (pa > 2 && forward_ok) {
                if confidence(&t, s, b as usize, a as usize, level, here) > p.confidence {
                    move_block(&t, s, level, here, a as usize, b as usize);
                    continue;
                }
            }
            if pb > 1 {
                let backward_ok = if p.sweep == SWEEP_HORIZONTAL {
                    split_hb(at(s, -1, 1), at(s, -1, 2), at(s, 0, 1), at(s, 0, 2), at(s, 1, 1), at(s, 1, 2))
                } else {
                    split_vb(at(s, 1, -1), at(s, 1, 0), at(s, 1, 1), at(s, 2, -1), at(s, 2, 0), at(s, 2, 1))
                };
                if (pb <= 2 || backward_ok) && confidence(&t, s, a as usize, b as usize, level, there) > p.confidence {
                    move_block(&t, s, level, there, b as usize, a as usize);
                    t.skip_next(s, k, row);
                }
            }
        }
    }
}

/// OpenCV's goDownOneLevel from `p.level` to `p.level − 1`: the blocks of the
/// lower level take their parents' superpixels; partitions are recounted.
pub fn seeds_descend(table: &[u32], state: &mut [u32], p: &SeedsParams) {
    let t = Table(table);
    let (old, new) = (p.level as usize, p.level as usize - 1);
    for n in 0..p.images as usize {
        let s = &mut state[n * t.words()..(n + 1) * t.words()];
        for label in 0..t.nw(t.top()) * t.nh(t.top()) {
            s[t.partitions() + label] = 0;
        }
        let part = if new != 0 { 4 } else { 1 };
        for label in 0..t.nw(new) * t.nh(new) {
            let up = s[t.parent(old, s[t.parent(new, label)] as usize)];
            s[t.parent(new, label)] = up;
            s[t.partitions() + up as usize] += part;
        }
    }
}

/// OpenCV's updateLabels: every pixel takes its smallest block's superpixel.
pub fn seeds_labels(table: &[u32], state: &mut [u32], p: &SeedsParams) {
    let t = Table(table);
    let w = p.width as usize;
    for n in 0..p.images as usize {
        let s = &mut state[n * t.words()..(n + 1) * t.words()];
        for i in 0..(p.width * p.height) as usize {
            s[t.labels() + i] = s[t.parent(0, t.grid_label(0, i % w, i / w, p))];
        }
    }
}

/// OpenCV's probability(): true if pixel `i` should move from `l1` to `l2`.
fn probability(t: &Table, s: &[u32], i: usize, l1: usize, l2: usize, prior1: u32, prior2: u32, prior: u32) -> bool {
    let top = t.top();
    let cell = s[t.bins() + i] as usize;
    let (t1, t2) = (s[t.count(top, l1)] as f32, s[t.count(top, l2)] as f32);
    let mut p1 = s[t.hist(top, l1) + cell] as f32 * t2;
    let mut p2 = s[t.hist(top, l2) + cell] as f32 * t1;
    if prior != 0 {
        let mut q = if prior2 != 0 { prior1 as f32 / prior2 as f32 } else { 1.0 };
        // OpenCV's switch falls through: prior k ≥ 2 squares q k − 1 times.
        for _ in 1..prior.max(1) {
            q *= q;
        }
        if prior >= 2 {
            p1 *= t2;
            p2 *= t1;
        }
        p1 *= q;
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
    let offsets: [isize; 10] = if vertical {
        let w = w as isize;
        [-w - 1, -w, -w + 1, -1, 2, w - 1, w + 2, 2 * w - 1, 2 * w, 2 * w + 1]
    } else {
        let w = w as isize;
        [-w - 1, -w, -w + 1, -w + 2, -1, 2, w - 1, w, w + 1, w + 2]
    };
    offsets.iter().filter(|&&o| s[t.labels() + (base as isize + o) as usize] == label).count() as u32
}

/// One chunk of OpenCV's updatePixels(): the horizontal or vertical sweep
/// (`p.sweep`) in the forward (`p.forward` 1) or backward order, or
/// ([`SWEEP_BORDER`]) the border fix-up.
pub fn seeds_pixels(table: &[u32], state: &mut [u32], p: &SeedsParams) {
    let t = Table(table);
    let (w, h) = (p.width as usize, p.height as usize);
    let (rows, row) = sweep(w, h, p.sweep);
    for n in 0..p.images as usize {
        let s = &mut state[n * t.words()..(n + 1) * t.words()];
        let label = |s: &[u32], x: usize, y: usize| s[t.labels() + y * w + x];
        if p.sweep == SWEEP_BORDER {
            for x in 0..w {
                for (edge, inner) in [(0, 1), (h - 1, h - 2)] {
                    let (a, b) = (label(s, x, edge), label(s, x, inner));
                    if a != b {
                        move_pixel(&t, s, edge * w + x, a, b);
                    }
                }
            }
            for y in 0..h {
                for (edge, inner) in [(0, 1), (w - 1, w - 2)] {
                    let (a, b) = (label(s, edge, y), label(s, inner, y));
                    if a != b {
                        move_pixel(&t, s, y * w + edge, a, b);
                    }
                }
            }
            continue;
        }
        t.begin_chunk(s, p.first);
        let vertical = p.sweep == SWEEP_VERTICAL;
        for k in p.first as usize..(p.first + p.count).min((rows * row) as u32) as usize {
            if t.skipped(s, k) {
                continue;
            }
            let (x, y) = sweep_cell(k, row, vertical);
            let at = |s: &[u32], dx: isize, dy: isize| label(s, (x as isize + dx) as usize, (y as isize + dy) as usize);
            let (i, j) = (y * w + x, if vertical { (y + 1) * w + x } else { y * w + x + 1 });
            let (a, b) = (s[t.labels() + i], s[t.labels() + j]);
            if a == b {
                continue;
            }
            let (first_ok, second_ok) = if vertical {
                (
                    split_vf(at(s, -1, -1), at(s, 0, -1), at(s, 1, -1), at(s, -1, 0), a, at(s, 1, 0)),
                    split_vb(at(s, -1, 1), b, at(s, 1, 1), at(s, -1, 2), at(s, 0, 2), at(s, 1, 2)),
                )
            } else {
                (
                    split_hf(at(s, -1, -1), at(s, 0, -1), at(s, -1, 0), a, at(s, -1, 1), at(s, 0, 1)),
                    split_hb(at(s, 1, -1), at(s, 2, -1), b, at(s, 2, 0), at(s, 1, 1), at(s, 2, 1)),
                )
            };
            let forward = p.forward == 1;
            if !(if forward { first_ok } else { second_ok }) {
                continue;
            }
            let (prior_a, prior_b) = if p.prior != 0 {
                (neighbours(&t, s, i, w, a, vertical), neighbours(&t, s, i, w, b, vertical))
            } else {
                (0, 0)
            };
            let take_first = |s: &mut [u32]| {
                let go = probability(&t, s, i, a as usize, b as usize, prior_a, prior_b, p.prior);
                if go {
                    move_pixel(&t, s, i, a, b);
                }
                go
            };
            let take_second = |s: &mut [u32]| {
                let go = probability(&t, s, j, b as usize, a as usize, prior_b, prior_a, p.prior);
                if go {
                    move_pixel(&t, s, j, b, a);
                }
                go
            };
            let second_moved = if forward {
                !take_first(s) && second_ok && take_second(s)
            } else if take_second(s) {
                true
            } else {
                if first_ok {
                    take_first(s);
                }
                false
            };
            if second_moved {
                t.skip_next(s, k, row);
            }
        }
    }
}
