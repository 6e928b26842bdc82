use std::path::PathBuf;

/// Everything pami reports instead of panicking.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{}: not a readable image ({reason})", path.display())]
    Decode { path: PathBuf, reason: String },
    #[error("image is {width}×{height} pixels; pami needs at least 2×2")]
    ImageTooSmall { width: u32, height: u32 },
    #[error("image is {width}×{height} pixels; pami takes at most {max_side} per side and {megapixels} megapixels")]
    ImageTooLarge { width: u32, height: u32, max_side: u32, megapixels: u64 },
    #[error("unknown class `{0}`: give a class id below {1} or an exact class name")]
    UnknownClass(String, usize),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("no GPU adapter: {0}")]
    NoGpu(String),
    #[error("device error: {0}")]
    Device(String),
    #[error("model weights: {0}")]
    Weights(String),
    #[error("{}: could not write output ({reason})", path.display())]
    Output { path: PathBuf, reason: String },
}
