//! torchvision's architectures (`--model resnet50 --weights FILE`): the
//! weights of a `state_dict` saved with `torch.save` (`.pth`), or the same
//! tensors in `.safetensors`, checked tensor by tensor.

use std::path::Path;
use std::sync::Arc;

use burn::store::{
    ApplyError, ApplyResult, KeyRemapper, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter,
    PytorchStore, SafetensorsStore,
};
use burn::tensor::{Device, Tensor};

use super::convnext::ConvNeXt;
use super::fused::{self, Plan};
use super::densenet::DenseNet;
use super::mobilenet::MobileNetV2;
use super::resnet::ResNet;
use super::swin::Swin;
use super::vgg::Vgg;
use super::vit::{self, VisionTransformer};
use super::{Hook, Model, Normalisation, labels};
use crate::Error;

/// ImageNet's mean and standard deviation on pixels scaled to [0, 1]
/// (torchvision's `transforms.Normalize`), here on pixel values 0..255.
pub const IMAGENET: Normalisation = Normalisation {
    mean: [0.485 * 255.0, 0.456 * 255.0, 0.406 * 255.0],
    std: [0.229 * 255.0, 0.224 * 255.0, 0.225 * 255.0],
};

/// The architectures, by torchvision's names.
pub const NAMES: [&str; 29] = [
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "vgg11",
    "vgg13",
    "vgg16",
    "vgg19",
    "vgg11_bn",
    "vgg13_bn",
    "vgg16_bn",
    "vgg19_bn",
    "densenet121",
    "densenet161",
    "densenet169",
    "densenet201",
    "mobilenet_v2",
    "convnext_tiny",
    "convnext_small",
    "convnext_base",
    "convnext_large",
    "vit_b_16",
    "vit_b_32",
    "vit_l_16",
    "vit_l_32",
    "swin_t",
    "swin_s",
    "swin_b",
];

/// The side torchvision's classifiers are trained at.
const DEFAULT_SIZE: usize = 224;

/// The smallest input side pami accepts: every architecture's feature
/// maps stay at least 1×1 down to its last stage.
const MIN_SIZE: usize = 32;

#[derive(Debug)]
enum Net {
    ResNet(ResNet),
    Vgg(Vgg),
    DenseNet(DenseNet),
    MobileNetV2(MobileNetV2),
    ConvNeXt(ConvNeXt),
    Vit(VisionTransformer),
    Swin(Swin),
}

impl Net {
    /// The architecture `name` with untrained weights; a ViT with the
    /// position embeddings of a `side`-pixel input.
    fn init(name: &str, classes: usize, side: usize, device: &Device) -> Option<Net> {
        let number = |prefix: &str, rest: &str| {
            rest.strip_prefix(prefix)
                .and_then(|d| d.parse::<usize>().ok())
        };
        Some(if let Some(depth) = number("resnet", name) {
            Net::ResNet(ResNet::init(ResNet::layout(depth)?, classes, device))
        } else if let Some(depth) = number("vgg", name.strip_suffix("_bn").unwrap_or(name)) {
            Net::Vgg(Vgg::init(depth, name.ends_with("_bn"), classes, device)?)
        } else if let Some(depth) = number("densenet", name) {
            Net::DenseNet(DenseNet::init(depth, classes, device)?)
        } else if name == "mobilenet_v2" {
            Net::MobileNetV2(MobileNetV2::init(classes, device))
        } else if let Some(size) = name.strip_prefix("convnext_") {
            Net::ConvNeXt(ConvNeXt::init(size, classes, device)?)
        } else if let Some(variant) = name.strip_prefix("vit_") {
            Net::Vit(VisionTransformer::init(variant, side, classes, device)?)
        } else if let Some(size) = name.strip_prefix("swin_") {
            Net::Swin(Swin::init(size, classes, device)?)
        } else {
            return None;
        })
    }

