//! The CPU path's forward for convolutional networks: a [`Plan`] of fused
//! layers on channels-last (NHWC) maps, built once from a model's Burn
//! modules when it is loaded on the CPU.
//!
//! Each convolution carries its batch norm folded into its weights and bias,
//! its activation and, where the network adds a residual after it, that
//! residual: one pass writes each output. A dense convolution is one `gemm`
//! (AVX-512 kernels where the CPU has them) per block of output rows, its
//! patches gathered block by block while they are in cache (a 1×1 stride-1
//! convolution reads its input rows directly); a depthwise one runs over the
//! channels of each output pixel, contiguous in NHWC. Maps are recycled
//! between layers and passes, so the pass makes no fresh page the kernel
//! must zero. DenseNet's pre-activation (batch norm and ReLU before a
//! convolution, over the concatenation of earlier maps) is applied while
//! the patches are gathered, so no concatenation is ever copied; ConvNeXt's
//! layer norms run in the output pass of the convolution before them.
//! Burn's `flex` path, which runs the same networks module by
//! module (a conv, then the batch norm's four element-wise passes, then the
//! activation, each a new buffer), stays the reference: the tests hold each
//! plan to it, logits within 1e-4 of their range.

use std::sync::{Arc, Mutex};

use burn::nn::{BatchNorm, LayerNorm, Linear, PaddingConfig2d, conv::Conv2d};
use burn::tensor::{Device, Tensor, TensorData};
use rayon::prelude::*;

/// Defines `fn $name` that runs its body compiled for AVX-512 or AVX2 where
/// the CPU has them, else for the baseline: each kernel's loops run over
/// contiguous channels, which the compiler vectorises at the widest level.
macro_rules! multiversion {
    ($(#[$meta:meta])* fn $name:ident($($p:ident: $t:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        fn $name($($p: $t),*) {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn inner($($p: $t),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn v4($($p: $t),*) { inner($($p),*) }
                #[target_feature(enable = "avx2,fma")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn v3($($p: $t),*) { inner($($p),*) }
                if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vl") {
                    // SAFETY: the CPU has the features.
                    return unsafe { v4($($p),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has the features.
                    return unsafe { v3($($p),*) };
                }
            }
            inner($($p),*)
        }
    };
}

/// The activation after a layer (and its residual).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Identity,
    Relu,
    Relu6,
    /// The exact GELU, `x Φ(x)` (PyTorch's `nn.GELU()`).
    Gelu,
}

impl Act {
    #[inline(always)]
    fn apply(self, v: f32) -> f32 {
        match self {
            Act::Identity => v,
            Act::Relu => v.max(0.0),
            Act::Relu6 => v.clamp(0.0, 6.0),
            Act::Gelu => 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2)),
        }
    }
}

/// erf on f32 as a rational function of x² on [-4, 4] (±1 beyond, where
/// erf rounds to it): only multiplies, adds and a division, so the
/// epilogue's loop vectorises, which a call to libm's `erff` prevents.
/// Within 1e-6 of libm's (the unit test below).
#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = [-2.726_142_3e-10, 2.770_681_4e-8, -2.101_024e-6, -5.692_506_4e-5, -7.349_906_3e-4, -2.954_600e-3, -1.609_603_3e-2];
    let q = [-1.456_607_2e-5, -2.133_740_6e-4, -1.682_827e-3, -7.373_329_2e-3, -1.426_474e-2];
    let num = p.iter().fold(0.0f32, |acc, &c| acc * x2 + c) * x;
    let den = q.iter().fold(0.0f32, |acc, &c| acc * x2 + c);
    num / den
}

/// Per-channel `scale` and `shift` of a batch norm at inference, in f64.
fn bn_affine(bn: &BatchNorm) -> (Vec<f64>, Vec<f64>) {
    let [gamma, beta, mean, var] =
        [bn.gamma.val(), bn.beta.val(), bn.running_mean.value(), bn.running_var.value()].map(|t| values(&t));
    gamma
        .iter()
        .zip(&beta)
        .zip(mean.iter().zip(&var))
        .map(|((&g, &b), (&m, &v))| {
            let scale = f64::from(g) / (f64::from(v) + bn.epsilon).sqrt();
            (scale, f64::from(b) - f64::from(m) * scale)
        })
        .unzip()
}

/// A batch norm followed by a ReLU, applied to a layer's input (DenseNet's
/// pre-activation): `max(x · scale + shift, 0)` per channel.
#[derive(Debug)]
struct PreAct {
    scale: Vec<f32>,
    shift: Vec<f32>,
}

