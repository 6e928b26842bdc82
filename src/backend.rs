//! The backend extension: the pipeline's own operations beyond plain tensor
//! math, implemented by WGSL kernels on Burn's CubeCL (wgpu) backend and by
//! the CPU twins in `crate::cpu` on Burn's `flex` backend.

use burn::backend::{
    Backend, Flex, backend_extension,
    flex::FlexTensor,
    tensor::{FloatTensor, IntTensor},
    wgpu::CubeBackend,
};
use burn::tensor::{DType, Shape, TensorData};

use burn::backend::fusion::custom::TensorSpec;

use crate::cpu;
use crate::gpu::{
    self, aggregate::AggregateParams, blur::BlurParams, components::ComponentsParams, compose::ComposeParams,
    felzenszwalb::FelzenszwalbParams, merge::MergeParams, rank::RankParams, seeds::SeedsParams, slic::SlicParams, watershed::WatershedParams,
};

/// `segment_sizes`' two `[N, H·W]` tables, in the input's int dtype.
fn sizes_meta(labels: &TensorSpec, _: &MergeParams) -> (TensorSpec, TensorSpec) {
    let [n, h, w] = [labels.shape[0], labels.shape[1], labels.shape[2]];
    let spec = TensorSpec::new(Shape::new([n, h * w]), labels.dtype);
    (spec.clone(), spec)
}

fn flood_meta(
    _: &TensorSpec,
    _: &TensorSpec,
    _: &TensorSpec,
    level: &TensorSpec,
    _: &u32,
    _: &WatershedParams,
) -> (TensorSpec, TensorSpec) {
    (level.clone(), TensorSpec::new(Shape::new([1]), level.dtype))
}

fn label_meta(_: &TensorSpec, best: &TensorSpec, labels: &TensorSpec, _: &WatershedParams) -> (TensorSpec, TensorSpec) {
    (best.clone(), labels.clone())
}

/// Both outputs of `connected_components` keep the input's int dtype.
fn components_meta(labels: &TensorSpec) -> (TensorSpec, TensorSpec) {
    (labels.clone(), TensorSpec::new(Shape::new([labels.shape[0]]), labels.dtype))
}

/// Operations of the explanation pipeline. Call them through [`crate::ops`],
/// which works on `burn::Tensor`s of any device.
#[backend_extension(Cube, Flex, Fusion)]
pub trait PamiBackend: Backend {
    /// Separable blur of `image [planes, H, W]` with the 1-D kernel
    /// `weights [2r+1]` along x then y. `padding`: 0 zero, 1 reflect.
    #[fusion(dtype = image, shape = image)]
    fn blur(image: FloatTensor<Self>, weights: FloatTensor<Self>, padding: u32) -> FloatTensor<Self>;

    /// Composes `params.batch` masked copies of `image [3, H, W]` over
    /// `baseline [3, H, W]`: returns the normalised batch `[B, 3, H, W]`.
    /// `parts [P, 4]` and `labels [R, H, W]` as in `shaders/compose.wgsl`.
    #[fusion(dtype = image, shape = Shape::new([params.batch as usize, 3, params.height as usize, params.width as usize]))]
    fn compose(
        image: FloatTensor<Self>,
        baseline: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: ComposeParams,
    ) -> FloatTensor<Self>;

    /// Gathers `scores [P, T]` onto the pixels of the parts: returns maps
    /// `[T, H, W]`. `offsets [R]` is the first part of each label map.
    #[fusion(dtype = scores, shape = Shape::new([params.targets as usize, params.height as usize, params.width as usize]))]
    fn aggregate(
        scores: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        offsets: IntTensor<Self>,
        params: AggregateParams,
    ) -> FloatTensor<Self>;

    /// Each pixel's position in its map of `maps [M, H, W]` sorted by
    /// decreasing value, ties by pixel index: i32 `[M, H, W]`.
    #[fusion(dtype = DType::I32, shape = maps)]
    fn rank(maps: FloatTensor<Self>) -> IntTensor<Self>;

    /// Splits every label of `labels [N, H, W]` into its 4-connected regions:
    /// returns (components numbered 0..n in order of first appearance in
    /// raster order, n per image `[N]`).
    #[fusion(meta = components_meta)]
    fn connected_components(labels: IntTensor<Self>) -> (IntTensor<Self>, IntTensor<Self>);

