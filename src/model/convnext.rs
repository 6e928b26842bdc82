//! torchvision's ConvNeXt Tiny/Small/Base/Large (Liu et al., 2022;
//! `torchvision.models.convnext`): 7×7 depthwise convolution, layer norm,
//! an inverted MLP with GELU and a learned per-channel layer scale.

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, Linear, LinearConfig, conv::Conv2d};
use burn::tensor::{Device, Tensor, activation::gelu};

use super::Hook;
use super::fused::{Act, Plan, PlanBuilder, Pool, Value};
use super::layers::{conv, global_pool, layer_norm, layer_norm_2d};

/// torchvision's ε for every ConvNeXt norm.
const EPS: f64 = 1e-6;

/// (blocks per stage, channels per stage) of `convnext_{size}`.
fn layout(size: &str) -> Option<([usize; 4], [usize; 4])> {
    Some(match size {
        "tiny" => ([3, 3, 9, 3], [96, 192, 384, 768]),
        "small" => ([3, 3, 27, 3], [96, 192, 384, 768]),
        "base" => ([3, 3, 27, 3], [128, 256, 512, 1024]),
        "large" => ([3, 3, 27, 3], [192, 384, 768, 1536]),
        _ => return None,
    })
}

/// torchvision's `CNBlock` (stochastic depth is the identity at inference).
#[derive(Module, Debug)]
pub struct Block {
    dwconv: Conv2d,
    norm: LayerNorm,
    pwconv1: Linear,
    pwconv2: Linear,
    /// `[C, 1, 1]`.
    layer_scale: Param<Tensor<3>>,
}

impl Block {
    fn new(dim: usize, device: &Device) -> Self {
        Block {
            dwconv: conv([dim, dim], 7, 1, 3, dim, true, device),
            norm: layer_norm(dim, EPS, device),
            pwconv1: LinearConfig::new(dim, 4 * dim).init(device),
            pwconv2: LinearConfig::new(4 * dim, dim).init(device),
            layer_scale: Param::from_tensor(Tensor::ones([dim, 1, 1], device) * 1e-6),
        }
    }

    fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let x = self.dwconv.forward(input.clone()).permute([0, 2, 3, 1]);
        let x = self
            .pwconv2
            .forward(gelu(self.pwconv1.forward(self.norm.forward(x))));
        x.permute([0, 3, 1, 2]) * self.layer_scale.val().unsqueeze::<4>() + input
    }

    /// The block's layers in `plan`, from `input`: the norm in the depthwise
    /// convolution's output pass, the layer scale folded into the second linear layer.
    fn lower(&self, plan: &mut PlanBuilder, input: Value) -> Option<Value> {
        let x = plan.conv(input, &self.dwconv, None, Act::Identity, None)?;
        let x = plan.layer_norm(x, &self.norm, EPS)?;
        let x = plan.linear(x, &self.pwconv1, None, Act::Gelu, None);
        let scale = self.layer_scale.val().into_data().convert::<f32>().try_into_vec::<f32>().ok()?;
        Some(plan.linear(x, &self.pwconv2, Some(&scale), Act::Identity, Some(input)))
    }
}

/// A layer norm over channels, then a 2×2 convolution with stride 2.
#[derive(Module, Debug)]
pub struct Downsample {
    norm: LayerNorm,
    conv: Conv2d,
}

#[derive(Module, Debug)]
pub struct ConvNeXt {
    stem_conv: Conv2d,
    stem_norm: LayerNorm,
    stages: Vec<Vec<Block>>,
    downsamples: Vec<Downsample>,
    head_norm: LayerNorm,
    head: Linear,
}

