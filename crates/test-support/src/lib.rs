//! What the workspace's tests share, so that no test crate grows its own copy:
//!
//! - [`TestDatabase`]: a throwaway SQLite file or PostgreSQL database per case;
//! - [`on_both_backends!`] (and [`postgres_only!`]): one case per backend, the
//!   PostgreSQL half reported as ignored (not passed) when no PostgreSQL is
//!   configured;
//! - with the `app` feature, [`spawn_app`] and [`TestApp`]: the real server
//!   in-process on a free port, with typed request helpers;
//! - with the `stand-in` feature, [`stand_in::StandIn`]: a stand-in of the
//!   providers' APIs, also run as the `switchboard-stand-in` binary;
//! - [`process`]: the real binary as a child process (test keys, a clean
//!   environment, its output lines, signals), for the tests that need the process
//!   itself.
//!
//! Nothing here is used by a production crate; production crates list this one
//! only under `[dev-dependencies]`.

mod backends;
mod database;

#[cfg(feature = "app")]
mod app;
pub mod process;
#[cfg(feature = "stand-in")]
pub mod stand_in;

pub use backends::{block_on, runtime};
pub use database::{POSTGRES_URL_VAR, REQUIRE_POSTGRES_VAR, TestDatabase};
pub use switchboard_persistence::Backend;

#[cfg(feature = "app")]
pub use app::{
    API, Answer, BRIDGES, CONFIGS, NUMBERS, PASSWORD, TOKENS, TestApp, TestUser, spawn_app,
    spawn_app_on, test_settings, twilio_body, twilio_sid, twilio_token,
};