impl PreAct {
    fn new(bn: &BatchNorm) -> Self {
        let (scale, shift) = bn_affine(bn);
        let f32s = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect();
        PreAct { scale: f32s(scale), shift: f32s(shift) }
    }
}

/// A layer norm over each position's channels (ConvNeXt's).
#[derive(Debug)]
struct ChannelNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl ChannelNorm {
    /// `norm`, whose ε Burn keeps private, with its ε.
    fn new(norm: &LayerNorm, eps: f64) -> Self {
        ChannelNorm {
            weight: values(&norm.gamma.val()),
            bias: norm.beta.as_ref().map(|b| values(&b.val())).unwrap_or_else(|| vec![0.0; norm.gamma.dims()[0]]),
            eps: eps as f32,
        }
    }
}

/// Zero padding of a convolution: fixed `[top, left, bottom, right]`, or
/// TensorFlow's "same" computed from the input (Burn's `PaddingConfig2d::Same`).
#[derive(Clone, Copy, Debug)]
enum Padding {
    Explicit([usize; 4]),
    Same,
}

impl Padding {
    fn of(config: &PaddingConfig2d) -> Self {
        match *config {
            PaddingConfig2d::Valid => Padding::Explicit([0; 4]),
            PaddingConfig2d::Same => Padding::Same,
            PaddingConfig2d::Explicit(top, left, bottom, right) => Padding::Explicit([top, left, bottom, right]),
        }
    }

    /// `[top, left, bottom, right]` for an input of `[h, w]`.
    fn at(self, [h, w]: [usize; 2], kernel: [usize; 2], stride: [usize; 2]) -> [usize; 4] {
        match self {
            Padding::Explicit(p) => p,
            Padding::Same => {
                let same = |size: usize, k: usize, s: usize| {
                    let total = ((size.div_ceil(s) - 1) * s + k).saturating_sub(size);
                    (total / 2, total - total / 2)
                };
                let (top, bottom) = same(h, kernel[0], stride[0]);
                let (left, right) = same(w, kernel[1], stride[1]);
                [top, left, bottom, right]
            }
        }
    }
}

/// The input position of tap `offset` of output `out` (stride `s`, leading
/// padding `pad`), or `None` where it falls in the padding.
#[inline(always)]
fn tap(out: usize, s: usize, offset: usize, pad: usize, size: usize) -> Option<usize> {
    (out * s + offset).checked_sub(pad).filter(|&i| i < size)
}

/// Output side of a window of `k` at stride `s` over `size` padded by `pad`.
fn out_side(size: usize, pad: usize, k: usize, s: usize) -> usize {
    if size + pad < k { 0 } else { (size + pad - k) / s + 1 }
}

/// Channels-last maps `[n, h, w, c]`.
struct Maps {
    data: Vec<f32>,
    dims: [usize; 4],
}

/// A convolution with its batch norm folded in, its activation and the
/// shape of its weights.
#[derive(Debug)]
struct Conv {
    cin: usize,
    cout: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: Padding,
    depthwise: bool,
    /// Dense: `[kh, kw, cin, cout]` (a `[K, cout]` matrix for `gemm`);
    /// depthwise: `[kh, kw, c]`.
    weight: Vec<f32>,
    bias: Vec<f32>,
    act: Act,
    /// Applied to the input as its patches are gathered (dense convolutions only).
    pre: Option<PreAct>,
    /// Applied to each output position after the activation.
    norm: Option<ChannelNorm>,
}

fn values<const D: usize>(t: &Tensor<D>) -> Vec<f32> {
    t.clone().into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 values")
}

impl Conv {
    /// `conv`, then `norm` if any, then `act`; `None` for what the plan has no
    /// kernel for (dilation, grouped convolutions that are not depthwise).
    fn new(conv: &Conv2d, norm: Option<&BatchNorm>, act: Act) -> Option<Self> {
        let [cout, per_group, kh, kw] = conv.weight.dims();
        let depthwise = conv.groups > 1 && per_group == 1 && conv.groups == cout;
        if conv.dilation != [1, 1] || (conv.groups != 1 && !depthwise) {
            return None;
        }
        let cin = if depthwise { cout } else { per_group };
        let w = values(&conv.weight.val());
        let mut bias: Vec<f64> = match &conv.bias {
            Some(b) => values(&b.val()).into_iter().map(f64::from).collect(),
            None => vec![0.0; cout],
        };
        let mut scale = vec![1.0f64; cout];
        if let Some(bn) = norm {
            let (s, shift) = bn_affine(bn);
            for c in 0..cout {
                scale[c] = s[c];
                bias[c] = bias[c] * s[c] + shift[c];
            }
        }
        let mut weight = vec![0.0f32; w.len()];
        for co in 0..cout {
            for ci in 0..per_group {
                for i in 0..kh {
                    for j in 0..kw {
                        let v = (f64::from(w[((co * per_group + ci) * kh + i) * kw + j]) * scale[co]) as f32;
                        let at = if depthwise { (i * kw + j) * cout + co } else { ((i * kw + j) * cin + ci) * cout + co };
                        weight[at] = v;
                    }
                }
            }
        }
        Some(Conv {
            cin,
            cout,
            kernel: [kh, kw],
            stride: conv.stride,
            padding: Padding::of(&conv.padding),
            depthwise,
            weight,
            bias: bias.into_iter().map(|b| b as f32).collect(),
            act,
            pre: None,
            norm: None,
        })
    }