    /// SLIC's Lab image `[N, 3, H, W]` (1/4 units) of `image [N, 3, H, W]`
    /// (values 0..255), with the host-built `linear` and `cbrt` tables (see
    /// `shaders/slic_range.wgsl` and `shaders/slic_lab.wgsl`).
    #[fusion(dtype = linear, shape = Shape::new([params.images as usize, 3, params.height as usize, params.width as usize]))]
    fn slic_lab(
        image: FloatTensor<Self>,
        linear: IntTensor<Self>,
        cbrt: IntTensor<Self>,
        params: SlicParams,
    ) -> IntTensor<Self>;

    /// SLIC's assignment step: labels `[N, H, W]` of the nearest cluster.
    #[fusion(dtype = lab, shape = Shape::new([params.images as usize, params.height as usize, params.width as usize]))]
    fn slic_assign(lab: IntTensor<Self>, clusters: IntTensor<Self>, params: SlicParams) -> IntTensor<Self>;

    /// SLIC's update step: the clusters `[N, K, 8]` moved to their pixels' means.
    #[fusion(dtype = clusters, shape = clusters)]
    fn slic_update(
        lab: IntTensor<Self>,
        labels: IntTensor<Self>,
        clusters: IntTensor<Self>,
        params: SlicParams,
    ) -> IntTensor<Self>;

    /// Size and first pixel of every segment of connected maps `[N, H, W]`,
    /// each `[N, H·W]` indexed by label.
    #[fusion(meta = sizes_meta)]
    fn segment_sizes(labels: IntTensor<Self>, params: MergeParams) -> (IntTensor<Self>, IntTensor<Self>);

    /// One round of small-segment removal (see `shaders/segment_merge.wgsl`).
    #[fusion(dtype = labels, shape = labels)]
    fn segment_merge(
        labels: IntTensor<Self>,
        sizes: IntTensor<Self>,
        first: IntTensor<Self>,
        counts: IntTensor<Self>,
        params: MergeParams,
    ) -> IntTensor<Self>;

    /// Felzenszwalb's segments of `image [N, 3, H, W]` (values 0..255) for
    /// every row of `settings [S, 2]` (limit, min_size; see
    /// `gpu::felzenszwalb::setting_row`), as roots `[N·S, H, W]` (item
    /// `n·S + s`): each pixel's segment is named by one of its pixels. The
    /// smoothing `weights [2r + 1]` sum to `WEIGHT_SUM`.
    #[fusion(dtype = weights, shape = Shape::new([(params.images * params.settings) as usize, params.height as usize, params.width as usize]))]
    fn felzenszwalb(
        image: FloatTensor<Self>,
        weights: IntTensor<Self>,
        settings: IntTensor<Self>,
        params: FelzenszwalbParams,
    ) -> IntTensor<Self>;

    /// One SEEDS stage on the per-image state rows `state [N, S]` (see
    /// `gpu::seeds`): `kernel` 0 histograms, 1 block updates, 2 descend a
    /// level, 3 labels, 4 pixel updates. `image [N, 3, H, W]` is read by stage 0.
    #[fusion(dtype = state, shape = state)]
    fn seeds(
        image: FloatTensor<Self>,
        table: IntTensor<Self>,
        state: IntTensor<Self>,
        kernel: u32,
        params: SeedsParams,
    ) -> IntTensor<Self>;

    /// Watershed's integer Sobel gradient `[N, H, W]` of `image [N, 3, H, W]`.
    #[fusion(dtype = DType::I32, shape = Shape::new([params.batch as usize, params.height as usize, params.width as usize]))]
    fn watershed_gradient(image: FloatTensor<Self>, params: WatershedParams) -> IntTensor<Self>;

    /// Flooding levels `[N·G, H, W]` of one group of markers, before any sweep.
    #[fusion(dtype = gradient, shape = Shape::new([params.images as usize, params.height as usize, params.width as usize]))]
    fn watershed_init(gradient: IntTensor<Self>, markers: IntTensor<Self>, params: WatershedParams) -> IntTensor<Self>;

    /// `sweeps` relaxation sweeps of `level` (updated in place when unshared):
    /// returns the levels and `[1]`, the updates in the last sweep.
    #[fusion(meta = flood_meta)]
    fn watershed_flood(
        gradient: IntTensor<Self>,
        markers: IntTensor<Self>,
        distance: IntTensor<Self>,
        level: IntTensor<Self>,
        sweeps: u32,
        params: WatershedParams,
    ) -> (IntTensor<Self>, IntTensor<Self>);

