//! torchvision's Vision Transformers ViT-B/16, B/32, L/16, L/32
//! (Dosovitskiy et al.; `torchvision.models.vision_transformer`): a patch
//! embedding, a class token, learned position embeddings, pre-norm encoder
//! layers with torch's `MultiheadAttention`, the class token's head.

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, Linear, LinearConfig, conv::Conv2d};
use burn::tensor::{
    Device, Distribution, Tensor,
    activation::{gelu, softmax},
};

use super::Hook;
use super::layers::{conv, layer_norm};

const EPS: f64 = 1e-6;

/// (patch, layers, heads, hidden width, MLP width) of `vit_{variant}`.
pub fn layout(variant: &str) -> Option<(usize, usize, usize, usize, usize)> {
    Some(match variant {
        "b_16" => (16, 12, 12, 768, 3072),
        "b_32" => (32, 12, 12, 768, 3072),
        "l_16" => (16, 24, 16, 1024, 4096),
        "l_32" => (32, 24, 16, 1024, 4096),
        _ => return None,
    })
}

/// torch's `nn.MultiheadAttention` as torchvision saves it: queries, keys
/// and values packed in one `[3D, D]` projection.
#[derive(Module, Debug)]
pub struct SelfAttention {
    in_proj_weight: Param<Tensor<2>>,
    in_proj_bias: Param<Tensor<1>>,
    out_proj: Linear,
}

/// `softmax(q kᵀ / √d + bias) v` per head, of `[B, N, 3 × heads × d]`
/// packed queries, keys and values (torch's order) to `[B, N, heads × d]`;
/// `bias` adds to the scores `[B, heads, N, N]` before the softmax.
pub(crate) fn attention(
    qkv: Tensor<3>,
    heads: usize,
    bias: impl FnOnce(Tensor<4>) -> Tensor<4>,
) -> Tensor<3> {
    let [b, n, packed] = qkv.dims();
    let d = packed / 3 / heads;
    // [B, N, 3, heads, d] -> [3, B, heads, N, d]
    let qkv = qkv.reshape([b, n, 3, heads, d]).permute([2, 0, 3, 1, 4]);
    let [q, k, v]: [Tensor<5>; 3] = qkv.chunk(3, 0).try_into().expect("three chunks");
    let (q, k, v) = (
        q.reshape([b, heads, n, d]),
        k.reshape([b, heads, n, d]),
        v.reshape([b, heads, n, d]),
    );
    let scores = bias((q * (d as f64).powf(-0.5)).matmul(k.swap_dims(2, 3)));
    softmax(scores, 3)
        .matmul(v)
        .swap_dims(1, 2)
        .reshape([b, n, heads * d])
}

impl SelfAttention {
    fn forward(&self, x: Tensor<3>, heads: usize) -> Tensor<3> {
        let [b, n, dim] = x.dims();
        let w = self.in_proj_weight.val();
        let qkv = x.reshape([b * n, dim]).matmul(w.transpose())
            + self.in_proj_bias.val().unsqueeze::<2>();
        self.out_proj
            .forward(attention(qkv.reshape([b, n, 3 * dim]), heads, |scores| {
                scores
            }))
    }
}

#[derive(Module, Debug)]
pub struct EncoderLayer {
    ln_1: LayerNorm,
    self_attention: SelfAttention,
    ln_2: LayerNorm,
    mlp: Vec<Linear>,
}

impl EncoderLayer {
    /// The layer, with `hook` on `ln_1`'s patch tokens as a `[B, D, gh, gw]`
    /// grid (`grid = [gh, gw]`; the class token passes by the hook).
    fn forward(&self, x: Tensor<3>, heads: usize, hook: Option<(Hook<'_>, [usize; 2])>) -> Tensor<3> {
        let mut normed = self.ln_1.forward(x.clone());
        if let Some((hook, [gh, gw])) = hook {
            let [b, n, d] = normed.dims();
            let token = normed.clone().narrow(1, 0, 1);
            let grid = normed.narrow(1, 1, n - 1).swap_dims(1, 2).reshape([b, d, gh, gw]);
            let grid = hook(grid).reshape([b, d, n - 1]).swap_dims(1, 2);
            normed = Tensor::cat(vec![token, grid], 1);
        }
        let x = self.self_attention.forward(normed, heads) + x;
        let y = self.mlp[1].forward(gelu(self.mlp[0].forward(self.ln_2.forward(x.clone()))));
        x + y
    }
}

#[derive(Module, Debug)]
pub struct Encoder {
    /// `[1, 1 + patches, D]`: the class token's, then the patches' in row-major order.
    pos_embedding: Param<Tensor<3>>,
    layers: Vec<EncoderLayer>,
    ln: LayerNorm,
}

#[derive(Module, Debug)]
pub struct Heads {
    head: Linear,
}

#[derive(Module, Debug)]
pub struct VisionTransformer {
    conv_proj: Conv2d,
    class_token: Param<Tensor<3>>,
    encoder: Encoder,
    heads: Heads,
    #[module(skip)]
    num_heads: usize,
    #[module(skip)]
    patch: usize,
}

impl VisionTransformer {
    /// `vit_{variant}` (b_16, b_32, l_16, l_32) for square `image` inputs
    /// (a multiple of the patch size), `classes` outputs; `None` for another variant.
    pub fn init(variant: &str, image: usize, classes: usize, device: &Device) -> Option<Self> {
        Some(Self::with_layout(layout(variant)?, image, classes, device))
    }

