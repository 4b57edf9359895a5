//! Structured logging with `tracing`: readable lines in development, JSON lines in
//! production, on standard error (standard output is kept for the development
//! profile's one-time first-token line). `RUST_LOG`, when set, overrides the level.
//!
//! Whatever the level or `RUST_LOG` say, the targets of the transport crates that
//! can write wire bytes are capped ([`WIRE_LEVEL_CAPS`]): at `trace`, the HTTP client
//! that verification uses hex-dumps every request it sends, `Authorization` header
//! included, so that cap is what keeps provider credentials out of the log. The caps
//! are a second filter that every event must also pass, so no directive of the
//! operator's, however specific (`ureq_proto::util=trace`), can lift them.

use tracing::Subscriber;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::combinator::And;
use tracing_subscriber::filter::{FilterExt, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

use crate::settings::{LogFormat, LogSettings};

/// The most each transport crate may log, whatever the configured level: those that
/// print the bytes they send or receive, or handshake contents, at their lower
/// levels.
pub const WIRE_LEVEL_CAPS: &[(&str, LevelFilter)] = &[
    // ureq-proto's trace level is a hex dump of every request and response, headers
    // (Authorization) and bodies included; it logs nothing else worth keeping.
    ("ureq_proto", LevelFilter::OFF),
    // ureq's debug lines show the method, the URL and headers with their values
    // redacted; its trace level is transport detail.
    ("ureq", LevelFilter::DEBUG),
    // TLS handshake messages (certificates, session tickets) at debug and trace.
    ("rustls", LevelFilter::INFO),
    ("webpki", LevelFilter::INFO),
    // Not linked into the server today; capped so that a new dependency on them
    // cannot reopen the hole (their trace levels show frames and headers).
    ("h2", LevelFilter::INFO),
    ("hyper", LevelFilter::INFO),
    ("hyper_util", LevelFilter::INFO),
    ("reqwest", LevelFilter::INFO),
];

/// The filter of every log line: the operator's (`rust_log` when given, else
/// `level`, else `info`), and the wire-level caps on top of it.
pub fn log_filter<S>(level: &str, rust_log: Option<&str>) -> And<EnvFilter, Targets, S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let operator = rust_log
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .or_else(|| EnvFilter::try_new(level).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let caps = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(WIRE_LEVEL_CAPS.iter().copied());
    operator.and(caps)
}

/// The layer that writes log lines in `log.format` to `writer`, filtered by
/// [`log_filter`] (`rust_log` standing for the `RUST_LOG` variable), without colour
/// codes (a buffer or a file is no terminal).
pub fn log_layer<S, W>(
    log: &LogSettings,
    rust_log: Option<&str>,
    writer: W,
) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    colored_log_layer(log, rust_log, writer, false)
}

/// Whether readable lines on standard error get colour codes: only on a terminal,
/// and never when `NO_COLOR` is set (<https://no-color.org>).
#[must_use]
pub fn stderr_wants_color() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// [`log_layer`], with colour codes in readable lines when `ansi` is true.
pub fn colored_log_layer<S, W>(
    log: &LogSettings,
    rust_log: Option<&str>,
    writer: W,
    ansi: bool,
) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let filter = log_filter(&log.level, rust_log);
    match log.format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_ansi(ansi)
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
    }
}

/// Installs the global subscriber (standard error); a second call is a no-op.
pub fn init_tracing(log: &LogSettings) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let layer = colored_log_layer(
        log,
        rust_log.as_deref(),
        std::io::stderr,
        stderr_wants_color(),
    );
    // Err means a subscriber is already installed (tests); keep that one.
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
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

    impl Buffer {
        fn text(&self) -> String {
            self.0
                .lock()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
                .unwrap_or_default()
        }
    }

    /// What a subscriber built like the server's writes for a few events.
    fn logged(level: &str, rust_log: Option<&str>, format: LogFormat) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let settings = LogSettings {
            level: level.to_owned(),
            format,
        };
        let subscriber =
            tracing_subscriber::registry()
                .with(log_layer(&settings, rust_log, move || writer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "ureq_proto::util", "4745 5420 2f20 4854 GET / HT");
            tracing::debug!(target: "ureq_proto::client", "request with headers");
            tracing::trace!(target: "ureq::unversioned::transport", "ureq transport trace");
            tracing::debug!(target: "ureq::run", "ureq debug line");
            tracing::debug!(target: "rustls::client", "Sending ClientHello");
            tracing::trace!(target: "switchboard_http", "application trace line");
        });
        buffer.text()
    }

    #[test]
    fn wire_dumps_stay_out_at_every_level_and_under_rust_log() {
        for (level, rust_log) in [
            ("trace", None),
            ("info", Some("trace")),
            (
                "info",
                Some("ureq_proto=trace,ureq=trace,rustls=trace,trace"),
            ),
            (
                "info",
                Some("ureq_proto::util=trace,ureq::unversioned=trace,trace"),
            ),
            ("ureq_proto::util=trace,trace", None),
        ] {
            for format in [LogFormat::Pretty, LogFormat::Json] {
                let text = logged(level, rust_log, format);
                assert!(
                    text.contains("application trace line"),
                    "{level} {rust_log:?}: the filter lets trace through: {text}"
                );
                assert!(text.contains("ureq debug line"), "{text}");
                for hidden in [
                    "4745 5420",
                    "request with headers",
                    "ureq transport trace",
                    "Sending ClientHello",
                ] {
                    assert!(
                        !text.contains(hidden),
                        "{level} {rust_log:?}: {hidden:?} was logged: {text}"
                    );
                }
            }
        }
    }

    #[test]
    fn lines_into_a_buffer_carry_no_colour_codes() {
        for format in [LogFormat::Pretty, LogFormat::Json] {
            let text = logged("trace", None, format);
            assert!(text.contains("application trace line"), "{text}");
            assert!(!text.contains('\u{1b}'), "{format:?}: {text:?}");
        }
    }

    #[test]
    fn the_operator_level_still_applies() {
        let text = logged("info", None, LogFormat::Pretty);
        assert!(!text.contains("application trace line"), "{text}");
        let text = logged("info", Some("switchboard_http=trace"), LogFormat::Pretty);
        assert!(text.contains("application trace line"), "{text}");
        // An unparsable RUST_LOG falls back to the configured level.
        let text = logged("trace", Some("[[["), LogFormat::Pretty);
        assert!(text.contains("application trace line"), "{text}");
    }
}
