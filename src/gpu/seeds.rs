//! SEEDS superpixels (Van den Bergh et al.) with OpenCV ximgproc's decisions
//! (`createSuperpixelSEEDS` + `iterate`), in four stages (see
//! `shaders/seeds_*.wgsl`). OpenCV sweeps blocks and pixels one position at
//! a time; pami splits each sweep into classes of positions that never read
//! what another writes (`shaders/shared/seeds_phases.wgsl`) and runs a class
//! at once, every decision compared exactly in integers, so the maps are the
//! same on every adapter and on the CPU. One workgroup per image and setting
//! runs all block sweeps, and another all pixel sweeps, in one dispatch each
//! (on llvmpipe, a chain within its loop budget).
//!
//! A launch covers several settings: the table starts with a directory
//! ([`group_table`]) pointing each setting at its [`Layout::table`] and at
//! its state within an image's row of `[N, Σ S]` u32 words.
//!
//! Where everything is, by stage (see [`SeedsStage`]):
//! - WGSL: `shaders/seeds_{histograms,blocks,labels,pixels}.wgsl`, with
//!   `shaders/shared/seeds_params.wgsl` (the params struct),
//!   `shaders/shared/seeds.wgsl` (the table layout) and
//!   `shaders/shared/seeds_phases.wgsl` (the classes of a sweep);
//! - params: [`SeedsParams`], here;
//! - launch: [`seeds`], here (one stage per call; `src/segment/seeds.rs`
//!   drives the stages through `SegmentationBackend::seeds` in
//!   `src/backend/segmentation.rs`);
//! - CPU twin: the functions of the same names in `src/cpu/seeds.rs`.

use burn::backend::wgpu::CubeTensor;
use bytemuck::{Pod, Zeroable};

use super::launch::{cast, float, int, launch, lines, workgroups};

/// Keep in sync with `struct SeedsParams` in `shaders/shared/seeds_params.wgsl`
/// (tests/params.rs compares the layouts).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct SeedsParams {
    pub width: u32,
    pub height: u32,
    /// Images × settings: item `image · settings + setting` (see [`group_table`]).
    pub items: u32,
    /// Histograms: the level built (from the level below).
    pub level: u32,
    /// Histograms: invocations per item (pixels, or the most blocks any setting has on the level below).
    pub count: u32,
    /// Blocks, pixels: the first step of this dispatch ([`block_steps`], [`pixel_steps`]).
    pub first: u32,
    /// Blocks, pixels: steps in this dispatch.
    pub steps: u32,
    /// Blocks: 1 for two sweeps per direction and level, the first requiring
    /// confidence 0.1 (OpenCV's `double_step`).
    pub double_step: u32,
    /// Pixels: OpenCV's prior (0..=5).
    pub prior: u32,
}

/// The SEEDS stage one launch runs, each its own kernel.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeedsStage {
    /// `seeds_histograms`: a level's histograms (reads the image).
    Histograms = 0,
    /// `seeds_blocks`: block sweeps and descents, steps `first..first + steps`.
    Blocks = 1,
    /// `seeds_labels`: every pixel's superpixel.
    Labels = 2,
    /// `seeds_pixels`: pixel sweeps and border fix-ups, steps `first..first + steps`.
    Pixels = 3,
}

/// Histogram bins per channel (OpenCV's default, the paper's setting).
pub const BINS: u32 = 5;
/// Colour histogram cells: BINS³.
pub const CELLS: u32 = BINS * BINS * BINS;
/// Invocations per workgroup of the block and pixel stages.
pub const THREADS: usize = 256;
/// The most pixels one image may have: SEEDS' exact comparisons multiply up
/// to three pixel counts and a prior term of at most 10^16 in 128 bits.
pub const MAX_PIXELS: usize = 1 << 24;

/// Steps of the block stage for `levels` levels: per level below the top,
/// a horizontal and a vertical sweep (twice with `double_step`), then a
/// descent on every level but the smallest.
pub fn block_steps(levels: usize, double_step: bool) -> u32 {
    let sweeps = if double_step { 4 } else { 2 };
    ((levels - 1) * sweeps + levels.saturating_sub(2)) as u32
}

/// Steps of the pixel stage: per iteration a horizontal sweep, a vertical
/// sweep and the border fix-up.
pub fn pixel_steps(iterations: usize) -> u32 {
    3 * iterations as u32
}

/// The block stage's schedule: step `step` of [`block_steps`] as a sweep
/// `(level, required confidence in thousandths, vertical)`, or `None` for a
/// descent from `level` to the level below (the same order as `main` in
/// `shaders/seeds_blocks.wgsl`).
pub fn block_step(levels: usize, double_step: bool, step: u32) -> (usize, Option<(u32, bool)>) {
    let sweeps = if double_step { 2 } else { 1 };
    let mut at = 0;
    for level in (0..levels - 1).rev() {
        for r in 0..sweeps {
            for vertical in [false, true] {
                if at == step {
                    return (level, Some((if r + 1 < sweeps { 100 } else { 0 }, vertical)));
                }
                at += 1;
            }
        }
        if level > 0 {
            if at == step {
                return (level, None);
            }
            at += 1;
        }
    }
    unreachable!("step {step} of {} block steps", block_steps(levels, double_step))
}

