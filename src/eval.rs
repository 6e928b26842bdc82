//! `pami eval`: explanation methods scored against annotated boxes — the
//! pointing game, insertion and deletion — over a folder of images, with a
//! markdown and CSV summary and one JSON file per image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::metrics::{CurveConfig, Curves, MapToScore, pointing_game};
use crate::io::is_image;
use crate::run::Annotation;
use crate::{Error, ExplainConfig, Explainer, Model, Targets, io};

/// The images of `dir` that `boxes` annotates, in name order, checked
/// against the file: every entry names an image of the folder, has classes
/// below `classes` and boxes inside its image (read from the image header).
/// Also the folder's images without an entry.
pub fn annotated_images(dir: &Path, boxes: &Path, classes: usize) -> Result<(Vec<(PathBuf, Annotation)>, Vec<PathBuf>), Error> {
    let read_dir = std::fs::read_dir(dir).map_err(|error| Error::Io { path: dir.to_owned(), error })?;
    let mut files: Vec<PathBuf> = read_dir.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file() && is_image(p)).collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::InvalidParameter(format!("{}: no PNG or JPEG images in the folder", dir.display())));
    }
    let text = std::fs::read_to_string(boxes).map_err(|error| Error::Io { path: boxes.to_owned(), error })?;
    let bad = |reason: String| Error::InvalidParameter(format!("{}: {reason}", boxes.display()));
    let entries: BTreeMap<String, Annotation> = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if entries.is_empty() {
        return Err(bad("no annotated image".into()));
    }
    let mut out = Vec::new();
    for (name, annotation) in entries {
        let Some(path) = files.iter().find(|p| p.file_name().and_then(|f| f.to_str()) == Some(name.as_str())) else {
            return Err(bad(format!("`{name}` matches no image in {}", dir.display())));
        };
        if annotation.image.is_some() {
            return Err(bad(format!("`{name}`: unknown field `image` (the key names the image)")));
        }
        let listed = annotation.targets.as_deref().unwrap_or_default();
        if listed.is_empty() {
            return Err(bad(format!("`{name}` lists no class")));
        }
        if let Some(c) = listed.iter().find(|&&c| c >= classes) {
            return Err(bad(format!("`{name}`: class {c} is not below the model's {classes} classes")));
        }
        let all = annotation.all_boxes();
        if all.is_empty() {
            return Err(bad(format!("`{name}` has no box")));
        }
        // A header read: an undecodable image is reported by the run, not here.
        if let Ok((w, h)) = image::image_dimensions(path) {
            for b in &all {
                let inside = b[0] >= 0.0 && b[1] >= 0.0 && b[0] <= b[2] && b[1] <= b[3] && b[2] < w as f32 && b[3] < h as f32;
                if !inside {
                    return Err(bad(format!("`{name}`: box {b:?} is not inside the {w}×{h} image")));
                }
            }
        }
        out.push((path.clone(), annotation));
    }
    let unannotated = files.into_iter().filter(|f| !out.iter().any(|(p, _)| p == f)).collect();
    Ok((out, unannotated))
}

/// One method's scores on one image.
#[derive(Clone, Debug, Serialize)]
pub struct MethodResult {
    pub method: String,
    pub pointing_hit: bool,
    #[serde(flatten)]
    pub curves: Curves,
    pub parts: usize,
    pub forward_passes: usize,
    /// Wall time of the explanation.
    pub seconds: f64,
    /// Its stages (model forward passes in `model`).
    pub timings: crate::Timings,
}

/// One image's evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct ImageResult {
    pub image: String,
    pub class: usize,
    pub class_name: String,
    pub probability: f32,
    pub boxes: Vec<[f32; 4]>,
    pub methods: Vec<MethodResult>,
}

/// What `evaluate_image` scores.
pub struct EvalConfig {
    /// `(name, configuration)` of each method; targets are set per image.
    pub methods: Vec<(String, ExplainConfig)>,
    pub curves: CurveConfig,
    /// Pointing-game tolerance in original-image pixels (15 in Zhang et al.).
    pub tolerance: f32,
}

/// The maps a method that knows nothing would give, for reference rows:
/// `centre` (distance to the centre, negated) and `random` (seeded noise).
pub fn reference_map(name: &str, width: usize, height: usize) -> Option<Vec<f32>> {
    match name {
        "centre" => Some(
            (0..width * height)
                .map(|i| {
                    let (x, y) = ((i % width) as f32 - (width as f32 - 1.0) / 2.0, (i / width) as f32 - (height as f32 - 1.0) / 2.0);
                    -(x * x + y * y).sqrt()
                })
                .collect(),
        ),
        "random" => {
            use rand::{Rng, SeedableRng};
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
            Some((0..width * height).map(|_| rng.random::<f32>()).collect())
        }
        _ => None,
    }
}

