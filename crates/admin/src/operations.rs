//! Operations on the installation: `migrate`, webhook redelivery and queue status,
//! the rotation sweep and the idempotency purge.

use anyhow::{Context, anyhow};
use clap::Subcommand;
use serde_json::{Value, json};
use switchboard_server::startup::{database_settings, require_existing_database};

use crate::session::Session;

#[derive(Debug, Subcommand)]
pub(crate) enum RotationCommand {
    /// Erase now every previous credential version whose overlap ended (what the
    /// servers' sweeper does every interval; safe beside running servers).
    Sweep,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WebhooksCommand {
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
pub(crate) enum IdempotencyCommand {
    /// Delete the idempotency keys (and stored answers) older than 24 hours.
    Purge,
}

pub(crate) fn webhooks(session: &Session, command: WebhooksCommand) -> anyhow::Result<()> {
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

pub(crate) fn migrate(session: &Session, status_only: bool) -> anyhow::Result<()> {
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

/// `rotation sweep`: erases every previous credential version whose overlap ended.
pub(crate) fn rotation(session: &Session, command: RotationCommand) -> anyhow::Result<()> {
    match command {
        RotationCommand::Sweep => {
            let services = session.services()?;
            let erased = services.rotations.sweep()?;
            if session.json {
                Session::print_json(&json!({"erased": erased}));
            } else {
                println!("erased {erased} expired previous credential version(s)");
            }
            Ok(())
        }
    }
}

/// `idempotency purge`: deletes the idempotency keys (and stored answers) older than
/// 24 hours.
pub(crate) fn idempotency(session: &Session, command: IdempotencyCommand) -> anyhow::Result<()> {
    match command {
        IdempotencyCommand::Purge => {
            let services = session.services()?;
            let purged = services.idempotency.purge_expired()?;
            if session.json {
                Session::print_json(&json!({"purged": purged}));
            } else {
                println!("purged {purged} expired idempotency key(s)");
            }
            Ok(())
        }
    }
}
