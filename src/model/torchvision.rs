//! torchvision's architectures (`--model resnet50 --weights FILE`): the
//! weights of a `state_dict` saved with `torch.save` (`.pth`), or the same
//! tensors in `.safetensors`, checked tensor by tensor.

use std::path::Path;

use burn::store::{ApplyError, ApplyResult, KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, PytorchStore, SafetensorsStore};
use burn::tensor::{Device, Tensor};

use super::resnet::ResNet;
use super::vgg::Vgg;
use super::{Model, Normalisation, labels};
use crate::Error;

/// ImageNet's mean and standard deviation on pixels scaled to [0, 1]
/// (torchvision's `transforms.Normalize`), here on pixel values 0..255.
pub const IMAGENET: Normalisation =
    Normalisation { mean: [0.485 * 255.0, 0.456 * 255.0, 0.406 * 255.0], std: [0.229 * 255.0, 0.224 * 255.0, 0.225 * 255.0] };

/// The architectures, by torchvision's names.
pub const NAMES: [&str; 13] = [
    "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg13_bn", "vgg16_bn",
    "vgg19_bn",
];

#[derive(Debug)]
enum Net {
    ResNet(ResNet),
    Vgg(Vgg),
}

/// A torchvision classifier with its weights.
#[derive(Debug)]
pub struct Torchvision {
    name: String,
    net: Net,
    classes: Vec<String>,
    input: [usize; 2],
}

impl Torchvision {
    /// `name` (torchvision's, e.g. `resnet50`) with `classes` outputs and
    /// untrained weights; an error for a name pami does not have.
    pub fn init(name: &str, classes: usize, device: &Device) -> Result<Self, Error> {
        let unknown = || Error::InvalidParameter(format!("unknown model `{name}`: torchvision architectures are {}", NAMES.join(", ")));
        if !NAMES.contains(&name) {
            return Err(unknown());
        }
        if classes == 0 {
            return Err(Error::InvalidParameter("a model needs at least one class".into()));
        }
        let depth = |prefix: &str, rest: &str| rest.strip_prefix(prefix).and_then(|d| d.parse::<usize>().ok());
        let net = if let Some(depth) = depth("resnet", name) {
            Net::ResNet(ResNet::init(ResNet::layout(depth).ok_or_else(unknown)?, classes, device))
        } else if let Some(depth) = depth("vgg", name.strip_suffix("_bn").unwrap_or(name)) {
            Net::Vgg(Vgg::init(depth, name.ends_with("_bn"), classes, device).ok_or_else(unknown)?)
        } else {
            return Err(unknown());
        };
        let classes_names = if classes == 1000 { labels::imagenet() } else { (0..classes).map(|c| format!("class {c}")).collect() };
        Ok(Torchvision { name: name.to_owned(), net, classes: classes_names, input: [224, 224] })
    }

