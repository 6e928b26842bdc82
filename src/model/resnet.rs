//! torchvision's ResNet-18/34/50/101/152 (He et al.; `torchvision.models.resnet`,
//! v1.5: a bottleneck strides in its 3×3 convolution), with weights from a
//! torchvision `state_dict` (`super::torchvision::load`).

use burn::module::Module;
use burn::nn::{BatchNorm, Linear, LinearConfig, PaddingConfig2d, conv::Conv2d, pool::MaxPool2dConfig};
use burn::tensor::{Device, Tensor, activation::relu};

use super::Hook;
use super::fused::{Act, Plan, PlanBuilder, Value};
use super::layers::{bn, global_pool};

/// ResNet's convolutions: no bias, padded by half the kernel.
fn conv(channels: [usize; 2], kernel: usize, stride: usize, device: &Device) -> Conv2d {
    super::layers::conv(channels, kernel, stride, kernel / 2, 1, false, device)
}

/// The 1×1 convolution and batch norm that bring the identity to a
/// block's output shape (torchvision's `downsample.0`, `downsample.1`).
#[derive(Module, Debug)]
pub struct Downsample {
    conv: Conv2d,
    bn: BatchNorm,
}

/// A basic block (two 3×3 convolutions) or, with `conv3`, a bottleneck
/// (1×1, 3×3 with the stride, 1×1 to four times the width).
#[derive(Module, Debug)]
pub struct Block {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    conv3: Option<Conv2d>,
    bn3: Option<BatchNorm>,
    downsample: Option<Downsample>,
}

impl Block {
    fn new(bottleneck: bool, cin: usize, planes: usize, stride: usize, device: &Device) -> Self {
        let cout = if bottleneck { 4 * planes } else { planes };
        let downsample = (stride != 1 || cin != cout).then(|| Downsample { conv: conv([cin, cout], 1, stride, device), bn: bn(cout, device) });
        if bottleneck {
            Block {
                conv1: conv([cin, planes], 1, 1, device),
                bn1: bn(planes, device),
                conv2: conv([planes, planes], 3, stride, device),
                bn2: bn(planes, device),
                conv3: Some(conv([planes, cout], 1, 1, device)),
                bn3: Some(bn(cout, device)),
                downsample,
            }
        } else {
            Block {
                conv1: conv([cin, planes], 3, stride, device),
                bn1: bn(planes, device),
                conv2: conv([planes, planes], 3, 1, device),
                bn2: bn(planes, device),
                conv3: None,
                bn3: None,
                downsample,
            }
        }
    }

    /// The block's layers in `plan`, from `input`: the last convolution adds the identity.
    fn lower(&self, plan: &mut PlanBuilder, input: Value) -> Option<Value> {
        let identity = match &self.downsample {
            Some(d) => plan.conv(input, &d.conv, Some(&d.bn), Act::Identity, None)?,
            None => input,
        };
        let x = plan.conv(input, &self.conv1, Some(&self.bn1), Act::Relu, None)?;
        match (&self.conv3, &self.bn3) {
            (Some(conv3), Some(bn3)) => {
                let x = plan.conv(x, &self.conv2, Some(&self.bn2), Act::Relu, None)?;
                plan.conv(x, conv3, Some(bn3), Act::Relu, Some(identity))
            }
            _ => plan.conv(x, &self.conv2, Some(&self.bn2), Act::Relu, Some(identity)),
        }
    }

    fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let mut x = relu(self.bn1.forward(self.conv1.forward(input.clone())));
        x = self.bn2.forward(self.conv2.forward(x));
        if let (Some(conv3), Some(bn3)) = (&self.conv3, &self.bn3) {
            x = bn3.forward(conv3.forward(relu(x)));
        }
        let identity = match &self.downsample {
            Some(d) => d.bn.forward(d.conv.forward(input)),
            None => input,
        };
        relu(x + identity)
    }
}

/// torchvision's ResNet: the stem, four stages of blocks, global average
/// pooling and the classifier `fc`.
#[derive(Module, Debug)]
pub struct ResNet {
    conv1: Conv2d,
    bn1: BatchNorm,
    layer1: Vec<Block>,
    layer2: Vec<Block>,
    layer3: Vec<Block>,
    layer4: Vec<Block>,
    fc: Linear,
}

impl ResNet {
    /// Blocks per stage and whether they are bottlenecks, for depth 18, 34, 50, 101 or 152.
    pub fn layout(depth: usize) -> Option<([usize; 4], bool)> {
        Some(match depth {
            18 => ([2, 2, 2, 2], false),
            34 => ([3, 4, 6, 3], false),
            50 => ([3, 4, 6, 3], true),
            101 => ([3, 4, 23, 3], true),
            152 => ([3, 8, 36, 3], true),
            _ => return None,
        })
    }

    /// The architecture of `layout` with untrained weights and `classes` outputs.
    pub fn init((blocks, bottleneck): ([usize; 4], bool), classes: usize, device: &Device) -> Self {
        let mut cin = 64;
        let mut stages = Vec::with_capacity(4);
        for (i, (planes, count)) in [64, 128, 256, 512].into_iter().zip(blocks).enumerate() {
            let mut stage = Vec::with_capacity(count);
            for b in 0..count {
                let stride = if b == 0 && i > 0 { 2 } else { 1 };
                stage.push(Block::new(bottleneck, cin, planes, stride, device));
                cin = if bottleneck { 4 * planes } else { planes };
            }
            stages.push(stage);
        }
        let [layer1, layer2, layer3, layer4]: [Vec<Block>; 4] = stages.try_into().expect("four stages");
        ResNet {
            conv1: conv([3, 64], 7, 2, device),
            bn1: bn(64, device),
            layer1,
            layer2,
            layer3,
            layer4,
            fc: LinearConfig::new(cin, classes).init(device),
        }
    }

    /// The network as a fused CPU plan (batch norms folded).
    pub fn plan(&self) -> Option<Plan> {
        let mut plan = PlanBuilder::default();
        let x = plan.conv(plan.input(), &self.conv1, Some(&self.bn1), Act::Relu, None)?;
        let mut x = plan.max_pool(x, 3, 2, 1);
        for block in self.layer1.iter().chain(&self.layer2).chain(&self.layer3).chain(&self.layer4) {
            x = block.lower(&mut plan, x)?;
        }
        Some(plan.finish(x, &self.fc))
    }

    /// Logits `[B, classes]` of a normalised batch `[B, 3, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_hooked(x, &mut |a| a)
    }

    /// [`Self::forward`] with `hook` on `layer4`'s output (Grad-CAM's layer).
    pub fn forward_hooked(&self, x: Tensor<4>, hook: Hook<'_>) -> Tensor<2> {
        let x = relu(self.bn1.forward(self.conv1.forward(x)));
        let pool = MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init();
        let mut x = pool.forward(x);
        for block in self.layer1.iter().chain(&self.layer2).chain(&self.layer3).chain(&self.layer4) {
            x = block.forward(x);
        }
        self.fc.forward(global_pool(hook(x)))
    }
}
