//! The embedded procedural generator: `<colour> <shape>` objects on a
//! `<texture> background`, laid out on the host and rasterised on the device
//! (`shaders/render.wgsl`, CPU twin `src/cpu/render.rs`).
//!
//! Layout: every instance of every object concept of the dataset (concept
//! `k`, instance `i < max count of k`) owns a slot; per image seed, the slots
//! are dealt to the cells of a square grid (more cells than slots, so places
//! vary), and each slot draws its size and its place inside its cell. All
//! draws are made for every slot whether its object is present or not, so
//! an object's cell, size and place depend only on the seed and its slot:
//! changing one concept's count adds or removes that concept's objects and
//! leaves every other object where it was. Objects never overlap (one per
//! cell).

use burn::tensor::{Device, Tensor};
use image::RgbImage;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::caption::{Caption, Dataset};
use crate::Error;
use crate::cpu::render::{BACKGROUND_FIELDS, OBJECT_FIELDS};

/// Object colours and their RGB values.
pub const COLOURS: [(&str, [u8; 3]); 8] = [
    ("red", [220, 40, 40]),
    ("green", [40, 190, 60]),
    ("blue", [50, 80, 230]),
    ("yellow", [235, 215, 40]),
    ("magenta", [220, 50, 220]),
    ("cyan", [40, 215, 225]),
    ("white", [245, 245, 245]),
    ("black", [15, 15, 15]),
];
/// Object shapes, in the kernel's numbering.
pub const SHAPES: [&str; 6] = ["circle", "square", "triangle", "cross", "star", "ring"];
/// Background textures, numbered from 1 in the kernel (0: no background concept).
pub const TEXTURES: [&str; 5] = ["plain", "striped", "checkered", "noisy", "gradient"];

/// A concept the renderer draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concept {
    Object { colour: usize, shape: usize },
    Background { texture: usize },
}

impl Concept {
    /// `<colour> <shape>` or `<texture> background`; anything else is an
    /// error naming what is unknown.
    pub fn parse(name: &str) -> Result<Concept, Error> {
        let words: Vec<&str> = name.split_whitespace().collect();
        let bad = |why: String| Error::InvalidParameter(format!("concept `{name}`: {why}"));
        let list = |names: &[&str]| names.join(", ");
        match words.as_slice() {
            [texture, "background"] => TEXTURES
                .iter()
                .position(|t| t == texture)
                .map(|texture| Concept::Background { texture })
                .ok_or_else(|| bad(format!("unknown texture `{texture}` (use {})", list(&TEXTURES)))),
            [colour, shape] => {
                let colours: Vec<&str> = COLOURS.iter().map(|c| c.0).collect();
                let colour = colours.iter().position(|c| c == colour).ok_or_else(|| bad(format!("unknown colour `{colour}` (use {})", list(&colours))))?;
                let shape = SHAPES.iter().position(|s| s == shape).ok_or_else(|| bad(format!("unknown shape `{shape}` (use {})", list(&SHAPES))))?;
                Ok(Concept::Object { colour, shape })
            }
            _ => Err(bad("the procedural renderer draws `<colour> <shape>` and `<texture> background`".into())),
        }
    }
}

/// Scene tables of a batch, as `shaders/render.wgsl` reads them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scenes {
    /// `[O, 6]`: shape, packed RGB, centre x, centre y, radius (half pixels), 0.
    pub objects: Vec<i32>,
    /// `[I + 1]`: each image's first object row.
    pub offsets: Vec<i32>,
    /// `[I, 4]`: texture (0 none), period (px), direction, noise seed.
    pub backgrounds: Vec<i32>,
}

/// Smallest side of a layout cell, in pixels.
pub const MIN_CELL: usize = 8;

/// The slots of a dataset's concepts.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    concepts: Vec<(String, Concept)>,
    /// Per concept: its first slot and its largest count (objects only).
    slots: Vec<(usize, u32)>,
    total: usize,
    /// Cells per side.
    grid: usize,
}