    /// A linear layer over each position's channels (a 1×1 convolution),
    /// its outputs multiplied by `scale` if any, then `act`.
    fn pointwise(linear: &Linear, scale: Option<&[f32]>, act: Act) -> Self {
        let [cin, cout] = linear.weight.dims();
        // Burn keeps `[cin, cout]`: already `gemm`'s right-hand side.
        let mut weight = values(&linear.weight.val());
        let mut bias = linear.bias.as_ref().map(|b| values(&b.val())).unwrap_or_else(|| vec![0.0; cout]);
        if let Some(scale) = scale {
            for row in weight.chunks_exact_mut(cout) {
                row.iter_mut().zip(scale).for_each(|(w, s)| *w *= s);
            }
            bias.iter_mut().zip(scale).for_each(|(b, s)| *b *= s);
        }
        Conv {
            cin,
            cout,
            kernel: [1, 1],
            stride: [1, 1],
            padding: Padding::Explicit([0; 4]),
            depthwise: false,
            weight,
            bias,
            act,
            pre: None,
            norm: None,
        }
    }

    fn out_dims(&self, [n, h, w, _]: [usize; 4]) -> ([usize; 4], [usize; 4]) {
        let pad = self.padding.at([h, w], self.kernel, self.stride);
        let oh = out_side(h, pad[0] + pad[2], self.kernel[0], self.stride[0]);
        let ow = out_side(w, pad[1] + pad[3], self.kernel[1], self.stride[1]);
        ([n, oh, ow, self.cout], pad)
    }
}

/// One layer of a plan: reads earlier values by index (0 is the input).
#[derive(Debug)]
enum Step {
    /// A convolution of the concatenation of `inputs` along channels (one
    /// map for all but DenseNet's layers), plus `residual` (same shape as
    /// its output) before the activation.
    Conv { conv: Conv, inputs: Vec<usize>, residual: Option<usize> },
    /// Max pooling; padding never wins (PyTorch's semantics).
    MaxPool { input: usize, kernel: usize, stride: usize, padding: usize },
    /// Average pooling without padding.
    AvgPool { input: usize, kernel: usize, stride: usize },
    /// The concatenation of `inputs` along channels, through `pre`.
    Cat { inputs: Vec<usize>, pre: PreAct },
}

impl Step {
    fn inputs(&self) -> Vec<usize> {
        match self {
            Step::Conv { inputs, residual, .. } => inputs.iter().copied().chain(*residual).collect(),
            Step::MaxPool { input, .. } | Step::AvgPool { input, .. } => vec![*input],
            Step::Cat { inputs, .. } => inputs.clone(),
        }
    }
}

/// How the head reduces the last maps to one vector per image.
#[derive(Clone, Copy, Debug)]
pub enum Pool {
    /// The average over every position: `[C]`.
    Global,
    /// PyTorch's adaptive average pooling to `[h, w]`, flattened: `[h·w·C]`.
    Grid([usize; 2]),
}

/// A linear layer of the head and its activation.
#[derive(Debug)]
struct Dense {
    /// `[inputs, outputs]`, as Burn's `Linear` keeps it.
    weight: Vec<f32>,
    bias: Vec<f32>,
    act: Act,
}

/// The classifier after the last maps: pooling, a layer norm over the
/// pooled channels (ConvNeXt's), linear layers.
#[derive(Debug)]
struct Head {
    pool: Pool,
    norm: Option<ChannelNorm>,
    layers: Vec<Dense>,
}

/// A network lowered for the CPU: its layers, then its head.
#[derive(Debug)]
pub struct Plan {
    steps: Vec<Step>,
    /// The last step that reads each value (its buffer is recycled after).
    last_use: Vec<usize>,
    output: usize,
    head: Head,
    classes: usize,
    buffers: Mutex<Vec<Vec<f32>>>,
}

