//! Two models compared over a dataset by their attributions (IMACS, Schoop,
//! Huang & Hartmann 2022): both models explain every image for the same
//! target with any engine method; each image is cut into features (segments
//! or patches); each model's most attributed features are kept; the kept
//! features are embedded by a fixed descriptor model plus colour statistics
//! and clustered with k-means++ on the device; per cluster, the share of each
//! model's attribution mass it holds and their difference, with a bootstrap
//! interval over images. A cluster where model B puts much more of its
//! attribution than model A is something B looks at that A does not.

pub mod features;
pub mod kmeans;
pub mod report;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::explain::to_chw;
use crate::run::{Decoded, Job};
use crate::{Error, ExplainConfig, Explainer, Model, Targets};

pub use features::Features;
pub use kmeans::KMeans;

/// Which class both models are explained for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetChoice {
    /// The manifest's class where a line gives one, else model A's prediction.
    Auto,
    /// The manifest's class (`"targets"`, its first); every line must give one.
    Label,
    /// Model A's most probable class.
    PredictedA,
}

impl std::str::FromStr for TargetChoice {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self, Error> {
        match text {
            "label" => Ok(TargetChoice::Label),
            "predicted-a" => Ok(TargetChoice::PredictedA),
            _ => Err(Error::InvalidParameter(format!("target `{text}`: use label or predicted-a"))),
        }
    }
}

/// How the comparison runs (the methods and models come separately).
#[derive(Clone, Debug, Serialize)]
pub struct CompareConfig {
    pub features: Features,
    /// Each model's top fraction of an image's features, by mean attribution.
    pub top: f32,
    pub kmeans: KMeans,
    /// Bootstrap resamples of the images for each cluster's interval.
    pub bootstrap: usize,
    /// Exemplar members listed per cluster (nearest its centroid).
    pub exemplars: usize,
    pub target: TargetChoice,
    /// Images explained together (their parts share the model batches).
    pub images_per_batch: usize,
    /// Weight of the six colour statistics next to the unit-length descriptor.
    pub colour_weight: f32,
}

impl Default for CompareConfig {
    fn default() -> Self {
        CompareConfig {
            features: Features::default(),
            top: 0.1,
            kmeans: KMeans::default(),
            bootstrap: 1000,
            exemplars: 8,
            target: TargetChoice::Auto,
            images_per_batch: 8,
            colour_weight: 0.5,
        }
    }
}

impl CompareConfig {
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: &str| Err(Error::InvalidParameter(m.into()));
        if !(self.top > 0.0 && self.top <= 1.0) {
            return bad("--top must be a fraction in (0, 1]");
        }
        if self.kmeans.clusters == 0 {
            return bad("--clusters must be at least 1");
        }
        if self.kmeans.restarts == 0 {
            return bad("--restarts must be at least 1");
        }
        if self.bootstrap == 0 {
            return bad("--bootstrap must be at least 1");
        }
        if self.images_per_batch == 0 {
            return bad("--images-per-batch must be at least 1");
        }
        if !(self.colour_weight >= 0.0 && self.colour_weight.is_finite()) {
            return bad("the colour weight must be a finite number ≥ 0");
        }
        Ok(())
    }
}

/// The fixed model that embeds each feature's crop: its activations at its
/// feature layer ([`Model::forward_hooked`], Grad-CAM's layer; for
/// EfficientNet-Lite0 the 1280 channels before pooling), averaged over
/// space and scaled to unit length.
pub struct Descriptor<'a> {
    pub model: &'a dyn Model,
    /// `[height, width]` crops are resized to.
    pub size: [usize; 2],
    /// For the report: `efficientnet-lite0`, `model-a`.
    pub name: String,
}

