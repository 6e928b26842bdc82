//! The dataset loop of `pami run` and `pami serve`: requests grouped by
//! configuration into `Explainer::explain_batch` ([`Batcher`],
//! [`explain_group`]), and for datasets ([`explain_dataset`]) decoding ahead
//! on a thread, per-image outputs, `results.jsonl`/`failures.jsonl`, shards
//! and resume.
//!
//! Every output of an image is written to a temporary file and renamed, and
//! the image's JSON is written last: an image is finished exactly when its
//! JSON exists, so a rerun skips it and a run killed at any moment loses
//! nothing finished and leaves no partial file. Output names carry the model
//! and the method ([`RunKey`]), so runs of two models or two methods can
//! share a folder.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::{Error, ExplainConfig, Explainer, Explanation, Model, Targets, io};

/// Groups waiting requests: the oldest first, with the later ones that share
/// its configuration, at most `per_batch` images.
#[derive(Clone, Copy, Debug)]
pub struct Batcher {
    pub per_batch: usize,
}

impl Batcher {
    pub fn new(per_batch: usize) -> Self {
        Batcher { per_batch: per_batch.max(1) }
    }

    /// Takes the next group from `pending` (in arrival order); the rest stay.
    pub fn take<T, K: PartialEq>(&self, pending: &mut VecDeque<T>, key: impl Fn(&T) -> K) -> Vec<T> {
        let Some(first) = pending.front() else { return Vec::new() };
        let key_of_first = key(first);
        let mut group = Vec::new();
        let mut rest = VecDeque::with_capacity(pending.len());
        for item in pending.drain(..) {
            if group.len() < self.per_batch && key(&item) == key_of_first {
                group.push(item);
            } else {
                rest.push_back(item);
            }
        }
        *pending = rest;
        group
    }
}

/// Explains `images` together; if the group fails together, each image
/// alone, so one bad image cannot sink the others. One result per image.
pub fn explain_group<M: Model>(explainer: &Explainer<M>, images: &[RgbImage], config: &ExplainConfig) -> Vec<Result<Explanation, Error>> {
    match explainer.explain_batch(images, config) {
        Ok(explanations) => explanations.into_iter().map(Ok).collect(),
        Err(_) if images.len() > 1 => images.iter().map(|i| explainer.explain(i, config)).collect(),
        Err(e) => vec![Err(e)],
    }
}

/// What is known of an image beyond its pixels: a line of `pami run`'s
/// manifest (`{"image": "path", "targets": [ids], "box": [x0, y0, x1, y1]}`)
/// or an entry of `pami eval`'s boxes file (`{"classes": [ids], "boxes":
/// [[…], …]}`, keyed by file name). Boxes are inclusive pixel coordinates
/// of the original image.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Annotation {
    /// The image file (manifests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<PathBuf>,
    /// Class ids to explain (`pami eval`: the acceptable classes, of which
    /// the one the model ranks highest is explained).
    #[serde(default, alias = "classes", skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<usize>>,
    #[serde(default, rename = "box", skip_serializing_if = "Option::is_none")]
    pub single_box: Option<[f32; 4]>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boxes: Vec<[f32; 4]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Annotation {
    /// `box` and `boxes` together.
    pub fn all_boxes(&self) -> Vec<[f32; 4]> {
        self.single_box.iter().copied().chain(self.boxes.iter().copied()).collect()
    }
}

/// One image to explain: a manifest line, or a file of a folder.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// The image file (resolved against the manifest's folder).
    pub image: PathBuf,
    pub annotation: Annotation,
    /// Output file stem: the path relative to the input folder (or as the
    /// manifest gives it) with separators replaced, so stems never collide.
    pub stem: String,
}

impl Job {
    /// Class ids to explain instead of the run's `--top-k`.
    pub fn targets(&self) -> Option<&Vec<usize>> {
        self.annotation.targets.as_ref()
    }
}

fn stem_of(relative: &Path) -> String {
    let text = relative.with_extension("").to_string_lossy().into_owned();
    text.chars().map(|c| if c == '/' || c == '\\' { '~' } else { c }).collect()
}

/// The jobs of `input`: a folder (its PNG/JPEG files, recursively, in name
/// order) or a JSON-lines manifest of `{"image": "path", "targets": [ids],
/// "box": [x0, y0, x1, y1], "boxes": [[…], …]}` (all but `image` optional;
/// relative paths from the manifest's folder).
pub fn jobs(input: &Path) -> Result<Vec<Job>, Error> {
    let mut jobs = Vec::new();
    if input.is_dir() {
        let mut stack = vec![input.to_owned()];
        while let Some(dir) = stack.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|error| Error::Io { path: dir.clone(), error })?;
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if io::is_image(&path) {
                    let relative = path.strip_prefix(input).unwrap_or(&path).to_owned();
                    jobs.push(Job { stem: stem_of(&relative), image: path, annotation: Annotation::default() });
                }
            }
        }
        jobs.sort_by(|a, b| a.image.cmp(&b.image));
    } else {
        let text = std::fs::read_to_string(input).map_err(|error| Error::Io { path: input.to_owned(), error })?;
        let base = input.parent().unwrap_or(Path::new("."));
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let bad = |m: String| Error::InvalidParameter(format!("{}:{}: {m}", input.display(), n + 1));
            let annotation: Annotation = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
            let Some(given) = annotation.image.clone() else { return Err(bad("missing field `image`".into())) };
            let image = if given.is_absolute() { given.clone() } else { base.join(&given) };
            if annotation.targets.as_ref().is_some_and(|t| t.is_empty()) {
                return Err(bad("`targets` is empty".into()));
            }
            jobs.push(Job { stem: stem_of(&given), image, annotation });
        }
    }
    if jobs.is_empty() {
        return Err(Error::InvalidParameter(format!("{}: no images", input.display())));
    }
    let mut stems: Vec<&str> = jobs.iter().map(|j| j.stem.as_str()).collect();
    stems.sort();
    if let Some(w) = stems.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::InvalidParameter(format!("{}: two images share the output name `{}`", input.display(), w[0])));
    }
    Ok(jobs)
}