/// Builds a [`Plan`] layer by layer; each method returns its output's index.
#[derive(Default)]
pub struct PlanBuilder {
    steps: Vec<Step>,
}

/// A value of a plan under construction.
#[derive(Clone, Copy, Debug)]
pub struct Value(usize);

impl PlanBuilder {
    /// The network's input.
    pub fn input(&self) -> Value {
        Value(0)
    }

    fn push(&mut self, step: Step) -> Value {
        self.steps.push(step);
        Value(self.steps.len())
    }

    /// `act(norm(conv(input)) + residual)`; `None` when the plan has no kernel for `conv`.
    pub fn conv(&mut self, input: Value, conv: &Conv2d, norm: Option<&BatchNorm>, act: Act, residual: Option<Value>) -> Option<Value> {
        let conv = Conv::new(conv, norm, act)?;
        Some(self.push(Step::Conv { conv, inputs: vec![input.0], residual: residual.map(|r| r.0) }))
    }

    /// `act(norm(conv(relu(pre(cat(inputs))))))`: a DenseNet layer's
    /// convolution; `None` when the plan has no dense kernel for `conv`.
    pub fn preact_conv(&mut self, inputs: &[Value], pre: &BatchNorm, conv: &Conv2d, norm: Option<&BatchNorm>, act: Act) -> Option<Value> {
        let mut conv = Conv::new(conv, norm, act).filter(|c| !c.depthwise)?;
        conv.pre = Some(PreAct::new(pre));
        Some(self.push(Step::Conv { conv, inputs: inputs.iter().map(|v| v.0).collect(), residual: None }))
    }

    /// `act(linear(input) · scale + residual)` over each position's channels.
    pub fn linear(&mut self, input: Value, linear: &Linear, scale: Option<&[f32]>, act: Act, residual: Option<Value>) -> Value {
        let conv = Conv::pointwise(linear, scale, act);
        self.push(Step::Conv { conv, inputs: vec![input.0], residual: residual.map(|r| r.0) })
    }

    /// `norm` (ε `eps`) over the channels of `value`, run in the output pass
    /// of the convolution that makes it: `value` becomes the normalised map
    /// (no step can read it before the norm). `None` when `value` is not a
    /// convolution's output or a step already reads it.
    pub fn layer_norm(&mut self, value: Value, norm: &LayerNorm, eps: f64) -> Option<Value> {
        if self.steps.iter().any(|s| s.inputs().contains(&value.0)) {
            return None;
        }
        match self.steps.get_mut(value.0.checked_sub(1)?)? {
            Step::Conv { conv, .. } if conv.norm.is_none() => conv.norm = Some(ChannelNorm::new(norm, eps)),
            _ => return None,
        }
        Some(value)
    }

    /// Max pooling of square windows.
    pub fn max_pool(&mut self, input: Value, kernel: usize, stride: usize, padding: usize) -> Value {
        self.push(Step::MaxPool { input: input.0, kernel, stride, padding })
    }

    /// Average pooling of square windows, without padding.
    pub fn avg_pool(&mut self, input: Value, kernel: usize, stride: usize) -> Value {
        self.push(Step::AvgPool { input: input.0, kernel, stride })
    }

    /// `relu(pre(cat(inputs)))`.
    pub fn preact_cat(&mut self, inputs: &[Value], pre: &BatchNorm) -> Value {
        self.push(Step::Cat { inputs: inputs.iter().map(|v| v.0).collect(), pre: PreAct::new(pre) })
    }

    /// The plan: `output` averaged over its positions, then `fc`.
    pub fn finish(self, output: Value, fc: &Linear) -> Plan {
        self.finish_with(output, Pool::Global, None, &[(fc, Act::Identity)])
    }