impl Descriptor<'_> {
    /// `[m, C]` unit-length descriptors of `crops` (each `size`), on `device`.
    pub fn embed(&self, crops: &[RgbImage], device: &Device) -> Result<Tensor<2>, Error> {
        let [h, w] = self.size;
        let mut out = Vec::new();
        for chunk in crops.chunks(64) {
            let pixels: Vec<f32> = chunk.iter().flat_map(to_chw).collect();
            let x = Tensor::<4>::from_data(TensorData::new(pixels, [chunk.len(), 3, h, w]), device);
            let mut captured = None;
            let logits = self.model.forward_hooked(self.model.normalisation().apply(x), &mut |a| {
                captured = Some(a.clone());
                a
            });
            drop(logits);
            let activations = captured.ok_or_else(|| Error::InvalidParameter(format!("the descriptor {} has no feature layer to read", self.name)))?;
            let [m, c, _, _] = activations.dims();
            let pooled = activations.mean_dim(3).mean_dim(2).reshape([m, c]);
            let norm = pooled.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
            out.push(pooled / norm);
        }
        Ok(Tensor::cat(out, 0))
    }
}

/// One kept feature, as `summary.json` lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Member {
    pub image: PathBuf,
    /// `[x0, y0, x1, y1]`, inclusive pixels of the image.
    #[serde(rename = "box")]
    pub bbox: [usize; 4],
    /// Each model's share of the image's attribution mass inside the feature.
    pub attr_a: f32,
    pub attr_b: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cluster {
    pub id: usize,
    pub size: usize,
    /// The cluster's share of model A's attribution mass over all kept features.
    pub share_a: f32,
    pub share_b: f32,
    /// `share_b − share_a`.
    pub delta: f32,
    /// 95 % bootstrap interval of `delta` over images (percentiles).
    pub ci: [f32; 2],
    pub members: Vec<Member>,
    /// Indices into `members`, nearest the centroid first.
    pub exemplars: Vec<usize>,
    /// Global feature indices of `members` (thumbnails of the report).
    #[serde(skip)]
    pub features: Vec<usize>,
}

/// One class's images: each cluster's shares among them alone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassBreakdown {
    pub class: usize,
    pub name: String,
    pub images: usize,
    /// In the order of the summary's clusters.
    pub clusters: Vec<ClassShare>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassShare {
    pub id: usize,
    pub share_a: f32,
    pub share_b: f32,
    pub delta: f32,
}

/// An image where the two models' attribution differs most.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Difference {
    pub image: PathBuf,
    pub class: usize,
    /// Total variation distance between the two mass distributions, in [0, 1].
    pub distance: f32,
    #[serde(skip)]
    pub pictures: Option<[RgbImage; 3]>,
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub models: serde_json::Value,
    pub method: String,
    /// Images compared (failures not counted).
    pub images: usize,
    /// Features kept over all images.
    pub features: usize,
    /// Clusters by |delta|, largest first.
    pub clusters: Vec<Cluster>,
    pub classes: Vec<ClassBreakdown>,
    /// The images whose two maps differ most, most first.
    pub differ: Vec<Difference>,
    /// Unreadable images and images an explanation failed on: `{"image", "error"}`.
    pub failures: Vec<serde_json::Value>,
    pub settings: serde_json::Value,
    /// Wall-clock seconds per stage and in all.
    pub seconds: serde_json::Value,
    pub images_per_second: f32,
}

/// A comparison: the summary and the report's crops.
pub struct Comparison {
    pub summary: Summary,
    /// Each kept feature's crop, 48 × 48, in global feature order.
    pub thumbnails: Vec<RgbImage>,
}

/// Side of a kept feature's thumbnail in the report.
const THUMB: u32 = 48;
/// Images listed (with pictures) among those that differ most.
const DIFFER: usize = 6;

/// Per image: its path, class, and each kept feature's masses (global order).
struct ImageRecord {
    image: PathBuf,
    class: usize,
    features: std::ops::Range<usize>,
}

/// The two explainers (on one device), their method configurations (the
/// same method; `targets` is set per image) and model names.
pub struct Sides<'a, A: Model, B: Model> {
    pub a: &'a Explainer<A>,
    pub b: &'a Explainer<B>,
    pub config_a: &'a ExplainConfig,
    pub config_b: &'a ExplainConfig,
}

