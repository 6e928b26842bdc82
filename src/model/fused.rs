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
//! must zero. Burn's `flex` path, which runs the same networks module by
//! module (a conv, then the batch norm's four element-wise passes, then the
//! activation, each a new buffer), stays the reference: the tests hold each
//! plan to it, logits within 1e-4 of their range.

use std::sync::{Arc, Mutex};

use burn::nn::{BatchNorm, Linear, PaddingConfig2d, conv::Conv2d};
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
}

impl Act {
    #[inline(always)]
    fn apply(self, v: f32) -> f32 {
        match self {
            Act::Identity => v,
            Act::Relu => v.max(0.0),
            Act::Relu6 => v.clamp(0.0, 6.0),
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
            let [gamma, beta, mean, var] =
                [bn.gamma.val(), bn.beta.val(), bn.running_mean.value(), bn.running_var.value()].map(|t| values(&t));
            for c in 0..cout {
                scale[c] = f64::from(gamma[c]) / (f64::from(var[c]) + bn.epsilon).sqrt();
                bias[c] = (bias[c] - f64::from(mean[c])) * scale[c] + f64::from(beta[c]);
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
        })
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
    /// A convolution of `input`, plus `residual` (same shape as its output) before the activation.
    Conv { conv: Conv, input: usize, residual: Option<usize> },
    /// Max pooling; padding never wins (PyTorch's semantics).
    MaxPool { input: usize, kernel: usize, stride: usize, padding: usize },
}

/// A network lowered for the CPU: its layers, then global average pooling
/// and a linear classifier.
#[derive(Debug)]
pub struct Plan {
    steps: Vec<Step>,
    /// The last step that reads each value (its buffer is recycled after).
    last_use: Vec<usize>,
    output: usize,
    /// `[cin, cout]`, as Burn's `Linear` keeps it.
    fc_weight: Vec<f32>,
    fc_bias: Vec<f32>,
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
        Some(self.push(Step::Conv { conv, input: input.0, residual: residual.map(|r| r.0) }))
    }

    /// Max pooling of square windows.
    pub fn max_pool(&mut self, input: Value, kernel: usize, stride: usize, padding: usize) -> Value {
        self.push(Step::MaxPool { input: input.0, kernel, stride, padding })
    }

    /// The plan: `output` averaged over its positions, then `fc`.
    pub fn finish(self, output: Value, fc: &Linear) -> Plan {
        let mut last_use = vec![0; self.steps.len() + 1];
        for (i, step) in self.steps.iter().enumerate() {
            let (a, b) = match step {
                Step::Conv { input, residual, .. } => (*input, *residual),
                Step::MaxPool { input, .. } => (*input, None),
            };
            last_use[a] = i;
            if let Some(b) = b {
                last_use[b] = i;
            }
        }
        last_use[output.0] = usize::MAX;
        let [_, classes] = fc.weight.dims();
        Plan {
            steps: self.steps,
            last_use,
            output: output.0,
            fc_weight: values(&fc.weight.val()),
            fc_bias: fc.bias.as_ref().map(|b| values(&b.val())).unwrap_or_else(|| vec![0.0; classes]),
            classes,
            buffers: Mutex::new(Vec::new()),
        }
    }
}