    /// The plan: `output` pooled by `pool`, then `norm` (ε) over the pooled
    /// channels if any, then each linear layer and its activation. For
    /// [`Pool::Grid`] the first layer takes PyTorch's flattening, channel by channel.
    pub fn finish_with(self, output: Value, pool: Pool, norm: Option<(&LayerNorm, f64)>, layers: &[(&Linear, Act)]) -> Plan {
        let mut last_use = vec![0; self.steps.len() + 1];
        for (i, step) in self.steps.iter().enumerate() {
            for v in step.inputs() {
                last_use[v] = i;
            }
        }
        last_use[output.0] = usize::MAX;
        let mut dense: Vec<Dense> = layers
            .iter()
            .map(|(fc, act)| Dense {
                weight: values(&fc.weight.val()),
                bias: fc.bias.as_ref().map(|b| values(&b.val())).unwrap_or_else(|| vec![0.0; fc.weight.dims()[1]]),
                act: *act,
            })
            .collect();
        if let (Pool::Grid([h, w]), Some(first)) = (pool, dense.first_mut()) {
            // Rows from PyTorch's `[C, h, w]` order to the plan's `[h, w, C]`.
            let cout = first.bias.len();
            let c = first.weight.len() / cout / (h * w);
            let mut weight = vec![0.0; first.weight.len()];
            for ch in 0..c {
                for p in 0..h * w {
                    weight[(p * c + ch) * cout..][..cout].copy_from_slice(&first.weight[(ch * h * w + p) * cout..][..cout]);
                }
            }
            first.weight = weight;
        }
        let classes = dense.last().map(|d| d.bias.len()).expect("a head has a linear layer");
        Plan {
            steps: self.steps,
            last_use,
            output: output.0,
            head: Head { pool, norm: norm.map(|(n, eps)| ChannelNorm::new(n, eps)), layers: dense },
            classes,
            buffers: Mutex::new(Vec::new()),
        }
    }
}

/// The plan's device: a plan only runs on Burn's `flex` CPU device (not its autodiff twin).
fn on_cpu(device: &Device) -> bool {
    // An autodiff tensor on flex compares equal to flex: the plan would
    // drop its tape.
    *device == Device::flex() && !device.is_autodiff()
}

/// `plan()` for a model whose weights now live on `device`: built only on the CPU.
pub fn for_device(device: &Device, plan: impl FnOnce() -> Option<Plan>) -> Option<Arc<Plan>> {
    on_cpu(device).then(plan).flatten().map(Arc::new)
}

/// The plan to run `x` with: the model's, when `x` is on the CPU.
pub fn for_input<'a>(plan: &'a Option<Arc<Plan>>, x: &Tensor<4>) -> Option<&'a Plan> {
    plan.as_deref().filter(|_| on_cpu(&x.device()))
}

impl Plan {
    /// A buffer of `len` values (their contents are overwritten by the caller).
    fn take(&self, len: usize) -> Vec<f32> {
        let mut pool = self.buffers.lock().unwrap_or_else(|e| e.into_inner());
        let best = pool.iter().enumerate().filter(|(_, b)| b.capacity() >= len).min_by_key(|(_, b)| b.capacity()).map(|(i, _)| i);
        let mut buffer = match best {
            Some(i) => pool.swap_remove(i),
            None => Vec::with_capacity(len),
        };
        buffer.truncate(len);
        buffer.resize(len, 0.0);
        buffer
    }

    fn give(&self, buffer: Vec<f32>) {
        self.buffers.lock().unwrap_or_else(|e| e.into_inner()).push(buffer);
    }

