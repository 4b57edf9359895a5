//! The rate-limit headers of authenticated answers: authorization
//! ([`crate::extract::auth`]) leaves the token bucket's state in the request's
//! extensions, and the request middleware writes it as `X-RateLimit-*` on the way
//! out. (A 429 writes its own, from the bucket that refused it.)

use actix_web::HttpMessage;
use actix_web::dev::ServiceResponse;

use crate::wire::rate_limit::RateLimitStatus;

/// Writes the `X-RateLimit-*` headers of the request's bucket, when it has one.
pub(crate) fn write_rate_limit_headers<B>(response: &mut ServiceResponse<B>) {
    let status = response
        .request()
        .extensions()
        .get::<RateLimitStatus>()
        .copied();
    if let Some(status) = status {
        status.write_headers(response.headers_mut());
    }
}