impl Layout {
    /// The layout of `concepts` with at most `max_counts[k]` objects of concept `k`.
    pub fn new(concepts: &[String], max_counts: &[u32]) -> Result<Layout, Error> {
        let mut parsed = Vec::new();
        let mut slots = Vec::new();
        let mut total = 0;
        for (name, &most) in concepts.iter().zip(max_counts) {
            let concept = Concept::parse(name)?;
            let most = if matches!(concept, Concept::Object { .. }) { most } else { 0 };
            slots.push((total, most));
            total += most as usize;
            parsed.push((name.clone(), concept));
        }
        // Half again as many cells as slots, at least 2 × 2.
        let grid = ((total as f64 * 1.5).sqrt().ceil() as usize).max(2);
        Ok(Layout { concepts: parsed, slots, total, grid })
    }

    /// The layout of a dataset's columns, sized for its largest counts.
    pub fn for_dataset(dataset: &Dataset) -> Result<Layout, Error> {
        let most: Vec<u32> = (0..dataset.concepts.len()).map(|k| dataset.counts.iter().map(|r| r[k]).max().unwrap_or(0)).collect();
        let layout = Layout::new(&dataset.concepts, &most)?;
        for (n, row) in dataset.counts.iter().enumerate() {
            let backgrounds = layout.concepts.iter().zip(row).filter(|(( _, c), count)| matches!(c, Concept::Background { .. }) && **count > 0).count();
            if backgrounds > 1 {
                return Err(Error::InvalidParameter(format!("caption {}: at most one background concept per caption", n + 1)));
            }
        }
        Ok(layout)
    }

    pub fn concepts(&self) -> impl Iterator<Item = &str> {
        self.concepts.iter().map(|(n, _)| n.as_str())
    }

    /// The smallest image side whose cells are at least [`MIN_CELL`] pixels.
    pub fn min_size(&self) -> usize {
        self.grid * MIN_CELL
    }

    /// Scene tables of `captions` (their concepts among the layout's, at most
    /// its counts) with per-image `seeds`, at `size × size` pixels.
    pub fn scenes(&self, captions: &[Caption], seeds: &[u64], size: usize) -> Result<Scenes, Error> {
        if size < self.min_size() {
            return Err(Error::InvalidParameter(format!(
                "{} objects need images of at least {} pixels a side ({}² cells of {MIN_CELL}), not {size}",
                self.total,
                self.min_size(),
                self.grid
            )));
        }
        let mut scenes = Scenes { offsets: vec![0], ..Scenes::default() };
        let cells = self.grid * self.grid;
        // Cell edges in half pixels.
        let edge = |c: usize| (2 * size * c / self.grid) as i32;
        for (caption, &seed) in captions.iter().zip(seeds) {
            let mut counts = vec![0u32; self.concepts.len()];
            for item in &caption.items {
                let k = self.concepts.iter().position(|(n, _)| *n == item.concept).ok_or_else(|| {
                    Error::InvalidParameter(format!("concept `{}` is not among the dataset's concepts", item.concept))
                })?;
                counts[k] = item.count;
            }
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut order: Vec<usize> = (0..cells).collect();
            order.shuffle(&mut rng);
            // Every slot draws its size and place, present or not.
            let draws: Vec<(i32, i32, i32)> = (0..self.total).map(|_| (rng.random_range(55..=90), rng.random_range(0..=1000), rng.random_range(0..=1000))).collect();
            let background = [rng.random_range(4..=8), rng.random_range(0..4), rng.random::<u32>() as i32];
            let mut texture = 0;
            for (k, ((_, concept), &count)) in self.concepts.iter().zip(&counts).enumerate() {
                match *concept {
                    Concept::Background { texture: t } if count > 0 && texture == 0 => texture = t as i32 + 1,
                    Concept::Background { .. } => {}
                    Concept::Object { colour, shape } => {
                        let (first, most) = self.slots[k];
                        if count > most {
                            return Err(Error::InvalidParameter(format!("{count} × `{}` is more than the layout's {most}", self.concepts[k].0)));
                        }
                        let [r, g, b] = COLOURS[colour].1;
                        for i in 0..count as usize {
                            let slot = first + i;
                            let cell = order[slot];
                            let (x0, x1, y0, y1) = (edge(cell % self.grid), edge(cell % self.grid + 1), edge(cell / self.grid), edge(cell / self.grid + 1));
                            let (scale, jx, jy) = draws[slot];
                            let radius = ((x1 - x0).min(y1 - y0) / 2 * scale / 100).max(2);
                            let place = |lo: i32, hi: i32, j: i32| lo + radius + (hi - lo - 2 * radius).max(0) * j / 1000;
                            let rgb = ((r as i32) << 16) | ((g as i32) << 8) | b as i32;
                            scenes.objects.extend([shape as i32, rgb, place(x0, x1, jx), place(y0, y1, jy), radius, 0]);
                        }
                    }
                }
            }
            scenes.backgrounds.extend([texture, background[0], background[1], background[2]]);
            scenes.offsets.push((scenes.objects.len() / OBJECT_FIELDS) as i32);
        }
        debug_assert_eq!(scenes.backgrounds.len(), captions.len() * BACKGROUND_FIELDS);
        Ok(scenes)
    }
}

