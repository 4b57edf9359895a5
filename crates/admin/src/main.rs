//! `switchboard-admin`: operator commands over the same configuration and wiring as
//! the server: migrations, organizations, users, memberships, tokens, keys and
//! webhook redelivery.
//!
//! Output is plain text for people and scripts; `token create` prints the new token
//! alone on the last line. Errors exit non-zero with one line on standard error.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use switchboard_application::key_rotation::UnreadableCredential;
use switchboard_domain::identity::{Role, TokenId};
use switchboard_server::settings::Loaded;
use switchboard_server::startup::{database_settings, services};
use switchboard_server::{Profile, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "switchboard-admin",
    version,
    about = "Operate a Switchboard installation."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending database migrations (PostgreSQL: under an advisory lock).
    Migrate {
        /// Only list applied and pending migrations.
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
    /// Webhook deliveries.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
}

#[derive(Debug, Subcommand)]
enum WebhooksCommand {
    /// Make failed and dead deliveries created since a time due again now (recovery
    /// after a receiver's outage); the server's workers send them. An endpoint
    /// disabled by a 410 stays disabled until it is enabled again (PATCH).
    Redeliver {
        /// RFC 3339 time, for example 2026-12-06T08:00:00Z.
        #[arg(long)]
        since: String,
        /// Send the succeeded deliveries of that period again too.
        #[arg(long)]
        include_succeeded: bool,
    },
    /// Queue depth and the age of the oldest waiting delivery.
    Status,
}

#[derive(Debug, Subcommand)]
enum IdempotencyCommand {
    /// Delete the idempotency keys (and stored answers) older than 24 hours.
    Purge,
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create an organization.
    Create {
        #[arg(long)]
        name: String,
        /// Lowercase letters, digits and hyphens, 3 to 63 characters.
        #[arg(long)]
        handle: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from one line of standard input.
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (required; never from arguments).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum MemberCommand {
    /// Add a user to an organization (or change the user's role).
    Add {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        /// owner, admin, member or viewer.
        #[arg(long)]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Issue a token; it is printed once, alone on the last line.
    Create(TokenCreateArgs),
    /// List a user's tokens (never their secrets).
    List {
        #[arg(long)]
        email: String,
    },
    /// Revoke a token: it fails on its next request.
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Args)]
struct TokenCreateArgs {
    #[arg(long)]
    email: String,
    #[arg(long)]
    name: String,
    #[arg(long)]
    expires_in_days: Option<u32>,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Print a fresh random 256-bit key in standard base64 (needs no configuration).
    Generate,
    /// Re-encrypt every stored secret under the primary key, in batches, while the
    /// server keeps serving. Resumable: running it again finishes the job. Secrets
    /// that do not open are skipped and listed (id, organization, reason), every
    /// other one is moved, and the exit status is non-zero when any was skipped.
    Rewrap {
        /// Credentials per batch.
        #[arg(long, default_value_t = 100)]
        batch_size: u32,
        /// Pause between batches, to spread the load on a busy database.
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
    },
    /// How many stored secrets each key id protects (an old key can be removed when
    /// it protects none), and how many do not open.
    Status,
    /// Open every stored secret and list those that do not open (id, organization,
    /// reason); the exit status is non-zero when any does not.
    Check {
        /// Credentials read per batch.
        #[arg(long, default_value_t = 500)]
        batch_size: u32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let causes: Vec<String> = error.chain().map(ToString::to_string).collect();
            eprintln!("switchboard-admin: {}", causes.join(": "));
            ExitCode::FAILURE
        }
    }
}

fn load() -> anyhow::Result<Loaded> {
    let profile = Profile::from_env()?;
    Ok(Settings::load(profile)?)
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Keys(KeysCommand::Generate) => {
            println!(
                "{}",
                switchboard_crypto::generate_key_base64().expose_secret()
            );
            Ok(())
        }
        Command::Migrate { status } => migrate(status),
        Command::Keys(KeysCommand::Rewrap {
            batch_size,
            pause_ms,
        }) => rewrap(batch_size, pause_ms),
        Command::Keys(KeysCommand::Status) => key_status(),
        Command::Keys(KeysCommand::Check { batch_size }) => key_check(batch_size),
        Command::Org(OrgCommand::Create { name, handle }) => {
            let services = services(&load()?)?;
            let organization = services.identity.create_organization(&name, &handle)?;
            println!(
                "created organization {} (id {}, handle {})",
                organization.name, organization.id.0, organization.domain_handle
            );
            Ok(())
        }
        Command::User(UserCommand::Create { email, .. }) => {
            let password = read_password()?;
            let services = services(&load()?)?;
            let user = services.identity.create_user(&email, &password)?;
            println!(
                "created user {} (id {})",
                email.trim().to_lowercase(),
                user.0
            );
            Ok(())
        }
        Command::Member(MemberCommand::Add { org, email, role }) => {
            let role: Role = role
                .parse()
                .map_err(|()| anyhow!("role must be owner, admin, member or viewer"))?;
            let services = services(&load()?)?;
            services.identity.add_member(&org, &email, role)?;
            println!("{} is now {} of {}", email.trim().to_lowercase(), role, org);
            Ok(())
        }
        Command::Token(TokenCommand::Create(args)) => {
            let services = services(&load()?)?;
            let issued =
                services
                    .identity
                    .issue_token(&args.email, &args.name, args.expires_in_days)?;
            let expires = issued
                .record
                .expires_at
                .map_or_else(|| "never".to_owned(), |at| at.to_rfc3339());
            println!(
                "token {} ({}) for {}, expires {}; shown once:",
                issued.record.id.0, issued.record.name, args.email, expires
            );
            println!("{}", issued.token.expose());
            Ok(())
        }
        Command::Token(TokenCommand::List { email }) => {
            let services = services(&load()?)?;
            let tokens = services.identity.list_tokens(&email)?;
            println!("id\tname\tprefix\tcreated_at\tlast_used_at\texpires_at\trevoked_at");
            let show = |at: Option<chrono::DateTime<chrono::Utc>>| {
                at.map_or_else(|| "-".to_owned(), |at| at.to_rfc3339())
            };
            for token in tokens {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    token.id.0,
                    token.name,
                    token.prefix,
                    token.created_at.to_rfc3339(),
                    show(token.last_used_at),
                    show(token.expires_at),
                    show(token.revoked_at)
                );
            }
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            let services = services(&load()?)?;
            services.identity.revoke_token(TokenId(id))?;
            println!("revoked token {id}");
            Ok(())
        }
        Command::Webhooks(WebhooksCommand::Redeliver {
            since,
            include_succeeded,
        }) => {
            let since = chrono::DateTime::parse_from_rfc3339(since.trim())
                .map_err(|_| {
                    anyhow!("--since must be an RFC 3339 time such as 2026-12-06T08:00:00Z")
                })?
                .with_timezone(&chrono::Utc);
            let services = services(&load()?)?;
            let count = services
                .webhooks
                .redeliver_since(since, include_succeeded)?;
            println!(
                "{count} delivery(ies) due again since {}",
                since.to_rfc3339()
            );
            Ok(())
        }
        Command::Webhooks(WebhooksCommand::Status) => {
            let services = services(&load()?)?;
            let stats = services.webhooks.queue_stats()?;
            println!(
                "waiting deliveries: {}; oldest waiting: {} s",
                stats.depth, stats.oldest_pending_age_s
            );
            Ok(())
        }
        Command::Idempotency(IdempotencyCommand::Purge) => {
            let services = services(&load()?)?;
            let purged = services.idempotency.purge_expired()?;
            println!("purged {purged} expired idempotency key(s)");
            Ok(())
        }
    }
}

