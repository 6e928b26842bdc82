//! Models pami explains: the [`Model`] trait and the zoo.

pub mod bert;
pub mod convnext;
pub mod densenet;
pub mod efficientnet;
pub mod fused;
pub mod labels;
mod layers;
pub mod mobilenet;
pub mod resnet;
pub mod swin;
pub mod torchvision;
pub mod vgg;
pub mod vit;

pub use efficientnet::EfficientNetLite0;

use burn::tensor::Tensor;
use serde::Serialize;

/// Embedded weight files, aligned: Burn's CPU backend reads tensors from
/// burnpack bytes in place and panics on f32 data off a 4-byte boundary,
/// which `include_bytes!` alone does not promise.
#[repr(C, align(64))]
pub(crate) struct Aligned<T: ?Sized>(pub(crate) T);

/// `model` with the weights of an embedded burnpack file, in inference mode.
pub(crate) fn load_embedded<M: burn::store::ModuleSnapshot>(mut model: M, weights: &'static Aligned<[u8]>) -> Result<M, crate::Error> {
    let mut store = burn::store::BurnpackStore::from_static(&weights.0);
    model.load_from(&mut store).map_err(|e| crate::Error::Weights(e.to_string()))?;
    Ok(inference(&model))
}

/// `model` in inference mode: its batch norms use their running statistics
/// and its dropouts pass through even when its input is tracked by autodiff
/// (a gradient method's), as they do on a plain device. Burn builds layers in
/// training mode, which on an autodiff input would normalise each batch by
/// its own statistics.
pub(crate) fn inference<M: burn::module::Module>(model: &M) -> M {
    model.valid()
}

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

/// A function on a layer's activations `[B, C, h, w]` that a hooked forward
/// pass continues with ([`Model::forward_hooked`]): Grad-CAM's way in.
pub type Hook<'a> = &'a mut dyn FnMut(Tensor<4>) -> Tensor<4>;

/// A model pami can explain: a batch of inputs `[B, 3, H, W]` in, one
/// score column per output out. Outputs are classes for a classifier, and
/// any other scored column for other models (a captioner's words). Nothing
/// here ties a model to a backend: on a device made with
/// `Device::autodiff()` the same `forward` records gradients.
pub trait Model: Send + Sync {
    /// `[height, width]` of the input the model expects.
    fn input_size(&self) -> [usize; 2];
    /// The normalisation from pixel values in `[0, 255]` to model input.
    fn normalisation(&self) -> Normalisation;
    /// Raw outputs `[B, outputs]` (logits for a classifier) for a normalised batch `[B, 3, H, W]`.
    fn forward(&self, x: Tensor<4>) -> Tensor<2>;
    /// Output names, one per column of `forward` (class names for a classifier).
    fn class_names(&self) -> &[String];
    /// Each output's probability, from a batch of `forward`'s outputs: the
    /// softmax over the columns for a classifier's logits (the default); a
    /// model whose outputs are log-probabilities of independent events (a
    /// caption's words) returns their `exp`.
    fn probabilities(&self, outputs: Tensor<2>) -> Tensor<2> {
        burn::tensor::activation::softmax(outputs, 1)
    }
    /// Bytes of the model's largest activation for one image, which sizes
    /// batches to the device ([`crate::Runtime::batch_for`]). The default
    /// assumes 32 f32 channels at full input resolution.
    fn activation_bytes(&self) -> usize {
        let [h, w] = self.input_size();
        32 * h * w * 4
    }
    /// [`Model::forward`] through the modules with `hook` applied to the
    /// activations of [`Model::cam_layer`]; `None` for a model without one.
    fn forward_hooked(&self, _x: Tensor<4>, _hook: Hook<'_>) -> Option<Tensor<2>> {
        None
    }
    /// The layer Grad-CAM reads, by torchvision's name (`layer4`, `features`):
    /// the last convolutional stage.
    fn cam_layer(&self) -> Option<&'static str> {
        None
    }
}

/// A model with the user's class names (`--labels`) or normalisation
/// (`--mean`, `--std`) instead of its own.
pub struct Configured<M> {
    pub model: M,
    names: Option<Vec<String>>,
    normalisation: Option<Normalisation>,
}

impl<M: Model> Configured<M> {
    pub fn new(model: M) -> Self {
        Configured { model, names: None, normalisation: None }
    }

    /// Fails unless there is exactly one name per output of the model.
    pub fn with_names(mut self, names: Vec<String>) -> Result<Self, crate::Error> {
        let outputs = self.model.class_names().len();
        if names.len() != outputs {
            return Err(crate::Error::InvalidParameter(format!("{} class names for a model with {outputs} classes", names.len())));
        }
        self.names = Some(names);
        Ok(self)
    }

    /// Fails for a standard deviation that is not positive and finite.
    pub fn with_normalisation(mut self, normalisation: Normalisation) -> Result<Self, crate::Error> {
        if !normalisation.std.iter().all(|s| s.is_finite() && *s > 0.0) || !normalisation.mean.iter().all(|m| m.is_finite()) {
            return Err(crate::Error::InvalidParameter(format!("a normalisation needs finite means and positive standard deviations, not {normalisation:?}")));
        }
        self.normalisation = Some(normalisation);
        Ok(self)
    }
}

impl<M: Model> Model for Configured<M> {
    fn input_size(&self) -> [usize; 2] {
        self.model.input_size()
    }
    fn normalisation(&self) -> Normalisation {
        self.normalisation.unwrap_or_else(|| self.model.normalisation())
    }
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.model.forward(x)
    }
    fn class_names(&self) -> &[String] {
        self.names.as_deref().unwrap_or_else(|| self.model.class_names())
    }
    fn probabilities(&self, outputs: Tensor<2>) -> Tensor<2> {
        self.model.probabilities(outputs)
    }
    fn activation_bytes(&self) -> usize {
        self.model.activation_bytes()
    }
    fn forward_hooked(&self, x: Tensor<4>, hook: Hook<'_>) -> Option<Tensor<2>> {
        self.model.forward_hooked(x, hook)
    }
    fn cam_layer(&self) -> Option<&'static str> {
        self.model.cam_layer()
    }
}

/// Resolves a class of `names` given as an id or an exact (case-insensitive) name.
pub fn class_id(class: &str, names: &[String]) -> Result<usize, crate::Error> {
    let unknown = || crate::Error::UnknownClass(class.to_owned(), names.len());
    match class.trim().parse::<usize>() {
        Ok(id) if id < names.len() => Ok(id),
        Ok(_) => Err(unknown()),
        Err(_) => names.iter().position(|n| n.eq_ignore_ascii_case(class.trim())).ok_or_else(unknown),
    }
}

/// Boxed models are models, so a program can pick one at run time.
impl<M: Model + ?Sized> Model for Box<M> {
    fn input_size(&self) -> [usize; 2] {
        (**self).input_size()
    }
    fn normalisation(&self) -> Normalisation {
        (**self).normalisation()
    }
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        (**self).forward(x)
    }
    fn class_names(&self) -> &[String] {
        (**self).class_names()
    }
    fn probabilities(&self, outputs: Tensor<2>) -> Tensor<2> {
        (**self).probabilities(outputs)
    }
    fn activation_bytes(&self) -> usize {
        (**self).activation_bytes()
    }
    fn forward_hooked(&self, x: Tensor<4>, hook: Hook<'_>) -> Option<Tensor<2>> {
        (**self).forward_hooked(x, hook)
    }
    fn cam_layer(&self) -> Option<&'static str> {
        (**self).cam_layer()
    }
}
