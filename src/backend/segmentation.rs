//! The segmentation family of the backend extension: connected components,
//! SLIC, small-segment merging, Felzenszwalb, SEEDS and watershed (see
//! `src/backend/mod.rs`). The GPU methods call the launches in
//! `src/gpu/{components,slic,merge,felzenszwalb,seeds,watershed}.rs`; the CPU
//! methods call the twins in `src/cpu/` of the same names.

use burn::backend::{
    Backend, Flex, backend_extension,
    tensor::{FloatTensor, IntTensor},
    wgpu::CubeBackend,
};
use burn::tensor::{DType, Shape};

use burn::backend::fusion::custom::TensorSpec;

use super::{flex_int, flex_u32, i32s, u32s, view};
use crate::cpu;
use crate::gpu::{
    self,
    components::ComponentsParams,
    felzenszwalb::FelzenszwalbParams,
    fill::FillParams,
    segment::SegmentParams,
    seeds::{SeedsParams, SeedsStage},
    slic::SlicParams,
    watershed::WatershedParams,
};

/// `segment_sizes`' two `[N, H·W]` tables, in the input's int dtype.
fn sizes_meta(labels: &TensorSpec, _: &SegmentParams) -> (TensorSpec, TensorSpec) {
    let [n, h, w] = [labels.shape[0], labels.shape[1], labels.shape[2]];
    let spec = TensorSpec::new(Shape::new([n, h * w]), labels.dtype);
    (spec.clone(), spec)
}

fn flood_meta(
    _: &TensorSpec,
    _: &TensorSpec,
    _: &TensorSpec,
    level: &TensorSpec,
    params: &WatershedParams,
) -> (TensorSpec, TensorSpec) {
    (level.clone(), TensorSpec::new(Shape::new([params.images as usize, 2]), level.dtype))
}

fn label_meta(_: &TensorSpec, _: &TensorSpec, best: &TensorSpec, labels: &TensorSpec, _: &WatershedParams) -> (TensorSpec, TensorSpec) {
    (best.clone(), labels.clone())
}

/// Felzenszwalb's roots `[N·S, H, W]` and unfinished flags `[N·S]`, in the weights' int dtype.
fn felzenszwalb_meta(_: &TensorSpec, weights: &TensorSpec, _: &TensorSpec, params: &FelzenszwalbParams) -> (TensorSpec, TensorSpec) {
    let items = (params.images * params.settings) as usize;
    (
        TensorSpec::new(Shape::new([items, params.height as usize, params.width as usize]), weights.dtype),
        TensorSpec::new(Shape::new([items]), weights.dtype),
    )
}

/// `slic_iterate`: labels `[S·N, H, W]` in the Lab image's dtype, the clusters as given.
fn iterate_meta(lab: &TensorSpec, clusters: &TensorSpec, _: &TensorSpec, params: &SlicParams) -> (TensorSpec, TensorSpec) {
    let shape = Shape::new([(params.settings * params.images) as usize, params.height as usize, params.width as usize]);
    (TensorSpec::new(shape, lab.dtype), clusters.clone())
}

/// `segment_min_size` returns tensors shaped as its inputs.
fn min_size_meta(labels: &TensorSpec, table: &TensorSpec, _: &SegmentParams) -> (TensorSpec, TensorSpec) {
    (labels.clone(), table.clone())
}

/// Both outputs of `connected_components` keep the input's int dtype.
fn components_meta(labels: &TensorSpec) -> (TensorSpec, TensorSpec) {
    (labels.clone(), TensorSpec::new(Shape::new([labels.shape[0]]), labels.dtype))
}

/// Segmentation operations, driven by the segmenters in `src/segment/` on
/// `burn::Tensor`s of any device.
#[backend_extension(Cube, Flex, Fusion)]
pub trait SegmentationBackend: Backend {
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

    /// All of SLIC's k-means rounds for every setting of `settings`
    /// (see `shaders/slic_iterate.wgsl`): the labels `[S·N, H, W]` of each
    /// setting's last and the cluster table it left.
    #[fusion(meta = iterate_meta)]
    fn slic_iterate(
        lab: IntTensor<Self>,
        clusters: IntTensor<Self>,
        settings: IntTensor<Self>,
        params: SlicParams,
    ) -> (IntTensor<Self>, IntTensor<Self>);

    /// Size and first pixel of every segment of connected maps `[N, H, W]`,
    /// each `[N, H·W]` indexed by label.
    #[fusion(meta = sizes_meta)]
    fn segment_sizes(labels: IntTensor<Self>, params: SegmentParams) -> (IntTensor<Self>, IntTensor<Self>);

