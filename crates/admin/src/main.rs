//! `switchboard-admin`: operator commands over the same configuration and wiring as
//! the server: migrations, organizations, users, memberships, tokens, keys and
//! webhook redelivery.
//!
//! Output is plain text for people and scripts (tab-separated tables); `--json`
//! prints JSON instead, on standard output only. `token create` prints the new token
//! alone on the last line. A banner naming the profile, the settings files and the
//! database goes to standard error, as do errors (one line, non-zero exit).
//!
//! Only `migrate` creates a SQLite database that does not exist; every other command
//! refuses and names the file it looked for, so running in the wrong folder never
//! starts a second installation.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use switchboard_application::key_rotation::{UnreadableCredential, UnreadableWebhookSecret};
use switchboard_domain::identity::{Role, ScopeSet, ServiceAccountId, TokenId};
use switchboard_domain::telephony::{KeyId, WebhookSecretSlot};
use switchboard_server::settings::{LoadOptions, Loaded, sources};
use switchboard_server::startup::{
    database_for_display, database_settings, require_existing_database, services,
};
use switchboard_server::{Profile, Settings};

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
    /// Print JSON on standard output instead of text (listings, `token create`,
    /// `keys status`, `keys check`, `migrate`).
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

#[derive(Debug, Subcommand)]
enum RotationCommand {
    /// Erase now every previous credential version whose overlap ended (what the
    /// servers' sweeper does every interval; safe beside running servers).
    Sweep,
}

#[derive(Debug, Subcommand)]
enum ServiceAccountCommand {
    /// Create a service account in an organization.
    Create {
        /// The organization's handle.
        #[arg(long)]
        org: String,
        /// A name for the service account (what it is for).
        #[arg(long)]
        name: String,
        /// admin, member or viewer.
        #[arg(long)]
        role: String,
    },
    /// List an organization's service accounts and their live tokens.
    List {
        /// The organization's handle.
        #[arg(long)]
        org: String,
    },
    /// Delete a service account: its tokens fail on their next request.
    Delete {
        /// The organization's handle.
        #[arg(long)]
        org: String,
        /// The service account's id.
        #[arg(long)]
        id: i64,
    },
    /// Manage a service account's tokens.
    #[command(subcommand)]
    Token(ServiceAccountTokenCommand),
}

#[derive(Debug, Subcommand)]
enum ServiceAccountTokenCommand {
    /// Issue a scoped token; it is printed once, alone on the last line.
    Create {
        /// The organization's handle.
        #[arg(long)]
        org: String,
        /// The service account's id.
        #[arg(long)]
        id: i64,
        /// A name for the token (where it is used).
        #[arg(long)]
        name: String,
        /// A scope (repeat for several), e.g. `--scope credentials:use`.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Days until the token expires (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
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
        /// Display name (1 to 255 characters).
        #[arg(long)]
        name: String,
        /// The Org-Handle of API calls: lowercase letters, digits and hyphens, 3 to 63
        /// characters.
        #[arg(long)]
        handle: String,
    },
    /// List every organization: id, handle, name, created_at.
    List,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user. The password (8 to 1024 characters) is asked for without echo
    /// when standard input is a terminal, else read from one line of standard input;
    /// never from arguments.
    Create {
        /// The user's email (the login name; stored lowercase).
        #[arg(long)]
        email: String,
        /// Read the password from standard input even when it is a terminal (kept for
        /// scripts written for earlier versions; a pipe is always read).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every user: id, email, created_at (never a password hash).
    List,
}

#[derive(Debug, Subcommand)]
enum MemberCommand {
    /// Add a user to an organization (or change the user's role).
    Add {
        /// Handle of the organization.
        #[arg(long)]
        org: String,
        /// Email of an existing user.
        #[arg(long)]
        email: String,
        /// owner, admin, member or viewer.
        #[arg(long)]
        role: String,
    },
    /// List the members of an organization: user id, email, role, since.
    List {
        /// Handle of the organization.
        #[arg(long)]
        org: String,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Issue a token; it is printed once, alone on the last line.
    Create(TokenCreateArgs),
    /// List a user's tokens (never their secrets).
    List {
        /// Email of the user whose tokens to list.
        #[arg(long)]
        email: String,
    },
    /// Revoke a token (and every token it minted): it fails on its next request.
    Revoke {
        /// Id of the token (the first column of `token list`).
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Args)]
struct TokenCreateArgs {
    /// Email of the user the token acts as.
    #[arg(long)]
    email: String,
    /// A name to recognise the token by in listings.
    #[arg(long)]
    name: String,
    /// Days until the token expires (1 to 36500); without it the token never
    /// expires.
    #[arg(
        long,
        value_name = "DAYS",
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(u32).range(1..=36500)
    )]
    expires_in_days: Option<u32>,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Print a fresh random 256-bit key in standard base64 (needs no configuration;
    /// `openssl rand -base64 32` makes the same kind of key).
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

/// What every command shares: how to load the settings and the output format.
struct Session {
    options: LoadOptions,
    json: bool,
}

impl Session {
    /// The settings, after a banner on standard error naming the profile, the
    /// settings files and the database.
    fn load(&self) -> anyhow::Result<Loaded> {
        let profile = Profile::from_env_in(self.options.config_dir.as_deref())?;
        let loaded = Settings::load_with(profile, &self.options)?;
        eprintln!(
            "switchboard-admin: profile {}; settings: {}; database: {}",
            loaded.profile.as_str(),
            sources(&loaded, self.options.config_dir.as_deref()).join(", "),
            database_for_display(&loaded.settings)
        );
        Ok(loaded)
    }

    /// The wired services over an existing database (never creating one).
    fn services(&self) -> anyhow::Result<switchboard_server::Services> {
        let loaded = self.load()?;
        require_existing_database(&loaded.settings)?;
        Ok(services(&loaded)?)
    }

    /// Prints `value` as JSON (one document on standard output).
    fn print_json(value: &Value) {
        println!("{value}");
    }
}

/// `-` for a missing time, RFC 3339 otherwise.
fn show_time(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), |at| at.to_rfc3339())
}

