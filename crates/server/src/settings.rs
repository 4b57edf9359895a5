//! Layered configuration.
//!
//! Layers, later ones winning: `config/default.toml` and `config/<profile>.toml`
//! (compiled into the binary), the same two files from `SWITCHBOARD_CONFIG_DIR` when
//! set, in development the generated `<data_dir>/dev-keys.toml`, and environment
//! variables `SWITCHBOARD__SECTION__KEY`. The profile comes from
//! `SWITCHBOARD_PROFILE` (`development` by default, `production`, `test`). Unknown
//! settings are refused. `Debug` output never shows keys.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use switchboard_crypto::generate_key_base64;

const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");
const DEVELOPMENT_TOML: &str = include_str!("../../../config/development.toml");
const PRODUCTION_TOML: &str = include_str!("../../../config/production.toml");
const TEST_TOML: &str = include_str!("../../../config/test.toml");

/// Name of the generated development key file inside the data directory.
pub const DEV_KEYS_FILE: &str = "dev-keys.toml";

/// Which safety defaults apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Development,
    Production,
    Test,
}

impl Profile {
    /// The profile named by `SWITCHBOARD_PROFILE` (development when unset).
    ///
    /// # Errors
    /// [`SettingsError::Profile`] for any other name.
    pub fn from_env() -> Result<Self, SettingsError> {
        match std::env::var("SWITCHBOARD_PROFILE") {
            Err(_) => Ok(Self::Development),
            Ok(name) => Self::parse(&name),
        }
    }

    /// Parses a profile name.
    ///
    /// # Errors
    /// [`SettingsError::Profile`] for an unknown name.
    pub fn parse(name: &str) -> Result<Self, SettingsError> {
        match name.trim() {
            "" | "development" => Ok(Self::Development),
            "production" => Ok(Self::Production),
            "test" => Ok(Self::Test),
            other => Err(SettingsError::Profile(other.chars().take(32).collect())),
        }
    }

    /// The profile's name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
            Self::Test => "test",
        }
    }

    fn base_toml(self) -> &'static str {
        match self {
            Self::Development => DEVELOPMENT_TOML,
            Self::Production => PRODUCTION_TOML,
            Self::Test => TEST_TOML,
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("SWITCHBOARD_PROFILE must be development, production or test (got {0:?})")]
    Profile(String),
    #[error("configuration is invalid: {0}")]
    Config(#[from] config::ConfigError),
    #[error("cannot write the development key file {path}: {source}")]
    DevKeys {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// All settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub server: ServerSettings,
    pub database: DatabaseConfig,
    pub crypto: CryptoSettings,
    pub auth: AuthSettings,
    pub rate_limit: RateLimitSettings,
    pub log: LogSettings,
    pub verify: VerifySettings,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub body_limit_bytes: usize,
    /// Time a whole request body may take to arrive; slower bodies are 408.
    pub body_timeout_ms: u64,
    pub request_timeout_ms: u64,
    pub shutdown_timeout_s: u64,
    pub workers: usize,
    /// Proxies (addresses or CIDR networks) whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<String>,
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout_ms: u64,
    pub statement_timeout_ms: u64,
}

/// `[crypto]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CryptoSettings {
    pub keys: SecretString,
    pub primary_key_id: u32,
}

impl fmt::Debug for CryptoSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CryptoSettings")
            .field("keys", &"[REDACTED]")
            .field("primary_key_id", &self.primary_key_id)
            .finish()
    }
}

/// `[auth]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub token_hmac_key: SecretString,
    /// Lifetime of login tokens in days; 0 means no expiry.
    pub login_token_ttl_days: u32,
    pub login_email_failures_per_minute: u32,
    pub login_address_failures_per_minute: u32,
}

