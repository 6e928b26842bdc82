//! Faithfulness metrics of importance maps: the pointing game (Zhang et al.)
//! and RISE's insertion and deletion curves (Petsiuk et al.), the curves
//! composed, scored and integrated on the device in full model batches.

use burn::tensor::{Int, Tensor, TensorData};
use image::RgbImage;
use serde::Serialize;

use crate::method::{Context, Run, Views, perturbation};
use crate::partition::Parts;
use crate::{Blur, Error, Explainer, Model, Score, ops};

/// Whether the map's maximum lies within `tolerance` pixels of one of the
/// boxes `(x0, y0, x1, y1)` (inclusive pixel coordinates of the map). The
/// first maximum in raster order counts.
pub fn pointing_game(map: &[f32], width: usize, boxes: &[[f32; 4]], tolerance: f32) -> bool {
    let Some((best, _)) = map.iter().enumerate().fold(None, |acc: Option<(usize, f32)>, (i, &v)| match acc {
        Some((_, m)) if v <= m => acc,
        _ => Some((i, v)),
    }) else {
        return false;
    };
    let (x, y) = ((best % width) as f32, (best / width) as f32);
    boxes.iter().any(|b| {
        let dx = (b[0] - x).max(0.0).max(x - b[2]);
        let dy = (b[1] - y).max(0.0).max(y - b[3]);
        dx * dx + dy * dy <= tolerance * tolerance
    })
}

/// How insertion and deletion run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CurveConfig {
    /// Pixels inserted or deleted per step (RISE: 224 on a 224² input).
    pub step: usize,
    /// The substrate: insertion starts from it, deletion ends in it.
    pub substrate: Blur,
    /// Composites per forward pass.
    pub batch: usize,
}

impl Default for CurveConfig {
    /// RISE's protocol: 224 pixels per step, the substrate blurred by its
    /// `gkern(11, 5)` (an impulse smoothed with σ 5 on 11 × 11 taps; here the
    /// 11-tap Gaussian of σ 5).
    fn default() -> Self {
        CurveConfig { step: 224, substrate: Blur::gaussian(11, 5.0).expect("valid blur"), batch: 16 }
    }
}

/// One map's curves: the class probability after each step, from 0 pixels
/// to all of them, and their normalised areas.
#[derive(Clone, Debug, Serialize)]
pub struct Curves {
    pub insertion: Vec<f32>,
    pub deletion: Vec<f32>,
    pub insertion_auc: f32,
    pub deletion_auc: f32,
}

/// A map to evaluate: the image it explains, the class, and the map at the model's input size.
#[derive(Clone, Debug)]
pub struct MapToScore<'a> {
    pub image: usize,
    pub class: usize,
    pub map: &'a [f32],
}

impl<M: Model> Explainer<M> {
    /// Insertion and deletion curves of every map in `maps` on `images`
    /// (resized to the model input as `explain` does). All maps' steps share
    /// the forward passes.
    pub fn curves(&self, images: &[RgbImage], maps: &[MapToScore], config: &CurveConfig) -> Result<Vec<Curves>, Error> {
        let [h, w] = self.model.input_size();
        let plane = h * w;
        let classes = self.model.class_names().len();
        config.substrate.validated()?;
        if config.step == 0 || config.batch == 0 {
            return Err(Error::InvalidParameter("insertion/deletion step and batch must be at least 1".into()));
        }
        for m in maps {
            if m.image >= images.len() || m.class >= classes || m.map.len() != plane {
                return Err(Error::InvalidParameter(format!(
                    "a map to score must name one of the {} images, a class below {classes} and have {plane} values",
                    images.len()
                )));
            }
        }
        if maps.is_empty() {
            return Ok(Vec::new());
        }
        let device = &self.device;
        let x = self.upload(images)?;
        let n = images.len();
        let substrate = ops::blur(x.clone().reshape([n * 3, h, w]), &config.substrate).reshape([n, 3, h, w]);

        // One view per map: its image, its substrate and its class; rows grouped by view.
        let images: Vec<usize> = maps.iter().map(|m| m.image).collect();
        let classes: Vec<i32> = maps.iter().map(|m| m.class as i32).collect();
        let mut views = Views { images: x, baseline: substrate, targets: Tensor::<2, Int>::zeros([n, 1], device), scores: None }.select(&images);
        views.targets = Tensor::from_data(TensorData::new(classes, [maps.len(), 1]), device);
        let values: Vec<f32> = maps.iter().flat_map(|m| m.map.iter().copied()).collect();
        let ranks = ops::rank(Tensor::from_data(TensorData::new(values, [maps.len(), h, w]), device));
        let steps = plane.div_ceil(config.step);
        let rows: Vec<[usize; 3]> =
            (0..maps.len()).flat_map(|m| (0..=steps).map(move |s| [m, m, (s * config.step).min(plane)])).collect();
        let parts = Parts::ranks(ranks, &rows, maps.len());
        // The class probability of every composite, in the explanation's own batches.
        let mut run = Run::start(crate::method::Timing::Total);
        let mut cx = Context { model: &self.model, device, score: Score::Probability, batch: config.batch, run: &mut run, parts: Vec::new(), stats: Vec::new() };
        let mut curves = Vec::with_capacity(2);
        for invert in [false, true] {
            let scores = perturbation::score(&mut cx, &views, &parts, invert)?;
            curves.push(scores.reshape([maps.len(), steps + 1]));
        }
        // Normalised trapezoid areas.
        let auc = |c: &Tensor<2>| {
            let ends = c.clone().slice([0..maps.len(), 0..1]) + c.clone().slice([0..maps.len(), steps..steps + 1]);
            (c.clone().sum_dim(1) - ends * 0.5) / steps as f32
        };
        let aucs: Vec<Tensor<2>> = curves.iter().map(auc).collect();
        let download = |t: Tensor<2>| {
            crate::counters::read("curves");
            t.into_data().try_into_vec::<f32>().map_err(|e| Error::Device(format!("{e:?}")))
        };
        let [insertion, deletion] = [download(curves[0].clone())?, download(curves[1].clone())?];
        let [insertion_auc, deletion_auc] = [download(aucs[0].clone())?, download(aucs[1].clone())?];
        Ok((0..maps.len())
            .map(|m| {
                let span = m * (steps + 1)..(m + 1) * (steps + 1);
                Curves {
                    insertion: insertion[span.clone()].to_vec(),
                    deletion: deletion[span].to_vec(),
                    insertion_auc: insertion_auc[m],
                    deletion_auc: deletion_auc[m],
                }
            })
            .collect())
    }
}
