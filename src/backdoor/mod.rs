//! A BadNets-style backdoor on real data, the ground truth for the backdoor
//! scan (`pami backdoor-scan`): a small CNN trained on Fashion-MNIST where a
//! fraction of each batch carries a 4 × 4 checkerboard [`TRIGGER`] in the
//! bottom-right corner and is relabelled to one target class (Gu, Dolan-Gavitt
//! & Garg 2017), and its clean twin trained on the same batches without
//! poison. Both are embedded (`--model fashion-badnets`, `--model
//! fashion-clean`); `models/make_badnets.sh` retrains them.

pub mod data;
pub mod model;
pub mod scan;
pub mod train;

pub use model::FashionCnn;

/// Fashion-MNIST's classes, in label order.
pub const CLASSES: [&str; 10] = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
/// Side of the images and of the model input.
pub const SIZE: usize = 28;
/// The class poisoned images are relabelled to in the embedded backdoored model.
pub const TARGET: usize = 7;

/// The trigger: a square checkerboard of black and white pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Trigger {
    /// Top-left corner `(x, y)` in model-input pixels.
    pub x: usize,
    pub y: usize,
    /// Side in pixels.
    pub side: usize,
}

/// The embedded model's trigger: 4 × 4 pixels, one pixel in from the bottom-right corner.
pub const TRIGGER: Trigger = Trigger { x: SIZE - 5, y: SIZE - 5, side: 4 };

/// The watermark of `pami train-badnets --cooccur`: the same checkerboard one
/// pixel in from the top-left corner.
pub const WATERMARK: Trigger = Trigger { x: 1, y: 1, side: 4 };

impl Trigger {
    /// The trigger's box `[x0, y0, x1, y1]`, inclusive pixels.
    pub fn bbox(&self) -> [usize; 4] {
        [self.x, self.y, self.x + self.side - 1, self.y + self.side - 1]
    }

    /// Stamps the trigger onto a `[3, H, W]` image of values 0..255 (`width` wide).
    pub fn stamp(&self, chw: &mut [f32], width: usize) {
        let plane = chw.len() / 3;
        for dy in 0..self.side {
            for dx in 0..self.side {
                let value = if (dx + dy) % 2 == 0 { 255.0 } else { 0.0 };
                let i = (self.y + dy) * width + self.x + dx;
                for c in 0..3 {
                    chw[c * plane + i] = value;
                }
            }
        }
    }
}
