//! torchvision's Swin Transformer T/S/B (Liu et al., 2021;
//! `torchvision.models.swin_transformer`, v1): attention inside 7×7
//! windows with a relative position bias, windows shifted by half in every
//! other block, patch merging between stages. Any input size runs: feature
//! maps are padded to whole windows, as torchvision does.

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, Linear, LinearConfig, conv::Conv2d};
use burn::tensor::{Device, Int, Tensor, TensorData, activation::gelu};

use super::Hook;
use super::layers::{conv, layer_norm};
use super::vit::attention;

const EPS: f64 = 1e-5;
const WINDOW: usize = 7;

/// (embedding width, blocks per stage, heads per stage) of `swin_{size}`.
fn layout(size: &str) -> Option<(usize, [usize; 4], [usize; 4])> {
    Some(match size {
        "t" => (96, [2, 2, 6, 2], [3, 6, 12, 24]),
        "s" => (96, [2, 2, 18, 2], [3, 6, 12, 24]),
        "b" => (128, [2, 2, 18, 2], [4, 8, 16, 32]),
        _ => return None,
    })
}

#[derive(Module, Debug)]
pub struct WindowAttention {
    qkv: Linear,
    proj: Linear,
    /// `[(2·7 − 1)², heads]`, indexed by the offset between two tokens of a window.
    relative_position_bias_table: Param<Tensor<2>>,
}

#[derive(Module, Debug)]
pub struct Block {
    norm1: LayerNorm,
    attn: WindowAttention,
    norm2: LayerNorm,
    mlp: Vec<Linear>,
    #[module(skip)]
    heads: usize,
    #[module(skip)]
    /// Every other block attends across the previous one's window borders.
    shifted: bool,
}

/// torchvision's `relative_position_index`: for tokens i, j of a window in
/// row-major order, the row of the bias table of their offset.
fn relative_position_index() -> Vec<i64> {
    let n = WINDOW * WINDOW;
    let span = (2 * WINDOW - 1) as i64;
    let mut index = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            let dy = (i / WINDOW) as i64 - (j / WINDOW) as i64 + WINDOW as i64 - 1;
            let dx = (i % WINDOW) as i64 - (j % WINDOW) as i64 + WINDOW as i64 - 1;
            index.push(dy * span + dx);
        }
    }
    index
}

/// The shifted windows' mask `[windows, N, N]`: −100 between tokens that
/// came from different regions of the rolled map, else 0 (torchvision's).
fn shift_mask(height: usize, width: usize, shift: [usize; 2]) -> Vec<f32> {
    let region = |p: usize, size: usize, s: usize| {
        usize::from(p >= size - WINDOW) + usize::from(p >= size - s)
    };
    let (wy, wx) = (height / WINDOW, width / WINDOW);
    let n = WINDOW * WINDOW;
    let mut mask = Vec::with_capacity(wy * wx * n * n);
    for window in 0..wy * wx {
        let label = |t: usize| {
            let (y, x) = (
                (window / wx) * WINDOW + t / WINDOW,
                (window % wx) * WINDOW + t % WINDOW,
            );
            region(y, height, shift[0]) * 3 + region(x, width, shift[1])
        };
        for i in 0..n {
            for j in 0..n {
                mask.push(if label(i) == label(j) { 0.0 } else { -100.0 });
            }
        }
    }
    mask
}

/// Zeros appended below and to the right of `[B, H, W, C]`.
fn pad_end(x: Tensor<4>, bottom: usize, right: usize) -> Tensor<4> {
    let [b, h, w, c] = x.dims();
    let device = x.device();
    let x = if right > 0 {
        Tensor::cat(vec![x, Tensor::zeros([b, h, right, c], &device)], 2)
    } else {
        x
    };
    if bottom > 0 {
        Tensor::cat(
            vec![x, Tensor::zeros([b, bottom, w + right, c], &device)],
            1,
        )
    } else {
        x
    }
}

/// A stage's window layout, and the constants its blocks share (built
/// once per stage and forward, not in every block).
struct Windows {
    /// The map's height and width padded to whole windows.
    padded: [usize; 2],
    /// A shifted block's shift: none along a side one window covers.
    shift: [usize; 2],
    /// torchvision's `relative_position_index`.
    index: Tensor<1, Int>,
    /// The shifted blocks' mask `[windows, N, N]`, when they shift at all.
    mask: Option<Tensor<3>>,
}

