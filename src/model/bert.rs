//! A BERT encoder (Devlin et al.) as Hugging Face's `BertModel` computes it:
//! word, position and token-type embeddings summed and layer-normalised,
//! then post-norm layers of multi-head self-attention and a GELU MLP. The
//! layout of MiniLM-L6 (`all-MiniLM-L6-v2`: 6 layers, 12 heads, width 384),
//! whose weights pami embeds (`models/minilm_l6_f16.safetensors`, made by
//! `tools/make_minilm.py`), and whose outputs agree with transformers' on the
//! same weights (`tools/minilm_reference.py`, a test).

use std::path::Path;

use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::store::{ChainAdapter, HalfPrecisionAdapter, KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use burn::tensor::activation::{gelu, softmax};
use burn::tensor::{Device, Int, Tensor};

use crate::Error;

/// Layers, heads, width, MLP width, positions, vocabulary, token types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BertLayout {
    pub layers: usize,
    pub heads: usize,
    pub width: usize,
    pub mlp: usize,
    pub positions: usize,
    pub vocabulary: usize,
    pub types: usize,
}

/// MiniLM-L6-H384 (`all-MiniLM-L6-v2`).
pub const MINILM_L6: BertLayout = BertLayout { layers: 6, heads: 12, width: 384, mlp: 1536, positions: 512, vocabulary: 30522, types: 2 };

/// BERT's layer-norm epsilon.
const EPS: f64 = 1e-12;

#[derive(Module, Debug)]
pub struct Embeddings {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    token_type_embeddings: Embedding,
    layer_norm: LayerNorm,
}

#[derive(Module, Debug)]
pub struct SelfAttention {
    query: Linear,
    key: Linear,
    value: Linear,
}

#[derive(Module, Debug)]
pub struct Dense {
    dense: Linear,
}

#[derive(Module, Debug)]
pub struct DenseNorm {
    dense: Linear,
    layer_norm: LayerNorm,
}

#[derive(Module, Debug)]
pub struct Attention {
    self_attention: SelfAttention,
    output: DenseNorm,
}

#[derive(Module, Debug)]
pub struct Layer {
    attention: Attention,
    intermediate: Dense,
    output: DenseNorm,
}

#[derive(Module, Debug)]
pub struct Encoder {
    layer: Vec<Layer>,
}

#[derive(Module, Debug)]
pub struct Bert {
    embeddings: Embeddings,
    encoder: Encoder,
    #[module(skip)]
    heads: usize,
}

fn linear(i: usize, o: usize, device: &Device) -> Linear {
    LinearConfig::new(i, o).init(device)
}

fn norm(d: usize, device: &Device) -> LayerNorm {
    LayerNormConfig::new(d).with_epsilon(EPS).init(device)
}

impl Bert {
    /// Random initial weights of `layout` on `device`.
    pub fn init(layout: BertLayout, device: &Device) -> Self {
        let d = layout.width;
        let layer = |_| Layer {
            attention: Attention {
                self_attention: SelfAttention { query: linear(d, d, device), key: linear(d, d, device), value: linear(d, d, device) },
                output: DenseNorm { dense: linear(d, d, device), layer_norm: norm(d, device) },
            },
            intermediate: Dense { dense: linear(d, layout.mlp, device) },
            output: DenseNorm { dense: linear(layout.mlp, d, device), layer_norm: norm(d, device) },
        };
        Bert {
            embeddings: Embeddings {
                word_embeddings: EmbeddingConfig::new(layout.vocabulary, d).init(device),
                position_embeddings: EmbeddingConfig::new(layout.positions, d).init(device),
                token_type_embeddings: EmbeddingConfig::new(layout.types, d).init(device),
                layer_norm: norm(d, device),
            },
            encoder: Encoder { layer: (0..layout.layers).map(layer).collect() },
            heads: layout.heads,
        }
    }

    /// `layout` with the weights of a Hugging Face `BertModel` safetensors
    /// file (f32 or f16; the pooler, if there, is not used).
    pub fn load(layout: BertLayout, path: &Path, device: &Device) -> Result<Self, Error> {
        if !path.is_file() {
            return Err(Error::Weights(format!("{}: no such file", path.display())));
        }
        let fail = |e: &dyn std::fmt::Display| Error::Weights(format!("{}: {e}", path.display()));
        let remap = KeyRemapper::new()
            .add_pattern(r"^bert\.", "")
            .and_then(|r| r.add_pattern(r"\.self\.", ".self_attention."))
            .and_then(|r| r.add_pattern(r"LayerNorm", "layer_norm"))
            .map_err(|e| fail(&e))?;
        let mut store = SafetensorsStore::from_file(path)
            .with_from_adapter(ChainAdapter::new(PyTorchToBurnAdapter, HalfPrecisionAdapter::new()))
            .allow_partial(true)
            .remap(remap);
        let mut model = Self::init(layout, device);
        let result = model.load_from(&mut store).map_err(|e| fail(&e))?;
        if let Some(name) = result.missing.first() {
            return Err(fail(&format!("no tensor for `{}` ({} missing)", name.0, result.missing.len())));
        }
        Ok(crate::model::inference(&model))
    }

    /// Hidden states `[B, T, D]` of token ids `[B, T]`, where `mask` `[B, T]`
    /// is 1 for tokens and 0 for padding (padding attends but is not attended to).
    pub fn forward(&self, ids: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<3> {
        let [b, t] = ids.dims();
        let device = ids.device();
        let positions = Tensor::<1, Int>::arange(0..t as i64, &device).reshape([1, t]).expand([b, t]);
        let types = Tensor::<2, Int>::zeros([b, t], &device);
        let e = &self.embeddings;
        let x = e.word_embeddings.forward(ids) + e.position_embeddings.forward(positions) + e.token_type_embeddings.forward(types);
        let mut x = e.layer_norm.forward(x);
        // Hugging Face adds the dtype's lowest value to masked scores; any
        // value whose exponential underflows gives the same softmax.
        let bias = (mask.neg() + 1.0).mul_scalar(-1e9).reshape([b, 1, 1, t]);
        for layer in &self.encoder.layer {
            x = layer.forward(x, self.heads, bias.clone());
        }
        x
    }
}

impl Layer {
    fn forward(&self, x: Tensor<3>, heads: usize, bias: Tensor<4>) -> Tensor<3> {
        let [b, t, d] = x.dims();
        let h = d / heads;
        let a = &self.attention.self_attention;
        let split = |y: Tensor<3>| y.reshape([b, t, heads, h]).swap_dims(1, 2);
        let (q, k, v) = (split(a.query.forward(x.clone())), split(a.key.forward(x.clone())), split(a.value.forward(x.clone())));
        let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar((h as f64).powf(-0.5)) + bias.expand([b, heads, t, t]);
        let context = softmax(scores, 3).matmul(v).swap_dims(1, 2).reshape([b, t, d]);
        let out = &self.attention.output;
        let x = out.layer_norm.forward(out.dense.forward(context) + x);
        let y = self.output.dense.forward(gelu(self.intermediate.dense.forward(x.clone())));
        self.output.layer_norm.forward(y + x)
    }
}