    /// Folds a group's levels into the best level and label per pixel.
    #[fusion(meta = label_meta)]
    fn watershed_label(
        level: IntTensor<Self>,
        best: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: WatershedParams,
    ) -> (IntTensor<Self>, IntTensor<Self>);
}

// ---------------------------------------------------------------- GPU (WGSL)

impl PamiBackend for CubeBackend {
    fn blur(image: FloatTensor<Self>, weights: FloatTensor<Self>, padding: u32) -> FloatTensor<Self> {
        use gpu::launch::{empty, float, launch, tiles};
        let image = float(image);
        let weights = float(weights);
        let shape = image.meta.shape().clone();
        let (planes, height, width) = planes_hw(&shape);
        let radius = (weights.meta.shape().num_elements() / 2) as u32;
        let mut src = image;
        for axis in 0..2 {
            let dst = empty(&src, shape.clone(), DType::F32);
            let params = BlurParams { width, height, planes, radius, axis, padding };
            launch("blur", gpu::blur::SOURCE, tiles(width, height, planes), &[&src, &weights, &dst], &params);
            src = dst;
        }
        src
    }

    fn compose(
        image: FloatTensor<Self>,
        baseline: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: ComposeParams,
    ) -> FloatTensor<Self> {
        use gpu::launch::{float, int, launch_into, tiles};
        let (image, baseline) = (float(image), float(baseline));
        let (parts, labels) = (int(parts), int(labels));
        let shape = Shape::new([params.batch as usize, 3, params.height as usize, params.width as usize]);
        let grid = tiles(params.width, params.height, params.batch);
        let inputs = [&image, &baseline, &parts, &labels];
        launch_into("compose", gpu::compose::SOURCE, grid, &inputs, (shape, DType::F32), &params)
    }

    fn aggregate(
        scores: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        offsets: IntTensor<Self>,
        params: AggregateParams,
    ) -> FloatTensor<Self> {
        use gpu::launch::{float, int, launch_into, tiles};
        let scores = float(scores);
        let (parts, labels, offsets) = (int(parts), int(labels), int(offsets));
        let shape = Shape::new([params.targets as usize, params.height as usize, params.width as usize]);
        let grid = tiles(params.width, params.height, params.targets);
        let inputs = [&scores, &parts, &labels, &offsets];
        launch_into("aggregate", gpu::aggregate::SOURCE, grid, &inputs, (shape, DType::F32), &params)
    }

    fn rank(maps: FloatTensor<Self>) -> IntTensor<Self> {
        let shape = maps.meta.shape().clone();
        gpu::rank::rank(maps, RankParams::new(shape[0], shape[1] * shape[2]))
    }

    fn connected_components(labels: IntTensor<Self>) -> (IntTensor<Self>, IntTensor<Self>) {
        use gpu::launch::cast;
        let dtype = labels.dtype;
        let (components, counts) = gpu::components::connected_components(labels);
        (cast(components, dtype), cast(counts, dtype))
    }

    fn slic_lab(
        image: FloatTensor<Self>,
        linear: IntTensor<Self>,
        cbrt: IntTensor<Self>,
        params: SlicParams,
    ) -> IntTensor<Self> {
        use gpu::launch::{cast, float, int, launch_into, lines, tiles};
        let dtype = linear.dtype;
        let image = float(image);
        let (linear, cbrt) = (int(linear), int(cbrt));
        // Burn's min_dim/max_dim gave a wrong row minimum on lavapipe (0.22.1); this is exact.
        let range_shape = (Shape::new([params.images as usize, 2]), DType::I32);
        let range = launch_into("slic_range", gpu::slic::RANGE, lines(64, params.images), &[&image], range_shape, &params);
        let shape = Shape::new([params.images as usize, 3, params.height as usize, params.width as usize]);
        let grid = tiles(params.width, params.height, params.images);
        let inputs = [&image, &range, &linear, &cbrt];
        cast(launch_into("slic_lab", gpu::slic::LAB, grid, &inputs, (shape, DType::I32), &params), dtype)
    }