/// Compares the two models over `jobs`. `progress(job, error)` after each
/// image; an image that cannot be read or explained is reported and left out.
pub fn compare<A: Model, B: Model>(
    sides: &Sides<'_, A, B>,
    descriptor: &Descriptor<'_>,
    jobs: &[Job],
    config: &CompareConfig,
    models: serde_json::Value,
    mut progress: impl FnMut(&Job, Option<&str>),
) -> Result<Comparison, Error> {
    config.validate()?;
    let Sides { a, b, config_a, config_b } = *sides;
    let classes = a.model.class_names().len();
    if b.model.class_names().len() != classes {
        return Err(Error::InvalidParameter(format!(
            "model A has {classes} classes and model B {}: both must classify the same classes",
            b.model.class_names().len()
        )));
    }
    for job in jobs {
        if !job.image.is_file() {
            return Err(Error::InvalidParameter(format!("{}: no such image", job.image.display())));
        }
        match job.targets() {
            Some(t) if t[0] >= classes => {
                return Err(Error::InvalidParameter(format!("{}: target class {} is not below the models' {classes} classes", job.image.display(), t[0])));
            }
            None if config.target == TargetChoice::Label => {
                return Err(Error::InvalidParameter(format!("{}: --target label needs a manifest line with \"targets\"", job.image.display())));
            }
            _ => {}
        }
    }
    a.validate(config_a)?;
    b.validate(config_b)?;
    let device = &a.device;
    // A descriptor without a feature layer is refused before any image is explained.
    descriptor.embed(&[RgbImage::new(descriptor.size[1] as u32, descriptor.size[0] as u32)], device)?;
    let start = Instant::now();
    let mut seconds = [0.0f64; 4]; // explain, features, describe, cluster

    let mut records: Vec<ImageRecord> = Vec::new();
    let mut masses: Vec<[f32; 2]> = Vec::new();
    let mut colours: Vec<f32> = Vec::new();
    let mut thumbnails: Vec<RgbImage> = Vec::new();
    let mut descriptors: Vec<Tensor<2>> = Vec::new();
    let mut boxes: Vec<[usize; 4]> = Vec::new();
    let mut differ: Vec<Difference> = Vec::new();
    let mut failures: Vec<serde_json::Value> = Vec::new();
    let mut fail = |job: &Job, error: &str, progress: &mut dyn FnMut(&Job, Option<&str>)| {
        progress(job, Some(error));
        failures.push(serde_json::json!({ "image": job.image, "error": error }));
    };

    let per_batch = config.images_per_batch;
    let mut decoded = Decoded::start(jobs.to_vec(), per_batch);
    let mut pending: VecDeque<(Job, RgbImage)> = VecDeque::new();
    let mut unreadable: Vec<(Job, String)> = Vec::new();
    while decoded.refill(&mut pending, per_batch, |job, e| unreadable.push((job.clone(), e.to_string()))) {
        for (job, e) in unreadable.drain(..) {
            fail(&job, &e, &mut progress);
        }
        let mut chunk: Vec<(Job, RgbImage)> = Vec::with_capacity(per_batch);
        for (job, image) in pending.drain(..pending.len().min(per_batch)) {
            // Too small to predict or explain: that image's failure, not the run's.
            match image.dimensions() {
                (width, height) if width < 2 || height < 2 => fail(&job, &Error::ImageTooSmall { width, height }.to_string(), &mut progress),
                _ => chunk.push((job, image)),
            }
        }
        if chunk.is_empty() {
            continue;
        }
        let clock = Instant::now();
        // The class each image is explained for.
        let needs_prediction = chunk.iter().any(|(job, _)| config.target == TargetChoice::PredictedA || job.targets().is_none());
        let predicted = if needs_prediction {
            let images: Vec<RgbImage> = chunk.iter().map(|(_, i)| i.clone()).collect();
            Some(a.predict(&images, 1, config_a.batch)?)
        } else {
            None
        };
        let target = |k: usize| match (config.target, chunk[k].0.targets(), &predicted) {
            (TargetChoice::PredictedA, _, Some(p)) | (_, None, Some(p)) => p[k][0].class,
            (_, Some(t), _) => t[0],
            _ => unreachable!("predicted when a target is missing"),
        };
        // Both models' maps, the chunk's images in one pipeline each (one
        // target per image), so the device sees full batches of one shape.
        let targets: Vec<usize> = (0..chunk.len()).map(target).collect();
        let images: Vec<RgbImage> = chunk.iter().map(|(_, i)| i.clone()).collect();
        let from_a = explain_each(a, &images, &targets, config_a);
        let from_b = explain_each(b, &images, &targets, config_b);
        let mut maps: Vec<Option<Result<[Vec<f32>; 2], Error>>> =
            from_a.into_iter().zip(from_b).map(|(ea, eb)| Some(ea.and_then(|ea| eb.map(|eb| [ea.map_full(0).to_vec(), eb.map_full(0).to_vec()])))).collect();
        seconds[0] += clock.elapsed().as_secs_f64();

        let clock = Instant::now();
        let explained: Vec<usize> = (0..chunk.len()).filter(|&k| matches!(maps[k], Some(Ok(_)))).collect();
        let images: Vec<&RgbImage> = explained.iter().map(|&k| &chunk[k].1).collect();
        let mut labels = features::label_maps(&config.features, &images, device).into_iter();
        let mut crops: Vec<RgbImage> = Vec::new();
        for k in 0..chunk.len() {
            let (job, image) = &chunk[k];
            let pair = match maps[k].take().expect("every image was explained") {
                Ok(pair) => pair,
                Err(e) => {
                    fail(job, &e.to_string(), &mut progress);
                    continue;
                }
            };
            let labels = match labels.next().expect("one label map per explained image") {
                Ok(labels) => labels,
                Err(e) => {
                    fail(job, &e.to_string(), &mut progress);
                    continue;
                }
            };
            let [ma, mb] = [&pair[0], &pair[1]].map(|m| features::mass_distribution(m));
            let found = features::measure(&labels, image, [&ma, &mb]);
            let first = masses.len();
            for f in features::salient(&found, config.top) {
                let f = &found[f];
                masses.push(f.mass);
                colours.extend(f.colour.iter().map(|c| c * config.colour_weight));
                boxes.push(f.bbox);
                crops.push(features::crop(image, f.bbox, descriptor.size));
                thumbnails.push(features::crop(image, f.bbox, [THUMB as usize; 2]));
            }
            let class = target(k);
            records.push(ImageRecord { image: job.image.clone(), class, features: first..masses.len() });
            let distance = 0.5 * ma.iter().zip(&mb).map(|(x, y)| (x - y).abs()).sum::<f32>();
            keep_differing(&mut differ, Difference { image: job.image.clone(), class, distance, pictures: None }, || pictures(image, &pair));
            progress(job, None);
        }
        seconds[1] += clock.elapsed().as_secs_f64();
        if !crops.is_empty() {
            let clock = Instant::now();
            descriptors.push(descriptor.embed(&crops, device)?);
            seconds[2] += clock.elapsed().as_secs_f64();
        }
    }
    for (job, e) in unreadable.drain(..) {
        fail(&job, &e, &mut progress);
    }
    decoded.finish()?;
    if records.is_empty() {
        return Err(Error::InvalidParameter("no image could be compared".into()));
    }

    let clock = Instant::now();
    let n = masses.len();
    if config.kmeans.clusters > n {
        return Err(Error::InvalidParameter(format!("more clusters ({}) than features ({n}): lower --clusters or raise --top", config.kmeans.clusters)));
    }
    let colour = Tensor::<2>::from_data(TensorData::new(colours, [n, 6]), device);
    let x = Tensor::cat(vec![Tensor::cat(descriptors, 0), colour], 1);
    let clustering = kmeans::kmeans(&x, &config.kmeans)?;
    seconds[3] += clock.elapsed().as_secs_f64();

    let k = config.kmeans.clusters;
    let image_of: Vec<usize> = records.iter().enumerate().flat_map(|(i, r)| r.features.clone().map(move |_| i)).collect();
    // Per image and cluster, each model's mass.
    let mut per_image = vec![vec![[0.0f64; 2]; k]; records.len()];
    for f in 0..n {
        let c = clustering.assignments[f];
        for m in 0..2 {
            per_image[image_of[f]][c][m] += masses[f][m] as f64;
        }
    }
    let all: Vec<usize> = (0..records.len()).collect();
    let shares = cluster_shares(&per_image, &all);
    let intervals = bootstrap(&per_image, config.bootstrap, config.kmeans.seed);
    let mut clusters: Vec<Cluster> = (0..k)
        .filter_map(|c| {
            let features: Vec<usize> = (0..n).filter(|&f| clustering.assignments[f] == c).collect();
            if features.is_empty() {
                return None;
            }
            let mut nearest: Vec<usize> = (0..features.len()).collect();
            nearest.sort_by(|&i, &j| clustering.distances[features[i]].total_cmp(&clustering.distances[features[j]]).then(i.cmp(&j)));
            nearest.truncate(config.exemplars);
            let members = features
                .iter()
                .map(|&f| Member { image: records[image_of[f]].image.clone(), bbox: boxes[f], attr_a: masses[f][0], attr_b: masses[f][1] })
                .collect();
            let [share_a, share_b] = shares[c];
            Some(Cluster { id: c, size: features.len(), share_a, share_b, delta: share_b - share_a, ci: intervals[c], members, exemplars: nearest, features })
        })
        .collect();
    clusters.sort_by(|x, y| y.delta.abs().total_cmp(&x.delta.abs()).then(x.id.cmp(&y.id)));

    let names = a.model.class_names();
    let mut class_ids: Vec<usize> = records.iter().map(|r| r.class).collect();
    class_ids.sort_unstable();
    class_ids.dedup();
    let breakdown = class_ids
        .into_iter()
        .map(|class| {
            let images: Vec<usize> = (0..records.len()).filter(|&i| records[i].class == class).collect();
            let shares = cluster_shares(&per_image, &images);
            let clusters = clusters.iter().map(|c| ClassShare { id: c.id, share_a: shares[c.id][0], share_b: shares[c.id][1], delta: shares[c.id][1] - shares[c.id][0] }).collect();
            ClassBreakdown { class, name: names[class].clone(), images: images.len(), clusters }
        })
        .collect();

    let total = start.elapsed().as_secs_f64();
    let settings = serde_json::json!({
        "config": config,
        "descriptor": { "model": descriptor.name, "size": descriptor.size },
        "explain_a": config_a,
        "explain_b": config_b,
        "inertia": clustering.inertia,
        "restart": clustering.restart,
    });
    let summary = Summary {
        models,
        method: config_a.method.name().to_owned(),
        images: records.len(),
        features: n,
        clusters,
        classes: breakdown,
        differ,
        failures,
        settings,
        seconds: serde_json::json!({ "explain": seconds[0], "features": seconds[1], "describe": seconds[2], "cluster": seconds[3], "total": total }),
        images_per_second: (records.len() as f64 / total.max(1e-9)) as f32,
    };
    Ok(Comparison { summary, thumbnails })
}

