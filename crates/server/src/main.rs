//! `switchboard`: loads the settings, sets up logging, builds and runs the server.

use std::process::ExitCode;

use switchboard_server::telemetry::init_tracing;
use switchboard_server::{Application, Profile, Settings};

/// mimalloc instead of glibc's allocator: per-request allocations cost less (glibc's
/// malloc and free took about 12% of the CPU of a list request), and freed memory
/// goes back to the system instead of staying in a per-thread arena
/// (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let loaded = match Profile::from_env().and_then(Settings::load) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("switchboard: {error}");
            return ExitCode::FAILURE;
        }
    };
    init_tracing(&loaded.settings.log);
    for note in &loaded.notes {
        tracing::warn!("{note}");
    }
    let outcome = actix_web::rt::System::new().block_on(async move {
        let mut app = Application::build(&loaded)?;
        tracing::info!(
            profile = loaded.profile.as_str(),
            host = %loaded.settings.server.host,
            port = app.port(),
            "switchboard listening"
        );
        if let Some(token) = app.take_first_token() {
            // The one secret ever printed: the development profile's first token,
            // on standard output (not through tracing), once.
            println!("first token (shown once): {}", token.expose());
            if let Some(link) = app.take_first_console_link() {
                // The console sign-in link of the same owner: one use, within a day.
                println!(
                    "console sign-in link (one use): http://{}:{}{}",
                    loaded.settings.server.host,
                    app.port(),
                    switchboard_console::sign_in_link_path(link.expose())
                );
            }
            println!(
                "organization: default (Org-Handle: default), owner: owner@localhost, listening on http://{}:{}",
                loaded.settings.server.host,
                app.port()
            );
        }
        app.run_until_stopped()
            .await
            .map_err(|error| switchboard_server::StartupError::Bind {
                address: format!("{}:{}", loaded.settings.server.host, loaded.settings.server.port),
                source: error,
            })
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("switchboard: {error}");
            ExitCode::FAILURE
        }
    }
}