    fn slic_assign(lab: IntTensor<Self>, clusters: IntTensor<Self>, params: SlicParams) -> IntTensor<Self> {
        use gpu::launch::{cast, int, launch_into, tiles};
        let dtype = lab.dtype;
        let (lab, clusters) = (int(lab), int(clusters));
        let shape = Shape::new([params.images as usize, params.height as usize, params.width as usize]);
        let grid = tiles(params.width, params.height, params.images);
        cast(launch_into("slic_assign", gpu::slic::ASSIGN, grid, &[&lab, &clusters], (shape, DType::I32), &params), dtype)
    }

    fn slic_update(
        lab: IntTensor<Self>,
        labels: IntTensor<Self>,
        clusters: IntTensor<Self>,
        params: SlicParams,
    ) -> IntTensor<Self> {
        use gpu::launch::{cast, empty, int, launch, lines};
        let dtype = clusters.dtype;
        let (lab, labels) = (int(lab), int(labels));
        // The kernel updates in place: work on a copy, the input may be shared.
        let clusters = int(clusters).copy();
        let sums = empty(&clusters, clusters.meta.shape().clone(), DType::I32);
        let rows = params.clusters * gpu::slic::CLUSTER_STRIDE as u32;
        let clear = MergeParams { width: rows, height: 1, images: params.images, min_size: 0, value: 0 };
        launch("segment_clear", gpu::merge::CLEAR, lines(rows, params.images), &[&sums], &clear);
        for band in gpu::slic::update_bands(&params) {
            let grid = lines(params.clusters, params.images);
            launch("slic_update", gpu::slic::UPDATE, grid, &[&lab, &labels, &clusters, &sums], &band);
        }
        cast(clusters, dtype)
    }

    fn segment_sizes(labels: IntTensor<Self>, params: MergeParams) -> (IntTensor<Self>, IntTensor<Self>) {
        use gpu::launch::{cast, empty, int, launch, lines, tiles};
        let dtype = labels.dtype;
        let labels = int(labels);
        let plane = (params.width * params.height) as usize;
        let shape = Shape::new([params.images as usize, plane]);
        let sizes = empty(&labels, shape.clone(), DType::I32);
        let first = empty(&labels, shape, DType::I32);
        for (buffer, value) in [(&sizes, 0), (&first, u32::MAX)] {
            let clear = MergeParams { value, ..params };
            launch("segment_clear", gpu::merge::CLEAR, lines(plane as u32, params.images), &[buffer], &clear);
        }
        let grid = tiles(params.width, params.height, params.images);
        launch("segment_sizes", gpu::merge::SIZES, grid, &[&labels, &sizes, &first], &params);
        (cast(sizes, dtype), cast(first, dtype))
    }

    fn segment_merge(
        labels: IntTensor<Self>,
        sizes: IntTensor<Self>,
        first: IntTensor<Self>,
        counts: IntTensor<Self>,
        params: MergeParams,
    ) -> IntTensor<Self> {
        use gpu::launch::{cast, int, launch_into, tiles};
        let dtype = labels.dtype;
        let (labels, sizes, first, counts) = (int(labels), int(sizes), int(first), int(counts));
        let shape = labels.meta.shape().clone();
        let grid = tiles(params.width, params.height, params.images);
        let inputs = [&labels, &sizes, &first, &counts];
        cast(launch_into("segment_merge", gpu::merge::MERGE, grid, &inputs, (shape, DType::I32), &params), dtype)
    }

