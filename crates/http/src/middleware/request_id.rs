//! Request ids and the request log.
//!
//! Every request gets an id (the client's `X-Request-Id` when it is a short token of
//! safe characters, else a fresh UUID), echoed in the answer and kept in the
//! request's extensions as [`RequestId`] for handlers (the audit trail records it).
//! The request runs inside a `tracing` span carrying that id, so every log line of
//! the request names it; one line is logged when it completes, with method, route
//! template, status and latency. Nothing of the headers or bodies is logged. The
//! token's rate-limit state, left in the request's extensions by authentication,
//! becomes the `X-RateLimit-*` headers ([`super::rate_limit`]), here, so that one
//! middleware layer does both.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest};
use tracing::Instrument;

use crate::middleware::rate_limit::write_rate_limit_headers;
use crate::wire::error::ErrorCode;

/// Name of the request id header.
const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being served (in the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestId(pub(crate) String);

/// The id of `req`, when the request id middleware runs.
#[must_use]
pub(crate) fn request_id_of(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|id| id.0.clone())
}

fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Middleware function (use with `actix_web::middleware::from_fn`).
///
/// # Errors
/// Whatever the inner service returns.
pub async fn request_id_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| acceptable(id))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        route = tracing::field::Empty,
    );
    req.extensions_mut().insert(RequestId(request_id.clone()));
    // Probes and scrapes come every few seconds: their lines are debug.
    let routine = is_routine(req.path());
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    // Finding the route template walks the route table again (regular expressions):
    // only worth it when the span is recorded.
    if !span.is_disabled() {
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "<unmatched>".to_owned());
        span.record("route", route.as_str());
    }
    let status = response.status();
    let latency_ms = milliseconds(started.elapsed());
    let code =
        (status.is_client_error() || status.is_server_error()).then(|| error_code(&response));
    let status = status.as_u16();
    span.in_scope(|| match (&code, routine) {
        (Some(code), true) => {
            tracing::debug!(status, latency_ms, code = %code, "request completed")
        }
        (Some(code), false) => {
            tracing::info!(status, latency_ms, code = %code, "request completed")
        }
        (None, true) => tracing::debug!(status, latency_ms, "request completed"),
        (None, false) => tracing::info!(status, latency_ms, "request completed"),
    });
    write_rate_limit_headers(&mut response);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

/// Health probes and metrics scrapes.
fn is_routine(path: &str) -> bool {
    path.starts_with("/health/") || path == "/metrics"
}

/// A duration in milliseconds, rounded to the microsecond (3 decimals), so that log
/// lines show `0.245`, not `0.24512299999999998`.
fn milliseconds(elapsed: std::time::Duration) -> f64 {
    (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// The answer's error `code`: the one the error body carries, or for answers that
/// are not the service's own errors (a readiness 503), the status's reason in
/// snake case (`service_unavailable`).
fn error_code<B>(response: &ServiceResponse<B>) -> String {
    if let Some(ErrorCode(code)) = response.response().extensions().get::<ErrorCode>() {
        return (*code).to_owned();
    }
    response
        .status()
        .canonical_reason()
        .unwrap_or("error")
        .to_ascii_lowercase()
        .replace([' ', '-'], "_")
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpResponse, test as actix_test, web};

    use super::*;
    use crate::wire::error::{ApiError, blocking};

    #[test]
    fn only_safe_ids_are_echoed() {
        assert!(acceptable("abc-123_x.y"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable("line\nbreak"));
        assert!(!acceptable(&"a".repeat(129)));
    }

    /// Log lines written as JSON into a buffer the test reads.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut buffer) = self.0.lock() {
                buffer.extend_from_slice(bytes);
            }
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn work_on_the_blocking_pool() -> Result<HttpResponse, ApiError> {
        blocking(|| {
            tracing::info!(thread = ?std::thread::current().name(), "inside blocking work");
            Ok::<_, ApiError>(())
        })
        .await?;
        Ok(HttpResponse::Ok().finish())
    }

    #[actix_web::test]
    async fn log_lines_of_blocking_work_carry_the_request_id() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_span_list(true)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || writer.clone())
            .finish();
        // The only subscriber of this test binary: blocking work runs on other
        // threads, which a thread-local default would not reach.
        tracing::subscriber::set_global_default(subscriber).expect("the first subscriber");
        let app = actix_test::init_service(
            App::new()
                .route("/work", web::get().to(work_on_the_blocking_pool))
                .wrap(from_fn(request_id_middleware)),
        )
        .await;
        let request = actix_test::TestRequest::get()
            .uri("/work")
            .insert_header((REQUEST_ID_HEADER, "req-blocking-42"))
            .to_request();
        let response = actix_test::call_service(&app, request).await;
        assert_eq!(response.status(), 200);
        let text = String::from_utf8(captured.0.lock().expect("buffer").clone()).expect("utf-8");
        let line = text
            .lines()
            .find(|line| line.contains("inside blocking work"))
            .unwrap_or_else(|| panic!("no line from the blocking work in:\n{text}"));
        assert!(line.contains(r#""request_id":"req-blocking-42""#), "{line}");
    }
}
