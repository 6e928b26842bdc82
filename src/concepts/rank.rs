//! DEPICT's ranking: the model's performance on the generated images of the
//! unpermuted captions (the baseline), then, concept by concept, on the
//! images regenerated after its column is permuted across the lines;
//! importance = baseline − permuted performance.
//!
//! Everything between the caption tables and the per-permutation scalars
//! stays on the device: images are generated there in batches, scored by the
//! model there, written into the baseline's probability table there, and the
//! metric (AUROC by pairwise comparison, or accuracy) reduced there. Only
//! the lines a permutation changes are regenerated (a shuffled 0/1 column
//! leaves about half of them as they were); the others keep their baseline
//! scores, which is what regenerating them with the same seed would give.
//!
//! When the generator is the procedural renderer and a permutation gives a
//! caption two backgrounds, it draws the first in column order.

use burn::tensor::activation::sigmoid;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{IndexingUpdateOp, InterpolateMode, InterpolateOptions};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use image::RgbImage;
use serde::Serialize;

use super::metric::{self, Metric};
use super::permute::permute_column;
use super::render::image_seed;
use super::{Dataset, Generator};
use crate::{Error, Model};

#[derive(Clone, Debug)]
pub struct RankConfig {
    pub metric: Metric,
    /// AUROC of this class against the rest; by default class 1 of a
    /// two-class model, else the mean over the labels' classes (one vs rest).
    pub target_class: Option<usize>,
    pub permutations: usize,
    /// Side of the generated images.
    pub size: usize,
    /// Seeds the layouts (line i: `image_seed(seed, i)`, in every
    /// permutation) and the permutations.
    pub seed: u64,
    /// Images per generation and model batch.
    pub batch: usize,
}

/// One concept's importance.
#[derive(Clone, Debug, Serialize)]
pub struct ConceptImportance {
    pub concept: String,
    pub importance_mean: f64,
    /// Sample standard deviation over the permutations.
    pub importance_sd: f64,
    /// 1 for the most important (largest mean).
    pub rank: usize,
    pub per_permutation: Vec<f64>,
    /// Mean share of the lines whose caption a permutation changed.
    pub regenerated: f64,
}

/// DEPICT's first assumption: the model performs on generated images as on
/// real ones.
#[derive(Clone, Debug, Serialize)]
pub struct EffectiveGeneration {
    pub real: f64,
    pub generated: f64,
    /// real − generated.
    pub gap: f64,
    pub real_images: usize,
}