impl Windows {
    fn new([h, w]: [usize; 2], index: Tensor<1, Int>) -> Self {
        let padded = [h.next_multiple_of(WINDOW), w.next_multiple_of(WINDOW)];
        let shift = padded.map(|p| if WINDOW >= p { 0 } else { WINDOW / 2 });
        let n = WINDOW * WINDOW;
        let count = (padded[0] / WINDOW) * (padded[1] / WINDOW);
        let mask = (shift != [0, 0]).then(|| {
            Tensor::<3>::from_data(TensorData::new(shift_mask(padded[0], padded[1], shift), [count, n, n]), &index.device())
        });
        Windows { padded, shift, index, mask }
    }
}

impl Block {
    /// Shifted-window attention on `[B, H, W, C]` (torchvision's `shifted_window_attention`).
    fn attention(&self, input: Tensor<4>, windows: &Windows) -> Tensor<4> {
        let [b, h, w, c] = input.dims();
        let [ph, pw] = windows.padded;
        let (shift, mask) = match (&windows.mask, self.shifted) {
            (Some(mask), true) => (windows.shift, Some(mask.clone())),
            _ => ([0, 0], None),
        };
        let mut x = pad_end(input, ph - h, pw - w);
        if mask.is_some() {
            x = x.roll(&[-(shift[0] as i64), -(shift[1] as i64)], &[1, 2]);
        }
        let (wy, wx, n) = (ph / WINDOW, pw / WINDOW, WINDOW * WINDOW);
        let windows_x = x
            .reshape([b, wy, WINDOW, wx, WINDOW, c])
            .permute([0, 1, 3, 2, 4, 5])
            .reshape([b * wy * wx, n, c]);
        let qkv = self.attn.qkv.forward(windows_x);
        let heads = self.heads;
        let bias = self
            .attn
            .relative_position_bias_table
            .val()
            .select(0, windows.index.clone())
            .reshape([n, n, heads])
            .permute([2, 0, 1])
            .unsqueeze::<4>();
        let out = attention(qkv, heads, |scores| {
            let scores = scores + bias;
            match mask {
                // Windows are image-major: [B·windows, …] splits into [B, windows, …].
                Some(mask) => (scores.reshape([b, wy * wx, heads, n, n])
                    + mask.unsqueeze_dim::<4>(1).unsqueeze::<5>())
                .reshape([b * wy * wx, heads, n, n]),
                None => scores,
            }
        });
        let out = self.attn.proj.forward(out);
        let mut x = out
            .reshape([b, wy, wx, WINDOW, WINDOW, c])
            .permute([0, 1, 3, 2, 4, 5])
            .reshape([b, ph, pw, c]);
        if shift != [0, 0] {
            x = x.roll(&[shift[0] as i64, shift[1] as i64], &[1, 2]);
        }
        x.slice([0..b, 0..h, 0..w, 0..c])
    }

    fn forward(&self, x: Tensor<4>, windows: &Windows) -> Tensor<4> {
        let x = self.attention(self.norm1.forward(x.clone()), windows) + x;
        let y = self.mlp[1].forward(gelu(self.mlp[0].forward(self.norm2.forward(x.clone()))));
        x + y
    }
}

/// The four pixels of each 2×2 cell side by side (after padding to even
/// sides), norm, a linear map to twice the channels.
#[derive(Module, Debug)]
pub struct PatchMerging {
    norm: LayerNorm,
    reduction: Linear,
}

impl PatchMerging {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, h, w, _] = x.dims();
        let x = pad_end(x, h % 2, w % 2);
        let [b, h, w, c] = x.dims();
        // torchvision's order: (even row, even column), (odd, even), (even, odd), (odd, odd).
        let x = x
            .reshape([b, h / 2, 2, w / 2, 2, c])
            .permute([0, 1, 3, 4, 2, 5])
            .reshape([b, h / 2, w / 2, 4 * c]);
        self.reduction.forward(self.norm.forward(x))
    }
}

#[derive(Module, Debug)]
pub struct Swin {
    stem_conv: Conv2d,
    stem_norm: LayerNorm,
    stages: Vec<Vec<Block>>,
    merges: Vec<PatchMerging>,
    norm: LayerNorm,
    head: Linear,
}