    /// (pami's name, torchvision's name) of the tensors that differ.
    fn torch_names(&self) -> Vec<(String, String)> {
        match self {
            Net::ResNet(_) => [
                ("downsample.conv.", "downsample.0."),
                ("downsample.bn.", "downsample.1."),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .to_vec(),
            Net::Vgg(net) => net.torch_names(),
            Net::DenseNet(net) => net.torch_names(),
            Net::MobileNetV2(net) => net.torch_names(),
            Net::ConvNeXt(net) => net.torch_names(),
            Net::Vit(net) => net.torch_names(),
            Net::Swin(net) => net.torch_names(),
        }
    }

    /// The fused CPU plan of the convolutional families.
    fn plan(&self) -> Option<Plan> {
        match self {
            Net::ResNet(net) => net.plan(),
            Net::Vgg(net) => net.plan(),
            Net::DenseNet(net) => net.plan(),
            Net::MobileNetV2(net) => net.plan(),
            Net::ConvNeXt(net) => net.plan(),
            Net::Vit(_) | Net::Swin(_) => None,
        }
    }

    fn load(&mut self, store: &mut Store) -> Result<ApplyResult, Error> {
        match self {
            Net::ResNet(net) => store.apply(net),
            Net::Vgg(net) => store.apply(net),
            Net::DenseNet(net) => store.apply(net),
            Net::MobileNetV2(net) => store.apply(net),
            Net::ConvNeXt(net) => store.apply(net),
            Net::Vit(net) => store.apply(net),
            Net::Swin(net) => store.apply(net),
        }
    }
}

/// A torchvision classifier with its weights.
#[derive(Debug)]
pub struct Torchvision {
    name: String,
    net: Net,
    classes: Vec<String>,
    input: [usize; 2],
    /// The fused CPU forward (`super::fused`), built once the weights are set on the CPU.
    fused: Option<Arc<Plan>>,
}

impl Torchvision {
    /// `name` (torchvision's, e.g. `resnet50`) with `classes` outputs and
    /// untrained weights, for 224×224 inputs; an error for a name pami does not have.
    pub fn init(name: &str, classes: usize, device: &Device) -> Result<Self, Error> {
        Self::init_at(name, classes, DEFAULT_SIZE, device)
    }

    fn init_at(name: &str, classes: usize, side: usize, device: &Device) -> Result<Self, Error> {
        let unknown = || {
            Error::InvalidParameter(format!(
                "unknown model `{name}`: torchvision architectures are {}",
                NAMES.join(", ")
            ))
        };
        if !NAMES.contains(&name) {
            return Err(unknown());
        }
        if classes == 0 {
            return Err(Error::InvalidParameter(
                "a model needs at least one class".into(),
            ));
        }
        let net = Net::init(name, classes, side, device).ok_or_else(unknown)?;
        let classes_names = if classes == 1000 {
            labels::imagenet()
        } else {
            (0..classes).map(|c| format!("class {c}")).collect()
        };
        Ok(Torchvision {
            name: name.to_owned(),
            net,
            classes: classes_names,
            input: [DEFAULT_SIZE; 2],
            fused: None,
        }
        .fuse(device))
    }

    /// [`Self::init`] with the weights of `path`. A ViT takes the input
    /// size its position embeddings were trained at (224 for torchvision's
    /// own, `image_size` for one built with another).
    pub fn load(name: &str, classes: usize, path: &Path, device: &Device) -> Result<Self, Error> {
        let mut model = Self::init(name, classes, device)?;
        let mut store = Store::open(path, &model.net.torch_names())?;
        if let Net::Vit(vit) = &model.net {
            let side = store.vit_side(vit.patch())?;
            if side != DEFAULT_SIZE {
                model = Self::init_at(name, classes, side, device)?;
            }
            model.input = [side; 2];
        }
        let result = model.net.load(&mut store)?;
        store.check(&result)?;
        Ok(model.fuse(device))
    }

