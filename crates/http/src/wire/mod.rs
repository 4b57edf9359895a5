//! The wire format: the response envelope, [`error::ApiError`] and every mapping of
//! an operation's error onto it. Knows no route and no extractor.

pub mod bridge_errors;
pub mod envelope;
pub mod error;
