//! The Burn reductions the pipeline relies on (softmax over classes, top-k,
//! per-channel mean) give the CPU's answer on the wgpu device. Burn 0.22.1's
//! min_dim on lavapipe did not for long rows (see src/gpu/slic.rs, slic_lab),
//! so the shapes the pipeline uses are checked here.

mod common;

use burn::tensor::{Device, Tensor, TensorData, activation::softmax};
use common::{floats, gpu, max_abs_diff, noise};

fn tensor<const D: usize>(shape: [usize; D], seed: u64, device: &Device) -> Tensor<D> {
    let n = shape.iter().product();
    Tensor::from_data(TensorData::new(noise(n, seed, -4.0, 4.0), shape), device)
}

#[test]
fn pipeline_reductions_match_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let cpu = Device::flex();
    for batch in [1, 16, 64] {
        let a = floats(softmax(tensor([batch, 1000], 1, &cpu), 1));
        let b = floats(softmax(tensor([batch, 1000], 1, &gpu), 1));
        assert!(max_abs_diff(&a, &b) < 1e-6, "softmax over [{batch}, 1000]");
    }
    let (va, ia) = tensor([1, 1000], 2, &cpu).topk_with_indices(5, 1);
    let (vb, ib) = tensor([1, 1000], 2, &gpu).topk_with_indices(5, 1);
    assert_eq!(ia.into_data().convert::<i64>().try_to_vec::<i64>().unwrap(), ib.into_data().convert::<i64>().try_to_vec::<i64>().unwrap());
    assert!(max_abs_diff(&floats(va), &floats(vb)) < 1e-6);
    for shape in [[3, 224, 224], [3, 400, 600]] {
        let a = floats(tensor(shape, 3, &cpu).mean_dim(2).mean_dim(1));
        let b = floats(tensor(shape, 3, &gpu).mean_dim(2).mean_dim(1));
        assert!(max_abs_diff(&a, &b) < 1e-4, "per-channel mean of {shape:?}: {a:?} vs {b:?}");
    }
}