/// DEPICT's second assumption, by a concept detector (one sigmoid output per
/// concept column): permuting one concept changes that concept only.
#[derive(Clone, Debug, Serialize)]
pub struct Independence {
    pub concepts: Vec<String>,
    /// `change[c][j]`: mean |change| of the detector's probability of concept
    /// `j` over the images regenerated when concept `c` is permuted.
    pub change: Vec<Vec<f64>>,
    /// The detector's AUROC for each concept's presence on the unpermuted
    /// generated images (null where a column is all present or all absent).
    pub detector_auroc: Vec<Option<f64>>,
    pub min_diagonal: f64,
    pub max_off_diagonal: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Ranking {
    pub metric: Metric,
    pub baseline: f64,
    /// Most important first.
    pub concepts: Vec<ConceptImportance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_generation: Option<EffectiveGeneration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub independence: Option<Independence>,
}

/// The labels as the device metric reads them.
pub struct Truth {
    metric: Metric,
    n: usize,
    labels: Tensor<1, Int>,
    /// AUROC: per class, positives `[N, 1]`, negatives `[1, N]` (0/1) and their pair count.
    classes: Vec<(usize, Tensor<2>, Tensor<2>, f64)>,
}

/// Pairwise comparison cells per reduction step of the device AUROC.
const CELLS: usize = 1 << 22;

impl Truth {
    /// `labels` for a model of `num_classes` outputs.
    pub fn new(labels: &[usize], metric: Metric, target: Option<usize>, num_classes: usize, device: &Device) -> Result<Truth, Error> {
        if let Some(bad) = labels.iter().position(|&l| l >= num_classes) {
            return Err(Error::InvalidParameter(format!("line {}: label {} is outside the model's {num_classes} classes", bad + 1, labels[bad])));
        }
        let n = labels.len();
        let ids: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
        let labels_t = Tensor::<1, Int>::from_data(TensorData::new(ids, [n]), device);
        let mut classes = Vec::new();
        if metric == Metric::Auroc {
            let chosen: Vec<usize> = match target {
                Some(k) if k >= num_classes => return Err(Error::InvalidParameter(format!("--target-class {k} is outside the model's {num_classes} classes"))),
                Some(k) => vec![k],
                None if num_classes == 2 => vec![1],
                None => (0..num_classes).filter(|k| labels.contains(k)).collect(),
            };
            for k in chosen {
                let p = labels.iter().filter(|&&l| l == k).count();
                if p == 0 || p == n {
                    return Err(Error::InvalidParameter(format!("AUROC of class {k} needs lines of that class and of others; {p} of {n} are of class {k}")));
                }
                let pos: Vec<f32> = labels.iter().map(|&l| if l == k { 1.0 } else { 0.0 }).collect();
                let neg: Vec<f32> = pos.iter().map(|v| 1.0 - v).collect();
                let pos = Tensor::<1>::from_data(TensorData::new(pos, [n]), device).reshape([n, 1]);
                let neg = Tensor::<1>::from_data(TensorData::new(neg, [n]), device).reshape([1, n]);
                classes.push((k, pos, neg, (p * (n - p)) as f64));
            }
        } else if target.is_some() {
            return Err(Error::InvalidParameter("--target-class applies to --metric auroc (accuracy counts every class)".into()));
        }
        Ok(Truth { metric, n, labels: labels_t, classes })
    }

    /// The performance `[1]` of probabilities `[N, K]`, on the device.
    pub fn performance(&self, probabilities: Tensor<2>) -> Tensor<1> {
        let n = self.n;
        match self.metric {
            Metric::Accuracy => {
                let predicted = probabilities.argmax(1).reshape([n]);
                predicted.equal(self.labels.clone()).float().mean()
            }
            Metric::Auroc => {
                let mut total: Option<Tensor<1>> = None;
                for (k, pos, neg, pairs) in &self.classes {
                    let s = probabilities.clone().slice([0..n, *k..k + 1]);
                    let row = s.clone().reshape([1, n]);
                    let step = (CELLS / n).max(1);
                    let mut wins: Option<Tensor<1>> = None;
                    for r0 in (0..n).step_by(step) {
                        let r1 = (r0 + step).min(n);
                        let r = r1 - r0;
                        let si = s.clone().slice([r0..r1, 0..1]).expand([r, n]);
                        let sj = row.clone().expand([r, n]);
                        let score = si.clone().greater(sj.clone()).float() + si.equal(sj).float() * 0.5;
                        let weight = pos.clone().slice([r0..r1, 0..1]).expand([r, n]) * neg.clone().expand([r, n]);
                        let part = (score * weight).sum();
                        wins = Some(match wins {
                            Some(w) => w + part,
                            None => part,
                        });
                    }
                    let auroc = wins.expect("at least one line") / *pairs;
                    total = Some(match total {
                        Some(t) => t + auroc,
                        None => auroc,
                    });
                }
                total.expect("at least one class") / self.classes.len() as f64
            }
        }
    }
}

/// Generates and scores images on the device: the model's probabilities and
/// (with a detector) the detector's per-concept probabilities.
pub struct Scorer<'a> {
    pub generator: &'a dyn Generator,
    pub model: &'a dyn Model,
    pub detector: Option<&'a dyn Model>,
    pub device: Device,
    pub size: usize,
    pub batch: usize,
    pub seed: u64,
}

