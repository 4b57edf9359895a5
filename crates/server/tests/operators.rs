//! What an operator meets in the `switchboard` binary's logs, metrics and CORS
//! (issue 18), against the real binary with its standard error piped (no terminal):
//!
//! - log lines carry no colour codes, durations are milliseconds with at most 3
//!   decimals, every 4xx/5xx line names the error `code`, and health probes are not
//!   logged at info;
//! - every metric has `# HELP`, `process_*` metrics and `switchboard_build_info` are
//!   served, and with `metrics.address` set `/metrics` moves to a listener of its own
//!   (the API port answers 404);
//! - CORS is off by default (no header, a preflight is not answered) and, with
//!   `cors.allowed_origins`, a preflight from a listed origin is answered and other
//!   origins get no `Access-Control-Allow-Origin`.

#![expect(
    clippy::expect_used,
    reason = "test helpers: a failed step is a test failure"
)]

use std::path::Path;
use std::time::Duration;

use switchboard_server::startup;
use switchboard_test_support::process::{ServerProcess, TEST_KEY, free_port, server_command};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");
const ORIGIN: &str = "https://console.example.com";

/// A migrated SQLite database in `dir`; its URL.
fn migrated(dir: &Path) -> String {
    let url = format!("sqlite://{}", dir.join("operators.db").display());
    let settings = switchboard_test_support::test_settings(&url, dir.to_path_buf());
    switchboard_persistence::Database::connect(
        &startup::database_settings(&settings).expect("database settings"),
    )
    .expect("database opens")
    .run_pending_migrations()
    .expect("migrations apply");
    url
}

/// The production binary on a migrated database, readable log lines, `extra`
/// settings; started and ready.
struct Running {
    server: ServerProcess,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Running {
    fn start(extra: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = migrated(dir.path());
        let port = free_port();
        let mut command = server_command(BINARY, dir.path(), "production", port);
        command
            .env("SWITCHBOARD__DATABASE__URL", &url)
            .env("SWITCHBOARD__LOG__FORMAT", "pretty")
            .env("SWITCHBOARD__LOG__LEVEL", "info");
        for (name, value) in extra {
            command.env(name, value);
        }
        Self {
            server: ServerProcess::start(&mut command, port, Duration::from_secs(60)),
            port,
            _dir: dir,
        }
    }

    /// One request; the status, the headers and the body.
    fn request(
        &self,
        method: &str,
        port: u16,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let mut request = reqwest::Client::new()
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                    format!("http://127.0.0.1:{port}{path}"),
                )
                .timeout(Duration::from_secs(10));
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let Ok(response) = request.send().await else {
                return (0, reqwest::header::HeaderMap::new(), String::new());
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            (status, headers, response.text().await.unwrap_or_default())
        })
    }

    fn get(&self, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
        self.request("GET", self.port, path, &[])
    }

    /// Stops the server; its standard error lines.
    fn stop(mut self) -> Vec<String> {
        self.server.stop();
        self.server.stderr_lines()
    }
}

#[test]
fn log_lines_are_plain_with_codes_and_millisecond_durations() {
    let running = Running::start(&[]);
    for _ in 0..3 {
        assert_eq!(running.get("/health/ready").0, 200);
        assert_eq!(running.get("/health/live").0, 200);
    }
    // 401 without a token, 404 for an unknown path.
    assert_eq!(running.get("/api/v2/platform/organizations/").0, 401);
    assert_eq!(running.get("/api/v2/platform/nowhere/").0, 404);
    assert_eq!(running.get("/api/v2/platform/openapi.json").0, 200);
    let lines = running.stop();
    let text = lines.join("\n");
    assert!(!text.contains('\u{1b}'), "colour codes in a pipe: {text:?}");
    let completed: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("request completed"))
        .collect();
    assert!(completed.len() >= 3, "{text}");
    for line in &completed {
        assert!(
            !line.contains("/health/"),
            "health probes are logged at debug: {line}"
        );
        let latency = line
            .split("latency_ms=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .expect("latency_ms");
        let decimals = latency.split('.').nth(1).map_or(0, str::len);
        assert!(decimals <= 3, "fixed precision: {line}");
        latency.parse::<f64>().expect("a number");
        let status: u16 = line
            .split("status=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|status| status.parse().ok())
            .expect("status");
        if status >= 400 {
            assert!(
                line.contains("code="),
                "4xx/5xx lines name the code: {line}"
            );
        } else {
            assert!(!line.contains("code="), "{line}");
        }
    }
    assert!(
        completed
            .iter()
            .any(|line| line.contains("code=not_authenticated")),
        "{text}"
    );
    assert!(
        completed.iter().any(|line| line.contains("code=not_found")),
        "{text}"
    );
}

/// `# HELP` and `# TYPE` for every metric family in a Prometheus text.
fn families_without_help(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|name| !text.contains(&format!("# HELP {name} ")))
        .map(str::to_owned)
        .collect()
}

