//! `pami run`: explanations of a whole dataset, resumable and shardable.
//!
//! Every output of an image is written to a temporary file and renamed, and
//! the image's JSON is written last: an image is finished exactly when its
//! JSON exists, so a rerun skips it and a run killed at any moment loses
//! nothing finished and leaves no partial file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

/// One image to explain: a manifest line, or a file of a folder.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// The image file.
    pub image: PathBuf,
    /// Class ids to explain instead of the run's `--top-k`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<usize>>,
    /// Boxes `(x0, y0, x1, y1)`, inclusive image pixels, around the object:
    /// the run reports the pointing game for each map.
    #[serde(default, rename = "box", skip_serializing_if = "Option::is_none")]
    pub single_box: Option<[f32; 4]>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boxes: Vec<[f32; 4]>,
    /// Output file stem: the path relative to the input folder (or as the
    /// manifest gives it) with separators replaced, so stems never collide.
    #[serde(skip)]
    pub stem: String,
}

impl Job {
    /// The job's boxes, `box` and `boxes` together.
    pub fn all_boxes(&self) -> Vec<[f32; 4]> {
        self.single_box.iter().copied().chain(self.boxes.iter().copied()).collect()
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
                } else if crate::eval::is_image(&path) {
                    let relative = path.strip_prefix(input).unwrap_or(&path).to_owned();
                    jobs.push(Job { stem: stem_of(&relative), image: path, targets: None, single_box: None, boxes: Vec::new() });
                }
            }
        }
        jobs.sort_by(|a, b| a.image.cmp(&b.image));
    } else {
        let text = std::fs::read_to_string(input).map_err(|error| Error::Io { path: input.to_owned(), error })?;
        let base = input.parent().unwrap_or(Path::new("."));
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let job: Job = serde_json::from_str(line)
                .map_err(|e| Error::InvalidParameter(format!("{}:{}: {e}", input.display(), n + 1)))?;
            let image = if job.image.is_absolute() { job.image.clone() } else { base.join(&job.image) };
            if job.targets.as_ref().is_some_and(|t| t.is_empty()) {
                return Err(Error::InvalidParameter(format!("{}:{}: `targets` is empty", input.display(), n + 1)));
            }
            jobs.push(Job { stem: stem_of(&job.image), image, ..job });
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

/// The file whose existence marks `job` finished.
pub fn done_marker(out: &Path, job: &Job) -> PathBuf {
    out.join(format!("{}.json", job.stem))
}
