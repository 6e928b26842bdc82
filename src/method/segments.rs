//! PAMI Strategy II (Shi et al.): the segments of the paper's twenty
//! pre-segmentations (Table 3, `crate::segment::paper`) of the model-size
//! image. Each segment keeps the image inside it over the baseline; each
//! segmentation gives a map (a pixel gets its segment's score), and the maps
//! are averaged. Options: cyclic shifts of the segmenters' input, and a
//! second run cut by the segments of the colour-mapped first map.

use std::sync::Arc;

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::perturbation::{self, Scored};
use super::registry::{Entry, Kind, OptionSpec};
use super::{Baseline, Context, Method, Views, index_tensor};
use crate::partition::Parts;
use crate::{Blur, Error};

/// Options of PAMI Strategy II.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Segments {
    /// Segment the colour-mapped first-run map and explain again with those
    /// segments (masks still cut the original image).
    pub second_run: bool,
    pub shifts: Shifts,
}

/// Cyclic shifts of the image, each explained and shifted back, the maps averaged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shifts {
    /// The image as it is (the paper).
    #[default]
    None,
    /// The public reference code's 13: none, and ±24, ±30, ±36 px along each axis.
    Reference,
}

impl Shifts {
    /// `(dx, dy)` of each shift.
    pub fn offsets(self) -> Vec<(i32, i32)> {
        let mut out = vec![(0, 0)];
        if self == Shifts::Reference {
            for d in [24, 30, 36] {
                out.extend([(d, 0), (-d, 0), (0, d), (0, -d)]);
            }
        }
        out
    }
}

pub static ENTRY: Entry = Entry {
    strategy: "segments",
    name: "pami-segments",
    help: "The segments of the paper's twenty pre-segmentations (PAMI Strategy II)",
    options: &[
        OptionSpec::new("second_run", Kind::Flag, "Segments: explain again with the segments of the colour-mapped first map"),
        OptionSpec::new("shifts", Kind::Choice(&["none", "reference"]),
            "Segments: average over cyclic shifts of the image (reference: the public code's 13) [default: none]"),
    ],
    build: |values| Ok(Arc::new(values.decode::<Segments>(ENTRY.options, "segments")?)),
};

impl Method for Segments {
    fn entry(&self) -> &'static Entry {
        &ENTRY
    }

    fn default_baseline(&self) -> Baseline {
        Baseline::Blur(Blur::paper())
    }

    fn validate(&self, _: [usize; 2]) -> Result<(), Error> {
        Ok(())
    }

    fn attribute(&self, cx: &mut Context<'_>, views: &Views) -> Result<Tensor<4>, Error> {
        let shifts = self.shifts.offsets();
        let mut counts = std::mem::take(&mut cx.parts);
        let maps = segment_maps(cx, views, &views.images, &shifts, &mut counts);
        cx.parts = counts;
        let maps = maps?;
        if !self.second_run {
            return Ok(maps);
        }
        // One view per (image, target): the image, scored for that target only,
        // cut by the segments of that target's colour-mapped first map.
        let [n, t, h, w] = maps.dims();
        let mut paired = views.select(&(0..n * t).map(|i| i / t).collect::<Vec<_>>());
        paired.targets = views.targets.clone().reshape([n * t, 1]);
        paired.scores = views.scores.clone().map(|s| s.reshape([n * t, 1]));
        let colour = jet(maps.reshape([n * t, h, w]));
        let mut counts = vec![0; n * t];
        let second = segment_maps(cx, &paired, &colour, &[(0, 0)], &mut counts)?;
        for (i, c) in counts.iter().enumerate() {
            cx.parts[i / t] += c;
        }
        Ok(second.reshape([n, t, h, w]))
    }
}

/// Strategy II maps `[V, T, H, W]` of `views`, cut by the paper's
/// segmentations of `source [V, 3, H, W]` rolled by each shift `(dx, dy)`
/// and rolled back: the model always sees the unshifted views; a shift
/// only moves where the segmenters start (a segment crossing the seam
/// becomes two pieces of one part). Each label map averages in with equal weight.
fn segment_maps(
    cx: &mut Context<'_>,
    views: &Views,
    source: &Tensor<4>,
    shifts: &[(i32, i32)],
    counts: &mut [usize],
) -> Result<Tensor<4>, Error> {
    let v = source.dims()[0];
    let preset = crate::segment::paper();
    let mut pending = Vec::with_capacity(shifts.len() * preset.len());
    for &(dx, dy) in shifts {
        let rolled = if (dx, dy) == (0, 0) { source.clone() } else { source.clone().roll(&[dy, dx], &[2, 3]) };
        for mut seg in crate::segment::segment_all_pending(&rolled, &preset)? {
            if (dx, dy) != (0, 0) {
                seg.labels = seg.labels.roll(&[-dy, -dx], &[1, 2]);
            }
            pending.push(seg);
        }
    }
    // Every segmentation's counts in one readback: they size the parts table.
    let (labels, setting_counts): (Vec<_>, Vec<_>) =
        crate::segment::resolve(pending)?.into_iter().map(|seg| (seg.labels, seg.counts)).unzip();
    // Runs grouped by view: run v·R + r, r over shifts × settings.
    let r = labels.len();
    let mut runs = Vec::with_capacity(v * r);
    let mut run_counts = Vec::with_capacity(v * r);
    for view in 0..v {
        for (i, c) in setting_counts.iter().enumerate() {
            runs.push(i * v + view);
            run_counts.push(c[view]);
        }
    }
    let labels = Tensor::cat(labels, 0).select(0, index_tensor(&runs, cx.device));
    let run_images: Vec<usize> = (0..v * r).map(|i| i / r).collect();
    let parts = Parts::segments(labels, &run_counts, &run_images, v);
    cx.lap("partition")?;
    perturbation::aggregated(cx, views, &parts, Scored::Kept, counts)
}

/// Jet colour map of each map `[N, H, W]` after min–max scaling: RGB `[N, 3, H, W]` in 0..255.
fn jet(maps: Tensor<3>) -> Tensor<4> {
    let [n, h, w] = maps.dims();
    let flat = maps.reshape([n, h * w]);
    let low = flat.clone().min_dim(1);
    let range = flat.clone().max_dim(1) - low.clone();
    let v = (flat - low) / range.clamp_min(1e-12);
    let channel = |offset: f32| {
        let rising = v.clone() * 4.0 - (1.5 - offset);
        let falling = v.clone() * -4.0 + (4.5 - offset);
        rising.min_pair(falling).clamp(0.0, 1.0) * 255.0
    };
    Tensor::stack::<3>(vec![channel(0.0), channel(1.0), channel(2.0)], 1).reshape([n, 3, h, w])
}