fn migrate(status_only: bool) -> anyhow::Result<()> {
    let loaded = load()?;
    let database =
        switchboard_persistence::Database::connect(&database_settings(&loaded.settings)?)
            .context("cannot open the database")?;
    if status_only {
        for name in database.applied_migrations()? {
            println!("applied\t{name}");
        }
        for name in database.pending_migrations()? {
            println!("pending\t{name}");
        }
        return Ok(());
    }
    let applied = database.run_pending_migrations()?;
    for name in &applied {
        println!("applied\t{name}");
    }
    println!(
        "{} migration(s) applied; database is current",
        applied.len()
    );
    Ok(())
}

fn rewrap(batch_size: u32, pause_ms: u64) -> anyhow::Result<()> {
    let services = services(&load()?)?;
    let rotation = &services.key_rotation;
    println!(
        "re-encrypting under key {} in batches of {batch_size}",
        rotation.primary_key_id()
    );
    let report = rotation.rewrap_all(batch_size, |report| {
        println!(
            "batch done: examined {}, re-encrypted {}, changed meanwhile {}, failed {}",
            report.examined,
            report.rewrapped,
            report.changed_meanwhile,
            report.failed.len()
        );
        if pause_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(pause_ms));
        }
    })?;
    println!(
        "done: examined {}, re-encrypted {}, changed meanwhile {}, failed {}",
        report.examined,
        report.rewrapped,
        report.changed_meanwhile,
        report.failed.len()
    );
    if report.failed.is_empty() {
        return Ok(());
    }
    println!("skipped (left as they are):");
    print_unreadable(&report.failed);
    Err(anyhow!(
        "{} credential(s) could not be opened and were skipped (listed above); every other \
         credential was re-encrypted. Repair them as docs/operations.md describes.",
        report.failed.len()
    ))
}

