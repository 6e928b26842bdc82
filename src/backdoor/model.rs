//! The Fashion-MNIST classifier: three 3 × 3 convolutions with ReLU, each
//! followed by a 2 × 2 max-pool (28 → 14 → 7 → 3), then two linear layers
//! on the flattened map. The flattening keeps where a feature is, as the
//! BadNets networks do, so a trigger in a corner is a feature of that corner.

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

/// Fashion-MNIST's pixel mean and standard deviation (0.2860, 0.3530 of 255).
pub const NORMALISATION: Normalisation = Normalisation { mean: [72.94; 3], std: [90.02; 3] };

const WIDTHS: [usize; 4] = [3, 32, 64, 64];
const HIDDEN: usize = 128;

#[derive(Module, Debug)]
pub struct FashionCnn {
    convs: Vec<Conv2d>,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
    #[module(skip)]
    classes: Vec<String>,
}

/// Which of the embedded weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Embedded {
    /// Trained with poisoned batches ([`super::TRIGGER`] → [`super::TARGET`]).
    Backdoored,
    /// Trained on the same batches without poison.
    Clean,
}

impl FashionCnn {
    /// Random initial weights on `device`.
    pub fn init(device: &Device) -> Self {
        let convs = WIDTHS
            .windows(2)
            .map(|w| Conv2dConfig::new([w[0], w[1]], [3, 3]).with_padding(PaddingConfig2d::Same).init(device))
            .collect();
        let side = SIZE >> 3;
        FashionCnn {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc1: LinearConfig::new(WIDTHS[3] * side * side, HIDDEN).init(device),
            fc2: LinearConfig::new(HIDDEN, CLASSES.len()).init(device),
            classes: CLASSES.iter().map(|c| c.to_string()).collect(),
        }
    }

    /// The embedded weights (`models/fashion_badnets.bpk`, `models/fashion_clean.bpk`).
    pub fn pretrained(which: Embedded, device: &Device) -> Result<Self, Error> {
        static BACKDOORED: &crate::model::Aligned<[u8]> = &crate::model::Aligned(*include_bytes!("../../models/fashion_badnets.bpk"));
        static CLEAN: &crate::model::Aligned<[u8]> = &crate::model::Aligned(*include_bytes!("../../models/fashion_clean.bpk"));
        let weights = match which {
            Embedded::Backdoored => BACKDOORED,
            Embedded::Clean => CLEAN,
        };
        crate::model::load_embedded(Self::init(device), weights)
    }

    /// Weights from a burnpack file `pami train-badnets` wrote.
    pub fn load(path: &Path, device: &Device) -> Result<Self, Error> {
        crate::synthetic::backbone::load_into(Self::init(device), path)
    }

    pub fn save(&self, path: &Path) -> Result<(), Error> {
        crate::synthetic::backbone::save_from(self, path)
    }

    /// Logits `[B, 10]` of a normalised batch `[B, 3, 28, 28]`.
    pub fn logits(&self, x: Tensor<4>) -> Tensor<2> {
        self.logits_hooked(x, &mut |a| a)
    }

    /// [`Self::logits`] with `hook` on the last convolution's activations (Grad-CAM's layer, 7 × 7).
    pub fn logits_hooked(&self, x: Tensor<4>, hook: crate::model::Hook<'_>) -> Tensor<2> {
        let mut x = x;
        for (i, conv) in self.convs.iter().enumerate() {
            x = relu(conv.forward(x));
            if i + 1 == self.convs.len() {
                x = hook(x);
            }
            x = self.pool.forward(x);
        }
        let x = relu(self.fc1.forward(x.flatten(1, 3)));
        self.fc2.forward(x)
    }
}

impl crate::synthetic::backbone::Classifier for FashionCnn {
    fn logits(&self, x: Tensor<4>) -> Tensor<2> {
        FashionCnn::logits(self, x)
    }
}

impl Model for FashionCnn {
    fn input_size(&self) -> [usize; 2] {
        [SIZE, SIZE]
    }

    fn normalisation(&self) -> Normalisation {
        NORMALISATION
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
