//! Connected components: the WGSL stages on the wgpu device equal the CPU
//! twin exactly, and the twin's labels are exactly the 4-connected regions.

mod common;

use burn::tensor::{Device, Int, Tensor, TensorData};
use common::{SEGMENTS, gpu, ints, noise};
use pami::segment::connected_components;

/// `images` label maps of `h × w`: blocks of `cell` pixels with `values` random labels.
fn maps(images: usize, h: usize, w: usize, cell: usize, values: usize, seed: u64) -> Vec<i32> {
    let cells = noise(images * h * w, seed, 0.0, values as f32);
    let mut out = Vec::with_capacity(images * h * w);
    for i in 0..images {
        for y in 0..h {
            for x in 0..w {
                out.push(cells[i * h * w + (y / cell) * w + x / cell] as i32);
            }
        }
    }
    out
}

fn run(labels: &[i32], shape: [usize; 3], device: &Device) -> (Vec<i32>, Vec<usize>) {
    let t = Tensor::<3, Int>::from_data(TensorData::new(labels.to_vec(), shape), device);
    let s = connected_components(t).unwrap();
    (ints(s.labels), s.counts)
}

/// Reference by flood fill: components numbered in order of first appearance.
fn flood(labels: &[i32], h: usize, w: usize) -> (Vec<i32>, usize) {
    let mut out = vec![-1; h * w];
    let mut next = 0;
    for start in 0..h * w {
        if out[start] >= 0 {
            continue;
        }
        out[start] = next;
        let mut stack = vec![start];
        while let Some(p) = stack.pop() {
            let (x, y) = (p % w, p / w);
            let neighbours = [
                (x > 0).then(|| p - 1),
                (x + 1 < w).then(|| p + 1),
                (y > 0).then(|| p - w),
                (y + 1 < h).then(|| p + w),
            ];
            for q in neighbours.into_iter().flatten() {
                if out[q] < 0 && labels[q] == labels[p] {
                    out[q] = next;
                    stack.push(q);
                }
            }
        }
        next += 1;
    }
    (out, next as usize)
}

#[test]
fn components_are_the_four_connected_regions_in_raster_order() {
    let device = Device::flex();
    // A diagonal touch does not connect; a ring's two arms do, around the corner.
    #[rustfmt::skip]
    let labels = vec![
        1, 0, 2, 2,
        0, 1, 2, 0,
        3, 3, 2, 0,
        3, 0, 0, 0,
    ];
    let (out, counts) = run(&labels, [1, 4, 4], &device);
    #[rustfmt::skip]
    assert_eq!(out, vec![
        0, 1, 2, 2,
        3, 4, 2, 5,
        6, 6, 2, 5,
        6, 5, 5, 5,
    ]);
    assert_eq!(counts, [7]);
    // Random maps over several images and blocks of the root count.
    let (h, w) = (37, 29);
    let labels = maps(3, h, w, 3, 4, 11);
    let (out, counts) = run(&labels, [3, h, w], &device);
    for i in 0..3 {
        let (expect, n) = flood(&labels[i * h * w..(i + 1) * h * w], h, w);
        assert_eq!(out[i * h * w..(i + 1) * h * w], expect[..], "image {i}");
        assert_eq!(counts[i], n);
    }
}

#[test]
fn components_gpu_equals_cpu_twin_exactly() {
    let Some(gpu) = gpu() else { return };
    let cpu = Device::flex();
    for (images, h, w, cell, values) in [(4, 45, 61, 1, 3), (2, 224, 224, 7, 5), (1, 384, 512, 1, 2)] {
        let labels = maps(images, h, w, cell, values, 5);
        let (a, na) = run(&labels, [images, h, w], &cpu);
        let (b, nb) = run(&labels, [images, h, w], &gpu);
        assert_eq!(na, nb, "segment counts on {images}×{h}×{w}");
        assert!(a == b, "labels differ on {images}×{h}×{w}");
        assert!(na.iter().all(|&n| n > 1));
    }
}

/// The reference label maps of `tests/fixtures/segments` (tools/make_segment_refs.py):
/// (input, setting, labels, 4-connected pieces the manifest counts).
fn references() -> Vec<(String, String, Vec<i32>, usize)> {
    let dir = SEGMENTS;
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/manifest.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    for (input, entry) in manifest["inputs"].as_object().unwrap() {
        let mut npz = npyz::npz::NpzArchive::open(format!("{dir}/{input}.npz")).unwrap();
        for (setting, result) in entry["results"].as_object().unwrap() {
            let labels = npz.by_name(setting).unwrap().unwrap().into_vec::<i32>().unwrap();
            out.push((input.clone(), setting.clone(), labels, result["pieces_4conn"].as_u64().unwrap() as usize));
        }
    }
    out
}

#[test]
fn components_split_reference_segmentations_into_their_four_connected_pieces() {
    // scikit-image's Felzenszwalb (8-connected graph) and OpenCV's SEEDS return labels made of
    // several 4-connected pieces; pami's parts are single pieces, so these maps get split.
    let refs = references();
    assert!(refs.len() >= 8 * 20, "expected 8 inputs × 20 settings, found {}", refs.len());
    let cpu = Device::flex();
    let mut split = 0;
    for (input, setting, labels, pieces) in &refs {
        let side = (labels.len() as f64).sqrt() as usize;
        let (out, counts) = run(labels, [1, side, side], &cpu);
        assert_eq!(counts[0], *pieces, "{input} {setting}");
        assert!(pami::segment::metrics::is_four_connected(&out, side));
        // A refinement: pixels that share a piece share the reference label.
        assert_eq!(pami::segment::metrics::undersegmentation_error(&out, labels), 0.0, "{input} {setting}");
        split += (*pieces > pami::segment::metrics::segment_count(labels)) as usize;
    }
    assert!(split > 40, "the fixtures should include split labels, found {split}");
    // The twenty maps of one input as one batch on the GPU: exactly the CPU's.
    let Some(gpu) = gpu() else { return };
    let batch: Vec<i32> = refs.iter().filter(|r| r.0 == "coffee_224").flat_map(|r| r.2.clone()).collect();
    let n = batch.len() / (224 * 224);
    assert_eq!(n, 20);
    assert!(run(&batch, [n, 224, 224], &cpu) == run(&batch, [n, 224, 224], &gpu));
}
