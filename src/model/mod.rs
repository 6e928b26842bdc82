//! Models pami explains: the [`Model`] trait and the zoo.

pub mod efficientnet;
pub mod labels;

pub use efficientnet::EfficientNetLite0;

use burn::tensor::Tensor;
use serde::Serialize;

/// Per-channel input normalisation `(x − mean) / std`, applied by the
/// compose kernel to pixel values in `[0, 255]`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Normalisation {
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Normalisation {
    /// EfficientNet-Lite's `(x − 127) / 128`.
    pub const LITE: Normalisation = Normalisation { mean: [127.0; 3], std: [128.0; 3] };

    /// Normalises a raw `[3, H, W]` or `[B, 3, H, W]` tensor on its device.
    pub fn apply<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        let device = x.device();
        let mut shape = [1usize; D];
        shape[D - 3] = 3;
        let mean = Tensor::<1>::from_floats(self.mean, &device).reshape(shape);
        let std = Tensor::<1>::from_floats(self.std, &device).reshape(shape);
        (x - mean) / std
    }
}

/// A classifier pami can explain: RGB images in, one logit per class out.
pub trait Model: Send + Sync {
    /// `[height, width]` of the input the model expects.
    fn input_size(&self) -> [usize; 2];
    /// The normalisation from pixel values in `[0, 255]` to model input.
    fn normalisation(&self) -> Normalisation;
    /// Logits `[B, classes]` for a normalised batch `[B, 3, H, W]`.
    fn forward(&self, x: Tensor<4>) -> Tensor<2>;
    /// Class names, one per logit.
    fn class_names(&self) -> &[String];
}