/// Explains each image for its own target, all together; if they fail
/// together, each alone, so one bad image cannot sink the others.
fn explain_each<M: Model>(explainer: &Explainer<M>, images: &[RgbImage], targets: &[usize], config: &ExplainConfig) -> Vec<Result<crate::Explanation, Error>> {
    let together = ExplainConfig { targets: Targets::PerImage(targets.to_vec()), ..config.clone() };
    match explainer.explain_batch(images, &together) {
        Ok(explanations) => explanations.into_iter().map(Ok).collect(),
        Err(_) if images.len() > 1 => images
            .iter()
            .zip(targets)
            .map(|(image, &t)| explainer.explain(image, &ExplainConfig { targets: Targets::Classes(vec![t]), ..config.clone() }))
            .collect(),
        Err(e) => vec![Err(e)],
    }
}

/// Keeps the [`DIFFER`] images of largest distance (pictures made only for those kept).
fn keep_differing(list: &mut Vec<Difference>, mut new: Difference, pictures: impl FnOnce() -> [RgbImage; 3]) {
    if list.len() >= DIFFER && list.last().is_some_and(|l| l.distance >= new.distance) {
        return;
    }
    new.pictures = Some(pictures());
    let at = list.partition_point(|d| d.distance >= new.distance);
    list.insert(at, new);
    list.truncate(DIFFER);
}