    fn felzenszwalb(
        image: FloatTensor<Self>,
        weights: IntTensor<Self>,
        settings: IntTensor<Self>,
        params: FelzenszwalbParams,
    ) -> IntTensor<Self> {
        use gpu::felzenszwalb::{COUNTS, EDGE_COSTS, LABEL, MERGE, SMOOTH, SORT};
        use gpu::launch::{cast, empty, float, int, launch, launch_into, lines, singles, tiles};
        let dtype = weights.dtype;
        let (image, weights, settings) = (float(image), int(weights), int(settings));
        let items = params.images * params.settings;
        let [n, h, w] = [params.images, params.height, params.width].map(|v| v as usize);
        let grid = || tiles(params.width, params.height, params.images);
        let table = |rows: usize| empty(&weights, Shape::new([n, rows]), DType::I32);
        let smooth_shape = (Shape::new([n, 3, h, w]), DType::I32);
        let smooth = launch_into("felzenszwalb_smooth", SMOOTH, grid(), &[&image, &weights], smooth_shape, &params);
        let counts = table(COUNTS as usize);
        let clear = MergeParams { width: COUNTS, height: 1, images: params.images, min_size: 0, value: 0 };
        launch("segment_clear", gpu::merge::CLEAR, lines(COUNTS, params.images), &[&counts], &clear);
        let (costs, forest) = (table(4 * h * w), table(params.settings as usize * 3 * h * w));
        launch("felzenszwalb_costs", EDGE_COSTS, grid(), &[&smooth, &costs, &counts, &forest], &params);
        let (spare, order) = (table(4 * h * w), table(4 * h * w));
        for chunk in gpu::felzenszwalb::sort_chunks(&params) {
            launch("felzenszwalb_sort", SORT, singles(params.images), &[&costs, &counts, &spare, &order], &chunk);
        }
        for chunk in gpu::felzenszwalb::merge_chunks(&params) {
            let buffers = [&costs, &order, &counts, &forest, &settings];
            launch("felzenszwalb_merge", MERGE, singles(items), &buffers, &chunk);
        }
        let labels_shape = (Shape::new([items as usize, h, w]), DType::I32);
        let grid = tiles(params.width, params.height, items);
        cast(launch_into("felzenszwalb_label", LABEL, grid, &[&forest], labels_shape, &params), dtype)
    }

    fn seeds(
        image: FloatTensor<Self>,
        table: IntTensor<Self>,
        state: IntTensor<Self>,
        kernel: u32,
        params: SeedsParams,
    ) -> IntTensor<Self> {
        use gpu::launch::{cast, float, int, launch, lines, singles};
        use gpu::seeds::{BLOCKS, DESCEND, HISTOGRAMS, LABELS, PIXELS};
        let dtype = state.dtype;
        let (image, table) = (float(image), int(table));
        // The stages update the state in place: work on a copy if it is shared.
        let state = int(state);
        let state = if state.can_mut() { state } else { state.copy() };
        let (name, source, grid) = match kernel {
            0 => ("seeds_histograms", HISTOGRAMS, lines(params.count, params.images)),
            1 => ("seeds_blocks", BLOCKS, singles(params.images)),
            2 => ("seeds_descend", DESCEND, singles(params.images)),
            3 => ("seeds_labels", LABELS, lines(params.width * params.height, params.images)),
            _ => ("seeds_pixels", PIXELS, singles(params.images)),
        };
        if kernel == 0 {
            launch(name, source, grid, &[&image, &table, &state], &params);
        } else {
            launch(name, source, grid, &[&table, &state], &params);
        }
        cast(state, dtype)
    }

    fn watershed_gradient(image: FloatTensor<Self>, params: WatershedParams) -> IntTensor<Self> {
        use gpu::launch::{float, launch_into, tiles};
        let image = float(image);
        let shape = Shape::new([params.batch as usize, params.height as usize, params.width as usize]);
        let grid = tiles(params.width, params.height, params.batch);
        launch_into("watershed_gradient", gpu::watershed::GRADIENT, grid, &[&image], (shape, DType::I32), &params)
    }

    fn watershed_init(gradient: IntTensor<Self>, markers: IntTensor<Self>, params: WatershedParams) -> IntTensor<Self> {
        use gpu::launch::{cast, int, launch_into, tiles};
        let dtype = gradient.dtype;
        let (gradient, markers) = (int(gradient), int(markers));
        let shape = Shape::new([params.images as usize, params.height as usize, params.width as usize]);
        let grid = tiles(params.width, params.height, params.images);
        let inputs = [&gradient, &markers];
        cast(launch_into("watershed_init", gpu::watershed::INIT, grid, &inputs, (shape, DType::I32), &params), dtype)
    }