fn run(session: &Session, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Keys(KeysCommand::Generate) => {
            println!(
                "{}",
                switchboard_crypto::generate_key_base64().expose_secret()
            );
            Ok(())
        }
        Command::Migrate { status } => migrate(session, status),
        Command::Keys(KeysCommand::Rewrap {
            batch_size,
            pause_ms,
        }) => rewrap(session, batch_size, pause_ms),
        Command::Keys(KeysCommand::Status) => key_status(session),
        Command::Keys(KeysCommand::Check { batch_size }) => key_check(session, batch_size),
        Command::Org(command) => org(session, command),
        Command::User(command) => user(session, command),
        Command::Member(command) => member(session, command),
        Command::Token(command) => token(session, command),
        Command::ServiceAccount(command) => service_account(session, command),
        Command::Webhooks(command) => webhooks(session, command),
        Command::Rotation(RotationCommand::Sweep) => {
            let services = session.services()?;
            let erased = services.rotations.sweep()?;
            if session.json {
                Session::print_json(&json!({"erased": erased}));
            } else {
                println!("erased {erased} expired previous credential version(s)");
            }
            Ok(())
        }
        Command::Idempotency(IdempotencyCommand::Purge) => {
            let services = session.services()?;
            let purged = services.idempotency.purge_expired()?;
            println!("purged {purged} expired idempotency key(s)");
            Ok(())
        }
    }
}

fn org(session: &Session, command: OrgCommand) -> anyhow::Result<()> {
    let services = session.services()?;
    match command {
        OrgCommand::Create { name, handle } => {
            let organization = services.identity.create_organization(&name, &handle)?;
            if session.json {
                Session::print_json(&json!({
                    "id": organization.id.0,
                    "name": organization.name,
                    "handle": organization.domain_handle.as_str(),
                    "created_at": organization.created_at.to_rfc3339(),
                }));
            } else {
                println!(
                    "created organization {} (id {}, handle {})",
                    organization.name, organization.id.0, organization.domain_handle
                );
            }
        }
        OrgCommand::List => {
            let organizations = services.identity.list_organizations()?;
            if session.json {
                Session::print_json(&Value::Array(
                    organizations
                        .iter()
                        .map(|organization| {
                            json!({
                                "id": organization.id.0,
                                "handle": organization.domain_handle.as_str(),
                                "name": organization.name,
                                "created_at": organization.created_at.to_rfc3339(),
                            })
                        })
                        .collect(),
                ));
            } else {
                println!("id\thandle\tname\tcreated_at");
                for organization in organizations {
                    println!(
                        "{}\t{}\t{}\t{}",
                        organization.id.0,
                        organization.domain_handle,
                        organization.name,
                        organization.created_at.to_rfc3339()
                    );
                }
            }
        }
    }
    Ok(())
}

