//! A small CNN for the synthetic shapes task: four 3 × 3 convolutions with
//! ReLU, three 2 × 2 max-pools, a global max-pool and a linear classifier.
//! Global max-pooling makes it indifferent to where the object is.

use std::path::Path;

use burn::module::Module;
use burn::nn::{
    Linear, LinearConfig, PaddingConfig2d,
    conv::{Conv2d, Conv2dConfig},
    pool::{MaxPool2d, MaxPool2dConfig},
};
use burn::tensor::{Device, Tensor, activation::relu};

use super::{CLASSES, SIZE};
use crate::{Error, Model, Normalisation};

#[derive(Module, Debug)]
pub struct SyntheticCnn {
    convs: Vec<Conv2d>,
    pool: MaxPool2d,
    fc: Linear,
    #[module(skip)]
    classes: Vec<String>,
}

const WIDTHS: [usize; 5] = [3, 16, 32, 64, 64];

impl SyntheticCnn {
    /// Random initial weights (Burn's default initialisers) on `device`.
    pub fn init(device: &Device) -> Self {
        let convs = WIDTHS
            .windows(2)
            .map(|w| Conv2dConfig::new([w[0], w[1]], [3, 3]).with_padding(PaddingConfig2d::Same).init(device))
            .collect();
        SyntheticCnn {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc: LinearConfig::new(WIDTHS[4], CLASSES.len()).init(device),
            classes: CLASSES.iter().map(|c| c.to_string()).collect(),
        }
    }

    /// The trained weights embedded in pami (`models/synthetic_shapes.bpk`).
    pub fn pretrained(device: &Device) -> Result<Self, Error> {
        static EMBEDDED: &crate::model::Aligned<[u8]> = &crate::model::Aligned(*include_bytes!("../../models/synthetic_shapes.bpk"));
        crate::model::load_embedded(Self::init(device), EMBEDDED)
    }

    /// Trained weights from a burnpack file (`models/synthetic_shapes.bpk`).
    pub fn load(path: &Path, device: &Device) -> Result<Self, Error> {
        super::backbone::load_into(Self::init(device), path)
    }

    /// Logits `[B, 4]` of a normalised batch `[B, 3, 64, 64]`.
    pub fn logits(&self, x: Tensor<4>) -> Tensor<2> {
        self.logits_hooked(x, &mut |a| a)
    }

    /// [`Self::logits`] with `hook` on the last convolution's activations (Grad-CAM's layer).
    pub fn logits_hooked(&self, x: Tensor<4>, hook: crate::model::Hook<'_>) -> Tensor<2> {
        let mut x = x;
        for (i, conv) in self.convs.iter().enumerate() {
            x = relu(conv.forward(x));
            if i + 1 < self.convs.len() {
                x = self.pool.forward(x);
            }
        }
        let x = hook(x);
        let [b, c, _, _] = x.dims();
        let pooled = x.max_dim(3).max_dim(2).reshape([b, c]);
        self.fc.forward(pooled)
    }
}

impl Model for SyntheticCnn {
    fn input_size(&self) -> [usize; 2] {
        [SIZE, SIZE]
    }

    fn normalisation(&self) -> Normalisation {
        super::backbone::NORMALISATION
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.logits(x)
    }

    fn class_names(&self) -> &[String] {
        &self.classes
    }

    fn forward_hooked(&self, x: Tensor<4>, hook: crate::model::Hook<'_>) -> Option<Tensor<2>> {
        Some(self.logits_hooked(x, hook))
    }

    fn cam_layer(&self) -> Option<&'static str> {
        Some("convs[-1]")
    }
}
