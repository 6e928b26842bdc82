//! Blur kernels for the baseline.

use serde::Serialize;

use crate::Error;

/// How the blur treats pixels outside the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// Outside pixels are 0 (what a convolution with zero padding does).
    Zero = 0,
    /// Mirror without repeating the edge pixel (NumPy `reflect`, OpenCV `BORDER_REFLECT_101`).
    Reflect = 1,
}

/// The shape of a separable blur kernel.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum BlurShape {
    /// Sampled Gaussian `exp(-k² / 2σ²)` over `size` taps, normalised to sum 1.
    Gaussian { size: usize, sigma: f32 },
    /// `size` equal taps of `1/size`.
    Box { size: usize },
}

/// A separable blur: the same 1-D kernel along x then y.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Blur {
    pub shape: BlurShape,
    pub padding: Padding,
}

impl Blur {
    /// The paper's baseline: a 49×49 Gaussian with σ = 100 and zero padding.
    /// With σ ≫ size its taps lie within 3% of a box filter's.
    pub fn paper() -> Self {
        Blur { shape: BlurShape::Gaussian { size: 49, sigma: 100.0 }, padding: Padding::Zero }
    }

    pub fn gaussian(size: usize, sigma: f32) -> Result<Self, Error> {
        Blur { shape: BlurShape::Gaussian { size, sigma }, padding: Padding::Zero }.validated()
    }

    pub fn box_filter(size: usize) -> Result<Self, Error> {
        Blur { shape: BlurShape::Box { size }, padding: Padding::Zero }.validated()
    }

    pub fn with_padding(self, padding: Padding) -> Self {
        Blur { padding, ..self }
    }

    /// Checks that the kernel has an odd, positive size and a positive, finite sigma.
    pub fn validated(self) -> Result<Self, Error> {
        let size = self.size();
        if size == 0 || size.is_multiple_of(2) {
            return Err(Error::InvalidParameter(format!("blur size must be odd and positive, got {size}")));
        }
        if let BlurShape::Gaussian { sigma, .. } = self.shape
            && !(sigma.is_finite() && sigma > 0.0)
        {
            return Err(Error::InvalidParameter(format!("blur sigma must be positive, got {sigma}")));
        }
        Ok(self)
    }

    pub fn size(&self) -> usize {
        match self.shape {
            BlurShape::Gaussian { size, .. } | BlurShape::Box { size } => size,
        }
    }

    /// The 1-D taps, summing to 1.
    pub fn weights(&self) -> Vec<f32> {
        let size = self.size();
        let r = (size / 2) as f64;
        let raw: Vec<f64> = match self.shape {
            BlurShape::Box { .. } => vec![1.0; size],
            BlurShape::Gaussian { sigma, .. } => {
                let s2 = 2.0 * (sigma as f64).powi(2);
                (0..size).map(|i| (-(i as f64 - r).powi(2) / s2).exp()).collect()
            }
        };
        let total: f64 = raw.iter().sum();
        raw.iter().map(|w| (w / total) as f32).collect()
    }

    /// Parses `paper`, `gaussian:SIZE:SIGMA` or `box:SIZE`.
    pub fn parse(spec: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidParameter(format!("blur `{spec}`: expected paper, gaussian:SIZE:SIGMA or box:SIZE"));
        let fields: Vec<&str> = spec.split(':').collect();
        match fields.as_slice() {
            ["paper"] => Ok(Self::paper()),
            ["box", size] => Self::box_filter(size.parse().map_err(|_| bad())?),
            ["gaussian", size, sigma] => {
                Self::gaussian(size.parse().map_err(|_| bad())?, sigma.parse().map_err(|_| bad())?)
            }
            _ => Err(bad()),
        }
    }
}