    /// One round of small-segment removal (see `shaders/segment_merge.wgsl`).
    #[fusion(dtype = labels, shape = labels)]
    fn segment_merge(
        labels: IntTensor<Self>,
        sizes: IntTensor<Self>,
        first: IntTensor<Self>,
        counts: IntTensor<Self>,
        params: SegmentParams,
    ) -> IntTensor<Self>;

    /// Connected components and small-segment removal of every map of
    /// `labels [M, H, W]`, rounds on the device until done (see
    /// `shaders/segment_min_size.wgsl`): the numbered maps and the table
    /// `[M, 4]` (minimum size in; segment count, done flag, merge rounds out).
    #[fusion(meta = min_size_meta)]
    fn segment_min_size(labels: IntTensor<Self>, table: IntTensor<Self>, params: SegmentParams) -> (IntTensor<Self>, IntTensor<Self>);

    /// Felzenszwalb's segments of `image [N, 3, H, W]` (values 0..255) for
    /// every row of `settings [S, 2]` (limit, min_size; see
    /// `gpu::felzenszwalb::setting_row`), as roots `[N·S, H, W]` (item
    /// `n·S + s`): each pixel's segment is named by one of its pixels. The
    /// smoothing `weights [2r + 1]` sum to `WEIGHT_SUM`.
    /// The second tensor `[N·S]` is 1 where the merge stopped before its
    /// last edge (a safety net: its rounds suffice for every edge).
    #[fusion(meta = felzenszwalb_meta)]
    fn felzenszwalb(
        image: FloatTensor<Self>,
        weights: IntTensor<Self>,
        settings: IntTensor<Self>,
        params: FelzenszwalbParams,
    ) -> (IntTensor<Self>, IntTensor<Self>);

    /// One SEEDS `stage` on the per-image state rows `state [N, S]` (see
    /// `gpu::seeds`). `image [N, 3, H, W]` is read by [`SeedsStage::Histograms`].
    #[fusion(dtype = state, shape = state)]
    fn seeds(
        image: FloatTensor<Self>,
        table: IntTensor<Self>,
        state: IntTensor<Self>,
        stage: SeedsStage,
        params: SeedsParams,
    ) -> IntTensor<Self>;

    /// Watershed's integer Sobel gradient `[N, H, W]` of `image [N, 3, H, W]`.
    #[fusion(dtype = DType::I32, shape = Shape::new([params.batch as usize, params.height as usize, params.width as usize]))]
    fn watershed_gradient(image: FloatTensor<Self>, params: WatershedParams) -> IntTensor<Self>;

    /// Flooding levels `[N·G, H, W]` of one group of markers, before any sweep.
    #[fusion(dtype = gradient, shape = Shape::new([params.images as usize, params.height as usize, params.width as usize]))]
    fn watershed_init(gradient: IntTensor<Self>, markers: IntTensor<Self>, params: WatershedParams) -> IntTensor<Self>;

    /// Relaxes `level` (updated in place when unshared) to its fixed point in
    /// at most `params.rounds` rounds: returns the levels and the state
    /// `[N·G, 2]` (1 where a map settled, then the drops in its last round).
    #[fusion(meta = flood_meta)]
    fn watershed_flood(
        gradient: IntTensor<Self>,
        markers: IntTensor<Self>,
        distance: IntTensor<Self>,
        level: IntTensor<Self>,
        params: WatershedParams,
    ) -> (IntTensor<Self>, IntTensor<Self>);

    /// Folds a group's levels into the best level and label per pixel of
    /// each map's setting (`best` and `labels` are `[settings, N, H, W]`).
    #[fusion(meta = label_meta)]
    fn watershed_label(
        level: IntTensor<Self>,
        markers: IntTensor<Self>,
        best: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: WatershedParams,
    ) -> (IntTensor<Self>, IntTensor<Self>);
}

// ---------------------------------------------------------------- GPU (WGSL)

impl SegmentationBackend for CubeBackend {
    fn connected_components(labels: IntTensor<Self>) -> (IntTensor<Self>, IntTensor<Self>) {
        gpu::components::connected_components(labels)
    }

    fn slic_lab(
        image: FloatTensor<Self>,
        linear: IntTensor<Self>,
        cbrt: IntTensor<Self>,
        params: SlicParams,
    ) -> IntTensor<Self> {
        gpu::slic::slic_lab(image, linear, cbrt, params)
    }

    fn slic_assign(lab: IntTensor<Self>, clusters: IntTensor<Self>, params: SlicParams) -> IntTensor<Self> {
        gpu::slic::slic_assign(lab, clusters, params)
    }

    fn slic_update(
        lab: IntTensor<Self>,
        labels: IntTensor<Self>,
        clusters: IntTensor<Self>,
        params: SlicParams,
    ) -> IntTensor<Self> {
        gpu::slic::slic_update(lab, labels, clusters, params)
    }

