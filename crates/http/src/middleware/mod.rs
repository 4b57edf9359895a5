//! What wraps every request: path normalization, the request id and access log
//! (which also writes the rate-limit headers), metrics, and `Idempotency-Key`
//! around the handlers that may store their answers. Knows no route's insides.

pub(crate) mod idempotency;
pub(crate) mod metrics;
pub(crate) mod normalize;
pub(crate) mod rate_limit;
pub(crate) mod request_id;