    /// A ViT of `(patch, layers, heads, width, MLP width)` for square
    /// `image` inputs, initialised as torchvision does: packed projections
    /// Xavier-uniform, position embeddings N(0, 0.02²), the class token zero.
    pub fn with_layout(
        (patch, depth, num_heads, dim, mlp): (usize, usize, usize, usize, usize),
        image: usize,
        classes: usize,
        device: &Device,
    ) -> Self {
        let xavier = (6.0 / (4 * dim) as f64).sqrt();
        let tokens = 1 + (image / patch).pow(2);
        let layers = (0..depth)
            .map(|_| EncoderLayer {
                ln_1: layer_norm(dim, EPS, device),
                self_attention: SelfAttention {
                    in_proj_weight: Param::from_tensor(Tensor::random([3 * dim, dim], Distribution::Uniform(-xavier, xavier), device)),
                    in_proj_bias: Param::from_tensor(Tensor::zeros([3 * dim], device)),
                    out_proj: LinearConfig::new(dim, dim).init(device),
                },
                ln_2: layer_norm(dim, EPS, device),
                mlp: vec![
                    LinearConfig::new(dim, mlp).init(device),
                    LinearConfig::new(mlp, dim).init(device),
                ],
            })
            .collect();
        VisionTransformer {
            conv_proj: conv([3, dim], patch, patch, 0, 1, true, device),
            class_token: Param::from_tensor(Tensor::zeros([1, 1, dim], device)),
            encoder: Encoder {
                pos_embedding: Param::from_tensor(Tensor::random([1, tokens, dim], Distribution::Normal(0.0, 0.02), device)),
                layers,
                ln: layer_norm(dim, EPS, device),
            },
            heads: Heads {
                head: LinearConfig::new(dim, classes).init(device),
            },
            num_heads,
            patch,
        }
    }

    pub fn patch(&self) -> usize {
        self.patch
    }

    /// The side of the patch grid the position embeddings hold.
    pub fn grid(&self) -> usize {
        let [_, tokens, _] = self.encoder.pos_embedding.dims();
        (tokens - 1).isqrt()
    }

    /// Replaces the position embeddings (`[1, 1 + grid², D]`).
    pub fn set_pos_embedding(&mut self, pos: Tensor<3>) {
        self.encoder.pos_embedding = Param::from_tensor(pos);
    }

    pub fn pos_embedding(&self) -> Tensor<3> {
        self.encoder.pos_embedding.val()
    }

    /// (pami's name, torchvision's name): encoder layers are named
    /// `encoder_layer_{i}`, the MLP's linear layers are `0` and `3`.
    pub fn torch_names(&self) -> Vec<(String, String)> {
        let mut names: Vec<(String, String)> = Vec::new();
        for i in 0..self.encoder.layers.len() {
            let (ours, theirs) = (
                format!("encoder.layers.{i}."),
                format!("encoder.layers.encoder_layer_{i}."),
            );
            names.push((format!("{ours}mlp.0."), format!("{theirs}mlp.0.")));
            names.push((format!("{ours}mlp.1."), format!("{theirs}mlp.3.")));
            names.push((ours, theirs));
        }
        names
    }

    /// Logits `[B, classes]` of a normalised batch `[B, 3, H, W]` (H = W = the model's size).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_hooked(x, &mut |a| a)
    }

