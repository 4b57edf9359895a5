//! `keys`: generating, checking and rotating the encryption keys of stored secrets
//! (provider credentials and webhook signing secrets).

use anyhow::anyhow;
use clap::Subcommand;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use switchboard_application::key_rotation::{UnreadableCredential, UnreadableWebhookSecret};
use switchboard_domain::telephony::{KeyId, WebhookSecretSlot};
use switchboard_server::startup::{require_existing_database, services};

use crate::session::Session;

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
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
/// Runs one `keys` command.
pub(crate) fn keys(session: &Session, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate => {
            println!(
                "{}",
                switchboard_crypto::generate_key_base64().expose_secret()
            );
            Ok(())
        }
        KeysCommand::Rewrap {
            batch_size,
            pause_ms,
        } => rewrap(session, batch_size, pause_ms),
        KeysCommand::Status => key_status(session),
        KeysCommand::Check { batch_size } => key_check(session, batch_size),
    }
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