    /// Logits `[B, classes]` of a normalised batch `[B, C, H, W]` on the CPU.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let device = x.device();
        let [n, c, h, w] = x.dims();
        let nchw = x.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 input");
        let mut input = self.take(nchw.len());
        to_nhwc(&nchw, &mut input, [c, h, w]);
        let mut live: Vec<Option<Maps>> = Vec::with_capacity(self.steps.len() + 1);
        live.push(Some(Maps { data: input, dims: [n, h, w, c] }));
        for (i, step) in self.steps.iter().enumerate() {
            let get = |v: usize| live[v].as_ref().expect("a live value");
            let out = match step {
                Step::Conv { conv, inputs, residual } => {
                    let xs: Vec<&Maps> = inputs.iter().map(|&v| get(v)).collect();
                    self.conv(conv, &xs, residual.map(get))
                }
                Step::MaxPool { input, kernel, stride, padding } => self.max_pool(get(*input), *kernel, *stride, *padding),
                Step::AvgPool { input, kernel, stride } => self.avg_pool(get(*input), *kernel, *stride),
                Step::Cat { inputs, pre } => {
                    let xs: Vec<&Maps> = inputs.iter().map(|&v| get(v)).collect();
                    self.cat(&xs, pre)
                }
            };
            live.push(Some(out));
            for (v, slot) in live.iter_mut().enumerate() {
                if self.last_use[v] == i {
                    if let Some(maps) = slot.take() {
                        self.give(maps.data);
                    }
                }
            }
        }
        let last = live[self.output].take().expect("the output");
        let logits = self.head(&last);
        self.give(last.data);
        Tensor::from_data(TensorData::new(logits, [n, self.classes]), &device)
    }

    fn conv(&self, conv: &Conv, xs: &[&Maps], residual: Option<&Maps>) -> Maps {
        let channels: usize = xs.iter().map(|x| x.dims[3]).sum();
        assert_eq!(channels, conv.cin, "channels of the plan's input");
        assert!(xs.iter().all(|x| x.dims[..3] == xs[0].dims[..3]), "concatenated maps have one size");
        let (dims, pad) = conv.out_dims(xs[0].dims);
        let mut out = self.take(dims.iter().product());
        if let Some(r) = residual {
            assert_eq!(r.dims, dims, "a residual has its block's output shape");
        }
        let res = residual.map(|r| r.data.as_slice());
        if conv.depthwise {
            depthwise(conv, xs[0], dims, pad, res, &mut out);
        } else {
            dense(conv, xs, dims, pad, res, &mut out);
        }
        Maps { data: out, dims }
    }

    fn max_pool(&self, x: &Maps, k: usize, s: usize, p: usize) -> Maps {
        let [n, h, w, c] = x.dims;
        let (oh, ow) = (out_side(h, 2 * p, k, s), out_side(w, 2 * p, k, s));
        let mut out = self.take(n * oh * ow * c);
        out.par_chunks_mut(ow * c).enumerate().for_each(|(row, out)| {
            let (b, y) = (row / oh, row % oh);
            out.fill(f32::NEG_INFINITY);
            for i in 0..k {
                let Some(iy) = tap(y, s, i, p, h) else { continue };
                for (xo, px) in out.chunks_exact_mut(c).enumerate() {
                    for j in 0..k {
                        let Some(ix) = tap(xo, s, j, p, w) else { continue };
                        let at = ((b * h + iy) * w + ix) * c;
                        for (o, v) in px.iter_mut().zip(&x.data[at..at + c]) {
                            *o = o.max(*v);
                        }
                    }
                }
            }
        });
        Maps { data: out, dims: [n, oh, ow, c] }
    }

    fn avg_pool(&self, x: &Maps, k: usize, s: usize) -> Maps {
        let [n, h, w, c] = x.dims;
        let (oh, ow) = (out_side(h, 0, k, s), out_side(w, 0, k, s));
        let mut out = self.take(n * oh * ow * c);
        out.par_chunks_mut(ow * c).enumerate().for_each(|(row, out)| {
            let (b, y) = (row / oh, row % oh);
            out.fill(0.0);
            for (xo, px) in out.chunks_exact_mut(c).enumerate() {
                for i in 0..k {
                    for j in 0..k {
                        let at = ((b * h + y * s + i) * w + xo * s + j) * c;
                        px.iter_mut().zip(&x.data[at..at + c]).for_each(|(o, v)| *o += v);
                    }
                }
                px.iter_mut().for_each(|o| *o /= (k * k) as f32);
            }
        });
        Maps { data: out, dims: [n, oh, ow, c] }
    }

    fn cat(&self, xs: &[&Maps], pre: &PreAct) -> Maps {
        let [n, h, w, _] = xs[0].dims;
        let c = pre.scale.len();
        assert_eq!(xs.iter().map(|x| x.dims[3]).sum::<usize>(), c, "channels of a concatenation");
        let mut out = self.take(n * h * w * c);
        out.par_chunks_mut(w * c).enumerate().for_each(|(row, out)| {
            for (p, px) in out.chunks_exact_mut(c).enumerate() {
                concat(px, xs, row * w + p, Some(pre));
            }
        });
        Maps { data: out, dims: [n, h, w, c] }
    }

    /// The head: pooling, the norm, the linear layers.
    fn head(&self, x: &Maps) -> Vec<f32> {
        let [n, h, w, c] = x.dims;
        let [gh, gw] = match self.head.pool {
            Pool::Global => [1, 1],
            Pool::Grid(grid) => grid,
        };
        // PyTorch's adaptive bins: [⌊i·size/g⌋, ⌈(i+1)·size/g⌉).
        let bin = |i: usize, size: usize, g: usize| (i * size / g, ((i + 1) * size).div_ceil(g));
        let mut features = vec![0.0f32; n * gh * gw * c];
        for (k, cell) in features.chunks_exact_mut(c).enumerate() {
            let (b, gy, gx) = (k / (gh * gw), k / gw % gh, k % gw);
            let ((y0, y1), (x0, x1)) = (bin(gy, h, gh), bin(gx, w, gw));
            for y in y0..y1 {
                for px in x.data[((b * h + y) * w + x0) * c..((b * h + y) * w + x1) * c].chunks_exact(c) {
                    cell.iter_mut().zip(px).for_each(|(s, v)| *s += v);
                }
            }
            cell.iter_mut().for_each(|s| *s /= ((y1 - y0) * (x1 - x0)) as f32);
        }
        if let Some(norm) = &self.head.norm {
            features.chunks_exact_mut(c).for_each(|v| channel_norm(v, norm));
        }
        for layer in &self.head.layers {
            let (k, m) = (layer.weight.len() / layer.bias.len(), layer.bias.len());
            let mut out = vec![0.0f32; n * m];
            matmul(&features, &layer.weight, &mut out, [n, k, m], gemm::Parallelism::Rayon(0));
            epilogue(&mut out, &layer.bias, None, layer.act, None);
            features = out;
        }
        features
    }
}

