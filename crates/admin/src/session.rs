//! What every command shares: the settings (after a banner naming them on standard
//! error), the wired services over an existing database, and the output format.

use serde_json::Value;
use switchboard_server::settings::{LoadOptions, Loaded, sources};
use switchboard_server::startup::{database_for_display, require_existing_database, services};
use switchboard_server::{Profile, Settings};

/// What every command shares: how to load the settings and the output format.
pub(crate) struct Session {
    pub(crate) options: LoadOptions,
    pub(crate) json: bool,
}

impl Session {
    /// The settings, after a banner on standard error naming the profile, the
    /// settings files and the database.
    pub(crate) fn load(&self) -> anyhow::Result<Loaded> {
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
    pub(crate) fn services(&self) -> anyhow::Result<switchboard_server::Services> {
        let loaded = self.load()?;
        require_existing_database(&loaded.settings)?;
        Ok(services(&loaded)?)
    }

    /// Prints `value` as JSON (one document on standard output).
    pub(crate) fn print_json(value: &Value) {
        println!("{value}");
    }
}

/// `-` for a missing time, RFC 3339 otherwise.
pub(crate) fn show_time(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), |at| at.to_rfc3339())
}