fn user(session: &Session, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            email,
            password_stdin,
        } => {
            // Checked before the password is asked for: a wrong folder is said first.
            let services = session.services()?;
            let password = read_password(password_stdin)?;
            let user = services.identity.create_user(&email, &password)?;
            let email = email.trim().to_lowercase();
            if session.json {
                Session::print_json(&json!({"id": user.0, "email": email}));
            } else {
                println!("created user {email} (id {})", user.0);
            }
        }
        UserCommand::List => {
            let users = session.services()?.identity.list_users()?;
            if session.json {
                Session::print_json(&Value::Array(
                    users
                        .iter()
                        .map(|user| {
                            json!({
                                "id": user.id.0,
                                "email": user.email,
                                "created_at": user.created_at.to_rfc3339(),
                            })
                        })
                        .collect(),
                ));
            } else {
                println!("id\temail\tcreated_at");
                for user in users {
                    println!(
                        "{}\t{}\t{}",
                        user.id.0,
                        user.email,
                        user.created_at.to_rfc3339()
                    );
                }
            }
        }
    }
    Ok(())
}

fn member(session: &Session, command: MemberCommand) -> anyhow::Result<()> {
    match command {
        MemberCommand::Add { org, email, role } => {
            let role: Role = role
                .parse()
                .map_err(|()| anyhow!("role must be owner, admin, member or viewer"))?;
            let services = session.services()?;
            services.identity.add_member(&org, &email, role)?;
            let email = email.trim().to_lowercase();
            if session.json {
                Session::print_json(&json!({"org": org, "email": email, "role": role.as_str()}));
            } else {
                println!("{email} is now {role} of {org}");
            }
        }
        MemberCommand::List { org } => {
            let members = session.services()?.identity.list_members(&org)?;
            if session.json {
                Session::print_json(&Value::Array(
                    members
                        .iter()
                        .map(|member| {
                            json!({
                                "user_id": member.user_id.0,
                                "email": member.email,
                                "role": member.role.as_str(),
                                "since": member.since.to_rfc3339(),
                            })
                        })
                        .collect(),
                ));
            } else {
                println!("user_id\temail\trole\tsince");
                for member in members {
                    println!(
                        "{}\t{}\t{}\t{}",
                        member.user_id.0,
                        member.email,
                        member.role,
                        member.since.to_rfc3339()
                    );
                }
            }
        }
    }
    Ok(())
}

fn token(session: &Session, command: TokenCommand) -> anyhow::Result<()> {
    let services = session.services()?;
    match command {
        TokenCommand::Create(args) => {
            let issued =
                services
                    .identity
                    .issue_token(&args.email, &args.name, args.expires_in_days)?;
            if session.json {
                Session::print_json(&json!({
                    "id": issued.record.id.0,
                    "name": issued.record.name,
                    "email": args.email.trim().to_lowercase(),
                    "expires_at": issued.record.expires_at.map(|at| at.to_rfc3339()),
                    "token": issued.token.expose(),
                }));
                return Ok(());
            }
            let expires = issued
                .record
                .expires_at
                .map_or_else(|| "never".to_owned(), |at| at.to_rfc3339());
            println!(
                "token {} ({}) for {}, expires {}; shown once:",
                issued.record.id.0, issued.record.name, args.email, expires
            );
            println!("{}", issued.token.expose());
        }
        TokenCommand::List { email } => {
            let tokens = services.identity.list_tokens(&email)?;
            if session.json {
                Session::print_json(&Value::Array(
                    tokens
                        .iter()
                        .map(|token| {
                            json!({
                                "id": token.id.0,
                                "name": token.name,
                                "prefix": token.prefix,
                                "kind": token.kind.as_str(),
                                "created_at": token.created_at.to_rfc3339(),
                                "last_used_at": token.last_used_at.map(|at| at.to_rfc3339()),
                                "expires_at": token.expires_at.map(|at| at.to_rfc3339()),
                                "revoked_at": token.revoked_at.map(|at| at.to_rfc3339()),
                            })
                        })
                        .collect(),
                ));
                return Ok(());
            }
            println!("id\tname\tprefix\tcreated_at\tlast_used_at\texpires_at\trevoked_at");
            for token in tokens {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    token.id.0,
                    token.name,
                    token.prefix,
                    token.created_at.to_rfc3339(),
                    show_time(token.last_used_at),
                    show_time(token.expires_at),
                    show_time(token.revoked_at)
                );
            }
        }
        TokenCommand::Revoke { id } => {
            services.identity.revoke_token(TokenId(id))?;
            if session.json {
                Session::print_json(&json!({"revoked": id}));
            } else {
                println!("revoked token {id}");
            }
        }
    }
    Ok(())
}