impl fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthSettings")
            .field("token_hmac_key", &"[REDACTED]")
            .field("login_token_ttl_days", &self.login_token_ttl_days)
            .field(
                "login_email_failures_per_minute",
                &self.login_email_failures_per_minute,
            )
            .field(
                "login_address_failures_per_minute",
                &self.login_address_failures_per_minute,
            )
            .finish()
    }
}

/// `[rate_limit]`: requests per second per token and per user, with bursts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub per_second: u32,
    pub burst: u32,
    pub per_user_per_second: u32,
    pub per_user_burst: u32,
}

/// `[verify]`: where each provider's API lives for credential verification, and
/// how long one call may take.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySettings {
    pub twilio_base_url: String,
    pub plivo_base_url: String,
    pub vonage_base_url: String,
    pub telnyx_base_url: String,
    pub timeout_ms: u64,
}

/// `[log]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Loaded settings and notes to log once logging is set up.
#[derive(Debug)]
pub struct Loaded {
    pub profile: Profile,
    pub settings: Settings,
    pub notes: Vec<String>,
}

fn builder(
    profile: Profile,
    dev_keys: Option<&Path>,
) -> config::ConfigBuilder<config::builder::DefaultState> {
    let mut builder = Config::builder()
        .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
        .add_source(File::from_str(profile.base_toml(), FileFormat::Toml));
    if let Ok(dir) = std::env::var("SWITCHBOARD_CONFIG_DIR") {
        let dir = PathBuf::from(dir);
        builder = builder
            .add_source(File::from(dir.join("default.toml")).required(false))
            .add_source(File::from(dir.join(format!("{}.toml", profile.as_str()))).required(false));
    }
    if let Some(path) = dev_keys {
        builder = builder.add_source(File::from(path.to_path_buf()).required(false));
    }
    builder.add_source(
        Environment::with_prefix("SWITCHBOARD")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("server.trusted_proxies"),
    )
}

impl Settings {
    /// Loads the settings of `profile` from every layer. In development, missing keys
    /// are generated once into `<data_dir>/dev-keys.toml` (mode 0600) and the database
    /// defaults to a SQLite file in the data directory.
    ///
    /// # Errors
    /// [`SettingsError`]; messages never contain key material.
    pub fn load(profile: Profile) -> Result<Loaded, SettingsError> {
        let mut notes = Vec::new();
        let first: Self = builder(profile, None).build()?.try_deserialize()?;
        if profile != Profile::Development {
            return Ok(Loaded {
                profile,
                settings: first,
                notes,
            });
        }
        let keys_path = first.data_dir.join(DEV_KEYS_FILE);
        let keys_missing = first.crypto.keys.expose_secret().trim().is_empty()
            || first.auth.token_hmac_key.expose_secret().trim().is_empty();
        if keys_missing && !keys_path.exists() {
            write_dev_keys(&keys_path)?;
            notes.push(format!(
                "generated development keys into {} (development only: configure real keys in production)",
                keys_path.display()
            ));
        }
        let mut settings: Self = builder(profile, Some(&keys_path))
            .build()?
            .try_deserialize()?;
        if settings.database.url.trim().is_empty() {
            settings.database.url = format!(
                "sqlite://{}",
                settings.data_dir.join("switchboard.db").display()
            );
        }
        Ok(Loaded {
            profile,
            settings,
            notes,
        })
    }
}

fn write_dev_keys(path: &Path) -> Result<(), SettingsError> {
    let fail = |source| SettingsError::DevKeys {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(fail)?;
    }
    let contents = format!(
        "# Generated once by switchboard in the development profile. Never use in production.\n\
         [crypto]\nkeys = \"1:{}\"\nprimary_key_id = 1\n\n[auth]\ntoken_hmac_key = \"{}\"\n",
        generate_key_base64().expose_secret(),
        generate_key_base64().expose_secret(),
    );
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = match options.open(path) {
        Ok(file) => file,
        // Another process generated the file first: use its keys.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(error) => return Err(fail(error)),
    };
    file.write_all(contents.as_bytes()).map_err(fail)?;
    Ok(())
}