/// The image and both maps over it, at most 160 pixels a side.
fn pictures(image: &RgbImage, maps: &[Vec<f32>; 2]) -> [RgbImage; 3] {
    let (w, h) = image.dimensions();
    let scale = 160.0 / w.max(h) as f32;
    let size = |v: u32| ((v as f32 * scale).round() as u32).max(1);
    let small = |i: &RgbImage| image::imageops::resize(i, size(w), size(h), image::imageops::FilterType::Triangle);
    [small(image), small(&crate::io::overlay(image, &maps[0])), small(&crate::io::overlay(image, &maps[1]))]
}

/// Each cluster's `[share_a, share_b]` over the images `images` (repeats count again).
fn cluster_shares(per_image: &[Vec<[f64; 2]>], images: &[usize]) -> Vec<[f32; 2]> {
    let k = per_image.first().map_or(0, Vec::len);
    let mut sums = vec![[0.0f64; 2]; k];
    for &i in images {
        for (c, m) in per_image[i].iter().enumerate() {
            sums[c][0] += m[0];
            sums[c][1] += m[1];
        }
    }
    let totals = [0, 1].map(|m| sums.iter().map(|s| s[m]).sum::<f64>());
    sums.iter().map(|s| [0, 1].map(|m| if totals[m] > 0.0 { (s[m] / totals[m]) as f32 } else { 0.0 })).collect()
}

