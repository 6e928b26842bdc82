//! Launch of a WGSL text kernel on the compute client that owns the tensors.

use burn::backend::DType;
use burn::backend::wgpu::{CubeTensor, KernelSource, SourceKernel, SourceTemplate, into_contiguous};
use burn::cubecl::{
    CubeCount, CubeDim,
    prelude::KernelId,
    server::{KernelArguments, MetadataBindingInfo},
};
use burn::tensor::Shape;

use super::fill::FillParams;
use super::{LINE, TILE};

/// A kernel whose source is a complete WGSL file with a `main` entry point.
struct Wgsl {
    name: &'static str,
    source: &'static str,
}

impl KernelSource for Wgsl {
    fn source(&self) -> SourceTemplate {
        SourceTemplate::new(super::resolve_imports(self.source))
    }

    fn id(&self) -> KernelId {
        KernelId::new::<Self>().info(self.name)
    }

    fn lang(&self) -> &'static str {
        "wgsl"
    }
}

/// Workgroup shape and count of a launch; the shape must match the kernel's `@workgroup_size`.
pub(crate) struct Grid {
    dim: CubeDim,
    count: CubeCount,
}

/// A `width × height × depth` grid of 16×16×1 workgroups (`@workgroup_size(16, 16, 1)`).
pub(crate) fn tiles(width: u32, height: u32, depth: u32) -> Grid {
    Grid {
        dim: CubeDim::new_3d(TILE, TILE, 1),
        count: CubeCount::Static(width.div_ceil(TILE), height.div_ceil(TILE), depth),
    }
}

/// `rows` rows of `len` invocations in 64×1×1 workgroups (`@workgroup_size(64, 1, 1)`).
pub(crate) fn lines(len: u32, rows: u32) -> Grid {
    Grid { dim: CubeDim::new_3d(LINE, 1, 1), count: CubeCount::Static(len.div_ceil(LINE), rows, 1) }
}

/// One `threads`-wide workgroup (`@workgroup_size(threads, 1, 1)`) per item,
/// for round-based kernels that loop with barriers; the items fill rows of
/// at most [`MAX_GROUPS`] workgroups (the kernel's item is
/// `workgroup_id.y · num_workgroups.x + workgroup_id.x`).
pub(crate) fn workgroups(items: u32, threads: u32) -> Grid {
    let columns = items.clamp(1, MAX_GROUPS);
    Grid { dim: CubeDim::new_3d(threads, 1, 1), count: CubeCount::Static(columns, items.div_ceil(columns), 1) }
}

/// Loop iterations one invocation may run in all, if the adapter limits
/// them: Mesa's llvmpipe (lavapipe) ends every loop of an invocation after
/// 65,535 iterations in all (`LP_MAX_TGSI_LOOP_ITERATIONS`), silently. Set
/// when a device is set up ([`note_adapter`]); kernels that loop by rounds
/// split their work into dispatches within it, and elsewhere run it in one.
pub(crate) fn loop_budget() -> Option<u32> {
    match LOOP_BUDGET.load(std::sync::atomic::Ordering::Relaxed) {
        0 => None,
        budget => Some(budget),
    }
}

/// Runs `total` units (rounds or steps) of a round-based kernel as a chain of
/// dispatches, `dispatch(first, count)` launching units `first..first +
/// count`: all in one where the adapter has no loop budget, else as many per
/// dispatch as fit in it at `iterations` loop iterations per unit (at least one).
pub(crate) fn chain(total: u64, iterations: u64, mut dispatch: impl FnMut(u32, u32)) {
    let per_dispatch = loop_budget().map_or(total, |budget| (budget as u64 / iterations.max(1)).max(1));
    let mut first = 0;
    while first < total {
        let count = per_dispatch.min(total - first);
        dispatch(first as u32, count as u32);
        first += count;
    }
}

/// 0: no budget.
static LOOP_BUDGET: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// llvmpipe's budget, less a margin for the loops around a kernel's main one.
const LLVMPIPE_BUDGET: u32 = 60_000;

/// The largest storage binding of the devices set up so far (the least of
/// them), if any: every buffer a kernel binds must fit in it.
pub fn max_binding() -> Option<u64> {
    match MAX_BINDING.load(std::sync::atomic::Ordering::Relaxed) {
        u64::MAX => None,
        bytes => Some(bytes),
    }
}

/// u64::MAX: no device set up.
static MAX_BINDING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(u64::MAX);

