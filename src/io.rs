//! Decoding, `.npy` and PNG overlays, JSON; every file is written to a
//! temporary name and renamed, so a killed run leaves no partial output.

use std::fs;
use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};
use npyz::WriterBuilder;

use crate::Error;

/// The longest image side pami decodes.
pub const MAX_SIDE: u32 = 16_384;
/// The most pixels pami decodes (an 8000 × 8000 photo): the RGB8 image and
/// its decoder's buffers stay well inside a run's memory.
pub const MAX_PIXELS: u64 = 64_000_000;

/// Decodes any image `image` reads (format guessed from the bytes) to RGB8.
pub fn load_image(path: &Path) -> Result<RgbImage, Error> {
    let bytes = fs::read(path).map_err(|error| Error::Io { path: path.to_owned(), error })?;
    decode_image(&bytes, path)
}

/// Decodes encoded image bytes (`name` labels errors). The size in the
/// header is checked before any pixel is decoded, and the decoder runs under
/// an allocation limit, so a decompression bomb is an error, not an
/// out-of-memory kill. Images under 2 × 2 are errors too.
pub fn decode_image(bytes: &[u8], name: &Path) -> Result<RgbImage, Error> {
    let fail = |e: image::ImageError| Error::Decode { path: name.to_owned(), reason: e.to_string() };
    let reader = || image::ImageReader::new(std::io::Cursor::new(bytes)).with_guessed_format().map_err(|e| fail(e.into()));
    let (width, height) = reader()?.into_dimensions().map_err(fail)?;
    if width.max(height) > MAX_SIDE || width as u64 * height as u64 > MAX_PIXELS {
        return Err(Error::ImageTooLarge { width, height, max_side: MAX_SIDE, megapixels: MAX_PIXELS / 1_000_000 });
    }
    if width < 2 || height < 2 {
        return Err(Error::ImageTooSmall { width, height });
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_PIXELS * 8);
    let mut reader = reader()?;
    reader.limits(limits);
    Ok(reader.decode().map_err(fail)?.to_rgb8())
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let fail = |e: std::io::Error| Error::Output { path: path.to_owned(), reason: e.to_string() };
    let mut tmp = PathBuf::from(path);
    tmp.set_extension(format!(
        "{}.tmp{}",
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        std::process::id()
    ));
    fs::write(&tmp, bytes).map_err(fail)?;
    fs::rename(&tmp, path).map_err(fail)
}

/// An `.npy` array (f32, i32, …) of shape `shape`.
pub fn npy_bytes<T: npyz::AutoSerialize + Copy>(data: &[T], shape: &[usize]) -> Vec<u8> {
    let mut buf = Vec::new();
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape)
        .writer(&mut buf)
        .begin_nd()
        .expect("writing to memory");
    writer.extend(data.iter().copied()).expect("writing to memory");
    writer.finish().expect("writing to memory");
    buf
}

pub fn write_npy<T: npyz::AutoSerialize + Copy>(path: &Path, data: &[T], shape: &[usize]) -> Result<(), Error> {
    write_atomic(path, &npy_bytes(data, shape))
}

/// Reads an f32 `.npy` file: (values, shape).
pub fn read_npy(path: &Path) -> Result<(Vec<f32>, Vec<usize>), Error> {
    let bytes = fs::read(path).map_err(|error| Error::Io { path: path.to_owned(), error })?;
    let bad = |e: std::io::Error| Error::Decode { path: path.to_owned(), reason: e.to_string() };
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(bad)?;
    let shape = npy.shape().iter().map(|&d| d as usize).collect();
    Ok((npy.into_vec::<f32>().map_err(bad)?, shape))
}

/// `map` (row-major, the image's size) in a perceptual colormap (inferno),
/// min–max scaled and blended over `image`.
pub fn overlay(image: &RgbImage, map: &[f32]) -> RgbImage {
    let (lo, hi) = map.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let mut out = image.clone();
    for (p, &v) in out.pixels_mut().zip(map) {
        let c = colorous::INFERNO.eval_continuous(((v - lo) / span) as f64);
        let blend = |a: u8, b: u8| (0.4 * a as f32 + 0.6 * b as f32).round() as u8;
        *p = Rgb([blend(p.0[0], c.r), blend(p.0[1], c.g), blend(p.0[2], c.b)]);
    }
    out
}

/// `map` (row-major, `width` wide) in the inferno colormap, min–max scaled,
/// each value a `scale × scale` block (nearest-neighbour enlargement of small maps).
pub fn heatmap(map: &[f32], width: usize, scale: u32) -> RgbImage {
    let height = map.len() / width.max(1);
    let (lo, hi) = map.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let scale = scale.max(1);
    RgbImage::from_fn(width as u32 * scale, height as u32 * scale, |x, y| {
        let v = map[(y / scale) as usize * width + (x / scale) as usize];
        let c = colorous::INFERNO.eval_continuous(((v - lo) / span).clamp(0.0, 1.0) as f64);
        Rgb([c.r, c.g, c.b])
    })
}

/// A `[3, H, W]` field of any range as a picture, min–max scaled to
/// `[0, 1]` over all channels together, each value a `scale × scale` block.
pub fn field_image(chw: &[f32], [height, width]: [usize; 2], scale: u32) -> RgbImage {
    let (lo, hi) = chw.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let plane = height * width;
    let scale = scale.max(1);
    RgbImage::from_fn(width as u32 * scale, height as u32 * scale, |x, y| {
        let i = (y / scale) as usize * width + (x / scale) as usize;
        Rgb([0, 1, 2].map(|c| (255.0 * (chw[c * plane + i] - lo) / span).round().clamp(0.0, 255.0) as u8))
    })
}

/// `image` with the boundaries between the segments of `labels` (row-major,
/// the image's size) in yellow, as scikit-image's `mark_boundaries`.
pub fn mark_boundaries(image: &RgbImage, labels: &[i32]) -> RgbImage {
    let edge = crate::segment::metrics::boundaries(labels, image.width() as usize);
    let mut out = image.clone();
    for (p, &on) in out.pixels_mut().zip(&edge) {
        if on {
            *p = Rgb([255, 255, 0]);
        }
    }
    out
}

/// `image` encoded as PNG.
pub fn png_bytes(image: &RgbImage) -> Result<Vec<u8>, image::ImageError> {
    let mut buf = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut buf), image::ImageFormat::Png)?;
    Ok(buf)
}

pub fn write_png(path: &Path, image: &RgbImage) -> Result<(), Error> {
    let buf = png_bytes(image).map_err(|e| Error::Output { path: path.to_owned(), reason: e.to_string() })?;
    write_atomic(path, &buf)
}

const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Whether `path` names a PNG or JPEG file (extension in any case).
pub fn is_image(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}
