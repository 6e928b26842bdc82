//! Connected components of multi-label maps in six stages.
//!
//! - WGSL: `shaders/components_{init,merge,compress,count,scan,relabel}.wgsl`,
//!   with `shaders/shared/components_params.wgsl` (the params struct),
//!   `shaders/shared/grid.wgsl` and `shaders/shared/find.wgsl`;
//! - params: [`ComponentsParams`], here;
//! - launch: [`connected_components`], here (called by
//!   `SegmentationBackend::connected_components` in
//!   `src/backend/segmentation.rs`);
//! - CPU twin: the functions of the same names in `src/cpu/components.rs`.

use burn::backend::DType;
use burn::backend::wgpu::CubeTensor;
use burn::tensor::Shape;
use bytemuck::{Pod, Zeroable};

use super::launch::{cast, empty, int, launch, lines, tiles};

/// Pixels per block of the root count; keep in sync with `BLOCK` in
/// `shaders/shared/components_params.wgsl`.
pub const BLOCK: u32 = 256;

/// Keep in sync with `struct ComponentsParams` in
/// `shaders/shared/components_params.wgsl` (tests/params.rs compares the layouts).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable, PartialEq, Eq)]
pub struct ComponentsParams {
    pub width: u32,
    pub height: u32,
    pub images: u32,
    /// Blocks of [`BLOCK`] pixels per image.
    pub blocks: u32,
}

impl ComponentsParams {
    pub fn new(images: usize, height: usize, width: usize) -> Self {
        let pixels = (width * height) as u32;
        ComponentsParams { width: width as u32, height: height as u32, images: images as u32, blocks: pixels.div_ceil(BLOCK) }
    }
}

const INIT: &str = include_str!("../../shaders/components_init.wgsl");
const MERGE: &str = include_str!("../../shaders/components_merge.wgsl");
const COMPRESS: &str = include_str!("../../shaders/components_compress.wgsl");
const COUNT: &str = include_str!("../../shaders/components_count.wgsl");
const SCAN: &str = include_str!("../../shaders/components_scan.wgsl");
const RELABEL: &str = include_str!("../../shaders/components_relabel.wgsl");

/// Labels `[N, H, W]` → (components `[N, H, W]` numbered 0..n in order of
/// first appearance, component counts `[N]`), both in the labels' int dtype.
pub fn connected_components(labels: CubeTensor) -> (CubeTensor, CubeTensor) {
    let dtype = labels.dtype;
    let labels = int(labels);
    let shape = labels.meta.shape().clone();
    let p = ComponentsParams::new(shape[0], shape[1], shape[2]);
    let parent = empty(&labels, shape.clone(), DType::I32);
    let blocks = empty(&labels, Shape::new([shape[0], p.blocks as usize]), DType::I32);
    let counts = empty(&labels, Shape::new([shape[0]]), DType::I32);
    let output = empty(&labels, shape, DType::I32);
    let image_grid = || tiles(p.width, p.height, p.images);
    launch("components_init", INIT, image_grid(), &[&parent], &p);
    launch("components_merge", MERGE, image_grid(), &[&labels, &parent], &p);
    launch("components_compress", COMPRESS, image_grid(), &[&parent], &p);
    launch("components_count", COUNT, lines(p.blocks, p.images), &[&parent, &blocks], &p);
    launch("components_scan", SCAN, lines(p.images, 1), &[&blocks, &counts], &p);
    launch("components_relabel", RELABEL, image_grid(), &[&parent, &blocks, &output], &p);
    (cast(output, dtype), cast(counts, dtype))
}
