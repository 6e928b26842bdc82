//! A synthetic task with known ground truth: the class of an image is the
//! shape of its one coloured object, placed at random among grey distractor
//! shapes on a textured background. A model that solves it must look at the
//! coloured object, so a faithful explanation points at its box.

pub mod backbone;
pub mod model;
pub mod train;

use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use model::SyntheticCnn;

/// Side of the images and of the model input.
pub const SIZE: usize = 64;
pub const CLASSES: [&str; 4] = ["circle", "square", "triangle", "cross"];
/// Grey distractor shapes per image.
pub const DISTRACTORS: usize = 3;
/// Seeds from here on are never used for training.
pub const HELD_OUT: u64 = 1 << 40;

/// One image with its class and the object's box `(x0, y0, x1, y1)`, inclusive.
pub struct Sample {
    pub image: RgbImage,
    pub class: usize,
    pub bbox: [f32; 4],
}

/// Whether offset `(dx, dy)` from a shape's centre is inside shape `kind` of radius `r`.
fn inside(kind: usize, dx: f32, dy: f32, r: f32) -> bool {
    match kind {
        0 => dx * dx + dy * dy <= r * r,
        1 => dx.abs() <= 0.8 * r && dy.abs() <= 0.8 * r,
        2 => dy >= -r && dy <= 0.8 * r && dx.abs() <= (dy + r) * 0.55,
        _ => (dx.abs() <= r / 3.0 && dy.abs() <= r) || (dy.abs() <= r / 3.0 && dx.abs() <= r),
    }
}

/// The sample of `seed`: the same image on every machine.
pub fn sample(seed: u64) -> Sample {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = SIZE as f32;
    // Background: two gratings of random orientation and period in dim colours, plus noise.
    let mut gratings = Vec::new();
    for _ in 0..2 {
        let angle = rng.random_range(0.0..std::f32::consts::PI);
        let period = rng.random_range(4.0..16.0f32);
        let colour: [f32; 3] = [rng.random_range(20.0..110.0), rng.random_range(20.0..110.0), rng.random_range(20.0..110.0)];
        gratings.push((angle.cos(), angle.sin(), std::f32::consts::TAU / period, colour));
    }
    let mut pixels = vec![[0.0f32; 3]; SIZE * SIZE];
    for (i, p) in pixels.iter_mut().enumerate() {
        let (x, y) = ((i % SIZE) as f32, (i / SIZE) as f32);
        for &(c, s, k, colour) in &gratings {
            let wave = 0.5 + 0.5 * ((x * c + y * s) * k).sin();
            for ch in 0..3 {
                p[ch] += 0.5 * wave * colour[ch];
            }
        }
        let grain = rng.random_range(-12.0..12.0f32);
        for v in p.iter_mut() {
            *v += grain + 30.0;
        }
    }
    // Shapes: the object first, then distractors that keep clear of it and of each other.
    let class = rng.random_range(0..CLASSES.len());
    let mut placed: Vec<(f32, f32, f32)> = Vec::new();
    let mut shapes = Vec::new();
    while shapes.len() < 1 + DISTRACTORS {
        let r = rng.random_range(6.0..9.0f32);
        let (cx, cy) = (rng.random_range(r + 1.0..n - r - 1.0), rng.random_range(r + 1.0..n - r - 1.0));
        if placed.iter().any(|&(px, py, pr)| (px - cx).hypot(py - cy) < pr + r + 3.0) {
            continue;
        }
        placed.push((cx, cy, r));
        let (kind, colour) = if shapes.is_empty() {
            // A saturated colour: one channel high, the others low.
            let mut c = [rng.random_range(0.0..70.0f32), rng.random_range(0.0..70.0), rng.random_range(0.0..70.0)];
            c[rng.random_range(0..3)] = rng.random_range(200.0..255.0);
            (class, c)
        } else {
            let grey = rng.random_range(80.0..180.0f32);
            (rng.random_range(0..CLASSES.len()), [grey; 3])
        };
        shapes.push((kind, cx, cy, r, colour));
    }
    let mut bbox = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
    for (i, p) in pixels.iter_mut().enumerate() {
        let (x, y) = ((i % SIZE) as f32, (i / SIZE) as f32);
        for (s, &(kind, cx, cy, r, colour)) in shapes.iter().enumerate() {
            if inside(kind, x - cx, y - cy, r) {
                *p = colour;
                if s == 0 {
                    bbox = [bbox[0].min(x), bbox[1].min(y), bbox[2].max(x), bbox[3].max(y)];
                }
            }
        }
    }
    let image = RgbImage::from_fn(SIZE as u32, SIZE as u32, |x, y| {
        let p = pixels[y as usize * SIZE + x as usize];
        Rgb(p.map(|v| v.clamp(0.0, 255.0) as u8))
    });
    Sample { image, class, bbox }
}