    /// The model for `[height, width]` inputs. Convolutional networks and
    /// Swin take any size from 32×32 (Swin pads its maps to whole windows);
    /// a ViT takes squares whose side is a multiple of its patch, its
    /// position embeddings interpolated (bicubic, corners aligned) as
    /// torchvision's `interpolate_embeddings` does.
    pub fn with_input_size(mut self, [height, width]: [usize; 2]) -> Result<Self, Error> {
        if height.min(width) < MIN_SIZE {
            return Err(Error::InvalidParameter(format!(
                "{}: an input of {height}×{width} is smaller than {MIN_SIZE}×{MIN_SIZE}",
                self.name
            )));
        }
        if let Net::Vit(vit) = &mut self.net {
            let patch = vit.patch();
            if height != width || height % patch != 0 {
                return Err(Error::InvalidParameter(format!(
                    "{} takes square inputs whose side is a multiple of {patch} (as torchvision's), not {height}×{width}",
                    self.name
                )));
            }
            if height / patch != vit.grid() {
                let pos = vit::interpolate_pos_embedding(vit.pos_embedding(), height / patch);
                vit.set_pos_embedding(pos);
            }
        }
        self.input = [height, width];
        Ok(self)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `self` with the fused plan of its current weights when it lives on the CPU.
    fn fuse(mut self, device: &Device) -> Self {
        self.fused = fused::for_device(device, || self.net.plan());
        self
    }

    /// Whether [`Model::forward`] runs the fused CPU plan (a CNN on the CPU)
    /// rather than Burn's modules.
    pub fn runs_fused(&self) -> bool {
        self.fused.is_some()
    }

    /// The forward pass through Burn's modules (any device; the reference for the fused plan).
    pub fn forward_modules(&self, x: Tensor<4>) -> Tensor<2> {
        match &self.net {
            Net::ResNet(net) => net.forward(x),
            Net::Vgg(net) => net.forward(x),
            Net::DenseNet(net) => net.forward(x),
            Net::MobileNetV2(net) => net.forward(x),
            Net::ConvNeXt(net) => net.forward(x),
            Net::Vit(net) => net.forward(x),
            Net::Swin(net) => net.forward(x),
        }
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
        if let Some(plan) = fused::for_input(&self.fused, &x) {
            return plan.forward(x);
        }
        self.forward_modules(x)
    }
    fn class_names(&self) -> &[String] {
        &self.classes
    }
    /// The largest activation of one image: the stem's maps for the
    /// CNNs, the first stage's MLP for ConvNeXt and Swin, the MLP or the
    /// attention scores for a ViT.
    fn activation_bytes(&self) -> usize {
        let [h, w] = self.input;
        4 * match &self.net {
            Net::ResNet(_) | Net::DenseNet(_) => 64 * (h / 2) * (w / 2),
            Net::Vgg(_) => 64 * h * w,
            Net::MobileNetV2(_) => 96 * (h / 2) * (w / 2),
            Net::ConvNeXt(_) | Net::Swin(_) => 4 * 96 * (h / 4) * (w / 4),
            Net::Vit(net) => {
                let tokens = 1 + (h / net.patch()) * (w / net.patch());
                (4 * 1024 * tokens).max(16 * tokens * tokens)
            }
        }
    }
    fn forward_hooked(&self, x: Tensor<4>, hook: Hook<'_>) -> Option<Tensor<2>> {
        Some(match &self.net {
            Net::ResNet(net) => net.forward_hooked(x, hook),
            Net::Vgg(net) => net.forward_hooked(x, hook),
            Net::DenseNet(net) => net.forward_hooked(x, hook),
            Net::MobileNetV2(net) => net.forward_hooked(x, hook),
            Net::ConvNeXt(net) => net.forward_hooked(x, hook),
            Net::Vit(net) => net.forward_hooked(x, hook),
            Net::Swin(net) => net.forward_hooked(x, hook),
        })
    }
    fn cam_layer(&self) -> Option<&'static str> {
        Some(match &self.net {
            Net::ResNet(_) => "layer4",
            Net::Vit(_) => "encoder.layers[-1].ln_1",
            Net::Vgg(_) | Net::DenseNet(_) | Net::MobileNetV2(_) | Net::ConvNeXt(_) | Net::Swin(_) => "features",
        })
    }
}

/// (pami's name, torchvision's name) of the tensors that differ, as
/// fragments of a path; the first pair that matches a path names it, so a
/// family lists specific pairs before general ones.
type Names = [(String, String)];

/// torchvision's name of a tensor pami calls `path` (norm layers' `gamma`
/// and `beta` are torch's `weight` and `bias`).
fn torch_name(path: &str, names: &Names) -> String {
    let mut name = names
        .iter()
        .find(|(ours, _)| path.contains(ours.as_str()))
        .map_or(path.to_owned(), |(ours, theirs)| {
            path.replacen(ours.as_str(), theirs, 1)
        });
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

/// Buffers torch saves that pami computes instead.
const DERIVED: [&str; 2] = ["num_batches_tracked", "relative_position_index"];

/// A `state_dict` file (`.pth`, or `.safetensors` with torch's names and
/// layouts), its names mapped to pami's.
struct Store {
    file: String,
    names: Vec<(String, String)>,
    kind: StoreKind,
}

enum StoreKind {
    Pth(PytorchStore),
    Safetensors(SafetensorsStore),
}

impl Store {
    fn open(path: &Path, names: &Names) -> Result<Self, Error> {
        if !path.is_file() {
            return Err(Error::Weights(format!("{}: no such file", path.display())));
        }
        let file = path.display().to_string();
        let fail = |e: &dyn std::fmt::Display| Error::Weights(format!("{file}: {e}"));
        // torch's names to pami's, the same for both formats.
        let remapper = names
            .iter()
            .try_fold(KeyRemapper::new(), |r, (ours, theirs)| {
                r.add_pattern(regex_escape(theirs), ours.as_str())
            })
            .map_err(|e| fail(&e))?;
        let kind = if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"))
        {
            StoreKind::Safetensors(
                SafetensorsStore::from_file(path)
                    .with_from_adapter(PyTorchToBurnAdapter)
                    .skip_enum_variants(true)
                    .map_indices_contiguous(true)
                    .validate(false)
                    .allow_partial(true)
                    .remap(remapper),
            )
        } else {
            StoreKind::Pth(
                PytorchStore::from_file(path)
                    .validate(false)
                    .allow_partial(true)
                    .remap(remapper),
            )
        };
        Ok(Store {
            file,
            names: names.to_vec(),
            kind,
        })
    }

    fn fail(&self, e: &dyn std::fmt::Display) -> Error {
        Error::Weights(format!("{}: {e}", self.file))
    }

    /// The file's shape of tensor `name` (pami's name), if it has one.
    fn shape(&mut self, name: &str) -> Result<Option<Vec<usize>>, Error> {
        let found = match &mut self.kind {
            StoreKind::Pth(store) => store
                .get_tensor(name)
                .map(|t| t.map(|t| t.shape.to_vec()))
                .map_err(|e| e.to_string()),
            StoreKind::Safetensors(store) => store
                .get_tensor(name)
                .map(|t| t.map(|t| t.shape.to_vec()))
                .map_err(|e| e.to_string()),
        };
        found.map_err(|e| self.fail(&e))
    }

    /// The input side a ViT checkpoint's position embeddings `[1, 1 + g², D]` are for (g × `patch`).
    fn vit_side(&mut self, patch: usize) -> Result<usize, Error> {
        let Some(shape) = self.shape("encoder.pos_embedding")? else {
            return Err(self.fail(&"no tensor `encoder.pos_embedding`"));
        };
        let grid = shape.get(1).map_or(0, |t| t.saturating_sub(1).isqrt());
        if shape.len() != 3 || shape[0] != 1 || grid == 0 || grid * grid + 1 != shape[1] {
            return Err(self.fail(&format!("tensor `encoder.pos_embedding` has shape {shape:?}, not [1, 1 + g², D] for a g×g patch grid")));
        }
        Ok(grid * patch)
    }

    /// Loads the weights into `model` and leaves it in inference mode.
    fn apply<M: ModuleSnapshot>(&mut self, model: &mut M) -> Result<ApplyResult, Error> {
        let result = match &mut self.kind {
            StoreKind::Pth(store) => model.load_from(store).map_err(|e| e.to_string()),
            StoreKind::Safetensors(store) => model.load_from(store).map_err(|e| e.to_string()),
        };
        *model = super::inference(model);
        result.map_err(|e| self.fail(&e))
    }

    /// One error naming the first tensor that is missing, unexpected or of
    /// another shape (with both shapes), and how many more there are.
    fn check(&self, result: &ApplyResult) -> Result<(), Error> {
        let names = &self.names;
        let more = |n: usize| {
            if n > 1 {
                format!(" (and {} more)", n - 1)
            } else {
                String::new()
            }
        };
        if let Some(error) = result.errors.first() {
            let message = match error {
                ApplyError::ShapeMismatch {
                    path,
                    expected,
                    found,
                } => format!(
                    "tensor `{}` has shape {} in the file, the model expects {}",
                    torch_name(path, names),
                    torch_shape(path, found),
                    torch_shape(path, expected)
                ),
                other => other.to_string(),
            };
            return Err(self.fail(&format!("{message}{}", more(result.errors.len()))));
        }
        if let Some((path, _)) = result.missing.first() {
            return Err(self.fail(&format!(
                "no tensor `{}`{}",
                torch_name(path, names),
                more(result.missing.len())
            )));
        }
        let unexpected: Vec<&String> = result
            .unused
            .iter()
            .filter(|u| !DERIVED.iter().any(|d| u.ends_with(d)))
            .collect();
        if let Some(name) = unexpected.first() {
            return Err(self.fail(&format!(
                "unexpected tensor `{}`{}",
                torch_name(name, names),
                more(unexpected.len())
            )));
        }
        Ok(())
    }
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}