impl ConvNeXt {
    /// `convnext_{size}` for size tiny, small, base or large; `None` for another.
    pub fn init(size: &str, classes: usize, device: &Device) -> Option<Self> {
        let (depths, dims) = layout(size)?;
        let stages = depths
            .iter()
            .zip(dims)
            .map(|(&n, dim)| (0..n).map(|_| Block::new(dim, device)).collect())
            .collect();
        let downsamples = dims
            .windows(2)
            .map(|d| Downsample {
                norm: layer_norm(d[0], EPS, device),
                conv: conv([d[0], d[1]], 2, 2, 0, 1, true, device),
            })
            .collect();
        Some(ConvNeXt {
            stem_conv: conv([3, dims[0]], 4, 4, 0, 1, true, device),
            stem_norm: layer_norm(dims[0], EPS, device),
            stages,
            downsamples,
            head_norm: layer_norm(dims[3], EPS, device),
            head: LinearConfig::new(dims[3], classes).init(device),
        })
    }

    /// (pami's name, torchvision's name): `features` alternates stem or
    /// downsampling (`0` norm and `1` convolution, the stem the other way
    /// round) and stages; a block's `block` sequence numbers its
    /// convolution, permute, norm, linear, GELU, linear; the classifier is
    /// norm, flatten, linear.
    pub fn torch_names(&self) -> Vec<(String, String)> {
        let mut names: Vec<(String, String)> = [
            ("stem_conv.", "features.0.0."),
            ("stem_norm.", "features.0.1."),
            ("head_norm.", "classifier.0."),
            ("head.", "classifier.2."),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .to_vec();
        for (s, stage) in self.stages.iter().enumerate() {
            for i in 0..stage.len() {
                let (ours, theirs) = (
                    format!("stages.{s}.{i}."),
                    format!("features.{}.{i}.", 2 * s + 1),
                );
                for (a, b) in [
                    ("dwconv.", "block.0."),
                    ("norm.", "block.2."),
                    ("pwconv1.", "block.3."),
                    ("pwconv2.", "block.5."),
                    ("layer_scale", "layer_scale"),
                ] {
                    names.push((format!("{ours}{a}"), format!("{theirs}{b}")));
                }
            }
        }
        for d in 0..self.downsamples.len() {
            names.push((
                format!("downsamples.{d}.norm."),
                format!("features.{}.0.", 2 * d + 2),
            ));
            names.push((
                format!("downsamples.{d}.conv."),
                format!("features.{}.1.", 2 * d + 2),
            ));
        }
        names
    }

    /// The network as a fused CPU plan: every layer norm in the output pass
    /// of the layer before it (a downsampling's in the last block's).
    pub fn plan(&self) -> Option<Plan> {
        let mut plan = PlanBuilder::default();
        let x = plan.conv(plan.input(), &self.stem_conv, None, Act::Identity, None)?;
        let mut x = plan.layer_norm(x, &self.stem_norm, EPS)?;
        for (s, stage) in self.stages.iter().enumerate() {
            if s > 0 {
                let down = &self.downsamples[s - 1];
                x = plan.layer_norm(x, &down.norm, EPS)?;
                x = plan.conv(x, &down.conv, None, Act::Identity, None)?;
            }
            for block in stage {
                x = block.lower(&mut plan, x)?;
            }
        }
        Some(plan.finish_with(x, Pool::Global, Some((&self.head_norm, EPS)), &[(&self.head, Act::Identity)]))
    }

    /// Logits `[B, classes]` of a normalised batch `[B, 3, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_hooked(x, &mut |a| a)
    }

    /// [`Self::forward`] with `hook` on the output of `features` (the last
    /// stage's; Grad-CAM's layer).
    pub fn forward_hooked(&self, x: Tensor<4>, hook: Hook<'_>) -> Tensor<2> {
        let mut x = layer_norm_2d(&self.stem_norm, self.stem_conv.forward(x));
        for (s, stage) in self.stages.iter().enumerate() {
            if s > 0 {
                let down = &self.downsamples[s - 1];
                x = down.conv.forward(layer_norm_2d(&down.norm, x));
            }
            for block in stage {
                x = block.forward(x);
            }
        }
        // torchvision pools before its classifier's norm.
        self.head.forward(self.head_norm.forward(global_pool(hook(x))))
    }
}