/// Explains one image with every method (and the reference maps) for the
/// annotated class the model ranks highest, and scores the maps.
pub fn evaluate_image<M: Model>(explainer: &Explainer<M>, path: &Path, annotation: &Annotation, config: &EvalConfig) -> Result<ImageResult, Error> {
    let image = io::load_image(path)?;
    let boxes = annotation.all_boxes();
    let (iw, ih) = (image.width() as usize, image.height() as usize);
    let [h, w] = explainer.model.input_size();
    let mut explained = Vec::new();
    let mut chosen = None;
    for (name, method) in &config.methods {
        let mut method = method.clone();
        method.targets = Targets::Classes(annotation.targets.clone().unwrap_or_default());
        let start = Instant::now();
        let e = explainer.explain(&image, &method)?;
        let seconds = start.elapsed().as_secs_f64();
        // The annotated class the model ranks highest on the whole image.
        let best = (0..e.targets.len()).max_by(|&a, &b| e.targets[a].probability.total_cmp(&e.targets[b].probability)).unwrap_or(0);
        chosen.get_or_insert_with(|| e.targets[best].clone());
        explained.push((name.clone(), e.map(best).to_vec(), e.map_full(best).to_vec(), e.parts, e.forward_passes, seconds, e.timings.clone()));
    }
    let target = match chosen {
        Some(t) => t,
        None => return Err(Error::InvalidParameter("no method to evaluate".into())),
    };
    for name in ["centre", "random"] {
        let small = reference_map(name, w, h).expect("a reference map");
        let full = reference_map(name, iw, ih).expect("a reference map");
        explained.push((name.to_owned(), small, full, 0, 0, 0.0, crate::Timings::default()));
    }
    let to_score: Vec<MapToScore> = explained.iter().map(|(_, map, ..)| MapToScore { image: 0, class: target.class, map }).collect();
    let curves = explainer.curves(std::slice::from_ref(&image), &to_score, &config.curves)?;
    let methods = explained
        .into_iter()
        .zip(curves)
        .map(|((method, _, full, parts, forward_passes, seconds, timings), curves)| MethodResult {
            method,
            pointing_hit: pointing_game(&full, iw, &boxes, config.tolerance),
            curves,
            parts,
            forward_passes,
            seconds,
            timings,
        })
        .collect();
    Ok(ImageResult {
        image: path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        class: target.class,
        class_name: target.name,
        probability: target.probability,
        boxes,
        methods,
    })
}

/// Per-method means over the evaluated images.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub method: String,
    pub images: usize,
    pub pointing_game: f32,
    pub insertion_auc: f32,
    pub deletion_auc: f32,
    pub forward_passes: f32,
    pub seconds: f64,
}

pub fn summarise(results: &[ImageResult]) -> Vec<Summary> {
    let mut names: Vec<String> = Vec::new();
    for r in results {
        for m in &r.methods {
            if !names.contains(&m.method) {
                names.push(m.method.clone());
            }
        }
    }
    names
        .into_iter()
        .map(|method| {
            let rows: Vec<&MethodResult> = results.iter().flat_map(|r| r.methods.iter().filter(|m| m.method == method)).collect();
            let n = rows.len().max(1) as f32;
            Summary {
                images: rows.len(),
                pointing_game: rows.iter().filter(|m| m.pointing_hit).count() as f32 / n,
                insertion_auc: rows.iter().map(|m| m.curves.insertion_auc).sum::<f32>() / n,
                deletion_auc: rows.iter().map(|m| m.curves.deletion_auc).sum::<f32>() / n,
                forward_passes: rows.iter().map(|m| m.forward_passes as f32).sum::<f32>() / n,
                seconds: rows.iter().map(|m| m.seconds).sum::<f64>() / n as f64,
                method,
            }
        })
        .collect()
}

/// The summary as a markdown table, with the failed images listed below it.
pub fn markdown(summary: &[Summary], failures: &[(String, String)]) -> String {
    let mut s = String::from(
        "| method | images | pointing game ↑ | insertion AUC ↑ | deletion AUC ↓ | forward passes | seconds / image |\n|---|---|---|---|---|---|---|\n",
    );
    for m in summary {
        s += &format!(
            "| {} | {} | {:.3} | {:.3} | {:.3} | {:.0} | {:.1} |\n",
            m.method, m.images, m.pointing_game, m.insertion_auc, m.deletion_auc, m.forward_passes, m.seconds
        );
    }
    if !failures.is_empty() {
        s += "\nNot evaluated:\n\n";
        for (image, reason) in failures {
            s += &format!("- `{image}`: {reason}\n");
        }
    }
    s
}

/// One CSV row per image and method.
pub fn csv(results: &[ImageResult]) -> String {
    let mut s = String::from("image,class,method,pointing_hit,insertion_auc,deletion_auc,parts,forward_passes,seconds\n");
    for r in results {
        for m in &r.methods {
            s += &format!(
                "{},{},{},{},{:.6},{:.6},{},{},{:.3}\n",
                r.image, r.class, m.method, m.pointing_hit as u8, m.curves.insertion_auc, m.curves.deletion_auc, m.parts, m.forward_passes, m.seconds
            );
        }
    }
    s
}