/// Loop iterations one block step may take in an invocation (llvmpipe's budget).
pub fn block_step_iterations(layout: &Layout) -> u64 {
    let top = layout.labels(layout.levels() - 1) as u64;
    let cells = CELLS as u64;
    let per = |n: u64| n.div_ceil(THREADS as u64);
    (0..layout.levels() - 1)
        .map(|l| {
            let (w, h) = layout.grid[l];
            let positions = (w * h) as u64;
            // Each class: decisions (two intersections) and moves, one histogram each.
            (per(positions) + 9) * (3 * cells + 4) + 9 * per(top) + per(2 * top) + per(positions)
        })
        .max()
        .unwrap_or(0)
}

/// Loop iterations one pixel step may take in an invocation (llvmpipe's budget).
pub fn pixel_step_iterations(width: usize, height: usize) -> u64 {
    let per = |n: u64| n.div_ceil(THREADS as u64);
    2 * (per((width * height) as u64) + 9) + 2 * per(width.max(height) as u64) + 4
}

/// Header of the layout table; then per level `LEVEL_FIELDS` words.
pub const HEADER: usize = 9;
pub const LEVEL_FIELDS: usize = 6;

/// Where everything of one image lives in its state row, and OpenCV's grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub width: usize,
    pub height: usize,
    /// Grid size per level, `nr_w`, `nr_h` (level 0 = the smallest blocks).
    pub grid: Vec<(usize, usize)>,
    /// Per level below the top: each block's parent on the next level.
    pub parents: Vec<Vec<u32>>,
}

impl Layout {
    pub fn levels(&self) -> usize {
        self.grid.len()
    }

    pub fn labels(&self, level: usize) -> usize {
        self.grid[level].0 * self.grid[level].1
    }

    /// The table the kernels read: header, per-level fields, static parents.
    /// Header: levels, width, height, state words, partitions, bins, labels,
    /// slots (a decision per sweep position), outs (two rows of moves out of
    /// each superpixel).
    /// Level fields: nr_w, nr_h, histogram, pixel counts, parents (state), parents (table).
    pub fn table(&self) -> Vec<u32> {
        let levels = self.levels();
        let mut state = 0usize;
        let mut take = |words: usize| {
            let at = state;
            state += words;
            at as u32
        };
        let mut fields = Vec::new();
        for l in 0..levels {
            let k = self.labels(l);
            fields.push([self.grid[l].0 as u32, self.grid[l].1 as u32, take(k * CELLS as usize), take(k), take(k), 0]);
        }
        let plane = self.width * self.height;
        let top = self.labels(levels - 1);
        let (partitions, bins, labels, slots, outs) = (take(top), take(plane), take(plane), take(plane), take(2 * top));
        let mut table = vec![levels as u32, self.width as u32, self.height as u32, state as u32, partitions, bins, labels, slots, outs];
        let mut at = HEADER + LEVEL_FIELDS * levels;
        for (l, f) in fields.iter_mut().enumerate() {
            if l + 1 < levels {
                f[5] = at as u32;
                at += self.parents[l].len();
            }
            table.extend(*f);
        }
        for p in &self.parents {
            table.extend(p);
        }
        table
    }
}

/// The table of a launch over several settings: a directory (settings,
/// state words per image, then per setting the offset of its layout table
/// and of its state within an image's row) followed by each setting's
/// [`Layout::table`]. Returns the table, the state words per image and
/// where each setting's label map starts in an image's row.
pub fn group_table(layouts: &[Layout]) -> (Vec<u32>, usize, Vec<usize>) {
    let tables: Vec<Vec<u32>> = layouts.iter().map(Layout::table).collect();
    let mut directory = vec![layouts.len() as u32, 0];
    let mut labels = Vec::with_capacity(layouts.len());
    let (mut table_at, mut state_at) = (2 + 2 * layouts.len(), 0);
    for t in &tables {
        directory.extend([table_at as u32, state_at as u32]);
        labels.push(state_at + t[6] as usize);
        table_at += t.len();
        state_at += t[3] as usize;
    }
    directory[1] = state_at as u32;
    directory.extend(tables.into_iter().flatten());
    (directory, state_at, labels)
}

const HISTOGRAMS: &str = include_str!("../../shaders/seeds_histograms.wgsl");
const BLOCKS: &str = include_str!("../../shaders/seeds_blocks.wgsl");
const LABELS: &str = include_str!("../../shaders/seeds_labels.wgsl");
const PIXELS: &str = include_str!("../../shaders/seeds_pixels.wgsl");

/// Runs one SEEDS `stage` on the state rows `state [N, S]` (updated in place
/// when unshared, else on a copy); `image [N, 3, H, W]` is read by
/// [`SeedsStage::Histograms`] only. Returns the state in its own int dtype.
pub fn seeds(image: CubeTensor, table: CubeTensor, state: CubeTensor, stage: SeedsStage, params: SeedsParams) -> CubeTensor {
    let dtype = state.dtype;
    let (image, table) = (float(image), int(table));
    let state = int(state);
    let state = if state.can_mut() { state } else { state.copy() };
    let p = &params;
    match stage {
        SeedsStage::Histograms => {
            launch("seeds_histograms", HISTOGRAMS, lines(p.count, p.items), &[&image, &table, &state], p)
        }
        SeedsStage::Blocks => launch("seeds_blocks", BLOCKS, workgroups(p.items, THREADS as u32), &[&table, &state], p),
        SeedsStage::Labels => launch("seeds_labels", LABELS, lines(p.width * p.height, p.items), &[&table, &state], p),
        SeedsStage::Pixels => launch("seeds_pixels", PIXELS, workgroups(p.items, THREADS as u32), &[&table, &state], p),
    }
    cast(state, dtype)
}