    fn watershed_flood(
        gradient: IntTensor<Self>,
        markers: IntTensor<Self>,
        distance: IntTensor<Self>,
        level: IntTensor<Self>,
        sweeps: u32,
        params: WatershedParams,
    ) -> (IntTensor<Self>, IntTensor<Self>) {
        use gpu::launch::{cast, empty, int, launch, lines, tiles};
        let dtype = level.dtype;
        let (gradient, markers, distance) = (int(gradient), int(markers), int(distance));
        let level = int(level);
        let level = if level.can_mut() { level } else { level.copy() };
        let changed = empty(&level, Shape::new([1]), DType::I32);
        for sweep in 0..sweeps {
            if sweep + 1 == sweeps {
                let clear = MergeParams { width: 1, height: 1, images: 1, min_size: 0, value: 0 };
                launch("segment_clear", gpu::merge::CLEAR, lines(1, 1), &[&changed], &clear);
            }
            let grid = tiles(params.width, params.height, params.images);
            launch("watershed_flood", gpu::watershed::FLOOD, grid, &[&gradient, &markers, &distance, &level, &changed], &params);
        }
        (cast(level, dtype), cast(changed, dtype))
    }

    fn watershed_label(
        level: IntTensor<Self>,
        best: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: WatershedParams,
    ) -> (IntTensor<Self>, IntTensor<Self>) {
        use gpu::launch::{cast, int, launch, tiles};
        let dtype = best.dtype;
        let level = int(level);
        let (best, labels) = (int(best).copy(), int(labels).copy());
        let grid = tiles(params.width, params.height, params.batch);
        launch("watershed_label", gpu::watershed::LABEL, grid, &[&level, &best, &labels], &params);
        (cast(best, dtype), cast(labels, dtype))
    }
}

fn planes_hw(shape: &Shape) -> (u32, u32, u32) {
    let d = shape.num_dims();
    let planes: usize = shape.iter().take(d - 2).product();
    (planes as u32, shape[d - 2] as u32, shape[d - 1] as u32)
}

// ---------------------------------------------------------------- CPU twins

fn f32s(t: FlexTensor) -> (Vec<f32>, Shape) {
    let data = t.into_data().convert::<f32>();
    let shape = data.shape().clone();
    (data.try_into_vec::<f32>().expect("f32 data"), shape)
}

/// A contiguous tensor's values of type `E`, borrowed from Burn's buffer
/// when its dtype is `E` and the bytes are aligned, else converted: how the
/// twins read the inputs they do not modify. Copying them on every call (the
/// per-pass compose and aggregate above all) made large allocations whose
/// page faults and unmaps cost more than the model with many images in flight.
fn view<E: burn::tensor::Element + bytemuck::Pod>(t: &FlexTensor) -> std::borrow::Cow<'_, [E]> {
    let borrowed = (t.dtype() == E::dtype())
        .then(|| t.layout().contiguous_offsets())
        .flatten()
        .and_then(|(start, end)| bytemuck::try_cast_slice::<u8, E>(t.bytes()).ok().map(|s| &s[start..end]));
    match borrowed {
        Some(slice) => std::borrow::Cow::Borrowed(slice),
        None => std::borrow::Cow::Owned(t.clone().into_data().convert::<E>().try_into_vec::<E>().expect("convertible data")),
    }
}

fn i32s(t: FlexTensor) -> Vec<i32> {
    t.into_data().convert::<i32>().try_into_vec::<i32>().expect("i32 data")
}

/// The bits of an int tensor as u32 (kernels keep unsigned levels in i32 storage).
fn u32s(t: FlexTensor) -> Vec<u32> {
    i32s(t).into_iter().map(|v| v as u32).collect()
}

fn flex(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn flex_int(values: Vec<i32>, shape: Shape, dtype: burn::tensor::DType) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape).convert_dtype(dtype))
}

/// `flex_int` for unsigned values kept as their i32 bits (the inverse of `u32s`).
fn flex_u32(values: Vec<u32>, shape: Shape, dtype: burn::tensor::DType) -> FlexTensor {
    flex_int(values.into_iter().map(|v| v as i32).collect(), shape, dtype)
}

impl PamiBackend for Flex {
    fn blur(image: FloatTensor<Self>, weights: FloatTensor<Self>, padding: u32) -> FloatTensor<Self> {
        let (mut values, shape) = f32s(image);
        let weights = view::<f32>(&weights);
        let (planes, height, width) = planes_hw(&shape);
        let radius = (weights.len() / 2) as u32;
        for axis in 0..2 {
            let params = BlurParams { width, height, planes, radius, axis, padding };
            values = cpu::blur::blur(&values, &weights, &params);
        }
        flex(values, shape)
    }