/// Records what the adapter a device was set up on limits: llvmpipe's loop
/// budget and the device's largest storage binding. One process may set up
/// several devices; the limits then hold for all of them, so they are only
/// ever tightened.
pub fn note_adapter(info: &wgpu::AdapterInfo, max_storage_binding: u64) {
    let llvmpipe = info.driver.to_ascii_lowercase().contains("llvmpipe") || info.name.to_ascii_lowercase().contains("llvmpipe");
    if llvmpipe {
        LOOP_BUDGET.store(LLVMPIPE_BUDGET, std::sync::atomic::Ordering::Relaxed);
    }
    MAX_BINDING.fetch_min(max_storage_binding, std::sync::atomic::Ordering::Relaxed);
}

/// Contiguous f32 view of a float tensor.
pub(crate) fn float(t: CubeTensor) -> CubeTensor {
    assert_eq!(t.dtype, DType::F32, "pami kernels take f32 tensors");
    into_contiguous(t)
}

/// Contiguous i32 view of an int tensor (Burn's int element may be wider); the second
/// value is the tensor's own dtype, to cast results back to.
pub(crate) fn int(t: CubeTensor) -> CubeTensor {
    into_contiguous(cast(t, DType::I32))
}

/// `t` as `dtype` (an int dtype), converting only if needed.
pub(crate) fn cast(t: CubeTensor, dtype: DType) -> CubeTensor {
    use burn::backend::ops::IntTensorOps;
    if t.dtype == dtype {
        return t;
    }
    burn::backend::wgpu::CubeBackend::int_cast(t, dtype.into())
}

/// A new uninitialised tensor of `dtype` on the same client as `like`.
pub(crate) fn empty(like: &CubeTensor, shape: Shape, dtype: DType) -> CubeTensor {
    let handle = like.client.empty(shape.num_elements() * dtype.size());
    CubeTensor::new_contiguous(like.client.clone(), like.device.clone(), shape, handle, dtype)
}

/// Workgroups a dispatch may have along one grid dimension.
pub(crate) const MAX_GROUPS: u32 = 65_535;

/// Sets every element of `target` (a contiguous tensor of a 4-byte dtype, as
/// [`empty`] makes) to the bits `value`: `shaders/fill.wgsl` with
/// [`FillParams`], over rows of at most [`MAX_GROUPS`] workgroups. The one
/// way pami's kernels clear or fill a buffer.
pub(crate) fn fill(target: &CubeTensor, value: u32) {
    assert_eq!(target.dtype.size(), 4, "fill writes 4-byte elements");
    let len = target.meta.shape().num_elements() as u32;
    if len == 0 {
        return;
    }
    let groups = len.div_ceil(LINE);
    let columns = groups.min(MAX_GROUPS);
    let grid = Grid { dim: CubeDim::new_3d(LINE, 1, 1), count: CubeCount::Static(columns, groups.div_ceil(columns), 1) };
    launch("fill", super::fill::SOURCE, grid, &[target], &FillParams { len, value });
}

/// Enqueue `source` on the tensors' stream with `inputs` (bound in order),
/// then the parameter block as the last binding: the launch's info uniform,
/// which Burn's wgpu client writes into its uniform pool with the launch
/// (and reuses for equal blocks), so a launch never submits the queued work
/// as a buffer created from a slice would.
pub(crate) fn launch<P: bytemuck::Pod>(
    name: &'static str,
    source: &'static str,
    grid: Grid,
    buffers: &[&CubeTensor],
    params: &P,
) {
    let client = &buffers[0].client;
    crate::counters::dispatched(name);
    // The block's bytes in whole 16-byte rows (a uniform binding's size is a
    // multiple of 16), as the words the client writes back out as bytes.
    let bytes = bytemuck::bytes_of(params);
    let mut words = vec![0u64; bytes.len().div_ceil(16) * 2];
    bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
    let bindings: Vec<_> = buffers.iter().map(|t| t.handle.clone().binding()).collect();
    client.launch(
        Box::new(SourceKernel::new(Wgsl { name, source }, grid.dim)),
        grid.count,
        KernelArguments::new().with_buffers(bindings).with_info(MetadataBindingInfo::custom(words)),
    );
}

/// Launches `source` on `inputs` followed by a new tensor of `shape` and
/// `dtype` (the kernel's output binding), and returns that tensor.
pub(crate) fn launch_into<P: bytemuck::Pod>(
    name: &'static str,
    source: &'static str,
    grid: Grid,
    inputs: &[&CubeTensor],
    (shape, dtype): (Shape, DType),
    params: &P,
) -> CubeTensor {
    let output = empty(inputs[0], shape, dtype);
    let mut buffers = inputs.to_vec();
    buffers.push(&output);
    launch(name, source, grid, &buffers, params);
    output
}
