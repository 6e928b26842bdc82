//! torchvision's MobileNet-V2 (Sandler et al.; `torchvision.models.mobilenetv2`,
//! width 1.0): inverted residuals with ReLU6, a 1280-channel head.

use burn::module::Module;
use burn::nn::{BatchNorm, Linear, LinearConfig, conv::Conv2d};
use burn::tensor::{Device, Tensor, activation::relu6};

use super::Hook;
use super::fused::{Act, Plan, PlanBuilder, Value};
use super::layers::{bn, conv, global_pool};

/// (expansion t, channels c, repeats n, first stride s) per stage, the paper's Table 2.
const STAGES: [(usize, usize, usize, usize); 7] = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
];

/// A convolution and its batch norm (torchvision's `Conv2dNormActivation`
/// holds them as `0` and `1`).
#[derive(Module, Debug)]
pub struct ConvBn {
    conv: Conv2d,
    bn: BatchNorm,
}

impl ConvBn {
    fn new(
        channels: [usize; 2],
        kernel: usize,
        stride: usize,
        groups: usize,
        device: &Device,
    ) -> Self {
        ConvBn {
            conv: conv(
                channels,
                kernel,
                stride,
                (kernel - 1) / 2,
                groups,
                false,
                device,
            ),
            bn: bn(channels[1], device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.bn.forward(self.conv.forward(x))
    }
}

/// 1×1 expansion (absent when t = 1), 3×3 depthwise with the stride, linear 1×1 projection.
#[derive(Module, Debug)]
pub struct InvertedResidual {
    expand: Option<ConvBn>,
    depthwise: ConvBn,
    project: ConvBn,
    #[module(skip)]
    residual: bool,
}

impl InvertedResidual {
    fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let mut x = input.clone();
        if let Some(expand) = &self.expand {
            x = relu6(expand.forward(x));
        }
        x = self.project.forward(relu6(self.depthwise.forward(x)));
        if self.residual { x + input } else { x }
    }

    /// The block's layers in `plan`, from `input`.
    fn lower(&self, plan: &mut PlanBuilder, input: Value) -> Option<Value> {
        let mut x = input;
        if let Some(e) = &self.expand {
            x = plan.conv(x, &e.conv, Some(&e.bn), Act::Relu6, None)?;
        }
        x = plan.conv(x, &self.depthwise.conv, Some(&self.depthwise.bn), Act::Relu6, None)?;
        plan.conv(x, &self.project.conv, Some(&self.project.bn), Act::Identity, self.residual.then_some(input))
    }
}

#[derive(Module, Debug)]
pub struct MobileNetV2 {
    stem: ConvBn,
    blocks: Vec<InvertedResidual>,
    head: ConvBn,
    classifier: Linear,
}

impl MobileNetV2 {
    pub fn init(classes: usize, device: &Device) -> Self {
        let mut blocks = Vec::new();
        let mut cin = 32;
        for (t, c, n, s) in STAGES {
            for i in 0..n {
                let stride = if i == 0 { s } else { 1 };
                let hidden = cin * t;
                blocks.push(InvertedResidual {
                    expand: (t != 1).then(|| ConvBn::new([cin, hidden], 1, 1, 1, device)),
                    depthwise: ConvBn::new([hidden, hidden], 3, stride, hidden, device),
                    project: ConvBn::new([hidden, c], 1, 1, 1, device),
                    residual: stride == 1 && cin == c,
                });
                cin = c;
            }
        }
        MobileNetV2 {
            stem: ConvBn::new([3, 32], 3, 2, 1, device),
            blocks,
            head: ConvBn::new([cin, 1280], 1, 1, 1, device),
            classifier: LinearConfig::new(1280, classes).init(device),
        }
    }

    /// (pami's name, torchvision's name) of every module: `features.0` is the
    /// stem, `features.1..=17` the blocks (`conv.0`, `conv.1`, … in order,
    /// a `Conv2dNormActivation` holding its convolution and norm as `0`, `1`),
    /// `features.18` the head; the classifier's linear layer follows a dropout.
    pub fn torch_names(&self) -> Vec<(String, String)> {
        let mut names = vec![
            ("stem.conv.".into(), "features.0.0.".into()),
            ("stem.bn.".into(), "features.0.1.".into()),
        ];
        for (i, block) in self.blocks.iter().enumerate() {
            let (ours, theirs) = (format!("blocks.{i}."), format!("features.{}.conv.", i + 1));
            let expand = usize::from(block.expand.is_some());
            if expand == 1 {
                names.push((format!("{ours}expand.conv."), format!("{theirs}0.0.")));
                names.push((format!("{ours}expand.bn."), format!("{theirs}0.1.")));
            }
            names.push((
                format!("{ours}depthwise.conv."),
                format!("{theirs}{expand}.0."),
            ));
            names.push((
                format!("{ours}depthwise.bn."),
                format!("{theirs}{expand}.1."),
            ));
            names.push((
                format!("{ours}project.conv."),
                format!("{theirs}{}.", expand + 1),
            ));
            names.push((
                format!("{ours}project.bn."),
                format!("{theirs}{}.", expand + 2),
            ));
        }
        let last = self.blocks.len() + 1;
        names.push(("head.conv.".into(), format!("features.{last}.0.")));
        names.push(("head.bn.".into(), format!("features.{last}.1.")));
        names.push(("classifier.".into(), "classifier.1.".into()));
        names
    }

    /// The network as a fused CPU plan (batch norms folded).
    pub fn plan(&self) -> Option<Plan> {
        let mut plan = PlanBuilder::default();
        let mut x = plan.conv(plan.input(), &self.stem.conv, Some(&self.stem.bn), Act::Relu6, None)?;
        for block in &self.blocks {
            x = block.lower(&mut plan, x)?;
        }
        x = plan.conv(x, &self.head.conv, Some(&self.head.bn), Act::Relu6, None)?;
        Some(plan.finish(x, &self.classifier))
    }

    /// Logits `[B, classes]` of a normalised batch `[B, 3, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_hooked(x, &mut |a| a)
    }

    /// [`Self::forward`] with `hook` on the output of `features` (the last
    /// 1×1 convolution's, 1280 channels; Grad-CAM's layer).
    pub fn forward_hooked(&self, x: Tensor<4>, hook: Hook<'_>) -> Tensor<2> {
        let mut x = relu6(self.stem.forward(x));
        for block in &self.blocks {
            x = block.forward(x);
        }
        self.classifier
            .forward(global_pool(hook(relu6(self.head.forward(x)))))
    }
}
