//! What wraps every request: path normalization, the request id and access log,
//! metrics, rate-limit headers, and `Idempotency-Key`. Knows no route.

pub mod idempotency;
pub mod login_throttle;
pub mod metrics;
pub mod normalize;
pub mod rate_limit;
pub mod request_id;
