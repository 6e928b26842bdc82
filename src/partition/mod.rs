//! Partitions of the model input into parts, as the tables the kernels read.

pub mod window;

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::Serialize;

use crate::ops::placeholder;

/// What a row of a parts table describes. The discriminants are the `kind`
/// codes of `shaders/compose.wgsl` and `shaders/aggregate.wgsl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PartKind {
    /// `(cx, cy, r, r)`: pixels with `dx² + dy² ≤ r²`.
    Circle = 0,
    /// `(cx, cy, rx, ry)`: pixels with `|dx| ≤ rx` and `|dy| ≤ ry`.
    Rect = 1,
    /// `(run, label, 0, 0)`: pixels of label map `run` equal to `label`.
    Segment = 2,
}

/// A set of parts on the device: a table `[P, 4]` and, for segments, the
/// label maps `[R, H, W]` with each map's first part index.
#[derive(Clone, Debug)]
pub struct Parts {
    pub kind: PartKind,
    pub table: Tensor<2, Int>,
    pub labels: Option<Tensor<3, Int>>,
    pub offsets: Option<Tensor<1, Int>>,
    pub width: usize,
    pub height: usize,
    count: usize,
}

impl Parts {
    /// Window parts from host rows `(cx, cy, rx, ry)`.
    pub fn windows(kind: PartKind, rows: &[[i32; 4]], width: usize, height: usize, device: &Device) -> Self {
        assert!(kind != PartKind::Segment, "windows are circles or rectangles");
        Parts {
            kind,
            table: table(rows, device),
            labels: None,
            offsets: None,
            width,
            height,
            count: rows.len(),
        }
    }

    /// Segment parts: every label of every map `labels [R, H, W]`, whose
    /// labels are `0..counts[r]`.
    pub fn segments(labels: Tensor<3, Int>, counts: &[usize]) -> Self {
        let [runs, height, width] = labels.dims();
        assert_eq!(runs, counts.len(), "one segment count per label map");
        let device = labels.device();
        let mut rows = Vec::new();
        let mut offsets = Vec::with_capacity(runs);
        for (run, &n) in counts.iter().enumerate() {
            offsets.push(rows.len() as i32);
            rows.extend((0..n).map(|label| [run as i32, label as i32, 0, 0]));
        }
        Parts {
            kind: PartKind::Segment,
            table: table(&rows, &device),
            offsets: Some(Tensor::from_data(TensorData::new(offsets, [runs]), &device)),
            labels: Some(labels),
            width,
            height,
            count: rows.len(),
        }
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub(crate) fn runs(&self) -> usize {
        self.labels.as_ref().map_or(0, |l| l.dims()[0])
    }

    pub(crate) fn labels_or_empty(&self) -> Tensor<3, Int> {
        self.labels.clone().unwrap_or_else(|| placeholder(&self.table.device()))
    }

    pub(crate) fn offsets_or_empty(&self) -> Tensor<1, Int> {
        self.offsets.clone().unwrap_or_else(|| placeholder(&self.table.device()))
    }
}

fn table(rows: &[[i32; 4]], device: &Device) -> Tensor<2, Int> {
    let flat: Vec<i32> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), 4]), device)
}
