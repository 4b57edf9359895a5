//! One capture of the log lines of this test binary, at trace level, for the modules
//! that check that no secret reaches a log line (`secrets`, `verify`). A process has
//! one global subscriber: every module that needs the lines shares this one. Lines
//! go through the server's own log layer and filter (as `SWITCHBOARD__LOG__LEVEL=trace`
//! sets them up), so the cap on the transport crates' wire-level targets is tested too.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use switchboard_server::settings::{LogFormat, LogSettings};
use switchboard_server::telemetry;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Every log line of this test binary, at trace level, as JSON lines.
pub fn log_buffer() -> Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER
        .get_or_init(|| {
            let buffer = Arc::new(Mutex::new(Vec::new()));
            let writer = BufferWriter(buffer.clone());
            let settings = LogSettings {
                level: "trace".to_owned(),
                format: LogFormat::Json,
            };
            tracing_subscriber::registry()
                .with(telemetry::log_layer(&settings, None, move || {
                    writer.clone()
                }))
                .init();
            buffer
        })
        .clone()
}

#[derive(Clone)]
struct BufferWriter(Arc<Mutex<Vec<u8>>>);

impl Write for BufferWriter {
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
