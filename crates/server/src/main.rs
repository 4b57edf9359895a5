//! `switchboard`: reads its command line, loads the settings, sets up logging, builds
//! and runs the server. `--help` and `--version` answer and exit without loading
//! anything; `--check` checks an installation without binding or writing;
//! `health` asks a running server whether it is ready (the container health check).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use switchboard_server::settings::{LoadOptions, sources};
use switchboard_server::startup::database_for_display;
use switchboard_server::telemetry::init_tracing;
use switchboard_server::{Application, Loaded, Profile, Settings};

/// mimalloc instead of glibc's allocator: per-request allocations cost less (glibc's
/// malloc and free took about 12% of the CPU of a list request), and freed memory
/// goes back to the system instead of staying in a per-thread arena
/// (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Serve the Switchboard API: telephony provider credentials, encrypted at rest.",
    after_help = "Settings, later layers winning: the built-in default.toml and <profile>.toml, \
the same two files in --config-dir (or SWITCHBOARD_CONFIG_DIR), in development \
<data_dir>/dev-keys.toml, then SWITCHBOARD__SECTION__KEY environment variables. The profile \
comes from SWITCHBOARD_PROFILE (development, production, test); without it, development only \
when no database URL is configured. Relative paths (data_dir = \"data\", sqlite://data/...) \
are relative to the current folder. The start banner on standard error names the profile, \
the settings files and the database used."
)]
struct Cli {
    /// Folder whose default.toml and <profile>.toml override the built-in settings.
    #[arg(
        long,
        value_name = "DIR",
        env = "SWITCHBOARD_CONFIG_DIR",
        global = true
    )]
    config_dir: Option<PathBuf>,
    /// Check the installation and exit: load the settings, parse the keys, open the
    /// database, check that no migration is pending and that every key id used by a
    /// stored secret is configured. Exit 0 when all pass, else 1 with the reason.
    /// Binds no port and writes nothing.
    #[arg(long)]
    check: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (what runs when no command is given).
    Serve,
    /// Ask a running server whether it is ready: one HTTP GET of its readiness
    /// route; exit 0 on 200, else 1. Loads no settings and writes nothing (the
    /// container health check).
    Health {
        /// Host the server listens on.
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Port the server listens on.
        #[arg(long, env = "SWITCHBOARD__SERVER__PORT", default_value_t = 8080)]
        port: u16,
        /// Route to ask (`/health/live` checks the process only).
        #[arg(long, default_value = "/health/ready")]
        path: String,
        /// How long to wait for the answer, in milliseconds.
        #[arg(long, default_value_t = 3000)]
        timeout_ms: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Health {
            host,
            port,
            path,
            timeout_ms,
        }) => health(&host, port, &path, timeout_ms),
        Some(Command::Serve) | None => {
            let options = LoadOptions {
                config_dir: cli.config_dir,
                // --check writes nothing, not even development keys.
                generate_dev_keys: !cli.check,
            };
            let loaded = match Profile::from_env_in(options.config_dir.as_deref())
                .and_then(|profile| Settings::load_with(profile, &options))
            {
                Ok(loaded) => loaded,
                Err(error) => {
                    eprintln!("switchboard: {error}");
                    return ExitCode::FAILURE;
                }
            };
            banner(&loaded, &options);
            if cli.check {
                check(&loaded)
            } else {
                serve(&loaded)
            }
        }
    }
}

/// One line on standard error: the profile, the settings files and the database
/// (without its password).
fn banner(loaded: &Loaded, options: &LoadOptions) {
    eprintln!(
        "switchboard {}: profile {}; settings: {}; database: {}",
        env!("CARGO_PKG_VERSION"),
        loaded.profile.as_str(),
        sources(loaded, options.config_dir.as_deref()).join(", "),
        database_for_display(&loaded.settings)
    );
}

fn health(host: &str, port: u16, path: &str, timeout_ms: u64) -> ExitCode {
    match switchboard_server::probe::probe(host, port, path, Duration::from_millis(timeout_ms)) {
        Ok(status_line) => {
            println!("{status_line}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("switchboard health: {error}");
            ExitCode::FAILURE
        }
    }
}

fn check(loaded: &Loaded) -> ExitCode {
    match switchboard_server::check::check(loaded) {
        Ok(lines) => {
            for line in lines {
                println!("ok: {line}");
            }
            println!("check passed");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("switchboard: check failed: {error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(loaded: &Loaded) -> ExitCode {
    init_tracing(&loaded.settings.log);
    for note in &loaded.notes {
        tracing::warn!("{note}");
    }
    // A PostgreSQL connection that may cross a network without a checked certificate.
    if let Some(warning) = switchboard_server::startup::database_settings(&loaded.settings)
        .ok()
        .and_then(|database| database.postgres_transport())
        .and_then(|transport| transport.warning())
    {
        tracing::warn!("{warning}");
    }
    let outcome = actix_web::rt::System::new().block_on(async move {
        let mut app = Application::build(loaded)?;
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
