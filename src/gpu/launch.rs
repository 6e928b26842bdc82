//! Launch of a WGSL text kernel on the compute client that owns the tensors.

use burn::backend::DType;
use burn::backend::wgpu::{CubeTensor, KernelSource, SourceKernel, SourceTemplate, into_contiguous};
use burn::cubecl::{CubeCount, CubeDim, prelude::KernelId, server::KernelArguments};
use burn::tensor::Shape;

use super::TILE;

/// A kernel whose source is a complete WGSL file with a `main` entry point.
struct Wgsl {
    name: &'static str,
    source: &'static str,
}

impl KernelSource for Wgsl {
    fn source(&self) -> SourceTemplate {
        SourceTemplate::new(self.source)
    }

    fn id(&self) -> KernelId {
        KernelId::new::<Self>().info(self.name)
    }

    fn lang(&self) -> &'static str {
        "wgsl"
    }
}

/// Ceil-divided workgroup count for a `width × height × depth` grid of 16×16×1 tiles.
pub(crate) fn tiles(width: u32, height: u32, depth: u32) -> CubeCount {
    CubeCount::Static(width.div_ceil(TILE), height.div_ceil(TILE), depth)
}

/// Contiguous f32 view of a float tensor.
pub(crate) fn float(t: CubeTensor) -> CubeTensor {
    assert_eq!(t.dtype, DType::F32, "pami kernels take f32 tensors");
    into_contiguous(t)
}

/// Contiguous i32 view of an int tensor (Burn's int element may be wider).
pub(crate) fn int(t: CubeTensor) -> CubeTensor {
    use burn::backend::ops::IntTensorOps;
    let t = if t.dtype == DType::I32 {
        t
    } else {
        burn::backend::wgpu::CubeBackend::int_cast(t, burn::tensor::IntDType::I32)
    };
    into_contiguous(t)
}

/// A new uninitialised f32 tensor on the same client as `like`.
pub(crate) fn empty_f32(like: &CubeTensor, shape: Shape) -> CubeTensor {
    let handle = like.client.empty(shape.num_elements() * DType::F32.size());
    CubeTensor::new_contiguous(like.client.clone(), like.device.clone(), shape, handle, DType::F32)
}

/// Enqueue `source` on the tensors' stream with `inputs` (bound in order),
/// then the parameter block as the last binding.
pub(crate) fn launch<P: bytemuck::Pod>(
    name: &'static str,
    source: &'static str,
    count: CubeCount,
    buffers: &[&CubeTensor],
    params: &P,
) {
    let client = &buffers[0].client;
    let params = client.create_from_slice(bytemuck::bytes_of(params));
    let mut bindings: Vec<_> = buffers.iter().map(|t| t.handle.clone().binding()).collect();
    bindings.push(params.binding());
    client.launch(
        Box::new(SourceKernel::new(Wgsl { name, source }, CubeDim::new_3d(TILE, TILE, 1))),
        count,
        KernelArguments::new().with_buffers(bindings),
    );
}