/// Pixels `[N, 3, S, S]` (0..255) resized to `model`'s input on the device,
/// normalised, and its outputs.
fn forward(model: &dyn Model, pixels: Tensor<4>) -> Tensor<2> {
    let [h, w] = model.input_size();
    let [_, _, ph, pw] = pixels.dims();
    let x = if [ph, pw] == [h, w] { pixels } else { interpolate(pixels, InterpolateOptions::new(InterpolateMode::Bilinear).with_output_size([h, w])) };
    model.forward(model.normalisation().apply(x))
}

impl Scorer<'_> {
    fn score(&self, pixels: Tensor<4>) -> (Tensor<2>, Option<Tensor<2>>) {
        let detections = self.detector.map(|d| sigmoid(forward(d, pixels.clone())));
        (self.model.probabilities(forward(self.model, pixels)), detections)
    }

    /// Scores of the images of lines `rows` of `counts` (each with its own seed).
    pub fn generated(&self, dataset: &Dataset, counts: &[Vec<u32>], rows: &[usize]) -> Result<(Tensor<2>, Option<Tensor<2>>), Error> {
        let mut probabilities = Vec::new();
        let mut detections = Vec::new();
        for chunk in rows.chunks(self.batch) {
            // Every batch has the same shape (the last one padded with copies
            // of its last line): a new batch size would make the device
            // compile and tune its kernels again, and which lines a
            // permutation changes varies from one to the next.
            let padded = chunk.iter().chain(std::iter::repeat_n(&chunk[chunk.len() - 1], self.batch - chunk.len()));
            let (captions, seeds): (Vec<_>, Vec<u64>) = padded.map(|&i| (dataset.caption(&counts[i]), image_seed(self.seed, i))).unzip();
            let (p, d) = self.score(self.generator.batch(&captions, &seeds, self.size, &self.device)?);
            let keep = |t: Tensor<2>| {
                let columns = t.dims()[1];
                t.slice([0..chunk.len(), 0..columns])
            };
            probabilities.push(keep(p));
            detections.extend(d.map(keep));
        }
        let detections = (!detections.is_empty()).then(|| Tensor::cat(detections, 0));
        Ok((Tensor::cat(probabilities, 0), detections))
    }

    /// The model's probabilities of `images`, each resized to the generated side first.
    pub fn real(&self, images: &[RgbImage]) -> Result<Tensor<2>, Error> {
        let mut out = Vec::new();
        let s = self.size as u32;
        for chunk in images.chunks(self.batch) {
            let mut chw = Vec::with_capacity(chunk.len() * 3 * self.size * self.size);
            for image in chunk {
                let resized;
                let image = if image.dimensions() == (s, s) {
                    image
                } else {
                    resized = image::imageops::resize(image, s, s, image::imageops::FilterType::Triangle);
                    &resized
                };
                chw.extend(crate::explain::to_chw(image));
            }
            let pixels = Tensor::<4>::from_data(TensorData::new(chw, [chunk.len(), 3, self.size, self.size]), &self.device);
            out.push(self.model.probabilities(forward(self.model, pixels)));
        }
        Ok(Tensor::cat(out, 0))
    }
}

fn floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, Error> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().map_err(|e| Error::InvalidParameter(format!("device read: {e:?}")))
}

/// Mean and sample standard deviation.
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 { values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (mean, var.sqrt())
}