/// `i/n`: this process's share of a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}`: a shard is i/n with 0 ≤ i < n");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Every n-th job of the sorted list, starting at i: the same split on every machine.
    pub fn select(&self, jobs: Vec<Job>) -> Vec<Job> {
        jobs.into_iter().enumerate().filter(|(k, _)| k % self.count == self.index).map(|(_, j)| j).collect()
    }
}

/// What a run's outputs are named after besides the image: the model and
/// the method (`coffee.efficientnet-lite0.pami-window.json`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunKey {
    pub model: String,
    pub method: String,
}

impl RunKey {
    /// `<stem>.<model>.<method>`: the prefix of every output of `job`.
    pub fn prefix(&self, job: &Job) -> String {
        format!("{}.{}.{}", job.stem, self.model, self.method)
    }

    /// The file whose existence marks `job` finished.
    pub fn done_marker(&self, out: &Path, job: &Job) -> PathBuf {
        out.join(format!("{}.json", self.prefix(job)))
    }
}

/// How [`explain_dataset`] runs.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    pub key: RunKey,
    /// Images whose parts share model batches.
    pub images_per_batch: usize,
    /// Also write an overlay PNG per target.
    pub png: bool,
    /// Pointing-game tolerance in image pixels, for jobs with boxes.
    pub tolerance: f32,
}

impl RunOptions {
    /// The jobs whose outputs are not finished in `out` yet.
    pub fn pending(&self, jobs: &[Job]) -> Vec<Job> {
        jobs.iter().filter(|j| !self.key.done_marker(&self.out, j).exists()).cloned().collect()
    }
}

/// What a dataset run did.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    /// Jobs finished, this run or before.
    pub done: usize,
    /// This run's failures: the image and why.
    pub failures: Vec<(PathBuf, String)>,
}