fn webhooks(session: &Session, command: WebhooksCommand) -> anyhow::Result<()> {
    let services = session.services()?;
    match command {
        WebhooksCommand::Redeliver {
            since,
            include_succeeded,
        } => {
            let since = chrono::DateTime::parse_from_rfc3339(since.trim())
                .map_err(|_| {
                    anyhow!("--since must be an RFC 3339 time such as 2026-12-06T08:00:00Z")
                })?
                .with_timezone(&chrono::Utc);
            let count = services
                .webhooks
                .redeliver_since(since, include_succeeded)?;
            if session.json {
                Session::print_json(&json!({"due_again": count, "since": since.to_rfc3339()}));
            } else {
                println!(
                    "{count} delivery(ies) due again since {}",
                    since.to_rfc3339()
                );
            }
        }
        WebhooksCommand::Status => {
            let stats = services.webhooks.queue_stats()?;
            if session.json {
                Session::print_json(&json!({
                    "waiting": stats.depth,
                    "oldest_waiting_s": stats.oldest_pending_age_s,
                }));
            } else {
                println!(
                    "waiting deliveries: {}; oldest waiting: {} s",
                    stats.depth, stats.oldest_pending_age_s
                );
            }
        }
    }
    Ok(())
}

fn organization(
    services: &switchboard_server::Services,
    handle: &str,
) -> anyhow::Result<switchboard_domain::identity::OrgId> {
    services
        .identity
        .organization_id(handle)?
        .ok_or_else(|| anyhow!("no organization has this handle"))
}

fn service_account(session: &Session, command: ServiceAccountCommand) -> anyhow::Result<()> {
    let services = session.services()?;
    let accounts = &services.service_accounts;
    match command {
        ServiceAccountCommand::Create { org, name, role } => {
            let role: Role = role
                .parse()
                .ok()
                .filter(|role| *role != Role::Owner)
                .ok_or_else(|| anyhow!("role must be admin, member or viewer"))?;
            let account = accounts.create_in(organization(&services, &org)?, &name, role)?;
            println!(
                "created service account {} (id {}, role {}) in {org}",
                account.name, account.id.0, account.role
            );
        }
        ServiceAccountCommand::List { org } => {
            let views = accounts.list_in(organization(&services, &org)?)?;
            if session.json {
                Session::print_json(&Value::Array(
                    views
                        .iter()
                        .map(|view| {
                            json!({
                                "id": view.account.id.0,
                                "name": view.account.name,
                                "role": view.account.role.to_string(),
                                "created_at": view.account.created_at.to_rfc3339(),
                                "tokens": view.tokens.iter().map(|token| json!({
                                    "id": token.id.0, "prefix": token.prefix,
                                })).collect::<Vec<_>>(),
                            })
                        })
                        .collect(),
                ));
                return Ok(());
            }
            println!("id\tname\trole\tcreated_at\ttokens");
            for view in views {
                let tokens: Vec<String> = view
                    .tokens
                    .iter()
                    .map(|token| format!("{}:{}", token.id.0, token.prefix))
                    .collect();
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    view.account.id.0,
                    view.account.name,
                    view.account.role,
                    view.account.created_at.to_rfc3339(),
                    tokens.join(",")
                );
            }
        }
        ServiceAccountCommand::Delete { org, id } => {
            accounts.delete_in(organization(&services, &org)?, ServiceAccountId(id))?;
            println!("deleted service account {id}; its tokens are revoked");
        }
        ServiceAccountCommand::Token(ServiceAccountTokenCommand::Create {
            org,
            id,
            name,
            scopes,
            expires_in_days,
        }) => {
            let scopes = ScopeSet::parse_names(scopes.iter().map(String::as_str))
                .map_err(|_| anyhow!("unknown scope; known: {}", ScopeSet::all().to_stored()))?;
            let issued = accounts.issue_token_in(
                organization(&services, &org)?,
                ServiceAccountId(id),
                &name,
                scopes,
                expires_in_days,
            )?;
            let expires = issued
                .record
                .expires_at
                .map_or_else(|| "never".to_owned(), |at| at.to_rfc3339());
            println!(
                "token {} ({}) for service account {id}, scopes {}, expires {}; shown once:",
                issued.record.id.0,
                issued.record.name,
                scopes.names().join(","),
                expires
            );
            println!("{}", issued.token.expose());
        }
    }
    Ok(())
}

