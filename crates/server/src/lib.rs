//! The `switchboard` server as a library: settings, logging, and the composition
//! root that wires the adapters into the application services and serves them over
//! HTTP. `main.rs` only calls into this crate; the admin binary and the end-to-end
//! tests reuse it (same settings, same wiring).

pub mod check;
pub mod cors;
pub mod probe;
pub mod readiness;
pub mod rotation;
pub mod settings;
pub mod startup;
pub mod telemetry;
pub mod webhooks;

pub use settings::{Loaded, Profile, Settings};
pub use startup::{Application, Services, StartupError};