    fn slic_iterate(
        lab: IntTensor<Self>,
        clusters: IntTensor<Self>,
        settings: IntTensor<Self>,
        params: SlicParams,
    ) -> (IntTensor<Self>, IntTensor<Self>) {
        gpu::slic::slic_iterate(lab, clusters, settings, params)
    }

    fn segment_sizes(labels: IntTensor<Self>, params: SegmentParams) -> (IntTensor<Self>, IntTensor<Self>) {
        gpu::segment::segment_sizes(labels, params)
    }

    fn segment_merge(
        labels: IntTensor<Self>,
        sizes: IntTensor<Self>,
        first: IntTensor<Self>,
        counts: IntTensor<Self>,
        params: SegmentParams,
    ) -> IntTensor<Self> {
        gpu::segment::segment_merge(labels, sizes, first, counts, params)
    }

    fn segment_min_size(labels: IntTensor<Self>, table: IntTensor<Self>, params: SegmentParams) -> (IntTensor<Self>, IntTensor<Self>) {
        gpu::segment::segment_min_size(labels, table, params)
    }

    fn felzenszwalb(
        image: FloatTensor<Self>,
        weights: IntTensor<Self>,
        settings: IntTensor<Self>,
        params: FelzenszwalbParams,
    ) -> (IntTensor<Self>, IntTensor<Self>) {
        gpu::felzenszwalb::felzenszwalb(image, weights, settings, params)
    }

    fn seeds(
        image: FloatTensor<Self>,
        table: IntTensor<Self>,
        state: IntTensor<Self>,
        stage: SeedsStage,
        params: SeedsParams,
    ) -> IntTensor<Self> {
        gpu::seeds::seeds(image, table, state, stage, params)
    }

    fn watershed_gradient(image: FloatTensor<Self>, params: WatershedParams) -> IntTensor<Self> {
        gpu::watershed::watershed_gradient(image, params)
    }

    fn watershed_init(gradient: IntTensor<Self>, markers: IntTensor<Self>, params: WatershedParams) -> IntTensor<Self> {
        gpu::watershed::watershed_init(gradient, markers, params)
    }

    fn watershed_flood(
        gradient: IntTensor<Self>,
        markers: IntTensor<Self>,
        distance: IntTensor<Self>,
        level: IntTensor<Self>,
        params: WatershedParams,
    ) -> (IntTensor<Self>, IntTensor<Self>) {
        gpu::watershed::watershed_flood(gradient, markers, distance, level, params)
    }

    fn watershed_label(
        level: IntTensor<Self>,
        markers: IntTensor<Self>,
        best: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: WatershedParams,
    ) -> (IntTensor<Self>, IntTensor<Self>) {
        gpu::watershed::watershed_label(level, markers, best, labels, params)
    }
}

// ---------------------------------------------------------------- CPU twins