    fn compose(
        image: FloatTensor<Self>,
        baseline: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: ComposeParams,
    ) -> FloatTensor<Self> {
        let out = cpu::compose::compose(&view(&image), &view(&baseline), &view(&parts), &view(&labels), &params);
        flex(out, Shape::new([params.batch as usize, 3, params.height as usize, params.width as usize]))
    }

    fn aggregate(
        scores: FloatTensor<Self>,
        parts: IntTensor<Self>,
        labels: IntTensor<Self>,
        offsets: IntTensor<Self>,
        params: AggregateParams,
    ) -> FloatTensor<Self> {
        let maps = cpu::aggregate::aggregate(&view(&scores), &view(&parts), &view(&labels), &view(&offsets), &params);
        flex(maps, Shape::new([params.targets as usize, params.height as usize, params.width as usize]))
    }

    fn rank(maps: FloatTensor<Self>) -> IntTensor<Self> {
        let shape = maps.layout().shape().clone();
        let ranks = cpu::rank::rank(&view(&maps), &RankParams::new(shape[0], shape[1] * shape[2]));
        flex_int(ranks, shape, DType::I32)
    }

    fn connected_components(labels: IntTensor<Self>) -> (IntTensor<Self>, IntTensor<Self>) {
        let dtype = labels.dtype();
        let shape = labels.layout().shape().clone();
        let params = ComponentsParams::new(shape[0], shape[1], shape[2]);
        let (components, counts) = cpu::components::connected_components(&view(&labels), &params);
        (flex_int(components, shape.clone(), dtype), flex_int(counts, Shape::new([shape[0]]), dtype))
    }

    fn slic_lab(
        image: FloatTensor<Self>,
        linear: IntTensor<Self>,
        cbrt: IntTensor<Self>,
        params: SlicParams,
    ) -> IntTensor<Self> {
        let dtype = linear.dtype();
        let image = view(&image);
        let range = cpu::slic::slic_range(&image, &params);
        let lab = cpu::slic::slic_lab(&image, &range, &view(&linear), &view(&cbrt), &params);
        let shape = Shape::new([params.images as usize, 3, params.height as usize, params.width as usize]);
        flex_int(lab, shape, dtype)
    }

    fn slic_assign(lab: IntTensor<Self>, clusters: IntTensor<Self>, params: SlicParams) -> IntTensor<Self> {
        let dtype = lab.dtype();
        let labels = cpu::slic::slic_assign(&view(&lab), &view(&clusters), &params);
        flex_int(labels, Shape::new([params.images as usize, params.height as usize, params.width as usize]), dtype)
    }

    fn slic_update(
        lab: IntTensor<Self>,
        labels: IntTensor<Self>,
        clusters: IntTensor<Self>,
        params: SlicParams,
    ) -> IntTensor<Self> {
        let dtype = clusters.dtype();
        let shape = clusters.layout().shape().clone();
        let mut table = i32s(clusters);
        let (lab, labels) = (view(&lab), view(&labels));
        let mut sums = vec![0; table.len()];
        for band in gpu::slic::update_bands(&params) {
            cpu::slic::slic_update(&lab, &labels, &mut table, &mut sums, &band);
        }
        flex_int(table, shape, dtype)
    }

    fn segment_sizes(labels: IntTensor<Self>, params: MergeParams) -> (IntTensor<Self>, IntTensor<Self>) {
        let dtype = labels.dtype();
        let plane = (params.width * params.height) as usize;
        let len = params.images as usize * plane;
        let (mut sizes, mut first) = (vec![0u32; len], vec![0u32; len]);
        cpu::merge::segment_clear(&mut sizes, &MergeParams { value: 0, ..params });
        cpu::merge::segment_clear(&mut first, &MergeParams { value: u32::MAX, ..params });
        cpu::merge::segment_sizes(&view(&labels), &mut sizes, &mut first, &params);
        let shape = Shape::new([params.images as usize, plane]);
        (flex_u32(sizes, shape.clone(), dtype), flex_u32(first, shape, dtype))
    }

    fn segment_merge(
        labels: IntTensor<Self>,
        sizes: IntTensor<Self>,
        first: IntTensor<Self>,
        counts: IntTensor<Self>,
        params: MergeParams,
    ) -> IntTensor<Self> {
        let dtype = labels.dtype();
        let shape = labels.layout().shape().clone();
        let labels = view::<i32>(&labels);
        let (sizes, first) = (u32s(sizes), u32s(first));
        let mut output = vec![0; labels.len()];
        cpu::merge::segment_merge(&labels, &sizes, &first, &view(&counts), &mut output, &params);
        flex_int(output, shape, dtype)
    }