    /// [`Self::forward`] with `hook` on the last encoder layer's `ln_1`
    /// output, its patch tokens as a `[B, D, H/patch, W/patch]` grid: the
    /// tokens the last attention reads, where the class token gathers what the
    /// head sees (pytorch-grad-cam's choice for ViTs; the last layer's output
    /// would reach the head only through the class token, so its patch tokens
    /// would have no gradient).
    pub fn forward_hooked(&self, x: Tensor<4>, hook: Hook<'_>) -> Tensor<2> {
        let x = self.conv_proj.forward(x);
        let [b, dim, h, w] = x.dims();
        let x = x.reshape([b, dim, h * w]).swap_dims(1, 2);
        let token = self.class_token.val().expand([b, 1, dim]);
        let mut x = Tensor::cat(vec![token, x], 1) + self.encoder.pos_embedding.val();
        let last = self.encoder.layers.len() - 1;
        let mut hook = Some(hook);
        for (i, layer) in self.encoder.layers.iter().enumerate() {
            let hook = if i == last { hook.take().map(|f| (f, [h, w])) } else { None };
            x = layer.forward(x, self.num_heads, hook);
        }
        let x = self.encoder.ln.forward(x);
        self.heads.head.forward(x.narrow(1, 0, 1).reshape([b, dim]))
    }
}

/// Cubic convolution weights (Keys, a = −0.75, as torch's bicubic) of the
/// four taps around a fractional offset `t`.
fn cubic_weights(t: f64) -> [f64; 4] {
    const A: f64 = -0.75;
    let far = |x: f64| ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
    let near = |x: f64| ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]
}

/// Resamples `[D, from, from]` maps to `[D, to, to]`, bicubic with corners
/// aligned and taps clamped at the border (torch's `interpolate(mode="bicubic", align_corners=True)`).
fn bicubic_aligned(maps: &[f32], dims: usize, from: usize, to: usize) -> Vec<f32> {
    // Per output index: the four clamped source indices and their weights.
    let taps: Vec<([usize; 4], [f64; 4])> = (0..to)
        .map(|o| {
            let src = if to > 1 {
                o as f64 * (from - 1) as f64 / (to - 1) as f64
            } else {
                0.0
            };
            let base = src.floor();
            let index = |k: isize| (base as isize + k).clamp(0, from as isize - 1) as usize;
            (
                [index(-1), index(0), index(1), index(2)],
                cubic_weights(src - base),
            )
        })
        .collect();
    let mut out = vec![0.0; dims * to * to];
    for d in 0..dims {
        let map = &maps[d * from * from..(d + 1) * from * from];
        // Along rows first (to × from), then columns.
        let rows: Vec<f64> = (0..from)
            .flat_map(|y| {
                taps.iter().map(move |(ix, wx)| {
                    (0..4)
                        .map(|k| wx[k] * map[y * from + ix[k]] as f64)
                        .sum::<f64>()
                })
            })
            .collect();
        for (oy, (iy, wy)) in taps.iter().enumerate() {
            for ox in 0..to {
                out[(d * to + oy) * to + ox] =
                    (0..4).map(|k| wy[k] * rows[iy[k] * to + ox]).sum::<f64>() as f32;
            }
        }
    }
    out
}

/// Position embeddings `[1, 1 + g², D]` for a `grid`×`grid` patch grid:
/// the class token's kept, the patches' resampled as torchvision's
/// `interpolate_embeddings` does.
pub fn interpolate_pos_embedding(pos: Tensor<3>, grid: usize) -> Tensor<3> {
    let [_, tokens, dim] = pos.dims();
    let from = (tokens - 1).isqrt();
    let device = pos.device();
    let values: Vec<f32> = pos
        .into_data()
        .convert::<f32>()
        .try_into_vec()
        .expect("f32 position embeddings");
    // [tokens, D] -> [D, from, from]
    let mut maps = vec![0.0; dim * from * from];
    for t in 0..from * from {
        for d in 0..dim {
            maps[d * from * from + t] = values[(1 + t) * dim + d];
        }
    }
    let resampled = bicubic_aligned(&maps, dim, from, grid);
    let mut out = values[..dim].to_vec();
    out.resize(dim * (1 + grid * grid), 0.0);
    for t in 0..grid * grid {
        for d in 0..dim {
            out[(1 + t) * dim + d] = resampled[d * grid * grid + t];
        }
    }
    Tensor::from_data(
        burn::tensor::TensorData::new(out, [1, 1 + grid * grid, dim]),
        &device,
    )
}