fn migrate(session: &Session, status_only: bool) -> anyhow::Result<()> {
    let loaded = session.load()?;
    if status_only {
        require_existing_database(&loaded.settings)?;
    }
    let settings = database_settings(&loaded.settings)?;
    let created = settings.sqlite_path().filter(|path| !path.exists());
    let database = switchboard_persistence::Database::connect(&settings)
        .context("cannot open the database")?;
    if let Some(path) = created {
        eprintln!(
            "switchboard-admin: created a new SQLite database at {}",
            path.display()
        );
    }
    let (applied, pending) = if status_only {
        (
            database.applied_migrations()?,
            database.pending_migrations()?,
        )
    } else {
        (database.run_pending_migrations()?, Vec::new())
    };
    if session.json {
        let rows = applied
            .iter()
            .map(|name| json!({"name": name, "state": "applied"}))
            .chain(
                pending
                    .iter()
                    .map(|name| json!({"name": name, "state": "pending"})),
            )
            .collect();
        Session::print_json(&Value::Array(rows));
        return Ok(());
    }
    for name in &applied {
        println!("applied\t{name}");
    }
    for name in &pending {
        println!("pending\t{name}");
    }
    if !status_only {
        println!(
            "{} migration(s) applied; database is current",
            applied.len()
        );
    }
    Ok(())
}

fn rewrap(session: &Session, batch_size: u32, pause_ms: u64) -> anyhow::Result<()> {
    let services = session.services()?;
    let rotation = &services.key_rotation;
    let primary = rotation.primary_key_id();
    let coverage = rotation.coverage()?;
    let stored: u64 = coverage.usage.iter().map(|(_, count)| count).sum();
    let total: u64 = coverage
        .usage
        .iter()
        .filter(|(id, _)| *id != primary)
        .map(|(_, count)| count)
        .sum();
    println!(
        "re-encrypting {total} of {stored} stored secret(s) under key {primary} in batches of {batch_size}"
    );
    let report = rotation.rewrap_all(batch_size, |report| {
        // Rows written meanwhile under an old key can push the count past the total.
        let percent = report
            .examined
            .saturating_mul(100)
            .checked_div(total)
            .map_or(100, |percent| percent.min(100));
        println!(
            "batch done: examined {} of {total} ({percent}%), re-encrypted {}, changed meanwhile {}, failed {}",
            report.examined,
            report.rewrapped,
            report.changed_meanwhile,
            report.failed_count()
        );
        if pause_ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(pause_ms));
        }
    })?;
    println!(
        "done: examined {} of {total}, re-encrypted {}, changed meanwhile {}, failed {}",
        report.examined,
        report.rewrapped,
        report.changed_meanwhile,
        report.failed_count()
    );
    if report.failed_count() == 0 {
        return Ok(());
    }
    println!("skipped (left as they are):");
    print_unreadable(&report.failed, &report.failed_webhook_secrets);
    Err(anyhow!(
        "{} stored secret(s) could not be opened and were skipped (listed above); every other \
         secret was re-encrypted. Repair them as docs/operations.md describes.",
        report.failed_count()
    ))
}

/// `configuration  organization  reason` lines, tab-separated, then (when there are
/// any) `webhook endpoint  secret  organization  reason` lines.
fn print_unreadable(rows: &[UnreadableCredential], webhook_secrets: &[UnreadableWebhookSecret]) {
    if !rows.is_empty() || webhook_secrets.is_empty() {
        println!("configuration\torganization\treason");
        for row in rows {
            println!("{}\t{}\t{}", row.id.0, row.org_id.0, row.reason);
        }
    }
    if !webhook_secrets.is_empty() {
        println!("webhook_endpoint\tsecret\torganization\treason");
        for row in webhook_secrets {
            println!(
                "{}\t{}\t{}\t{}",
                row.endpoint.0,
                webhook_slot_name(row.slot),
                row.org_id.0,
                row.reason
            );
        }
    }
}

fn webhook_slot_name(slot: WebhookSecretSlot) -> &'static str {
    match slot {
        WebhookSecretSlot::Current => "current",
        WebhookSecretSlot::Previous => "previous",
    }
}

