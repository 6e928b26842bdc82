//! A small CNN for the synthetic shapes task: four 3 × 3 convolutions with
//! ReLU, three 2 × 2 max-pools, a global max-pool and a linear classifier.
//! Global max-pooling makes it indifferent to where the object is.
//!
//! The same network with any number of outputs and input side is the
//! `concept-cnn` of `pami concepts train` (DEPICT's ground-truth classifiers
//! and concept detectors).

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
    #[module(skip)]
    size: usize,
}

const WIDTHS: [usize; 5] = [3, 16, 32, 64, 64];

impl SyntheticCnn {
    /// Random initial weights (Burn's default initialisers) on `device`.
    pub fn init(device: &Device) -> Self {
        Self::with_classes(CLASSES.iter().map(|c| c.to_string()).collect(), SIZE, device)
    }

    /// Random initial weights with one output per name of `classes`, for
    /// `size × size` inputs.
    pub fn with_classes(classes: Vec<String>, size: usize, device: &Device) -> Self {
        let convs = WIDTHS
            .windows(2)
            .map(|w| Conv2dConfig::new([w[0], w[1]], [3, 3]).with_padding(PaddingConfig2d::Same).init(device))
            .collect();
        SyntheticCnn {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc: LinearConfig::new(WIDTHS[4], classes.len()).init(device),
            classes,
            size,
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

    /// A `concept-cnn` burnpack of `pami concepts train`: its outputs are
    /// read from the file, their names from `names` (or `0`, `1`, …).
    pub fn load_concept(path: &Path, names: Option<Vec<String>>, size: usize, device: &Device) -> Result<Self, Error> {
        use burn::store::ModuleStore;
        if !path.is_file() {
            return Err(Error::Weights(format!("{}: no such file", path.display())));
        }
        let mut store = burn::store::BurnpackStore::from_file(path);
        let bad = |e: String| Error::Weights(format!("{}: {e}", path.display()));
        let fc = store.get_tensor("fc.weight").map_err(|e| bad(e.to_string()))?.ok_or_else(|| bad("not a concept-cnn burnpack (no fc.weight)".into()))?;
        let outputs = *fc.shape.last().ok_or_else(|| bad("fc.weight has no shape".into()))?;
        let names = names.unwrap_or_else(|| (0..outputs).map(|k| k.to_string()).collect());
        if names.len() != outputs {
            return Err(bad(format!("{} names for {outputs} outputs", names.len())));
        }
        super::backbone::load_into(Self::with_classes(names, size, device), path)
    }

    pub fn save(&self, path: &Path) -> Result<(), Error> {
        super::backbone::save_from(self, path)
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
        [self.size, self.size]
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