/// `configuration  organization  reason` lines, tab-separated.
fn print_unreadable(rows: &[UnreadableCredential]) {
    println!("configuration\torganization\treason");
    for row in rows {
        println!("{}\t{}\t{}", row.id.0, row.org_id.0, row.reason);
    }
}

fn key_check(batch_size: u32) -> anyhow::Result<()> {
    let services = services(&load()?)?;
    let report = services.key_rotation.check_all(batch_size, |_| {})?;
    if report.unreadable.is_empty() {
        println!("checked {} stored credential(s): all open", report.examined);
        return Ok(());
    }
    println!(
        "checked {} stored credential(s): {} cannot be opened",
        report.examined,
        report.unreadable.len()
    );
    print_unreadable(&report.unreadable);
    Err(anyhow!(
        "{} stored credential(s) cannot be opened (listed above): send every secret again \
         with a PATCH, or delete the configuration (docs/operations.md)",
        report.unreadable.len()
    ))
}

fn key_status() -> anyhow::Result<()> {
    let loaded = load()?;
    let keyring = switchboard_server::startup::keyring(&loaded.settings)?;
    let services = services(&loaded)?;
    let configured = keyring.key_ids();
    let primary = services.key_rotation.primary_key_id();
    let usage = services.key_rotation.status()?;
    println!("key_id\tsecrets\tstate");
    let mut ids: Vec<_> = configured.clone();
    ids.extend(usage.iter().map(|(id, _)| *id));
    ids.sort();
    ids.dedup();
    for id in ids {
        let count = usage
            .iter()
            .find(|(key, _)| *key == id)
            .map_or(0, |(_, count)| *count);
        let state = if id == primary {
            "primary"
        } else if configured.contains(&id) {
            if count == 0 {
                "configured, unused: can be removed"
            } else {
                "configured"
            }
        } else {
            "NOT CONFIGURED: these secrets cannot be read"
        };
        println!("{id}\t{count}\t{state}");
    }
    // The counts above come from the key id recorded beside each blob; opening
    // every blob also finds corrupt ones and ones swapped under a configured key.
    let report = services.key_rotation.check_all(500, |_| {})?;
    println!();
    if report.unreadable.is_empty() {
        println!("all {} stored secret(s) open", report.examined);
    } else {
        println!(
            "UNREADABLE: {} of {} stored secret(s) cannot be opened: `switchboard-admin keys check` lists them",
            report.unreadable.len(),
            report.examined
        );
    }
    Ok(())
}

/// One line of standard input, without its line ending.
fn read_password() -> anyhow::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    line.clear();
    Ok(SecretString::from(password))
}