/// Writes position `p` of the concatenation of `xs` to `dst`, through `pre` if any.
#[inline(always)]
fn concat(dst: &mut [f32], xs: &[&Maps], p: usize, pre: Option<&PreAct>) {
    let mut at = 0;
    for x in xs {
        let c = x.dims[3];
        let (src, out) = (&x.data[p * c..][..c], &mut dst[at..at + c]);
        match pre {
            Some(pre) => {
                let (scale, shift) = (&pre.scale[at..at + c], &pre.shift[at..at + c]);
                for (((o, v), a), b) in out.iter_mut().zip(src).zip(scale).zip(shift) {
                    *o = (v * a + b).max(0.0);
                }
            }
            None => out.copy_from_slice(src),
        }
        at += c;
    }
}

/// `[n, c, h, w]` → `[n, h, w, c]`.
fn to_nhwc(src: &[f32], dst: &mut [f32], [c, h, w]: [usize; 3]) {
    dst.par_chunks_mut(h * w * c).enumerate().for_each(|(b, image)| {
        for ch in 0..c {
            let plane = &src[(b * c + ch) * h * w..][..h * w];
            for (p, v) in plane.iter().enumerate() {
                image[p * c + ch] = *v;
            }
        }
    });
}

multiversion! {
/// Adds the bias (and residual) to `out`'s rows, applies the activation,
/// then the layer norm if any.
fn epilogue(out: &mut [f32], bias: &[f32], residual: Option<&[f32]>, act: Act, norm: Option<&ChannelNorm>) {
    let c = bias.len();
    match residual {
        Some(r) => out.chunks_exact_mut(c).zip(r.chunks_exact(c)).for_each(|(o, r)| {
            for ((o, b), r) in o.iter_mut().zip(bias).zip(r) {
                *o = act.apply(*o + b + r);
            }
        }),
        None => out.chunks_exact_mut(c).for_each(|o| {
            for (o, b) in o.iter_mut().zip(bias) {
                *o = act.apply(*o + b);
            }
        }),
    }
    if let Some(norm) = norm {
        out.chunks_exact_mut(c).for_each(|o| channel_norm(o, norm));
    }
}
}

/// `norm` over the channels `v` of one position (mean and variance in f64).
#[inline(always)]
fn channel_norm(v: &mut [f32], norm: &ChannelNorm) {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let var = v.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n;
    let (mean, inv) = (mean as f32, (1.0 / (var + f64::from(norm.eps)).sqrt()) as f32);
    for ((x, w), b) in v.iter_mut().zip(&norm.weight).zip(&norm.bias) {
        *x = (*x - mean) * inv * w + b;
    }
}

/// `out = lhs · rhs` for row-major `lhs` `[m, k]`, `rhs` `[k, n]` and
/// `out` `[m, n]`, through `gemm`.
fn matmul(lhs: &[f32], rhs: &[f32], out: &mut [f32], [m, k, n]: [usize; 3], parallelism: gemm::Parallelism) {
    assert!(lhs.len() == m * k && rhs.len() == k * n && out.len() == m * n, "matmul shapes");
    // SAFETY: the slices hold m×k, k×n and m×n values in row-major order (checked above).
    unsafe {
        gemm::gemm(
            m, n, k,
            out.as_mut_ptr(), 1, n as isize, false,
            lhs.as_ptr(), 1, k as isize,
            rhs.as_ptr(), 1, n as isize,
            0.0, 1.0, false, false, false, parallelism,
        );
    }
}

/// Output rows per block of a dense convolution: enough for `gemm` to
/// amortise packing its weights, few enough for the block's patches to stay
/// in cache, and at least two blocks per thread.
fn block_rows(rows: usize, k: usize) -> usize {
    let cached = (64 * 1024 / k.max(1)).clamp(96, 2048);
    let per_thread = rows.div_ceil(2 * rayon::current_num_threads()).max(16);
    cached.min(per_thread)
}

