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

pub mod agnostic;
pub mod backdoor;
pub mod backend;
pub mod bench;
pub mod compare;
pub mod concepts;
pub mod blur;
pub mod counters;
pub mod cpu;
pub mod device;
pub mod eval;
mod error;
pub mod explain;
pub mod gpu;
pub mod io;
pub mod method;
pub mod metrics;
pub mod model;
pub mod ops;
pub mod options;
pub mod partition;
pub mod run;
pub mod segment;
pub mod serve;
pub mod synthetic;
pub mod text;
pub mod zoo;

pub use blur::{Blur, BlurShape, Padding};
pub use device::{DeviceChoice, Runtime};
pub use error::Error;
pub use explain::{ClassScore, DeviceExplanation, ExplainConfig, Explainer, Explanation, Prediction, Targets};
pub use method::{
    Baseline, Method, Score, Timing, Timings, ablation::Ablation, gradcam::GradCam, integrated_gradients::IntegratedGradients, occlusion::Occlusion,
    rise::Rise, saliency::Saliency, segments::Segments, segments::Shifts, smoothgrad::SmoothGrad, window::Window, window::WindowGrid,
};
pub use model::{EfficientNetLite0, Model, Normalisation};
pub use partition::{PartKind, Parts};
pub use zoo::Zoo;