/// The plan's device: a plan only runs on Burn's `flex` CPU device (not its autodiff twin).
fn on_cpu(device: &Device) -> bool {
    *device == Device::flex()
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
            let out = match step {
                Step::Conv { conv, input, residual } => {
                    let x = live[*input].as_ref().expect("a live value");
                    let res = residual.map(|r| live[r].as_ref().expect("a live value"));
                    self.conv(conv, x, res)
                }
                Step::MaxPool { input, kernel, stride, padding } => {
                    self.max_pool(live[*input].as_ref().expect("a live value"), *kernel, *stride, *padding)
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

    fn conv(&self, conv: &Conv, x: &Maps, residual: Option<&Maps>) -> Maps {
        assert_eq!(x.dims[3], conv.cin, "channels of the plan's input");
        let (dims, pad) = conv.out_dims(x.dims);
        let mut out = self.take(dims.iter().product());
        if let Some(r) = residual {
            assert_eq!(r.dims, dims, "a residual has its block's output shape");
        }
        let res = residual.map(|r| r.data.as_slice());
        if conv.depthwise {
            depthwise(conv, x, dims, pad, res, &mut out);
        } else {
            dense(conv, x, dims, pad, res, &mut out);
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

    /// Global average pooling, then the classifier.
    fn head(&self, x: &Maps) -> Vec<f32> {
        let [n, h, w, c] = x.dims;
        let mut pooled = vec![0.0f32; n * c];
        for (b, p) in pooled.chunks_exact_mut(c).enumerate() {
            for px in x.data[b * h * w * c..(b + 1) * h * w * c].chunks_exact(c) {
                for (s, v) in p.iter_mut().zip(px) {
                    *s += v;
                }
            }
            p.iter_mut().for_each(|s| *s /= (h * w) as f32);
        }
        let mut logits: Vec<f32> = (0..n).flat_map(|_| self.fc_bias.iter().copied()).collect();
        // SAFETY: the slices hold m×k, k×n and m×n values in row-major order.
        unsafe {
            gemm::gemm(
                n, self.classes, c,
                logits.as_mut_ptr(), 1, self.classes as isize, true,
                pooled.as_ptr(), 1, c as isize,
                self.fc_weight.as_ptr(), 1, self.classes as isize,
                1.0, 1.0, false, false, false, gemm::Parallelism::None,
            );
        }
        logits
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
/// Adds the bias (and residual) to `out`'s rows and applies the activation.
fn epilogue(out: &mut [f32], bias: &[f32], residual: Option<&[f32]>, act: Act) {
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

/// A dense convolution: per block of output rows, the rows' patches
/// `[rows, kh·kw·cin]` (the input itself for a 1×1 stride-1 convolution)
/// times the weights `[kh·kw·cin, cout]`, then the epilogue.
fn dense(conv: &Conv, x: &Maps, [_, oh, ow, cout]: [usize; 4], pad: [usize; 4], residual: Option<&[f32]>, out: &mut [f32]) {
    let [_, h, w, cin] = x.dims;
    let [kh, kw] = conv.kernel;
    let k = kh * kw * cin;
    let pointwise = kh == 1 && kw == 1 && conv.stride == [1, 1] && pad == [0; 4];
    let rows = out.len() / cout;
    let block = block_rows(rows, k);
    out.par_chunks_mut(block * cout).enumerate().for_each(|(index, out)| {
        let first = index * block;
        let m = out.len() / cout;
        let run = |lhs: &[f32], out: &mut [f32]| {
            // SAFETY: lhs is m×k, the weights k×cout, out m×cout, all row-major.
            unsafe {
                gemm::gemm(
                    m, cout, k,
                    out.as_mut_ptr(), 1, cout as isize, false,
                    lhs.as_ptr(), 1, k as isize,
                    conv.weight.as_ptr(), 1, cout as isize,
                    0.0, 1.0, false, false, false, gemm::Parallelism::None,
                );
            }
            let res = residual.map(|r| &r[first * cout..(first + m) * cout]);
            epilogue(out, &conv.bias, res, conv.act);
        };
        if pointwise {
            run(&x.data[first * cin..(first + m) * cin], out);
            return;
        }
        PATCHES.with_borrow_mut(|patches| {
            patches.resize(m * k, 0.0);
            gather(patches, x, first, [oh, ow, h, w, cin], conv, pad);
            run(patches, out);
        });
    });
}

multiversion! {
/// The patches `[rows, kh·kw·cin]` of output rows `first..`, zero outside the input.
fn gather(patches: &mut [f32], x: &Maps, first: usize, sizes: [usize; 5], conv: &Conv, pad: [usize; 4]) {
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
                    (Some(iy), Some(ix)) => dst.copy_from_slice(&x.data[((b * h + iy) * w + ix) * cin..][..cin]),
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
        px.copy_from_slice(&conv.bias);
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
    match residual {
        Some(r) => out.iter_mut().zip(r).for_each(|(o, r)| *o = conv.act.apply(*o + r)),
        None => out.iter_mut().for_each(|o| *o = conv.act.apply(*o)),
    }
}
}