/// Each cluster's 95 % percentile interval of `share_b − share_a` over
/// `resamples` bootstrap resamples of the images (seeded).
fn bootstrap(per_image: &[Vec<[f64; 2]>], resamples: usize, seed: u64) -> Vec<[f32; 2]> {
    let n = per_image.len();
    let k = per_image.first().map_or(0, Vec::len);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_b007);
    let mut deltas = vec![Vec::with_capacity(resamples); k];
    let mut draw = vec![0usize; n];
    for _ in 0..resamples {
        for d in draw.iter_mut() {
            *d = rng.random_range(0..n);
        }
        for (c, [a, b]) in cluster_shares(per_image, &draw).into_iter().enumerate() {
            deltas[c].push(b - a);
        }
    }
    deltas
        .into_iter()
        .map(|mut d| {
            d.sort_by(f32::total_cmp);
            [percentile(&d, 0.025), percentile(&d, 0.975)]
        })
        .collect()
}

/// Linear interpolation between order statistics (numpy's default).
fn percentile(sorted: &[f32], q: f64) -> f32 {
    let at = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    let t = (at - lo as f64) as f32;
    sorted[lo] + (sorted[hi] - sorted[lo]) * t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_to_one_and_the_interval_brackets_a_clear_difference() {
        // Cluster 1 holds most of B's mass in every image, little of A's.
        let per_image: Vec<Vec<[f64; 2]>> = (0..40).map(|i| {
            let j = (i % 5) as f64 * 0.01;
            vec![[0.7 + j, 0.2], [0.1, 0.7 - j], [0.2 - j, 0.1 + j]]
        }).collect();
        let all: Vec<usize> = (0..40).collect();
        let s = cluster_shares(&per_image, &all);
        for m in 0..2 {
            assert!((s.iter().map(|x| x[m]).sum::<f32>() - 1.0).abs() < 1e-6);
        }
        let ci = bootstrap(&per_image, 500, 3);
        let delta = s[1][1] - s[1][0];
        assert!(ci[1][0] <= delta && delta <= ci[1][1] && ci[1][0] > 0.5, "{ci:?} {delta}");
        assert_eq!(bootstrap(&per_image, 500, 3), ci);
        // The same mass for both models: every delta and interval is exactly 0.
        let same: Vec<Vec<[f64; 2]>> = per_image.iter().map(|r| r.iter().map(|m| [m[0], m[0]]).collect()).collect();
        assert!(bootstrap(&same, 100, 0).iter().all(|c| *c == [0.0, 0.0]));
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert!((percentile(&v, 0.025) - 1.1).abs() < 1e-6);
    }
}