impl SegmentationBackend for Flex {
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
        cpu::fill::fill(&mut sums, &FillParams { len: table.len() as u32, value: 0 });
        for band in gpu::slic::update_bands(&params) {
            cpu::slic::slic_update(&lab, &labels, &mut table, &mut sums, &band);
        }
        flex_int(table, shape, dtype)
    }

    fn slic_iterate(
        lab: IntTensor<Self>,
        clusters: IntTensor<Self>,
        settings: IntTensor<Self>,
        params: SlicParams,
    ) -> (IntTensor<Self>, IntTensor<Self>) {
        let dtype = lab.dtype();
        let (table_dtype, table_shape) = (clusters.dtype(), clusters.layout().shape().clone());
        let mut table = i32s(clusters);
        let shape = Shape::new([(params.settings * params.images) as usize, params.height as usize, params.width as usize]);
        let mut labels = vec![-1; shape.num_elements()];
        let all = SlicParams { first_round: 0, round_count: params.rounds, ..params };
        cpu::slic::slic_iterate(&view(&lab), &mut table, &u32s(settings), &mut labels, &all);
        (flex_int(labels, shape, dtype), flex_int(table, table_shape, table_dtype))
    }

    fn segment_sizes(labels: IntTensor<Self>, params: SegmentParams) -> (IntTensor<Self>, IntTensor<Self>) {
        let dtype = labels.dtype();
        let plane = (params.width * params.height) as usize;
        let len = params.images as usize * plane;
        let (mut sizes, mut first) = (vec![0u32; len], vec![0u32; len]);
        cpu::fill::fill(&mut sizes, &FillParams { len: len as u32, value: 0 });
        cpu::fill::fill(&mut first, &FillParams { len: len as u32, value: u32::MAX });
        cpu::segment::segment_sizes(&view(&labels), &mut sizes, &mut first, &params);
        let shape = Shape::new([params.images as usize, plane]);
        (flex_u32(sizes, shape.clone(), dtype), flex_u32(first, shape, dtype))
    }

    fn segment_merge(
        labels: IntTensor<Self>,
        sizes: IntTensor<Self>,
        first: IntTensor<Self>,
        counts: IntTensor<Self>,
        params: SegmentParams,
    ) -> IntTensor<Self> {
        let dtype = labels.dtype();
        let shape = labels.layout().shape().clone();
        let labels = view::<i32>(&labels);
        let (sizes, first) = (u32s(sizes), u32s(first));
        let mut output = vec![0; labels.len()];
        cpu::segment::segment_merge(&labels, &sizes, &first, &view(&counts), &mut output, &params);
        flex_int(output, shape, dtype)
    }

    fn segment_min_size(labels: IntTensor<Self>, table: IntTensor<Self>, params: SegmentParams) -> (IntTensor<Self>, IntTensor<Self>) {
        let (dtype, shape) = (labels.dtype(), labels.layout().shape().clone());
        let (table_dtype, table_shape) = (table.dtype(), table.layout().shape().clone());
        let (mut maps, mut rows) = (i32s(labels), i32s(table));
        cpu::segment::segment_min_size(&mut maps, &mut rows, &params);
        (flex_int(maps, shape, dtype), flex_int(rows, table_shape, table_dtype))
    }

    fn felzenszwalb(
        image: FloatTensor<Self>,
        weights: IntTensor<Self>,
        settings: IntTensor<Self>,
        params: FelzenszwalbParams,
    ) -> (IntTensor<Self>, IntTensor<Self>) {
        use crate::gpu::felzenszwalb::{COUNTS, MERGE_JOIN, MERGE_MIN_SIZE, sort_dispatches};
        use cpu::felzenszwalb::*;
        let dtype = weights.dtype();
        let settings = u32s(settings);
        let [n, h, w] = [params.images, params.height, params.width].map(|v| v as usize);
        let smooth = felzenszwalb_smooth(&view(&image), &view(&weights), &params);
        let mut forest = vec![0; n * params.settings as usize * 3 * h * w];
        let costs = felzenszwalb_costs(&smooth, &mut forest, &params);
        let mut counts = vec![0; n * COUNTS as usize];
        let (mut spare, mut order) = (vec![0; n * 4 * h * w], vec![0; n * 4 * h * w]);
        for sort in sort_dispatches(&params) {
            felzenszwalb_sort(&costs, &mut counts, &mut spare, &mut order, &sort);
        }
        for merge_pass in [MERGE_JOIN, MERGE_MIN_SIZE] {
            felzenszwalb_merge(&costs, &order, &counts, &mut forest, &settings, &FelzenszwalbParams { merge_pass, ..params });
        }
        let items = n * params.settings as usize;
        // The CPU's merge runs every edge in order: it always finishes.
        (flex_int(felzenszwalb_label(&forest, &params), Shape::new([items, h, w]), dtype), flex_int(vec![0; items], Shape::new([items]), dtype))
    }

    fn seeds(
        image: FloatTensor<Self>,
        table: IntTensor<Self>,
        state: IntTensor<Self>,
        stage: SeedsStage,
        params: SeedsParams,
    ) -> IntTensor<Self> {
        use cpu::seeds::*;
        let (dtype, shape) = (state.dtype(), state.layout().shape().clone());
        let (table, mut values) = (u32s(table), u32s(state));
        match stage {
            SeedsStage::Histograms => seeds_histograms(&view(&image), &table, &mut values, &params),
            SeedsStage::Blocks => seeds_blocks(&table, &mut values, &params),
            SeedsStage::Labels => seeds_labels(&table, &mut values, &params),
            SeedsStage::Pixels => seeds_pixels(&table, &mut values, &params),
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
        params: WatershedParams,
    ) -> (IntTensor<Self>, IntTensor<Self>) {
        let dtype = level.dtype();
        let shape = level.layout().shape().clone();
        let mut values = u32s(level);
        let state = cpu::watershed::watershed_flood(&u32s(gradient), &view(&markers), &u32s(distance), &mut values, &params);
        let states = Shape::new([params.images as usize, 2]);
        (flex_u32(values, shape, dtype), flex_u32(state, states, dtype))
    }

    fn watershed_label(
        level: IntTensor<Self>,
        markers: IntTensor<Self>,
        best: IntTensor<Self>,
        labels: IntTensor<Self>,
        params: WatershedParams,
    ) -> (IntTensor<Self>, IntTensor<Self>) {
        let (dtype, shape) = (best.dtype(), best.layout().shape().clone());
        let mut best_values = u32s(best);
        let mut label_values = i32s(labels);
        cpu::watershed::watershed_label(&u32s(level), &view(&markers), &mut best_values, &mut label_values, &params);
        (flex_u32(best_values, shape.clone(), dtype), flex_int(label_values, shape, dtype))
    }
}