/// The seed of image `i` under the run's `seed` (splitmix64), the same for
/// a caption line in the unpermuted set and in every permutation.
pub fn image_seed(seed: u64, i: usize) -> u64 {
    let mut z = seed.wrapping_add((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The embedded procedural generator over a dataset's concepts.
#[derive(Clone, Debug)]
pub struct Procedural {
    pub layout: Layout,
}

impl Procedural {
    pub fn new(dataset: &Dataset) -> Result<Procedural, Error> {
        Ok(Procedural { layout: Layout::for_dataset(dataset)? })
    }
}

impl super::Generator for Procedural {
    fn name(&self) -> String {
        "procedural".into()
    }

    fn check_size(&self, size: usize) -> Result<(), Error> {
        self.layout.scenes(&[], &[], size).map(|_| ())
    }

    fn image(&self, caption: &Caption, seed: u64, size: usize) -> Result<RgbImage, Error> {
        let scenes = self.layout.scenes(std::slice::from_ref(caption), &[seed], size)?;
        let params = crate::gpu::render::RenderParams { width: size as u32, height: size as u32, images: 1, objects: (scenes.objects.len() / OBJECT_FIELDS) as u32 };
        let chw = crate::cpu::render::render(&scenes.objects, &scenes.offsets, &scenes.backgrounds, &params);
        let plane = size * size;
        Ok(RgbImage::from_fn(size as u32, size as u32, |x, y| {
            let p = y as usize * size + x as usize;
            image::Rgb([0, 1, 2].map(|c| chw[c * plane + p] as u8))
        }))
    }

    /// On the device, in one dispatch.
    fn batch(&self, captions: &[Caption], seeds: &[u64], size: usize, device: &Device) -> Result<Tensor<4>, Error> {
        let scenes = self.layout.scenes(captions, seeds, size)?;
        Ok(crate::ops::render(&scenes, size, device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_colours_shapes_and_textures_are_named() {
        assert_eq!(Concept::parse("red circle").unwrap(), Concept::Object { colour: 0, shape: 0 });
        assert_eq!(Concept::parse("noisy background").unwrap(), Concept::Background { texture: 3 });
        for (name, says) in [("purple circle", "colour `purple`"), ("red hexagon", "shape `hexagon`"), ("wavy background", "texture `wavy`"), ("dog", "draws")] {
            let e = Concept::parse(name).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains(name), "{name}: {e}");
        }
    }
}
