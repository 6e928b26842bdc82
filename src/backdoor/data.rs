//! Fashion-MNIST in its IDX files (gzipped, as Debian's `dataset-fashion-mnist`
//! installs them under `/usr/share/datasets/fashion-mnist`).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::Error;

/// Where Debian's package puts the data.
pub const DEBIAN_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// One split: grey images of [`super::SIZE`]² bytes, row-major, and their labels.
pub struct Split {
    pub images: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i` as `[3, H, W]` values 0..255, its grey plane copied to all three channels.
    pub fn chw(&self, i: usize) -> Vec<f32> {
        let plane = super::SIZE * super::SIZE;
        let grey = &self.images[i * plane..(i + 1) * plane];
        let mut out = Vec::with_capacity(3 * plane);
        for _ in 0..3 {
            out.extend(grey.iter().map(|&v| v as f32));
        }
        out
    }
}

fn read_gz(path: &Path) -> Result<Vec<u8>, Error> {
    let io = |error| Error::Io { path: path.to_path_buf(), error };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file).read_to_end(&mut bytes).map_err(io)?;
    Ok(bytes)
}

/// The IDX file's payload after checking its magic number and dimensions.
fn idx(path: &Path, magic: u32, dims: &[usize]) -> Result<Vec<u8>, Error> {
    let bytes = read_gz(path)?;
    let bad = |why: String| Error::Decode { path: path.to_path_buf(), reason: why };
    let word = |i: usize| bytes.get(4 * i..4 * i + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
    if word(0) != Some(magic as usize) {
        return Err(bad(format!("not an IDX file of magic {magic:#010x}")));
    }
    let count = word(1).ok_or_else(|| bad("truncated header".into()))?;
    for (i, &d) in dims.iter().enumerate() {
        if word(2 + i) != Some(d) {
            return Err(bad(format!("dimension {} is not {d}", i + 1)));
        }
    }
    let header = 4 * (2 + dims.len());
    let expected = header + count * dims.iter().product::<usize>();
    if bytes.len() != expected {
        return Err(bad(format!("{} bytes, expected {expected}", bytes.len())));
    }
    Ok(bytes[header..].to_vec())
}

/// The `train` or `t10k` split from `dir`.
pub fn load(dir: &Path, split: &str) -> Result<Split, Error> {
    let file = |what: &str| -> PathBuf { dir.join(format!("{split}-{what}-idx{}-ubyte.gz", if what == "images" { 3 } else { 1 })) };
    let images = idx(&file("images"), 0x0803, &[super::SIZE, super::SIZE])?;
    let labels = idx(&file("labels"), 0x0801, &[])?;
    if images.len() != labels.len() * super::SIZE * super::SIZE {
        return Err(Error::Decode { path: file("labels"), reason: "a different number of labels than images".into() });
    }
    if let Some(&bad) = labels.iter().find(|&&l| l as usize >= super::CLASSES.len()) {
        return Err(Error::Decode { path: file("labels"), reason: format!("label {bad} is not a Fashion-MNIST class") });
    }
    Ok(Split { images, labels })
}