#[test]
fn metrics_have_help_process_and_build_info_and_can_move_off_the_api_port() {
    let running = Running::start(&[]);
    assert_eq!(running.get("/api/v2/platform/organizations/").0, 401);
    let (status, _, text) = running.get("/metrics");
    running.stop();
    assert_eq!(status, 200);
    assert!(
        families_without_help(&text).is_empty(),
        "{:?}",
        families_without_help(&text)
    );
    for needed in [
        "# HELP http_requests_total ",
        "# HELP http_request_duration_seconds ",
        "rate_limited_total{kind=\"token\"} 0",
        "process_cpu_seconds_total ",
        "process_resident_memory_bytes ",
        "process_open_fds ",
        "process_max_fds ",
        "process_start_time_seconds ",
        "# TYPE process_cpu_seconds_total counter",
        // Counters with known labels have a series (at 0) before their first event.
        "switchboard_credential_uses_total{kind=\"reveal\"} 0",
        "switchboard_credential_uses_total{kind=\"import\"} 0",
        "switchboard_webhook_deliveries_total{outcome=\"dead\"} 0",
        "switchboard_rotation_previous_erased_total 0",
        "switchboard_rotation_sweep_errors_total 0",
        &format!(
            "switchboard_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        ),
    ] {
        assert!(text.contains(needed), "{needed}: {text}");
    }

    // A shared limit store's failures are counted from 0 (here a Redis on a loopback
    // port where nothing listens: the store fails open, and the server starts).
    let running = Running::start(&[
        ("SWITCHBOARD__RATE_LIMIT__STORE", "redis".to_owned()),
        (
            "SWITCHBOARD__REDIS__URL",
            format!("redis://127.0.0.1:{}/0", free_port()),
        ),
    ]);
    let (status, _, text) = running.get("/metrics");
    running.stop();
    assert_eq!(status, 200);
    assert!(
        text.contains("switchboard_rate_limit_store_errors_total{store=\"redis\"} 0"),
        "{text}"
    );
    assert!(
        families_without_help(&text).is_empty(),
        "{:?}",
        families_without_help(&text)
    );

    // On an address of its own: served there, 404 on the API port.
    let metrics_port = free_port();
    let running = Running::start(&[(
        "SWITCHBOARD__METRICS__ADDRESS",
        format!("127.0.0.1:{metrics_port}"),
    )]);
    assert_eq!(running.get("/metrics").0, 404);
    let (status, _, text) = running.request("GET", metrics_port, "/metrics", &[]);
    assert_eq!(status, 200);
    assert!(text.contains("switchboard_build_info"), "{text}");
    assert!(families_without_help(&text).is_empty());
    // Nothing else is served there.
    assert_eq!(
        running
            .request("GET", metrics_port, "/api/v2/platform/organizations/", &[])
            .0,
        404
    );
    running.stop();
}

#[test]
fn cors_is_off_by_default_and_answers_preflights_for_listed_origins() {
    let preflight = [
        ("Origin", ORIGIN),
        ("Access-Control-Request-Method", "POST"),
        (
            "Access-Control-Request-Headers",
            "authorization,content-type,org-handle,idempotency-key",
        ),
    ];
    let path = "/api/v2/platform/telephony/providers-configurations/";

    // Off: no CORS header anywhere, and the preflight is not answered as one.
    let running = Running::start(&[]);
    let (status, headers, _) = running.request("OPTIONS", running.port, path, &preflight);
    assert_ne!(status, 200);
    assert!(headers.get("access-control-allow-origin").is_none());
    let (_, headers, _) = running.request("GET", running.port, path, &[("Origin", ORIGIN)]);
    assert!(headers.get("access-control-allow-origin").is_none());
    running.stop();

    // On for one origin.
    let running = Running::start(&[
        ("SWITCHBOARD__CORS__ALLOWED_ORIGINS", ORIGIN.to_owned()),
        ("SWITCHBOARD__CORS__MAX_AGE_S", "120".to_owned()),
    ]);
    let (status, headers, _) = running.request("OPTIONS", running.port, path, &preflight);
    assert_eq!(status, 200, "{headers:?}");
    assert_eq!(
        headers
            .get("access-control-allow-origin")
            .and_then(|value| value.to_str().ok()),
        Some(ORIGIN)
    );
    let allowed_methods = headers
        .get("access-control-allow-methods")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(allowed_methods.contains("PATCH"), "{allowed_methods}");
    let allowed_headers = headers
        .get("access-control-allow-headers")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    for header in ["authorization", "org-handle", "idempotency-key"] {
        assert!(allowed_headers.contains(header), "{allowed_headers}");
    }
    assert_eq!(
        headers
            .get("access-control-max-age")
            .and_then(|value| value.to_str().ok()),
        Some("120")
    );
    // An actual request from the origin: the answer (here 401) is readable by it,
    // with the headers a client needs exposed.
    let (status, headers, _) = running.request("GET", running.port, path, &[("Origin", ORIGIN)]);
    assert_eq!(status, 401);
    assert_eq!(
        headers
            .get("access-control-allow-origin")
            .and_then(|value| value.to_str().ok()),
        Some(ORIGIN)
    );
    let exposed = headers
        .get("access-control-expose-headers")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("etag"),
        "{exposed}"
    );
    // Another origin gets no permission.
    let (_, headers, _) = running.request(
        "OPTIONS",
        running.port,
        path,
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
    );
    assert!(headers.get("access-control-allow-origin").is_none());
    running.stop();
}

#[test]
fn a_malformed_origin_stops_the_start_without_echoing_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = migrated(dir.path());
    let output = server_command(BINARY, dir.path(), "production", free_port())
        .env("SWITCHBOARD__DATABASE__URL", &url)
        .env(
            "SWITCHBOARD__CORS__ALLOWED_ORIGINS",
            format!("{ORIGIN},{TEST_KEY}"),
        )
        .arg("--check")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("cors.allowed_origins") && stderr.contains("entry 2"),
        "{stderr}"
    );
    assert!(!stderr.contains(TEST_KEY), "{stderr}");
}