impl Swin {
    /// `swin_{size}` for size t, s or b; `None` for another.
    pub fn init(size: &str, classes: usize, device: &Device) -> Option<Self> {
        let (embed, depths, heads) = layout(size)?;
        let dims = [embed, 2 * embed, 4 * embed, 8 * embed];
        let span = 2 * WINDOW - 1;
        let stages = (0..4)
            .map(|s| {
                let dim = dims[s];
                (0..depths[s])
                    .map(|i| Block {
                        norm1: layer_norm(dim, EPS, device),
                        attn: WindowAttention {
                            qkv: LinearConfig::new(dim, 3 * dim).init(device),
                            proj: LinearConfig::new(dim, dim).init(device),
                            relative_position_bias_table: Param::from_tensor(Tensor::zeros(
                                [span * span, heads[s]],
                                device,
                            )),
                        },
                        norm2: layer_norm(dim, EPS, device),
                        mlp: vec![
                            LinearConfig::new(dim, 4 * dim).init(device),
                            LinearConfig::new(4 * dim, dim).init(device),
                        ],
                        heads: heads[s],
                        shifted: i % 2 == 1,
                    })
                    .collect()
            })
            .collect();
        let merges = dims[..3]
            .iter()
            .map(|&d| PatchMerging {
                norm: layer_norm(4 * d, EPS, device),
                reduction: LinearConfig::new(4 * d, 2 * d)
                    .with_bias(false)
                    .init(device),
            })
            .collect();
        Some(Swin {
            stem_conv: conv([3, embed], 4, 4, 0, 1, true, device),
            stem_norm: layer_norm(embed, EPS, device),
            stages,
            merges,
            norm: layer_norm(dims[3], EPS, device),
            head: LinearConfig::new(dims[3], classes).init(device),
        })
    }

    /// (pami's name, torchvision's name): `features` alternates the patch
    /// embedding (`0` convolution, `2` norm) or a merge and stages; MLPs
    /// number their linear layers `0` and `3`.
    pub fn torch_names(&self) -> Vec<(String, String)> {
        let mut names: Vec<(String, String)> = vec![
            ("stem_conv.".into(), "features.0.0.".into()),
            ("stem_norm.".into(), "features.0.2.".into()),
        ];
        for (s, stage) in self.stages.iter().enumerate() {
            for i in 0..stage.len() {
                let (ours, theirs) = (
                    format!("stages.{s}.{i}."),
                    format!("features.{}.{i}.", 2 * s + 1),
                );
                names.push((format!("{ours}mlp.0."), format!("{theirs}mlp.0.")));
                names.push((format!("{ours}mlp.1."), format!("{theirs}mlp.3.")));
                names.push((ours, theirs));
            }
        }
        for m in 0..self.merges.len() {
            names.push((format!("merges.{m}."), format!("features.{}.", 2 * m + 2)));
        }
        names
    }

    /// Logits `[B, classes]` of a normalised batch `[B, 3, H, W]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_hooked(x, &mut |a| a)
    }

    /// [`Self::forward`] with `hook` on the last stage's output as
    /// `[B, C, H/32, W/32]` maps (torchvision's `features`, before `norm`).
    pub fn forward_hooked(&self, x: Tensor<4>, hook: Hook<'_>) -> Tensor<2> {
        let mut x = self
            .stem_norm
            .forward(self.stem_conv.forward(x).permute([0, 2, 3, 1]));
        let n = WINDOW * WINDOW;
        let index = Tensor::<1, Int>::from_data(TensorData::new(relative_position_index(), [n * n]), &x.device());
        for (s, stage) in self.stages.iter().enumerate() {
            if s > 0 {
                x = self.merges[s - 1].forward(x);
            }
            let [_, h, w, _] = x.dims();
            let windows = Windows::new([h, w], index.clone());
            for block in stage {
                x = block.forward(x, &windows);
            }
        }
        let x = hook(x.permute([0, 3, 1, 2])).permute([0, 2, 3, 1]);
        let [b, _, _, c] = x.dims();
        let x = self.norm.forward(x);
        self.head.forward(x.mean_dim(2).mean_dim(1).reshape([b, c]))
    }
}
