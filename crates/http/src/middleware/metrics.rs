//! Prometheus metrics: request counts and latency by route template, method and
//! status (this middleware), rate-limit rejections ([`count_rate_limited`]); pool
//! usage is read when `GET /metrics` is served (the operations routes), in the
//! Prometheus text format (no token: put it behind the network boundary).
//!
//! The recorder is process-wide (the `metrics` facade), installed once, with a thread
//! that does the recorder's upkeep every [`UPKEEP_INTERVAL`]: the exporter keeps
//! every latency sample it is given until upkeep (or a scrape) folds it into the
//! histogram, so a server nobody scraped grew by about 12 MiB per million requests
//! (docs/performance.md).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Name of the request counter.
const REQUESTS_TOTAL: &str = "http_requests_total";
/// Name of the latency histogram.
const REQUEST_DURATION: &str = "http_request_duration_seconds";
/// Name of the rate-limit rejection counter.
const RATE_LIMITED_TOTAL: &str = "rate_limited_total";
/// Name of the counter of uses of stored secrets (contract section 11).
const CREDENTIAL_USES_TOTAL: &str = "switchboard_credential_uses_total";

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder's handle, installed on first use.
///
/// # Errors
/// A message when another recorder was installed first.
pub fn prometheus() -> Result<PrometheusHandle, String> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.to_owned()), LATENCY_BUCKETS)
                .map_err(|error| error.to_string())?
                .install_recorder()
                .map_err(|error| error.to_string())?;
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_INTERVAL);
                        upkeep.run_upkeep();
                    }
                })
                .map_err(|error| format!("cannot start the metrics upkeep thread: {error}"))?;
            Ok(handle)
        })
        .clone()
}

/// How often buffered latency samples are folded into their histograms: at 100,000
/// requests a second, at most about a megabyte waits.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Counts a rejection by a rate limit (`kind`: `token`, `user` or `login`).
pub(crate) fn count_rate_limited(kind: &'static str) {
    metrics::counter!(RATE_LIMITED_TOTAL, "kind" => kind).increment(1);
}

/// Counts one use of a stored secret (`kind`: `reveal`, `signature_check`,
/// `access_token`, `verify` or `import`).
pub(crate) fn count_credential_use(kind: &'static str) {
    metrics::counter!(CREDENTIAL_USES_TOTAL, "kind" => kind).increment(1);
}

/// Middleware (with `actix_web::middleware::from_fn`) recording each request.
///
/// # Errors
/// Whatever the inner service returns.
pub async fn track_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let response = next.call(req).await?;
    // Route templates, not raw paths, keep the label set bounded.
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(REQUEST_DURATION, &labels).record(started.elapsed().as_secs_f64());
    Ok(response)
}