    /// [`Self::init`] with the weights of `path`.
    pub fn load(name: &str, classes: usize, path: &Path, device: &Device) -> Result<Self, Error> {
        let mut model = Self::init(name, classes, device)?;
        match &mut model.net {
            Net::ResNet(net) => load_state_dict(net, path, &resnet_names())?,
            Net::Vgg(net) => {
                let names = net.torch_names();
                load_state_dict(net, path, &names)?
            }
        }
        Ok(model)
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Model for Torchvision {
    fn input_size(&self) -> [usize; 2] {
        self.input
    }
    fn normalisation(&self) -> Normalisation {
        IMAGENET
    }
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        match &self.net {
            Net::ResNet(net) => net.forward(x),
            Net::Vgg(net) => net.forward(x),
        }
    }
    fn class_names(&self) -> &[String] {
        &self.classes
    }
    /// ResNet's stem (64 channels at half the input size); VGG's first
    /// convolutions (64 channels at the input size).
    fn activation_bytes(&self) -> usize {
        let [h, w] = self.input;
        match self.net {
            Net::ResNet(_) => 64 * (h / 2) * (w / 2) * 4,
            Net::Vgg(_) => 64 * h * w * 4,
        }
    }
}

/// (pami's name, torchvision's name) of the tensors that differ, as
/// fragments of a path.
type Names = [(String, String)];

fn resnet_names() -> Vec<(String, String)> {
    [("downsample.conv.", "downsample.0."), ("downsample.bn.", "downsample.1.")].map(|(a, b)| (a.to_owned(), b.to_owned())).to_vec()
}

/// torchvision's name of a tensor pami calls `path` (norm layers' `gamma`
/// and `beta` are torch's `weight` and `bias`).
fn torch_name(path: &str, names: &Names) -> String {
    let mut name = names.iter().find(|(ours, _)| path.contains(ours.as_str())).map_or(path.to_owned(), |(ours, theirs)| path.replacen(ours.as_str(), theirs, 1));
    for (ours, theirs) in [(".gamma", ".weight"), (".beta", ".bias")] {
        if let Some(stem) = name.strip_suffix(ours) {
            name = format!("{stem}{theirs}");
        }
    }
    name
}

/// A shape as torch has it: a linear layer's weight is `[out, in]`, pami's `[in, out]`.
fn torch_shape(path: &str, shape: &[usize]) -> String {
    let mut dims = shape.to_vec();
    if dims.len() == 2 && path.ends_with(".weight") {
        dims.reverse();
    }
    format!("{dims:?}")
}

/// Loads every tensor of the `state_dict` at `path` into `model`: one error
/// naming the first tensor that is missing, unexpected or of another shape
/// (with both shapes), and how many more there are.
fn load_state_dict<M: ModuleSnapshot>(model: &mut M, path: &Path, names: &Names) -> Result<(), Error> {
    if !path.is_file() {
        return Err(Error::Weights(format!("{}: no such file", path.display())));
    }
    let file = path.display();
    let fail = |e: &dyn std::fmt::Display| Error::Weights(format!("{file}: {e}"));
    let safetensors = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("safetensors"));
    // torch's names to pami's, the same for both formats.
    let remapper = names
        .iter()
        .try_fold(KeyRemapper::new(), |r, (ours, theirs)| r.add_pattern(regex_escape(theirs), ours.as_str()))
        .map_err(|e| fail(&e))?;
    let result: ApplyResult = if safetensors {
        let mut store = SafetensorsStore::from_file(path)
            .with_from_adapter(PyTorchToBurnAdapter)
            .skip_enum_variants(true)
            .map_indices_contiguous(true)
            .validate(false)
            .allow_partial(true)
            .remap(remapper);
        model.load_from(&mut store).map_err(|e| fail(&e))?
    } else {
        let mut store = PytorchStore::from_file(path).validate(false).allow_partial(true).remap(remapper);
        model.load_from(&mut store).map_err(|e| fail(&e))?
    };
    let more = |n: usize| if n > 1 { format!(" (and {} more)", n - 1) } else { String::new() };
    if let Some(error) = result.errors.first() {
        let message = match error {
            ApplyError::ShapeMismatch { path, expected, found } => format!(
                "tensor `{}` has shape {} in the file, the model expects {}",
                torch_name(path, names),
                torch_shape(path, found),
                torch_shape(path, expected)
            ),
            other => other.to_string(),
        };
        return Err(Error::Weights(format!("{file}: {message}{}", more(result.errors.len()))));
    }
    if let Some((path, _)) = result.missing.first() {
        return Err(Error::Weights(format!("{file}: no tensor `{}`{}", torch_name(path, names), more(result.missing.len()))));
    }
    let unexpected: Vec<&String> = result.unused.iter().filter(|u| !u.ends_with("num_batches_tracked")).collect();
    if let Some(name) = unexpected.first() {
        return Err(Error::Weights(format!("{file}: unexpected tensor `{}`{}", torch_name(name, names), more(unexpected.len()))));
    }
    Ok(())
}

fn regex_escape(text: &str) -> String {
    text.chars().flat_map(|c| if c.is_ascii_alphanumeric() || c == '_' { vec![c] } else { vec!['\\', c] }).collect()
}
