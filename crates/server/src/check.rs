//! `switchboard --check`: everything a start would check, without binding a port or
//! writing anything: the settings load, the keys parse, the verification URLs and
//! trusted proxies are valid, the database exists and answers, no migration is
//! pending, and every key id used by a stored secret is configured.
//!
//! Each step that passes adds one line for the operator; the first that fails stops
//! the check with the [`StartupError`] a start would have met. Lines name key ids
//! and counts, never key bytes, and the database URL without its password.

use switchboard_http::TrustedProxies;
use switchboard_persistence::{Database, DatabaseError};

use crate::cors::CorsPolicy;
use crate::settings::{DEV_KEYS_FILE, Loaded, Profile};
use crate::startup::{
    StartupError, credential_verifier, database_for_display, database_settings, keyring,
    require_existing_database, token_hasher, wire,
};

/// Runs every check in order; the lines of the steps that passed.
///
/// # Errors
/// The first [`StartupError`] met, as a start would report it.
pub fn check(loaded: &Loaded) -> Result<Vec<String>, StartupError> {
    let settings = &loaded.settings;
    let mut lines = vec![format!(
        "settings: loaded (profile {})",
        loaded.profile.as_str()
    )];
    let dev_keys = settings.data_dir.join(DEV_KEYS_FILE);
    // A fresh development folder has no keys yet (the first start generates them) and
    // no database; everything else a start checks is checked all the same.
    let fresh_development = loaded.profile == Profile::Development
        && !dev_keys.exists()
        && secrecy::ExposeSecret::expose_secret(&settings.crypto.keys)
            .trim()
            .is_empty();
    if fresh_development {
        lines.push(format!(
            "fresh development installation: the first start generates keys into {} and \
             creates the database {}",
            dev_keys.display(),
            database_for_display(settings)
        ));
    } else {
        let ring = keyring(settings)?;
        let ids = ring
            .key_ids()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        lines.push(format!(
            "encryption keys: ids {ids}, primary {}",
            settings.crypto.primary_key_id
        ));
        token_hasher(settings)?;
        lines.push("token HMAC key: set".to_owned());
    }
    credential_verifier(settings)?;
    TrustedProxies::parse(&settings.server.trusted_proxies)?;
    let cors = CorsPolicy::from_settings(&settings.cors)?;
    lines.push(format!(
        "verification URLs, trusted proxies and CORS origins: valid (CORS {})",
        if cors.enabled() { "on" } else { "off" }
    ));
    if fresh_development {
        return Ok(lines);
    }

    let shown = database_for_display(settings);
    let database_settings = database_settings(settings)?;
    let sqlite_missing = database_settings
        .sqlite_path()
        .is_some_and(|path| !path.exists());
    if sqlite_missing && loaded.profile == Profile::Development {
        lines.push(format!(
            "database: {shown} does not exist yet; the development profile creates it at start"
        ));
        return Ok(lines);
    }
    require_existing_database(settings)?;
    let database = Database::connect(&database_settings)?;
    database.ping().map_err(DatabaseError::from)?;
    lines.push(format!(
        "database: {shown} ({}) answers",
        database.backend()
    ));
    if let Some(transport) = database_settings.postgres_transport() {
        lines.push(format!("database connection: {}", transport.describe()));
        if let Some(warning) = transport.warning() {
            lines.push(format!("warning: {warning}"));
        }
    }
    let applied = database.applied_migrations()?.len();
    let pending = database.pending_migrations()?;
    if pending.is_empty() {
        lines.push(format!("migrations: {applied} applied, none pending"));
    } else if loaded.profile == Profile::Development {
        lines.push(format!(
            "migrations: {applied} applied, {} pending (the development profile applies them at start)",
            pending.len()
        ));
        return Ok(lines);
    } else {
        return Err(StartupError::PendingMigrations {
            count: pending.len(),
        });
    }
    let services = wire(settings, database)?;
    let coverage = services
        .key_rotation
        .coverage()
        .map_err(DatabaseError::from)?;
    if !coverage.is_complete() {
        return Err(StartupError::KeysNotConfigured(coverage.describe_missing()));
    }
    let secrets: u64 = coverage.usage.iter().map(|(_, count)| count).sum();
    lines.push(format!(
        "stored secrets: {secrets}, every key id they use is configured"
    ));
    Ok(lines)
}
