//! The building blocks torchvision's families share, with torchvision's
//! defaults: a convolution's padding is explicit (PyTorch pads
//! symmetrically), layer norms normalise the last dimension.

use burn::nn::{
    BatchNorm, BatchNormConfig, LayerNorm, LayerNormConfig, PaddingConfig2d,
    conv::{Conv2d, Conv2dConfig},
};
use burn::tensor::{Device, Tensor};

/// A square convolution: `kernel`, `stride`, `pad` on every side, `groups`, with or without bias.
pub(crate) fn conv(
    channels: [usize; 2],
    kernel: usize,
    stride: usize,
    pad: usize,
    groups: usize,
    bias: bool,
    device: &Device,
) -> Conv2d {
    Conv2dConfig::new(channels, [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_groups(groups)
        .with_bias(bias)
        .init(device)
}

/// torch's `BatchNorm2d` (ε = 1e-5).
pub(crate) fn bn(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels).init(device)
}

/// torch's `LayerNorm(d, eps)`.
pub(crate) fn layer_norm(d: usize, eps: f64, device: &Device) -> LayerNorm {
    LayerNormConfig::new(d).with_epsilon(eps).init(device)
}

/// A layer norm over the channels of `[B, C, H, W]` (torchvision's `LayerNorm2d`).
pub(crate) fn layer_norm_2d(norm: &LayerNorm, x: Tensor<4>) -> Tensor<4> {
    norm.forward(x.permute([0, 2, 3, 1])).permute([0, 3, 1, 2])
}

/// Global average pooling: `[B, C, H, W]` to `[B, C]`.
pub(crate) fn global_pool(x: Tensor<4>) -> Tensor<2> {
    let [b, c, _, _] = x.dims();
    x.mean_dim(3).mean_dim(2).reshape([b, c])
}
