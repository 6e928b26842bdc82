//! The synthetic task's backbones: the small CNN pami embeds, torchvision's
//! ResNet-18 and a small ViT, each trained in Burn on the same samples
//! (`pami train-synthetic --backbone NAME`), so that one explanation method
//! can be scored on architectures that see an image differently.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use burn::module::Module;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::{Device, Tensor};

use super::{CLASSES, SIZE, SyntheticCnn};
use crate::model::fused::{self, Plan};
use crate::model::resnet::ResNet;
use crate::model::vit::VisionTransformer;
use crate::{Error, Model, Normalisation};

/// Pixels 0..255 to roughly [−2, 2], for every backbone.
pub const NORMALISATION: Normalisation = Normalisation { mean: [127.5; 3], std: [64.0; 3] };

/// The small ViT: (patch, layers, heads, width, MLP width). 8×8 patches
/// make a 64² image 64 tokens; an object spans two or three patches a side.
pub const VIT_LAYOUT: (usize, usize, usize, usize, usize) = (8, 4, 4, 128, 256);

/// A model that scores a normalised batch `[B, 3, 64, 64]`.
pub trait Classifier: Module + Clone {
    fn logits(&self, x: Tensor<4>) -> Tensor<2>;
}

impl Classifier for SyntheticCnn {
    fn logits(&self, x: Tensor<4>) -> Tensor<2> {
        SyntheticCnn::logits(self, x)
    }
}

impl Classifier for ResNet {
    fn logits(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward(x)
    }
}

impl Classifier for VisionTransformer {
    fn logits(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward(x)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backbone {
    /// Four 3×3 convolutions and a global max-pool ([`SyntheticCnn`]).
    Cnn,
    /// torchvision's ResNet-18 with four classes.
    ResNet18,
    /// A ViT of [`VIT_LAYOUT`].
    Vit,
}

impl Backbone {
    pub const ALL: [Backbone; 3] = [Backbone::Cnn, Backbone::ResNet18, Backbone::Vit];

    pub fn name(self) -> &'static str {
        match self {
            Backbone::Cnn => "cnn",
            Backbone::ResNet18 => "resnet18",
            Backbone::Vit => "vit",
        }
    }

    /// Where `models/` keeps its trained weights.
    pub fn weights_file(self) -> &'static str {
        match self {
            Backbone::Cnn => "models/synthetic_shapes.bpk",
            Backbone::ResNet18 => "models/synthetic_resnet18.bpk",
            Backbone::Vit => "models/synthetic_vit.bpk",
        }
    }
}

impl FromStr for Backbone {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Backbone::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| Error::InvalidParameter(format!("unknown backbone `{s}`: use cnn, resnet18 or vit")))
    }
}

/// A backbone with its weights, as a [`Model`] pami explains.
#[derive(Debug)]
pub enum SyntheticModel {
    Cnn(SyntheticCnn),
    /// With its fused CPU plan once loaded on the CPU (`crate::model::fused`).
    ResNet18(ResNet, Option<Arc<Plan>>),
    Vit(VisionTransformer),
}

/// Names of the four classes.
fn class_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| CLASSES.iter().map(|c| c.to_string()).collect())
}

/// `model` with the weights of the burnpack file at `path`.
pub(crate) fn load_into<M: ModuleSnapshot>(mut model: M, path: &Path) -> Result<M, Error> {
    if !path.is_file() {
        return Err(Error::Weights(format!("{}: no such file", path.display())));
    }
    let mut store = BurnpackStore::from_file(path);
    model.load_from(&mut store).map_err(|e| Error::Weights(format!("{}: {e}", path.display())))?;
    Ok(crate::model::inference(&model))
}

pub(crate) fn save_from<M: ModuleSnapshot>(model: &M, path: &Path) -> Result<(), Error> {
    let mut store = BurnpackStore::from_file(path).overwrite(true);
    model.save_into(&mut store).map_err(|e| Error::Weights(format!("{}: {e}", path.display())))
}

impl SyntheticModel {
    /// `backbone` with initial weights on `device` (an autodiff device to train it).
    pub fn init(backbone: Backbone, device: &Device) -> Self {
        match backbone {
            Backbone::Cnn => SyntheticModel::Cnn(SyntheticCnn::init(device)),
            Backbone::ResNet18 => SyntheticModel::ResNet18(ResNet::init(ResNet::layout(18).expect("a ResNet depth"), CLASSES.len(), device), None),
            Backbone::Vit => SyntheticModel::Vit(VisionTransformer::with_layout(VIT_LAYOUT, SIZE, CLASSES.len(), device)),
        }
    }

    /// `backbone` with the weights of a burnpack file `pami train-synthetic` wrote.
    pub fn load(backbone: Backbone, path: &Path, device: &Device) -> Result<Self, Error> {
        Ok(match Self::init(backbone, device) {
            SyntheticModel::Cnn(m) => SyntheticModel::Cnn(load_into(m, path)?),
            SyntheticModel::ResNet18(m, _) => {
                let m = load_into(m, path)?;
                let plan = fused::for_device(device, || m.plan());
                SyntheticModel::ResNet18(m, plan)
            }
            SyntheticModel::Vit(m) => SyntheticModel::Vit(load_into(m, path)?),
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), Error> {
        match self {
            SyntheticModel::Cnn(m) => save_from(m, path),
            SyntheticModel::ResNet18(m, _) => save_from(m, path),
            SyntheticModel::Vit(m) => save_from(m, path),
        }
    }

    pub fn backbone(&self) -> Backbone {
        match self {
            SyntheticModel::Cnn(_) => Backbone::Cnn,
            SyntheticModel::ResNet18(..) => Backbone::ResNet18,
            SyntheticModel::Vit(_) => Backbone::Vit,
        }
    }
}

impl Model for SyntheticModel {
    fn input_size(&self) -> [usize; 2] {
        [SIZE, SIZE]
    }
    fn normalisation(&self) -> Normalisation {
        NORMALISATION
    }
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            SyntheticModel::Cnn(m) => m.logits(x),
            SyntheticModel::ResNet18(m, plan) => match fused::for_input(plan, &x) {
                Some(plan) => plan.forward(x),
                None => m.forward(x),
            },
            SyntheticModel::Vit(m) => m.forward(x),
        }
    }
    fn class_names(&self) -> &[String] {
        class_names()
    }
    fn forward_hooked(&self, x: Tensor<4>, hook: crate::model::Hook<'_>) -> Option<Tensor<2>> {
        Some(match self {
            SyntheticModel::Cnn(m) => m.logits_hooked(x, hook),
            SyntheticModel::ResNet18(m, _) => m.forward_hooked(x, hook),
            SyntheticModel::Vit(m) => m.forward_hooked(x, hook),
        })
    }
    fn cam_layer(&self) -> Option<&'static str> {
        match self {
            SyntheticModel::Cnn(m) => m.cam_layer(),
            SyntheticModel::ResNet18(..) => Some("layer4"),
            SyntheticModel::Vit(_) => Some("encoder.layers[-1].ln_1"),
        }
    }
}
