#![allow(dead_code)]

use burn::tensor::Device;

/// Burn's wgpu device for GPU tests, or `None` (with a notice) when there is
/// no adapter. With `PAMI_REQUIRE_GPU=1` (CI) a missing adapter fails.
pub fn gpu() -> Option<Device> {
    match pami::device::wgpu_device() {
        Ok((device, _)) => Some(device),
        Err(e) if std::env::var("PAMI_REQUIRE_GPU").as_deref() == Ok("1") => {
            panic!("PAMI_REQUIRE_GPU=1 but there is no wgpu adapter: {e}")
        }
        Err(e) => {
            eprintln!("skipping the GPU half of this test: {e}");
            None
        }
    }
}

/// Deterministic pseudo-random values in `[lo, hi)` (xorshift; tests need no rand crate).
pub fn noise(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

/// Largest absolute difference, after checking lengths.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

pub fn floats<const D: usize>(t: burn::tensor::Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()
}
