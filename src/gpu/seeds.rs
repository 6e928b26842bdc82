//! SEEDS superpixels (Van den Bergh et al.) with OpenCV ximgproc's semantics
//! (`createSuperpixelSEEDS` + `iterate`), in five stages (see
//! `shaders/seeds_*.wgsl`). OpenCV's algorithm is sequential: every block
//! or pixel move changes the histograms the next decision reads. The GPU runs
//! it as OpenCV does, one invocation per image (images in parallel), in
//! bounded chunks per dispatch (lavapipe ends an invocation's loops after
//! 65,535 iterations); the histogram set-up and relabelling are parallel.
//!
//! Per-image state lives in one u32 table `[N, S]` laid out by [`Layout`].
//!
//! Where everything is, by stage (see [`SeedsStage`]):
//! - WGSL: `shaders/seeds_{histograms,blocks,descend,labels,pixels}.wgsl`, with
//!   `shaders/shared/seeds_params.wgsl` (the params struct),
//!   `shaders/shared/seeds.wgsl` (the table layout) and
//!   `shaders/shared/seeds_sweep.wgsl` (the chunked sweeps);
//! - params: [`SeedsParams`], here;
//! - launch: [`seeds`], here (one stage per call; `src/segment/seeds.rs`
//!   drives the stages through `SegmentationBackend::seeds` in
//!   `src/backend/segmentation.rs`);
//! - CPU twin: the functions of the same names in `src/cpu/seeds.rs`.

use burn::backend::wgpu::CubeTensor;
use bytemuck::{Pod, Zeroable};

use super::launch::{cast, float, int, launch, lines, singles};

/// Keep in sync with `struct SeedsParams` in `shaders/shared/seeds_params.wgsl`
/// (tests/params.rs compares the layouts).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq)]
pub struct SeedsParams {
    pub width: u32,
    pub height: u32,
    pub images: u32,
    /// The level a stage works on (histograms: built from the level below).
    pub level: u32,
    /// Blocks and pixels: [`SWEEP_HORIZONTAL`] or [`SWEEP_VERTICAL`]; pixels
    /// also [`SWEEP_BORDER`].
    pub sweep: u32,
    /// First loop position of this chunk.
    pub first: u32,
    /// Loop positions in this chunk.
    pub count: u32,
    /// Blocks: the confidence a move requires (OpenCV's `req`).
    pub confidence: f32,
    /// Pixels: 1 for the forward order, 0 for the backward one.
    pub forward: u32,
    /// OpenCV's prior (0..=5).
    pub prior: u32,
}

/// [`SeedsParams::sweep`] values. Keep in sync with the `SWEEP_*` constants in
/// `shaders/shared/seeds_params.wgsl`.
pub const SWEEP_HORIZONTAL: u32 = 0;
pub const SWEEP_VERTICAL: u32 = 1;
/// Pixels only: the border fix-up after both sweeps.
pub const SWEEP_BORDER: u32 = 2;

/// The SEEDS stage one launch runs, each its own kernel.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeedsStage {
    /// `seeds_histograms`: a level's histograms (reads the image).
    Histograms = 0,
    /// `seeds_blocks`: one chunk of block updates.
    Blocks = 1,
    /// `seeds_descend`: down one level.
    Descend = 2,
    /// `seeds_labels`: every pixel's superpixel.
    Labels = 3,
    /// `seeds_pixels`: one chunk of pixel updates.
    Pixels = 4,
}

/// Histogram bins per channel (OpenCV's default, the paper's setting).
pub const BINS: u32 = 5;
/// Colour histogram cells: BINS³.
pub const CELLS: u32 = BINS * BINS * BINS;
/// Block positions one block-update dispatch takes: each reads or changes at
/// most four histograms of CELLS cells.
pub const BLOCK_CHUNK: u32 = 120;
/// Pixel positions one pixel-update dispatch takes.
pub const PIXEL_CHUNK: u32 = 50_000;

/// Block positions one block-update dispatch takes on the adapters in use:
/// [`BLOCK_CHUNK`] within llvmpipe's loop budget, a whole sweep elsewhere (and
/// on the CPU twins).
pub fn block_chunk() -> u32 {
    if super::launch::loop_budget().is_some() { BLOCK_CHUNK } else { WHOLE_SWEEP }
}

/// Pixel positions one pixel-update dispatch takes on the adapters in use
/// (see [`block_chunk`]).
pub fn pixel_chunk() -> u32 {
    if super::launch::loop_budget().is_some() { PIXEL_CHUNK } else { WHOLE_SWEEP }
}

/// More positions than any sweep has (and no overflow when added to a first position of 0).
const WHOLE_SWEEP: u32 = 1 << 30;

/// Header of the layout table; then per level `LEVEL_FIELDS` words.
pub const HEADER: usize = 8;
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
    /// Header: levels, width, height, state words, partitions, bins, labels, skip.
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
        let (partitions, bins, labels, skip) = (take(self.labels(levels - 1)), take(plane), take(plane), take(1));
        let mut table = vec![levels as u32, self.width as u32, self.height as u32, state as u32, partitions, bins, labels, skip];
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

/// A sweep over a `w × h` grid as (rows, length of a row): horizontal
/// ([`SWEEP_HORIZONTAL`]) y in 1..=h−2, x in 1..=w−3; vertical x in 1..=w−2,
/// y in 1..=h−3 (OpenCV's loop bounds; `sweep` in `shaders/shared/seeds.wgsl`
/// is the same).
pub fn sweep(w: usize, h: usize, direction: u32) -> (usize, usize) {
    if direction == SWEEP_HORIZONTAL {
        (h.saturating_sub(2), w.saturating_sub(3))
    } else {
        (w.saturating_sub(2), h.saturating_sub(3))
    }
}

const HISTOGRAMS: &str = include_str!("../../shaders/seeds_histograms.wgsl");
const BLOCKS: &str = include_str!("../../shaders/seeds_blocks.wgsl");
const DESCEND: &str = include_str!("../../shaders/seeds_descend.wgsl");
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
            launch("seeds_histograms", HISTOGRAMS, lines(p.count, p.images), &[&image, &table, &state], p)
        }
        SeedsStage::Blocks => launch("seeds_blocks", BLOCKS, singles(p.images), &[&table, &state], p),
        SeedsStage::Descend => launch("seeds_descend", DESCEND, singles(p.images), &[&table, &state], p),
        SeedsStage::Labels => launch("seeds_labels", LABELS, lines(p.width * p.height, p.images), &[&table, &state], p),
        SeedsStage::Pixels => launch("seeds_pixels", PIXELS, singles(p.images), &[&table, &state], p),
    }
    cast(state, dtype)
}
