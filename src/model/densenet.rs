//! torchvision's DenseNet-121/161/169/201 (Huang et al.;
//! `torchvision.models.densenet`): dense blocks of BN-ReLU-1×1-BN-ReLU-3×3
//! layers whose outputs are concatenated, halving transitions between them.

use burn::module::Module;
use burn::nn::{
    BatchNorm, Linear, LinearConfig, PaddingConfig2d,
    conv::Conv2d,
    pool::{AvgPool2dConfig, MaxPool2dConfig},
};
use burn::tensor::{Device, Tensor, activation::relu};

use super::Hook;
use super::fused::{Act, Plan, PlanBuilder};
use super::layers::{bn, conv, global_pool};

/// (growth rate, stem width, layers per block) for depth 121, 161, 169 or 201.
fn layout(depth: usize) -> Option<(usize, usize, [usize; 4])> {
    Some(match depth {
        121 => (32, 64, [6, 12, 24, 16]),
        161 => (48, 96, [6, 12, 36, 24]),
        169 => (32, 64, [6, 12, 32, 32]),
        201 => (32, 64, [6, 12, 48, 32]),
        _ => return None,
    })
}

/// BN-ReLU-1×1 (to 4 × growth) BN-ReLU-3×3 (to growth), on the concatenation of every earlier output.
#[derive(Module, Debug)]
pub struct DenseLayer {
    norm1: BatchNorm,
    conv1: Conv2d,
    norm2: BatchNorm,
    conv2: Conv2d,
}

impl DenseLayer {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.conv1.forward(relu(self.norm1.forward(x)));
        self.conv2.forward(relu(self.norm2.forward(x)))
    }
}

/// BN-ReLU-1×1 to half the channels, then 2×2 average pooling.
#[derive(Module, Debug)]
pub struct Transition {
    norm: BatchNorm,
    conv: Conv2d,
}

#[derive(Module, Debug)]
pub struct DenseNet {
    conv0: Conv2d,
    norm0: BatchNorm,
    blocks: Vec<Vec<DenseLayer>>,
    transitions: Vec<Transition>,
    norm5: BatchNorm,
    classifier: Linear,
}

impl DenseNet {
    /// DenseNet of `depth` (121, 161, 169, 201) with `classes` outputs; `None` for another depth.
    pub fn init(depth: usize, classes: usize, device: &Device) -> Option<Self> {
        let (growth, stem, layers) = layout(depth)?;
        let (mut blocks, mut transitions) = (Vec::new(), Vec::new());
        let mut c = stem;
        for (b, count) in layers.into_iter().enumerate() {
            let block = (0..count)
                .map(|l| {
                    let cin = c + l * growth;
                    DenseLayer {
                        norm1: bn(cin, device),
                        conv1: conv([cin, 4 * growth], 1, 1, 0, 1, false, device),
                        norm2: bn(4 * growth, device),
                        conv2: conv([4 * growth, growth], 3, 1, 1, 1, false, device),
                    }
                })
                .collect();
            blocks.push(block);
            c += count * growth;
            if b < 3 {
                transitions.push(Transition {
                    norm: bn(c, device),
                    conv: conv([c, c / 2], 1, 1, 0, 1, false, device),
                });
                c /= 2;
            }
        }
        Some(DenseNet {
            conv0: conv([3, stem], 7, 2, 3, 1, false, device),
            norm0: bn(stem, device),
            blocks,
            transitions,
            norm5: bn(c, device),
            classifier: LinearConfig::new(c, classes).init(device),
        })
    }

    /// (pami's name, torchvision's name): everything but the classifier is
    /// under `features`, blocks and layers counted from 1.
    pub fn torch_names(&self) -> Vec<(String, String)> {
        let mut names: Vec<(String, String)> = ["conv0.", "norm0.", "norm5."]
            .map(|n| (n.to_owned(), format!("features.{n}")))
            .to_vec();
        for (b, block) in self.blocks.iter().enumerate() {
            for l in 0..block.len() {
                names.push((
                    format!("blocks.{b}.{l}."),
                    format!("features.denseblock{}.denselayer{}.", b + 1, l + 1),
                ));
            }
        }
        for t in 0..self.transitions.len() {
            names.push((
                format!("transitions.{t}."),
                format!("features.transition{}.", t + 1),
            ));
        }
        names
    }

    /// The network as a fused CPU plan: each layer's batch norm and ReLU
    /// applied as its convolution gathers the concatenation of the earlier
    /// maps (never copied into one), the second batch norm folded.
    pub fn plan(&self) -> Option<Plan> {
        let mut plan = PlanBuilder::default();
        let x = plan.conv(plan.input(), &self.conv0, Some(&self.norm0), Act::Relu, None)?;
        let mut x = plan.max_pool(x, 3, 2, 1);
        for (b, block) in self.blocks.iter().enumerate() {
            let mut features = vec![x];
            for layer in block {
                let y = plan.preact_conv(&features, &layer.norm1, &layer.conv1, Some(&layer.norm2), Act::Relu)?;
                features.push(plan.conv(y, &layer.conv2, None, Act::Identity, None)?);
            }
            match self.transitions.get(b) {
                Some(t) => {
                    let y = plan.preact_conv(&features, &t.norm, &t.conv, None, Act::Identity)?;
                    x = plan.avg_pool(y, 2, 2);
                }
                None => x = plan.preact_cat(&features, &self.norm5),
            }
        }
        Some(plan.finish(x, &self.classifier))
    }

    /// Logits `[B, classes]` of a normalised batch `[B, 3, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_hooked(x, &mut |a| a)
    }

    /// [`Self::forward`] with `hook` on the output of `features` (after
    /// `norm5`, before the last ReLU; Grad-CAM's layer).
    pub fn forward_hooked(&self, x: Tensor<4>, hook: Hook<'_>) -> Tensor<2> {
        let x = relu(self.norm0.forward(self.conv0.forward(x)));
        let mut x = MaxPool2dConfig::new([3, 3])
            .with_strides([2, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init()
            .forward(x);
        let pool = AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
        for (b, block) in self.blocks.iter().enumerate() {
            let mut features = vec![x];
            for layer in block {
                let input = Tensor::cat(features.clone(), 1);
                features.push(layer.forward(input));
            }
            x = Tensor::cat(features, 1);
            if let Some(t) = self.transitions.get(b) {
                x = pool.forward(t.conv.forward(relu(t.norm.forward(x))));
            }
        }
        self.classifier
            .forward(global_pool(relu(hook(self.norm5.forward(x)))))
    }
}
