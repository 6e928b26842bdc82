//! Partitions of a batch of model inputs into parts, as the tables the
//! kernels read. A table row is `(image, a, b, c, d)`: the image the part
//! belongs to and the four fields `shaders/shared/parts.wgsl` reads. Each
//! image's parts are one contiguous range of rows, so compose batches may
//! straddle images while aggregation gathers one image at a time.

use std::ops::Range;

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Values per row of a parts table.
pub const FIELDS: usize = 5;

/// What a row of a parts table describes. The discriminants are the `KIND_*`
/// codes of `shaders/shared/parts.wgsl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartKind {
    /// `(cx, cy, r, r)`: pixels with `dx² + dy² ≤ r²`.
    Circle = 0,
    /// `(x0, y0, x1, y1)`: pixels with `x0 ≤ x < x1` and `y0 ≤ y < y1`.
    Rect = 1,
    /// `(run, label, 0, 0)`: pixels of label map `run` equal to `label`.
    Segment = 2,
    /// `(dx, dy, s, grid)`: RISE's soft mask, grid `grid` (`s × s` of 0/1)
    /// bilinearly upsampled and read at offset `(dx, dy)`.
    Rise = 3,
    /// `(map, k, 0, 0)`: the pixels of rank map `map` below `k` (insertion
    /// and deletion curves).
    Rank = 4,
}

/// A set of parts on the device.
#[derive(Clone, Debug)]
pub struct Parts {
    pub kind: PartKind,
    /// `[P, FIELDS]`.
    pub table: Tensor<2, Int>,
    /// Label maps `[R, H, W]` (segments), grids `[N, s, s]` (RISE) or rank
    /// maps `[M, H, W]` (rank).
    pub labels: Option<Tensor<3, Int>>,
    /// The first part of each label map (segments).
    pub offsets: Option<Tensor<1, Int>>,
    pub width: usize,
    pub height: usize,
    /// Each image's rows.
    pub images: Vec<Range<usize>>,
    /// Each image's label maps (segments).
    pub image_runs: Vec<Range<usize>>,
    count: usize,
}

impl Parts {
    /// The same window rows `(a, b, c, d)` (see [`PartKind`]) for each of `images` images.
    pub fn windows(kind: PartKind, rows: &[[i32; 4]], images: usize, width: usize, height: usize, device: &Device) -> Self {
        assert!(matches!(kind, PartKind::Circle | PartKind::Rect), "windows are circles or rectangles");
        Self::repeated(kind, rows, images, None, width, height, device)
    }

    /// Rows shared by every image, with an optional table in `labels`.
    pub(crate) fn repeated(
        kind: PartKind,
        rows: &[[i32; 4]],
        images: usize,
        labels: Option<Tensor<3, Int>>,
        width: usize,
        height: usize,
        device: &Device,
    ) -> Self {
        let mut flat = Vec::with_capacity(images * rows.len() * FIELDS);
        for image in 0..images {
            for row in rows {
                flat.push(image as i32);
                flat.extend_from_slice(row);
            }
        }
        let n = rows.len();
        Parts {
            kind,
            table: table(flat, device),
            labels,
            offsets: None,
            width,
            height,
            images: (0..images).map(|i| i * n..(i + 1) * n).collect(),
            image_runs: vec![0..0; images],
            count: images * n,
        }
    }

    /// Segment parts: every label of every map `labels [R, H, W]`, whose
    /// labels are `0..counts[r]`; map `r` belongs to image `run_images[r]`
    /// (non-decreasing, every image of `0..images` may have maps).
    pub fn segments(labels: Tensor<3, Int>, counts: &[usize], run_images: &[usize], images: usize) -> Self {
        let [runs, height, width] = labels.dims();
        assert_eq!(runs, counts.len(), "one segment count per label map");
        assert_eq!(runs, run_images.len(), "one image per label map");
        assert!(run_images.windows(2).all(|w| w[0] <= w[1]) && run_images.iter().all(|&i| i < images));
        let device = labels.device();
        let mut flat = Vec::new();
        let mut offsets = Vec::with_capacity(runs);
        let mut parts = vec![0..0; images];
        let mut image_runs = vec![0..0; images];
        let mut row = 0;
        for (run, (&n, &image)) in counts.iter().zip(run_images).enumerate() {
            if image_runs[image].is_empty() {
                image_runs[image] = run..run;
                parts[image] = row..row;
            }
            image_runs[image].end = run + 1;
            offsets.push(row as i32);
            for label in 0..n {
                flat.extend_from_slice(&[image as i32, run as i32, label as i32, 0, 0]);
            }
            row += n;
            parts[image].end = row;
        }
        Parts {
            kind: PartKind::Segment,
            table: table(flat, &device),
            offsets: Some(Tensor::from_data(TensorData::new(offsets, [runs]), &device)),
            labels: Some(labels),
            width,
            height,
            images: parts,
            image_runs,
            count: row,
        }
    }

    /// Rank parts: rows `(image, map, k)` over rank maps `ranks [M, H, W]`
    /// (each pixel's position in a map's order), rows grouped by image.
    pub fn ranks(ranks: Tensor<3, Int>, rows: &[[usize; 3]], images: usize) -> Self {
        let [_, height, width] = ranks.dims();
        let device = ranks.device();
        let mut flat = Vec::with_capacity(rows.len() * FIELDS);
        let mut parts = vec![0..0; images];
        for (i, &[image, map, k]) in rows.iter().enumerate() {
            assert!(image < images && (i == 0 || rows[i - 1][0] <= image), "rows grouped by image");
            if parts[image].is_empty() {
                parts[image] = i..i;
            }
            parts[image].end = i + 1;
            flat.extend_from_slice(&[image as i32, map as i32, k as i32, 0, 0]);
        }
        Parts {
            kind: PartKind::Rank,
            table: table(flat, &device),
            labels: Some(ranks),
            offsets: None,
            width,
            height,
            images: parts,
            image_runs: vec![0..0; images],
            count: rows.len(),
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Label maps, RISE grids or rank maps the kernels may index.
    pub(crate) fn runs(&self) -> usize {
        self.labels.as_ref().map_or(0, |l| l.dims()[0])
    }

    /// The image of every row `[P]`.
    pub fn image_of_rows(&self) -> Tensor<1, Int> {
        self.table.clone().slice([0..self.count, 0..1]).reshape([self.count])
    }

    pub(crate) fn labels_or_empty(&self) -> Tensor<3, Int> {
        self.labels.clone().unwrap_or_else(|| placeholder(&self.table.device()))
    }

    pub(crate) fn offsets_or_empty(&self) -> Tensor<1, Int> {
        self.offsets.clone().unwrap_or_else(|| placeholder(&self.table.device()))
    }
}

fn table(flat: Vec<i32>, device: &Device) -> Tensor<2, Int> {
    let rows = flat.len() / FIELDS;
    Tensor::from_data(TensorData::new(flat, [rows, FIELDS]), device)
}

/// A one-element int tensor for kernel bindings a part kind does not use.
pub(crate) fn placeholder<const D: usize>(device: &burn::tensor::Device) -> Tensor<D, Int> {
    Tensor::<1, Int>::from_data(TensorData::new(vec![0i32], [1]), device).reshape([1; D])
}
