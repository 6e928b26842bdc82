//! pami: explanation by perturbation (PAMI, Shi et al.) with every step
//! between the uploaded image and the downloaded map on one device.
//!
//! ```no_run
//! use pami::{DeviceChoice, EfficientNetLite0, ExplainConfig, Explainer};
//! let runtime = pami::device::select(DeviceChoice::Auto)?;
//! let model = EfficientNetLite0::pretrained(&runtime.device)?;
//! let explainer = Explainer::new(model, runtime.device.clone());
//! let image = pami::io::load_image("assets/coffee.png".as_ref())?;
//! let explanation = explainer.explain(&image, &ExplainConfig::default())?;
//! println!("{:?}", explanation.targets);
//! # Ok::<(), pami::Error>(())
//! ```

pub mod backend;
pub mod blur;
pub mod cpu;
pub mod device;
pub mod eval;
mod error;
pub mod explain;
pub mod gpu;
pub mod io;
pub mod metrics;
pub mod model;
pub mod ops;
pub mod partition;
pub mod run;
pub mod segment;
pub mod synthetic;

pub use blur::{Blur, BlurShape, Padding};
pub use device::{DeviceChoice, Runtime};
pub use error::Error;
pub use explain::{
    Baseline, DeviceExplanation, ExplainConfig, Explainer, Explanation, Prediction, Score, SegmentsConfig, Shifts, Strategy, Targets, Timings,
};
pub use model::{EfficientNetLite0, Model, Normalisation, Zoo};
pub use partition::{PartKind, Parts, occlusion::Occlusion, rise::Rise, window::WindowGrid};
