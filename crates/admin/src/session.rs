//! What every command shares: the settings (after a banner naming them on standard
//! error), the wired services over an existing database, and the output format.

use serde_json::{Map, Value, json};
use switchboard_application::identity::IssuedToken;
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

    /// Prints a token just issued, shown this once: as JSON (its id, name, expiry and
    /// the token, with `holder`'s fields), or as a line saying whose it is
    /// (`described`) followed by the token alone on the last line.
    pub(crate) fn print_issued(
        &self,
        issued: &IssuedToken,
        holder: Map<String, Value>,
        described: &str,
    ) {
        let expires_at = issued.record.expires_at.map(|at| at.to_rfc3339());
        if self.json {
            let mut document = Map::new();
            document.insert("id".into(), json!(issued.record.id.0));
            document.insert("name".into(), json!(issued.record.name));
            document.extend(holder);
            document.insert("expires_at".into(), json!(expires_at));
            document.insert("token".into(), json!(issued.token.expose()));
            Self::print_json(&Value::Object(document));
            return;
        }
        println!(
            "token {} ({}) for {described}, expires {}; shown once:",
            issued.record.id.0,
            issued.record.name,
            expires_at.as_deref().unwrap_or("never")
        );
        println!("{}", issued.token.expose());
    }
}

/// `-` for a missing time, RFC 3339 otherwise.
pub(crate) fn show_time(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), |at| at.to_rfc3339())
}