fn unreadable_json(rows: &[UnreadableCredential]) -> Value {
    Value::Array(
        rows.iter()
            .map(|row| {
                json!({
                    "configuration": row.id.0,
                    "organization": row.org_id.0,
                    "reason": row.reason.to_string(),
                })
            })
            .collect(),
    )
}

fn unreadable_webhook_json(rows: &[UnreadableWebhookSecret]) -> Value {
    Value::Array(
        rows.iter()
            .map(|row| {
                json!({
                    "webhook_endpoint": row.endpoint.0,
                    "secret": webhook_slot_name(row.slot),
                    "organization": row.org_id.0,
                    "reason": row.reason.to_string(),
                })
            })
            .collect(),
    )
}

fn key_check(session: &Session, batch_size: u32) -> anyhow::Result<()> {
    let services = session.services()?;
    let report = services.key_rotation.check_all(batch_size, |_| {})?;
    if session.json {
        Session::print_json(&json!({
            "examined": report.examined,
            "unreadable": unreadable_json(&report.unreadable),
            "unreadable_webhook_secrets": unreadable_webhook_json(&report.unreadable_webhook_secrets),
        }));
    } else if report.unreadable_count() == 0 {
        println!("checked {} stored secret(s): all open", report.examined);
    } else {
        println!(
            "checked {} stored secret(s): {} cannot be opened",
            report.examined,
            report.unreadable_count()
        );
        print_unreadable(&report.unreadable, &report.unreadable_webhook_secrets);
    }
    if report.unreadable_count() == 0 {
        return Ok(());
    }
    Err(anyhow!(
        "{} stored secret(s) cannot be opened (listed above): for a configuration send every \
         secret again with a PATCH, or delete it; for a webhook endpoint rotate its secret \
         (docs/operations.md)",
        report.unreadable_count()
    ))
}

fn key_status(session: &Session) -> anyhow::Result<()> {
    let loaded = session.load()?;
    require_existing_database(&loaded.settings)?;
    let keyring = switchboard_server::startup::keyring(&loaded.settings)?;
    let services = services(&loaded)?;
    let configured = keyring.key_ids();
    let primary = services.key_rotation.primary_key_id();
    let usage = services.key_rotation.status()?;
    let mut ids: Vec<_> = configured.clone();
    ids.extend(usage.iter().map(|(id, _)| *id));
    ids.sort();
    ids.dedup();
    let rows: Vec<(KeyId, u64, &str)> = ids
        .into_iter()
        .map(|id| {
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
            (id, count, state)
        })
        .collect();
    // The counts above come from the key id recorded beside each blob; opening
    // every blob also finds corrupt ones and ones swapped under a configured key.
    let report = services.key_rotation.check_all(500, |_| {})?;
    if session.json {
        Session::print_json(&json!({
            "keys": rows
                .iter()
                .map(|(id, count, state)| json!({
                    "key_id": id.0,
                    "secrets": count,
                    "state": state,
                }))
                .collect::<Vec<_>>(),
            "examined": report.examined,
            "unreadable": report.unreadable_count(),
        }));
        return Ok(());
    }
    println!("key_id\tsecrets\tstate");
    for (id, count, state) in &rows {
        println!("{id}\t{count}\t{state}");
    }
    println!();
    if report.unreadable_count() == 0 {
        println!("all {} stored secret(s) open", report.examined);
    } else {
        println!(
            "UNREADABLE: {} of {} stored secret(s) cannot be opened: `switchboard-admin keys check` lists them",
            report.unreadable_count(),
            report.examined
        );
    }
    Ok(())
}

/// The password: asked for twice without echo when standard input is a terminal
/// (unless `--password-stdin` insists), else one line of standard input without its
/// line ending.
fn read_password(from_stdin: bool) -> anyhow::Result<SecretString> {
    if !from_stdin && std::io::stdin().is_terminal() {
        let first = SecretString::from(
            rpassword::prompt_password("Password (8 characters or more, not echoed): ")
                .context("cannot read the password from the terminal")?,
        );
        let again = SecretString::from(
            rpassword::prompt_password("Password again: ")
                .context("cannot read the password from the terminal")?,
        );
        if first.expose_secret() != again.expose_secret() {
            return Err(anyhow!("the two passwords differ"));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    line.clear();
    Ok(SecretString::from(password))
}