/// The ranking of `dataset`'s concepts for `scorer`'s model; `real` images
/// with their labels for the effective-generation check. `progress` is
/// called after the baseline and after every permutation.
pub fn rank(dataset: &Dataset, scorer: &Scorer<'_>, config: &RankConfig, real: Option<(&[RgbImage], &[usize])>, mut progress: impl FnMut()) -> Result<Ranking, Error> {
    if config.permutations == 0 {
        return Err(Error::InvalidParameter("--permutations must be at least 1".into()));
    }
    if config.batch == 0 {
        return Err(Error::InvalidParameter("the batch must be at least 1".into()));
    }
    if dataset.concepts.is_empty() {
        return Err(Error::InvalidParameter("the captions name no concept to permute".into()));
    }
    let classes = scorer.model.class_names().len();
    let truth = Truth::new(&dataset.labels, config.metric, config.target_class, classes, &scorer.device)?;
    let columns = dataset.concepts.len();
    // The detector's output of each column: by name when its outputs are
    // named after the concepts (`concepts train --detector` names them),
    // else in the captions' column order.
    let detector_columns = match scorer.detector {
        Some(d) => {
            let names = d.class_names();
            let by_name: Option<Vec<usize>> = dataset.concepts.iter().map(|c| names.iter().position(|n| n == c)).collect();
            let order = match by_name {
                Some(order) => order,
                None if names.len() == columns => (0..columns).collect(),
                None => {
                    return Err(Error::InvalidParameter(format!(
                        "the detector has {} outputs for the captions' {columns} concepts (one per concept, named after them or in order of first occurrence)",
                        names.len()
                    )));
                }
            };
            let ids: Vec<i64> = order.iter().map(|&j| j as i64).collect();
            Some(Tensor::<1, Int>::from_data(TensorData::new(ids, [columns]), &scorer.device))
        }
        None => None,
    };
    let in_columns = |d: Option<Tensor<2>>| match (d, &detector_columns) {
        (Some(d), Some(ids)) => Some(d.select(1, ids.clone())),
        _ => None,
    };
    let real_truth = match real {
        Some((images, labels)) => Some((images, Truth::new(labels, config.metric, config.target_class, classes, &scorer.device)?)),
        None => None,
    };
    scorer.generator.check_size(config.size)?;

    let n = dataset.len();
    let all: Vec<usize> = (0..n).collect();
    let (base, base_detections) = scorer.generated(dataset, &dataset.counts, &all)?;
    let base_detections = in_columns(base_detections);
    let baseline = floats(truth.performance(base.clone()))?[0] as f64;
    progress();

    let mut concepts = Vec::with_capacity(columns);
    let mut change = Vec::new();
    for c in 0..columns {
        let mut scores = Vec::with_capacity(config.permutations);
        let mut moved = Vec::new();
        let mut regenerated = 0usize;
        for k in 0..config.permutations {
            let permuted = permute_column(&dataset.counts, c, config.seed, k);
            let changed: Vec<usize> = all.iter().copied().filter(|&i| permuted[i][c] != dataset.counts[i][c]).collect();
            regenerated += changed.len();
            if changed.is_empty() {
                scores.push(truth.performance(base.clone()));
            } else {
                let (p, d) = scorer.generated(dataset, &permuted, &changed)?;
                let m = changed.len();
                let ids: Vec<i64> = changed.iter().map(|&i| i as i64).collect();
                let idx = Tensor::<1, Int>::from_data(TensorData::new(ids, [m]), &scorer.device);
                // The new rows scattered onto zeros (exact), then put in place by a
                // mask: adding their difference to the baseline instead would
                // round a probability near 1 minus one near 0 to exactly 0.
                let classes = base.dims()[1];
                let scattered = base.zeros_like().select_assign(0, idx.clone(), p, IndexingUpdateOp::Add);
                let mut rows = vec![false; n];
                for &i in &changed {
                    rows[i] = true;
                }
                let mask = Tensor::<1, Bool>::from_data(TensorData::new(rows, [n]), &scorer.device).reshape([n, 1]).expand([n, classes]);
                scores.push(truth.performance(base.clone().mask_where(mask, scattered)));
                if let (Some(d), Some(b)) = (in_columns(d), &base_detections) {
                    moved.push((d - b.clone().select(0, idx)).abs().mean_dim(0).reshape([columns]));
                }
            }
            progress();
        }
        // One read per concept: its permutations' scores, then its detector changes.
        let count = moved.len();
        let mut pieces = scores;
        pieces.extend(moved);
        let values = floats(Tensor::cat(pieces, 0))?;
        let (performance, moved) = values.split_at(config.permutations);
        let per_permutation: Vec<f64> = performance.iter().map(|&p| baseline - p as f64).collect();
        let (mean, sd) = mean_sd(&per_permutation);
        if base_detections.is_some() {
            change.push((0..columns).map(|j| if count == 0 { 0.0 } else { (0..count).map(|r| moved[r * columns + j] as f64).sum::<f64>() / count as f64 }).collect::<Vec<f64>>());
        }
        concepts.push(ConceptImportance {
            concept: dataset.concepts[c].clone(),
            importance_mean: mean,
            importance_sd: sd,
            rank: 0,
            per_permutation,
            regenerated: regenerated as f64 / (n * config.permutations) as f64,
        });
    }
    concepts.sort_by(|a, b| b.importance_mean.total_cmp(&a.importance_mean));
    for (r, concept) in concepts.iter_mut().enumerate() {
        concept.rank = r + 1;
    }

    let effective_generation = match real_truth {
        Some((images, truth)) => {
            let real = floats(truth.performance(scorer.real(images)?))?[0] as f64;
            Some(EffectiveGeneration { real, generated: baseline, gap: real - baseline, real_images: images.len() })
        }
        None => None,
    };
    let independence = match base_detections {
        Some(b) => {
            let values = floats(b)?;
            let detector_auroc = (0..columns)
                .map(|j| {
                    let scores: Vec<f32> = (0..n).map(|i| values[i * columns + j]).collect();
                    let present: Vec<bool> = dataset.counts.iter().map(|r| r[j] > 0).collect();
                    metric::auroc(&scores, &present).ok()
                })
                .collect();
            let diagonal = (0..columns).map(|c| change[c][c]);
            let off = (0..columns).flat_map(|c| (0..columns).filter(move |&j| j != c).map(move |j| (c, j)));
            Some(Independence {
                concepts: dataset.concepts.clone(),
                min_diagonal: diagonal.fold(f64::INFINITY, f64::min),
                max_off_diagonal: off.map(|(c, j)| change[c][j]).fold(0.0, f64::max),
                change,
                detector_auroc,
            })
        }
        None => None,
    };
    Ok(Ranking { metric: config.metric, baseline, concepts, effective_generation, independence })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_device_auroc_and_accuracy_equal_the_host_ones_ties_included() {
        let device = Device::flex();
        let n = 301;
        // Scores on a coarse grid, so many tie across classes.
        let p1: Vec<f32> = (0..n).map(|i| ((i * 37 % 11) as f32) / 10.0).collect();
        let labels: Vec<usize> = (0..n).map(|i| usize::from((i * 37 % 11) + (i % 5) > 7)).collect();
        let table: Vec<f32> = p1.iter().flat_map(|&p| [1.0 - p, p]).collect();
        let probabilities = Tensor::<2>::from_data(TensorData::new(table, [n, 2]), &device);
        let truth = Truth::new(&labels, Metric::Auroc, None, 2, &device).unwrap();
        let device_auroc = floats(truth.performance(probabilities.clone())).unwrap()[0] as f64;
        let positive: Vec<bool> = labels.iter().map(|&l| l == 1).collect();
        let host = metric::auroc(&p1, &positive).unwrap();
        assert!((device_auroc - host).abs() < 1e-5, "{device_auroc} vs {host}");
        let truth = Truth::new(&labels, Metric::Accuracy, None, 2, &device).unwrap();
        let predicted: Vec<usize> = p1.iter().map(|&p| usize::from(p > 0.5)).collect();
        let device_accuracy = floats(truth.performance(probabilities)).unwrap()[0] as f64;
        assert!((device_accuracy - metric::accuracy(&predicted, &labels)).abs() < 1e-6);
        // Bad labels and targets are named.
        assert!(Truth::new(&[0, 3], Metric::Auroc, None, 2, &device).err().unwrap().to_string().contains("label 3"));
        assert!(Truth::new(&[0, 1], Metric::Auroc, Some(2), 2, &device).is_err());
        assert!(Truth::new(&[1, 1], Metric::Auroc, None, 2, &device).is_err());
        assert!(Truth::new(&[0, 1], Metric::Accuracy, Some(1), 2, &device).is_err());
    }
}
