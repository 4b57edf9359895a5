//! `switchboard-admin`: operator commands over the same configuration and wiring as
//! the server: migrations, organizations, users, memberships, tokens, service
//! accounts, keys, webhook redelivery, the rotation sweep and the idempotency purge.
//! This file holds the command line and its dispatch; each group of commands has a
//! module (`people`, `service_accounts`, `keys`, `operations`), and `session` what
//! they share.
//!
//! Output is plain text for people and scripts (tab-separated tables); `--json`
//! prints JSON instead, on standard output only. `token create` prints the new token
//! alone on the last line. A banner naming the profile, the settings files and the
//! database goes to standard error, as do errors (one line, non-zero exit).
//!
//! Only `migrate` creates a SQLite database that does not exist; every other command
//! refuses and names the file it looked for, so running in the wrong folder never
//! starts a second installation.

mod keys;
mod operations;
mod people;
mod service_accounts;
mod session;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use switchboard_server::settings::LoadOptions;

use crate::keys::{KeysCommand, keys};
use crate::operations::{
    IdempotencyCommand, RotationCommand, WebhooksCommand, idempotency, migrate, rotation, webhooks,
};
use crate::people::{
    MemberCommand, OrgCommand, TokenCommand, UserCommand, member, org, token, user,
};
use crate::service_accounts::{ServiceAccountCommand, service_account};
use crate::session::Session;

#[derive(Debug, Parser)]
#[command(
    name = "switchboard-admin",
    version,
    about = "Operate a Switchboard installation.",
    after_help = "Reads the same settings as the server: the built-in default.toml and \
<profile>.toml, the same files in --config-dir (or SWITCHBOARD_CONFIG_DIR), in development \
<data_dir>/dev-keys.toml, then SWITCHBOARD__SECTION__KEY environment variables. Relative paths \
(data_dir, sqlite://...) are relative to the current folder; the banner on standard error \
names the profile, the settings files and the database used. Only `migrate` creates a \
missing SQLite database."
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
    /// Print the result as one JSON document on standard output instead of text
    /// (every command but `keys generate`, which prints the key alone, and `keys
    /// rewrap`, which reports its progress as text).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending database migrations (PostgreSQL: under an advisory lock). A
    /// missing SQLite database is created (and said so); PostgreSQL databases must
    /// exist.
    Migrate {
        /// Only list applied and pending migrations (creates nothing).
        #[arg(long)]
        status: bool,
    },
    /// Manage organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage memberships.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage encryption keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage idempotency keys.
    #[command(subcommand)]
    Idempotency(IdempotencyCommand),
    /// Manage service accounts (members that are machines and never log in).
    #[command(subcommand)]
    ServiceAccount(ServiceAccountCommand),
    /// Webhook deliveries: recovery after an outage, queue status.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Staged rotation of provider credentials.
    #[command(subcommand)]
    Rotation(RotationCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let session = Session {
        options: LoadOptions {
            config_dir: cli.config_dir,
            // The admin binary never writes development keys: the server does.
            generate_dev_keys: false,
        },
        json: cli.json,
    };
    match run(&session, cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let causes: Vec<String> = error.chain().map(ToString::to_string).collect();
            eprintln!("switchboard-admin: {}", dedup_causes(&causes));
            ExitCode::FAILURE
        }
    }
}

/// An error chain on one line, without causes that the line already says (thiserror
/// messages often embed their source, so `a: b: b` would repeat itself).
fn dedup_causes(causes: &[String]) -> String {
    let mut line = String::new();
    for cause in causes {
        if line.contains(cause.as_str()) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(cause);
    }
    line
}

fn run(session: &Session, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Migrate { status } => migrate(session, status),
        Command::Org(command) => org(session, command),
        Command::User(command) => user(session, command),
        Command::Member(command) => member(session, command),
        Command::Token(command) => token(session, command),
        Command::Keys(command) => keys(session, command),
        Command::Idempotency(command) => idempotency(session, command),
        Command::ServiceAccount(command) => service_account(session, command),
        Command::Webhooks(command) => webhooks(session, command),
        Command::Rotation(command) => rotation(session, command),
    }
}