    fn felzenszwalb(
        image: FloatTensor<Self>,
        weights: IntTensor<Self>,
        settings: IntTensor<Self>,
        params: FelzenszwalbParams,
    ) -> IntTensor<Self> {
        use crate::gpu::felzenszwalb::{merge_chunks, sort_chunks};
        use cpu::felzenszwalb::*;
        let dtype = weights.dtype();
        let settings = u32s(settings);
        let [n, h, w] = [params.images, params.height, params.width].map(|v| v as usize);
        let smooth = felzenszwalb_smooth(&view(&image), &view(&weights), &params);
        let mut forest = vec![0; n * params.settings as usize * 3 * h * w];
        let (costs, mut counts) = felzenszwalb_costs(&smooth, &mut forest, &params);
        let (mut spare, mut order) = (vec![0; n * 4 * h * w], vec![0; n * 4 * h * w]);
        for chunk in sort_chunks(&params) {
            felzenszwalb_sort(&costs, &mut counts, &mut spare, &mut order, &chunk);
        }
        for chunk in merge_chunks(&params) {
            felzenszwalb_merge(&costs, &order, &counts, &mut forest, &settings, &chunk);
        }
        let items = n * params.settings as usize;
        flex_int(felzenszwalb_label(&forest, &params), Shape::new([items, h, w]), dtype)
    }

    fn seeds(
        image: FloatTensor<Self>,
        table: IntTensor<Self>,
        state: IntTensor<Self>,
        kernel: u32,
        params: SeedsParams,
    ) -> IntTensor<Self> {
        use cpu::seeds::*;
        let (dtype, shape) = (state.dtype(), state.layout().shape().clone());
        let (table, mut values) = (u32s(table), u32s(state));
        match kernel {
            0 => seeds_histograms(&view(&image), &table, &mut values, &params),
            1 => seeds_blocks(&table, &mut values, &params),
            2 => seeds_descend(&table, &mut values, &params),
            3 => seeds_labels(&table, &mut values, &params),
            _ => seeds_pixels(&table, &mut values, &params),
        }
        flex_u32(values, shape, dtype)
    }

    fn watershed_gradient(image: FloatTensor<Self>, params: WatershedParams) -> IntTensor<Self> {
        let gradient = cpu::watershed::watershed_gradient(&view(&image), &params);
        let shape = Shape::new([params.batch as usize, params.height as usize, params.width as usize]);
        flex_u32(gradient, shape, DType::I32)
    }

    fn watershed_init(gradient: IntTensor<Self>, markers: IntTensor<Self>, params: WatershedParams) -> IntTensor<Self> {
        let dtype = gradient.dtype();
        let gradient = u32s(gradient);
        let level = cpu::watershed::watershed_init(&gradient, &view(&markers), &params);
        let shape = Shape::new([params.images as usize, params.height as usize, params.width as usize]);
        flex_u32(level, shape, dtype)
    }

    fn watershed_flood(
        gradient: IntTensor<Self>,
        markers: IntTensor<Self>,
        distance: IntTensor<Self>,
        level: IntTensor<Self>,
        sweeps: u32,
        params: WatershedParams,
    ) -> (IntTensor<Self>, IntTensor<Self>) {
        let dtype = level.dtype();
        let shape = level.layout().shape().clone();
        let mut values = u32s(level);
        let changed = cpu::watershed::watershed_flood(
            &u32s(gradient),
            &view(&markers),
            &u32s(distance),
            &mut values,
            sweeps,
            &params,
        );
        (flex_u32(values, shape, dtype), flex_int(vec![changed as i32], Shape::new([1]), dtype))
    }

    fn watershed_label(
        level: IntTensor<Self>,
        best: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: WatershedParams,
    ) -> (IntTensor<Self>, IntTensor<Self>) {
        let (dtype, shape) = (best.dtype(), best.layout().shape().clone());
        let mut best_values = u32s(best);
        let mut label_values = i32s(labels);
        cpu::watershed::watershed_label(&u32s(level), &mut best_values, &mut label_values, &params);
        (flex_u32(best_values, shape.clone(), dtype), flex_int(label_values, shape, dtype))
    }
}
