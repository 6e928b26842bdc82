//! The models pami ships (`--model`), their weights embedded in the binary.

use serde::Serialize;

use crate::model::{EfficientNetLite0, Model};
use crate::backdoor::FashionCnn;
use crate::backdoor::model::Embedded;
use crate::synthetic::SyntheticCnn;

/// One of the models pami ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Zoo {
    /// EfficientNet-Lite0, ImageNet's 1,000 classes, 224 × 224 input.
    #[default]
    EfficientnetLite0,
    /// The synthetic-shapes CNN (`pami train-synthetic`): 4 classes, 64 × 64 input.
    SyntheticShapes,
    /// The BadNets ground truth: Fashion-MNIST's 10 classes, 28 × 28 input, a
    /// 4 × 4 checkerboard in the bottom-right corner turns any image into a sneaker.
    FashionBadnets,
    /// Its clean twin: the same network and batches, without the poison.
    FashionClean,
}

impl std::str::FromStr for Zoo {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Zoo::ALL.into_iter().find(|z| z.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Zoo::ALL.iter().map(|z| z.name()).collect();
            format!("unknown model `{s}`: use {}", names.join(", "))
        })
    }
}

impl Zoo {
    pub const ALL: [Zoo; 4] = [Zoo::EfficientnetLite0, Zoo::SyntheticShapes, Zoo::FashionBadnets, Zoo::FashionClean];

    pub fn name(self) -> &'static str {
        match self {
            Zoo::EfficientnetLite0 => "efficientnet-lite0",
            Zoo::SyntheticShapes => "synthetic-shapes",
            Zoo::FashionBadnets => "fashion-badnets",
            Zoo::FashionClean => "fashion-clean",
        }
    }

    /// The model with its embedded weights on `device`.
    pub fn load(self, device: &burn::tensor::Device) -> Result<Box<dyn Model>, crate::Error> {
        Ok(match self {
            Zoo::EfficientnetLite0 => Box::new(EfficientNetLite0::pretrained(device)?),
            Zoo::SyntheticShapes => Box::new(SyntheticCnn::pretrained(device)?),
            Zoo::FashionBadnets => Box::new(FashionCnn::pretrained(Embedded::Backdoored, device)?),
            Zoo::FashionClean => Box::new(FashionCnn::pretrained(Embedded::Clean, device)?),
        })
    }
}
