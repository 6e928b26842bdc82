//! torchvision's VGG-11/13/16/19, with and without batch norm
//! (`torchvision.models.vgg`): 3×3 convolutions (with bias) and 2×2 max
//! pooling per configuration, adaptive average pooling to 7×7, and the
//! three-layer classifier (dropout is the identity at inference).

use burn::module::Module;
use burn::nn::{BatchNorm, Linear, LinearConfig, conv::Conv2d, pool::MaxPool2dConfig};
use burn::tensor::{Device, Tensor, activation::relu, module::adaptive_avg_pool2d};

use super::Hook;
use super::fused::{Act, Plan, PlanBuilder, Pool};
use super::layers::{self, conv};

/// A configuration: output channels of each convolution, 0 for a max pool.
fn layout(depth: usize) -> Option<&'static [usize]> {
    Some(match depth {
        11 => &[64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        13 => &[64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        16 => &[64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
        19 => &[64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0],
        _ => return None,
    })
}

#[derive(Module, Debug)]
pub struct Vgg {
    convs: Vec<Conv2d>,
    bns: Vec<BatchNorm>,
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
    /// Per convolution: a max pool follows it.
    #[module(skip)]
    pool_after: Vec<bool>,
}

impl Vgg {
    /// VGG of `depth` (11, 13, 16, 19), with batch norm if `bn`, `classes`
    /// outputs and untrained weights; `None` for another depth.
    pub fn init(depth: usize, bn: bool, classes: usize, device: &Device) -> Option<Self> {
        let layout = layout(depth)?;
        let (mut convs, mut bns, mut pool_after) = (Vec::new(), Vec::new(), Vec::new());
        let mut cin = 3;
        for &c in layout {
            if c == 0 {
                *pool_after.last_mut().expect("a configuration starts with a convolution") = true;
                continue;
            }
            convs.push(conv([cin, c], 3, 1, 1, 1, true, device));
            if bn {
                bns.push(layers::bn(c, device));
            }
            pool_after.push(false);
            cin = c;
        }
        Some(Vgg {
            convs,
            bns,
            fc1: LinearConfig::new(512 * 7 * 7, 4096).init(device),
            fc2: LinearConfig::new(4096, 4096).init(device),
            fc3: LinearConfig::new(4096, classes).init(device),
            pool_after,
        })
    }

    /// (pami's name, torchvision's name) of every tensor group: torchvision
    /// numbers `features` by layer (ReLUs and pools included) and the
    /// classifier's linear layers 0, 3 and 6.
    pub fn torch_names(&self) -> Vec<(String, String)> {
        let mut names = Vec::new();
        let mut index = 0;
        for (k, pool) in self.pool_after.iter().enumerate() {
            names.push((format!("convs.{k}."), format!("features.{index}.")));
            if !self.bns.is_empty() {
                names.push((format!("bns.{k}."), format!("features.{}.", index + 1)));
            }
            index += if self.bns.is_empty() { 2 } else { 3 } + usize::from(*pool);
        }
        names.extend([("fc1.", "classifier.0."), ("fc2.", "classifier.3."), ("fc3.", "classifier.6.")].map(|(a, b)| (a.to_owned(), b.to_owned())));
        names
    }

    /// The network as a fused CPU plan (batch norms folded; the 7×7
    /// pooling and the classifier's flattening in the head).
    pub fn plan(&self) -> Option<Plan> {
        let mut plan = PlanBuilder::default();
        let mut x = plan.input();
        for (k, conv) in self.convs.iter().enumerate() {
            x = plan.conv(x, conv, self.bns.get(k), Act::Relu, None)?;
            if self.pool_after[k] {
                x = plan.max_pool(x, 2, 2, 0);
            }
        }
        let layers = [(&self.fc1, Act::Relu), (&self.fc2, Act::Relu), (&self.fc3, Act::Identity)];
        Some(plan.finish_with(x, Pool::Grid([7, 7]), None, &layers))
    }

    /// Logits `[B, classes]` of a normalised batch `[B, 3, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_hooked(x, &mut |a| a)
    }

    /// [`Self::forward`] with `hook` on the output of `features` (the last
    /// convolutional block's pooled maps; Grad-CAM's layer).
    pub fn forward_hooked(&self, mut x: Tensor<4>, hook: Hook<'_>) -> Tensor<2> {
        let pool = MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
        for (k, conv) in self.convs.iter().enumerate() {
            x = conv.forward(x);
            if let Some(bn) = self.bns.get(k) {
                x = bn.forward(x);
            }
            x = relu(x);
            if self.pool_after[k] {
                x = pool.forward(x);
            }
        }
        let x = adaptive_avg_pool2d(hook(x), [7, 7]);
        let [b, c, h, w] = x.dims();
        let x = relu(self.fc1.forward(x.reshape([b, c * h * w])));
        let x = relu(self.fc2.forward(x));
        self.fc3.forward(x)
    }
}
