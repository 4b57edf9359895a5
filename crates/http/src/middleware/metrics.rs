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
//!
//! Every metric is described once at install ([`describe_metrics`]), so each has a
//! `# HELP` line; `switchboard_build_info` carries the version; the `process_*`
//! metrics of the Prometheus client conventions are read from `/proc` at each
//! scrape ([`process_metrics`]); the rate-limit counters start at 0 so that they
//! show before the first rejection.

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
            describe_metrics();
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

/// Names and help texts of the pool gauges (set at each scrape by the metrics route).
pub(crate) const POOL_IN_USE: &str = "db_pool_connections_in_use";
pub(crate) const POOL_IDLE: &str = "db_pool_connections_idle";
pub(crate) const POOL_MAX: &str = "db_pool_max_size";
/// SQLite's group commit (read at each scrape too).
pub(crate) const GROUP_COMMITS: &str = "switchboard_db_group_commits_total";
pub(crate) const GROUP_COMMIT_WRITES: &str = "switchboard_db_group_commit_writes_total";
/// Name of the build information gauge (always 1, labelled with the version).
const BUILD_INFO: &str = "switchboard_build_info";

/// `# HELP` for every metric the service records, the build information, and the
/// rate-limit counters at 0.
fn describe_metrics() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        REQUESTS_TOTAL,
        "HTTP requests answered, by method, route template and status."
    );
    describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "Time from the request's arrival to its answer, by method, route template and status."
    );
    describe_counter!(
        RATE_LIMITED_TOTAL,
        "Requests refused by a rate limit, by kind (token, user, login)."
    );
    describe_gauge!(POOL_IN_USE, "Database connections checked out, by pool.");
    describe_gauge!(POOL_IDLE, "Database connections open and idle, by pool.");
    describe_gauge!(POOL_MAX, "Most connections the pool may open, by pool.");
    describe_counter!(
        GROUP_COMMITS,
        "SQLite: commits of the writer connection (each shared by the write transactions queued together)."
    );
    describe_counter!(
        GROUP_COMMIT_WRITES,
        "SQLite: write transactions committed; divided by the commits, the writes per commit."
    );
    describe_gauge!(
        BUILD_INFO,
        "Always 1; the version of the running switchboard in its label."
    );
    // The webhook delivery worker (crates/server) records these.
    describe_counter!(
        "switchboard_webhook_deliveries_total",
        "Webhook delivery attempts, by outcome."
    );
    describe_gauge!(
        "switchboard_webhook_queue_depth",
        "Webhook deliveries waiting for an attempt."
    );
    describe_gauge!(
        "switchboard_webhook_oldest_pending_age_seconds",
        Unit::Seconds,
        "Age of the oldest webhook delivery waiting for an attempt."
    );
    // The staged-rotation sweeper (crates/server) records these.
    describe_counter!(
        "switchboard_rotation_previous_erased_total",
        "Previous credential versions erased by the sweeper after their overlap ended."
    );
    describe_counter!(
        "switchboard_rotation_sweep_errors_total",
        "Sweeps of expired previous credential versions that failed (retried at the next interval)."
    );
    describe_counter!(
        CREDENTIAL_USES_TOTAL,
        "Uses of stored secrets, by kind (reveal, signature_check, access_token, verify, import)."
    );
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    // Counters with known labels start at 0, so that a rate or an alert on them has
    // a series before the first event.
    for kind in ["token", "user", "login"] {
        metrics::counter!(RATE_LIMITED_TOTAL, "kind" => kind).absolute(0);
    }
    for kind in switchboard_application::credential_use::SecretUse::ALL {
        metrics::counter!(CREDENTIAL_USES_TOTAL, "kind" => kind.as_str()).absolute(0);
    }
    // The server's own counters (webhook deliveries, rotation sweeps) are set to 0
    // by the server, which knows their labels (switchboard_server::startup).
}

/// The `process_*` metrics of the Prometheus client conventions, in the text
/// format, read from `/proc/self` now: CPU seconds, resident and virtual memory,
/// open and maximum file descriptors, threads and start time. Empty where `/proc`
/// cannot be read (not Linux).
#[must_use]
pub fn process_metrics() -> String {
    let mut text = String::new();
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return text;
    };
    // Fields after the command name (which may hold spaces, inside parentheses).
    let Some(fields) = stat
        .rfind(')')
        .map(|end| stat[end + 1..].split_whitespace().collect::<Vec<_>>())
    else {
        return text;
    };
    // fields[0] is field 3 (state) of proc(5).
    let field = |number: usize| {
        fields
            .get(number - 3)
            .and_then(|value| value.parse::<f64>().ok())
    };
    // USER_HZ is 100 on every Linux architecture the service targets.
    const TICKS_PER_SECOND: f64 = 100.0;
    const PAGE_SIZE: f64 = 4096.0;
    let mut metric = |name: &str, kind: &str, help: &str, value: Option<f64>| {
        if let Some(value) = value {
            text.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        }
    };
    metric(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        field(14)
            .zip(field(15))
            .map(|(user, system)| (user + system) / TICKS_PER_SECOND),
    );
    metric(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        field(24).map(|pages| pages * PAGE_SIZE),
    );
    metric(
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
        field(23),
    );
    metric(
        "process_threads",
        "gauge",
        "Number of OS threads in the process.",
        field(20),
    );
    let boot_time = std::fs::read_to_string("/proc/stat").ok().and_then(|stat| {
        stat.lines()
            .find_map(|line| line.strip_prefix("btime "))
            .and_then(|value| value.trim().parse::<f64>().ok())
    });
    metric(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        boot_time
            .zip(field(22))
            .map(|(boot, ticks)| boot + ticks / TICKS_PER_SECOND),
    );
    let open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|entries| entries.count() as f64);
    metric(
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
        open_fds,
    );
    let max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|line| line.starts_with("Max open files"))
                .and_then(|line| line.split_whitespace().nth(3))
                .and_then(|soft| soft.parse::<f64>().ok())
        });
    metric(
        "process_max_fds",
        "gauge",
        "Maximum number of open file descriptors.",
        max_fds,
    );
    text
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

/// Counts one use of a stored secret made by another adapter of the same process
/// (the console's verify), under the same metric as the API's uses.
pub fn count_secret_use(kind: switchboard_application::credential_use::SecretUse) {
    count_credential_use(kind.as_str());
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