/// Explains every job not yet finished in `options.out` with `config` (a
/// job's own targets replace the config's), `per_batch` images at a time,
/// decoding ahead on a thread. `progress` is called after each image.
/// Rewrites `results.jsonl` (every finished image of the jobs, any model or
/// method, in name order, then this run's failures) and `failures.jsonl`.
pub fn explain_dataset<M: Model>(
    explainer: &Explainer<M>,
    jobs: &[Job],
    config: &ExplainConfig,
    options: &RunOptions,
    mut progress: impl FnMut(&Job, Option<&str>),
) -> Result<RunSummary, Error> {
    let out = &options.out;
    std::fs::create_dir_all(out).map_err(|error| Error::Io { path: out.clone(), error })?;
    // A run killed while writing leaves only temporary files (final names are renamed into place).
    if let Ok(entries) = std::fs::read_dir(out) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().contains(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let todo = options.pending(jobs);
    let classes = explainer.model.class_names().len();
    for job in &todo {
        if let Some(bad) = job.targets().into_iter().flatten().find(|&&c| c >= classes) {
            return Err(Error::InvalidParameter(format!(
                "{}: target class {bad} is not below the model's {classes} classes",
                job.image.display()
            )));
        }
    }
    let batcher = Batcher::new(options.images_per_batch);
    let mut decoded = Decoded::start(todo, batcher.per_batch);
    let mut failures: Vec<(PathBuf, String)> = Vec::new();
    let mut pending: VecDeque<(Job, RgbImage)> = VecDeque::new();
    while decoded.refill(&mut pending, batcher.per_batch, |job, e| {
        progress(job, Some(&e.to_string()));
        failures.push((job.image.clone(), e.to_string()));
    }) {
        // A group: images that share their targets (manifests may set them per image).
        let group = batcher.take(&mut pending, |(job, _)| job.annotation.targets.clone());
        if group.is_empty() {
            continue;
        }
        let mut group_config = config.clone();
        if let Some(targets) = group[0].0.targets() {
            group_config.targets = Targets::Classes(targets.clone());
        }
        let images: Vec<RgbImage> = group.iter().map(|(_, i)| i.clone()).collect();
        for ((job, image), result) in group.iter().zip(explain_group(explainer, &images, &group_config)) {
            match result.and_then(|e| write_job(options, job, image, &e)) {
                Ok(()) => progress(job, None),
                Err(e) => {
                    progress(job, Some(&e.to_string()));
                    failures.push((job.image.clone(), e.to_string()));
                }
            }
        }
    }
    decoded.finish()?;
    Ok(RunSummary { done: write_results(jobs, &failures, out)?, failures })
}

/// Images decoded ahead on a CPU thread, so that decoding overlaps the
/// device's work; the bounded channel bounds memory.
pub struct Decoded {
    received: mpsc::IntoIter<(Job, Result<RgbImage, Error>)>,
    thread: std::thread::JoinHandle<()>,
    open: bool,
}

impl Decoded {
    /// Starts decoding `jobs` in order, at most `2 · ahead` images ahead.
    pub fn start(jobs: Vec<Job>, ahead: usize) -> Decoded {
        let (sender, receiver) = mpsc::sync_channel(2 * ahead.max(1));
        let thread = std::thread::spawn(move || {
            for job in jobs {
                let image = io::load_image(&job.image);
                if sender.send((job, image)).is_err() {
                    break;
                }
            }
        });
        Decoded { received: receiver.into_iter(), thread, open: true }
    }

    /// Moves decoded images into `pending` until `want` wait there or the
    /// jobs end, handing each unreadable one to `failed`. False once
    /// nothing is left to decode and `pending` is empty.
    pub fn refill(&mut self, pending: &mut VecDeque<(Job, RgbImage)>, want: usize, mut failed: impl FnMut(&Job, &Error)) -> bool {
        while self.open && pending.len() < want {
            match self.received.next() {
                Some((job, Ok(image))) => pending.push_back((job, image)),
                Some((job, Err(e))) => failed(&job, &e),
                None => self.open = false,
            }
        }
        self.open || !pending.is_empty()
    }

    /// Waits for the decoding thread.
    pub fn finish(self) -> Result<(), Error> {
        drop(self.received);
        self.thread.join().map_err(|_| Error::Device("the decoding thread panicked".into()))
    }
}

/// `results.jsonl`: every finished output of `jobs` in `out` (any model and
/// method), in name order, then `failures` as `{"image", "error"}`;
/// `failures.jsonl` has those alone. Returns the finished count.
fn write_results(jobs: &[Job], failures: &[(PathBuf, String)], out: &Path) -> Result<usize, Error> {
    let mut lines = String::new();
    let mut done = 0;
    let mut names: Vec<PathBuf> = std::fs::read_dir(out)
        .map_err(|error| Error::Io { path: out.to_owned(), error })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    for job in jobs {
        let prefix = format!("{}.", job.stem);
        for path in &names {
            let name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            let Some(rest) = name.strip_prefix(&prefix) else { continue };
            // `<stem>.<model>.<method>.json`: exactly two more dots.
            if rest.matches('.').count() != 2 {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(path) {
                lines += text.trim();
                lines.push('\n');
                done += 1;
            }
        }
    }
    let mut failed = String::new();
    for (image, reason) in failures {
        failed += &serde_json::json!({ "image": image, "error": reason }).to_string();
        failed.push('\n');
    }
    lines += &failed;
    io::write_atomic(&out.join("results.jsonl"), lines.as_bytes())?;
    io::write_atomic(&out.join("failures.jsonl"), failed.as_bytes())?;
    Ok(done)
}

/// Writes one explained image's outputs, its JSON last (the mark of a finished image).
fn write_job(options: &RunOptions, job: &Job, image: &RgbImage, e: &Explanation) -> Result<(), Error> {
    let out = &options.out;
    let prefix = options.key.prefix(job);
    let mut maps = Vec::new();
    for (t, target) in e.targets.iter().enumerate() {
        let name = format!("{prefix}.class{}.npy", target.class);
        io::write_npy(&out.join(&name), e.map(t), &e.map_size)?;
        if options.png {
            io::write_png(&out.join(format!("{prefix}.class{}.png", target.class)), &io::overlay(image, e.map_full(t)))?;
        }
        maps.push(name);
    }
    let boxes = job.annotation.all_boxes();
    let mut json = serde_json::json!({
        "image": job.image,
        "model": options.key.model,
        "method": options.key.method,
        "targets": e.targets,
        "predictions": e.predictions,
        "maps": maps,
        "map_size": e.map_size,
        "image_size": e.image_size,
        "parts": e.parts,
        "forward_passes": e.forward_passes,
        "timings": e.timings,
    });
    if !boxes.is_empty() {
        // Zhang et al.'s pointing game on the map at the image's size, one hit per target.
        let hits: Vec<bool> = (0..e.targets.len())
            .map(|t| crate::metrics::pointing_game(e.map_full(t), e.image_size[1], &boxes, options.tolerance))
            .collect();
        json["boxes"] = serde_json::json!(boxes);
        json["pointing_game"] = serde_json::json!({ "hits": hits, "tolerance": options.tolerance });
    }
    let text = serde_json::to_string(&json).map_err(|e| Error::Output { path: out.clone(), reason: e.to_string() })?;
    io::write_atomic(&options.key.done_marker(out, job), text.as_bytes())
}