thread_local! {
    static PATCHES: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A dense convolution of the concatenation of `xs`: per block of output
/// rows, the rows' patches `[rows, kh·kw·cin]` (the input itself for a 1×1
/// stride-1 convolution of one map) times the weights `[kh·kw·cin, cout]`,
/// then the epilogue.
fn dense(conv: &Conv, xs: &[&Maps], [_, oh, ow, cout]: [usize; 4], pad: [usize; 4], residual: Option<&[f32]>, out: &mut [f32]) {
    let [_, h, w, _] = xs[0].dims;
    let cin = conv.cin;
    let [kh, kw] = conv.kernel;
    let k = kh * kw * cin;
    let direct = kh == 1 && kw == 1 && conv.stride == [1, 1] && pad == [0; 4] && xs.len() == 1 && conv.pre.is_none();
    let rows = out.len() / cout;
    let block = block_rows(rows, k);
    out.par_chunks_mut(block * cout).enumerate().for_each(|(index, out)| {
        let first = index * block;
        let m = out.len() / cout;
        let run = |lhs: &[f32], out: &mut [f32]| {
            matmul(lhs, &conv.weight, out, [m, k, cout], gemm::Parallelism::None);
            let res = residual.map(|r| &r[first * cout..(first + m) * cout]);
            epilogue(out, &conv.bias, res, conv.act, conv.norm.as_ref());
        };
        if direct {
            run(&xs[0].data[first * cin..(first + m) * cin], out);
            return;
        }
        PATCHES.with_borrow_mut(|patches| {
            patches.resize(m * k, 0.0);
            gather(patches, xs, first, [oh, ow, h, w, cin], conv, pad);
            run(patches, out);
        });
    });
}

multiversion! {
/// The patches `[rows, kh·kw·cin]` of output rows `first..` (through the
/// convolution's pre-activation), zero outside the input.
fn gather(patches: &mut [f32], xs: &[&Maps], first: usize, sizes: [usize; 5], conv: &Conv, pad: [usize; 4]) {
    let [oh, ow, h, w, cin] = sizes;
    let [kh, kw] = conv.kernel;
    let [sh, sw] = conv.stride;
    for (r, patch) in patches.chunks_exact_mut(kh * kw * cin).enumerate() {
        let row = first + r;
        let (b, y, xo) = (row / (oh * ow), row / ow % oh, row % ow);
        for i in 0..kh {
            let iy = tap(y, sh, i, pad[0], h);
            for j in 0..kw {
                let dst = &mut patch[(i * kw + j) * cin..][..cin];
                match (iy, tap(xo, sw, j, pad[1], w)) {
                    (Some(iy), Some(ix)) => concat(dst, xs, (b * h + iy) * w + ix, conv.pre.as_ref()),
                    _ => dst.fill(0.0),
                }
            }
        }
    }
}
}

/// A depthwise convolution, one output row `(b, y)` per task; each output
/// pixel sums its taps over the contiguous channels.
fn depthwise(conv: &Conv, x: &Maps, [_, oh, ow, c]: [usize; 4], pad: [usize; 4], residual: Option<&[f32]>, out: &mut [f32]) {
    out.par_chunks_mut(ow * c).enumerate().for_each(|(row, out)| {
        let res = residual.map(|r| &r[row * ow * c..(row + 1) * ow * c]);
        depthwise_row(conv, x, row, oh, pad, out, res);
    });
}

multiversion! {
/// Output row `row` of a depthwise convolution.
fn depthwise_row(conv: &Conv, x: &Maps, row: usize, oh: usize, pad: [usize; 4], out: &mut [f32], residual: Option<&[f32]>) {
    let [_, h, w, c] = x.dims;
    let [kh, kw] = conv.kernel;
    let [sh, sw] = conv.stride;
    let (b, y) = (row / oh, row % oh);
    for (xo, px) in out.chunks_exact_mut(c).enumerate() {
        px.fill(0.0);
        for i in 0..kh {
            let Some(iy) = tap(y, sh, i, pad[0], h) else { continue };
            for j in 0..kw {
                let Some(ix) = tap(xo, sw, j, pad[1], w) else { continue };
                let input = &x.data[((b * h + iy) * w + ix) * c..][..c];
                let weight = &conv.weight[(i * kw + j) * c..][..c];
                for ((o, v), wt) in px.iter_mut().zip(input).zip(weight) {
                    *o += v * wt;
                }
            }
        }
    }
    epilogue(out, &conv.bias, residual, conv.act, conv.norm.as_ref());
}
}

#[cfg(test)]
mod tests {
    #[test]
    fn erf_matches_libm() {
        let worst = (-600_000..=600_000)
            .map(|i| i as f32 * 1e-5)
            .map(|x| (super::erf(x) - libm::erff(x)).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-6, "erf differs from libm's by {worst}");
    }
}
