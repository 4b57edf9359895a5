//! `switchboard-stand-in`: the provider stand-in of the tests as a program, for
//! walk-throughs and browser tests that point a real server's `[verify]` base URLs
//! at it.
//!
//! ```sh
//! switchboard-stand-in --port 18090 \
//!     --accept twilio:AC00000000000000000000000000000001:00000000000000000000000000000abc \
//!     --numbers AC00000000000000000000000000000001:+14155550101,+14155550102,+14155550103
//! SWITCHBOARD__VERIFY__TWILIO_BASE_URL=http://127.0.0.1:18090 switchboard
//! ```
//!
//! It prints `listening on http://HOST:PORT` once it serves, and stops on SIGINT or
//! SIGTERM.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use switchboard_test_support::stand_in::{Rule, StandInConfig, serve_until_stopped};

/// A stand-in of the Twilio, Plivo, Vonage and Telnyx APIs that Switchboard's
/// credential verification calls.
#[derive(Debug, Parser)]
#[command(name = "switchboard-stand-in", version)]
struct Arguments {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0: a free one, printed at start).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// A credential to accept, as provider:id:secret (twilio:SID:TOKEN,
    /// plivo:AUTH_ID:TOKEN, vonage:KEY:SECRET, telnyx:ACCOUNT:KEY). Repeatable.
    #[arg(long = "accept", value_name = "PROVIDER:ID:SECRET")]
    accepted: Vec<String>,
    /// Answer every request with this status (401, 500, ...) instead of checking
    /// credentials.
    #[arg(long, value_name = "STATUS")]
    fail: Option<u16>,
    /// Wait this long before every answer.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    delay_ms: u64,
    /// The phone numbers of an account for the number listings, as
    /// ID:NUMBER,NUMBER,... (served two a page). Repeatable.
    #[arg(long = "numbers", value_name = "ID:NUMBERS")]
    numbers: Vec<String>,
}

#[actix_web::main]
async fn main() -> ExitCode {
    let arguments = Arguments::parse();
    let mut config = StandInConfig::new().otherwise(Rule {
        delay: Duration::from_millis(arguments.delay_ms),
        status: arguments.fail,
    });
    for spec in &arguments.accepted {
        config = match config.accept_spec(spec) {
            Ok(config) => config,
            Err(message) => {
                eprintln!("switchboard-stand-in: {message}");
                return ExitCode::from(2);
            }
        };
    }
    for spec in &arguments.numbers {
        let Some((id, list)) = spec.split_once(':').filter(|(id, _)| !id.is_empty()) else {
            eprintln!("switchboard-stand-in: an account's numbers are written ID:NUMBER,NUMBER");
            return ExitCode::from(2);
        };
        let numbers: Vec<&str> = list.split(',').filter(|n| !n.is_empty()).collect();
        config = config.numbers(id, &numbers);
    }
    let host = arguments.host.clone();
    let served = serve_until_stopped(config, &arguments.host, arguments.port, |port| {
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "listening on http://{host}:{port}");
        let _ = stdout.flush();
    })
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("switchboard-stand-in: {error}");
            ExitCode::FAILURE
        }
    }
}
