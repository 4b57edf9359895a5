//! Layered configuration.
//!
//! Layers, later ones winning: `config/default.toml` and `config/<profile>.toml`
//! (compiled into the binary), the same two files from `SWITCHBOARD_CONFIG_DIR` when
//! set, in development the generated `<data_dir>/dev-keys.toml`, and environment
//! variables `SWITCHBOARD__SECTION__KEY`. The profile comes from
//! `SWITCHBOARD_PROFILE` (`development`, `production`, `test`); without it, the
//! profile is development only when no database URL is configured (a configured
//! database is never bootstrapped by accident). Unknown settings are refused.
//!
//! Keys are `SecretString`s, so `Debug` output never shows them, and error messages
//! name the setting and the expected type but never the rejected value: a key pasted
//! into the wrong variable must not reach standard error.

use std::collections::BTreeMap;
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
    /// The profile named by `SWITCHBOARD_PROFILE`. When it is unset: development if
    /// no database URL is configured (the embedded default that `cargo run` uses),
    /// production otherwise.
    ///
    /// # Errors
    /// [`SettingsError::Profile`] for an unknown name; [`SettingsError::Config`]
    /// when the base settings cannot be read to find the database URL.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_env_in(config_dir_from_env().as_deref())
    }

    /// [`Profile::from_env`] with the settings folder given explicitly (the
    /// `--config-dir` option) instead of read from `SWITCHBOARD_CONFIG_DIR`.
    ///
    /// # Errors
    /// As [`Profile::from_env`].
    pub fn from_env_in(config_dir: Option<&Path>) -> Result<Self, SettingsError> {
        match std::env::var("SWITCHBOARD_PROFILE") {
            Ok(name) => Self::parse(&name),
            Err(_) => {
                let url = base_builder(config_dir)
                    .build()
                    .map_err(SettingsError::from)?
                    .get_string("database.url")
                    .unwrap_or_default();
                Ok(Self::implied_by_database_url(&url))
            }
        }
    }

    /// The profile when none is named: development only without a database URL.
    #[must_use]
    pub fn implied_by_database_url(url: &str) -> Self {
        if url.trim().is_empty() {
            Self::Development
        } else {
            Self::Production
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

/// Why the configuration could not be loaded. Messages name settings, never the
/// values they were given.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("SWITCHBOARD_PROFILE must be development, production or test (got {0:?})")]
    Profile(String),
    /// What is wrong, described by [`describe_config_error`].
    #[error("configuration is invalid: {0}")]
    Config(String),
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
    pub redis: RedisSettings,
    pub log: LogSettings,
    pub verify: VerifySettings,
    #[serde(default)]
    pub console: ConsoleSettings,
    pub metrics: MetricsSettings,
    pub cors: CorsSettings,
    pub webhooks: WebhookSettings,
    pub rotation: RotationSettings,
}

/// `[console]`: the web console's sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSettings {
    /// `Secure` session cookies with the `__Host-` prefix (off in development,
    /// which serves plain HTTP on loopback).
    pub secure_cookies: bool,
    /// A session unused this many minutes ends.
    pub idle_timeout_minutes: u32,
    /// A session ends this many hours after sign-in.
    pub session_hours: u32,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            secure_cookies: true,
            idle_timeout_minutes: 30,
            session_hours: 12,
        }
    }
}

/// `[metrics]`: where `GET /metrics` is served.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Empty: on the API's own address and port. Otherwise `host:port` of a listener
    /// of its own (the API port then answers 404 there), so metrics need not be
    /// public.
    pub address: String,
}

/// `[cors]`: which browser origins may call the API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    /// Origins (`https://console.example.com`) allowed to call the API from a
    /// browser, or `*` for any. Empty: CORS is off (no CORS headers; preflight
    /// requests are not answered).
    pub allowed_origins: Vec<String>,
    /// How long a browser may cache a preflight answer, in seconds.
    pub max_age_s: usize,
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
    /// A direct PostgreSQL URL for migrations (empty: `url`), for deployments whose
    /// `url` is a transaction-pooling pgbouncer.
    pub migration_url: String,
    /// Diesel's prepared-statement cache; `false` behind a pgbouncer without
    /// prepared-statement support (before 1.21) in transaction mode.
    pub statement_cache: bool,
    /// SQLite: at most this many write transactions share one commit (group
    /// commit); 1: one commit per write.
    pub group_commit_max: usize,
}

/// `[crypto]`. `keys` is a `SecretString`: its `Debug` shows `[REDACTED]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CryptoSettings {
    pub keys: SecretString,
    pub primary_key_id: u32,
}

/// `[auth]`. `token_hmac_key` is a `SecretString`: its `Debug` shows `[REDACTED]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub token_hmac_key: SecretString,
    /// Lifetime of login tokens in days; 0 means no expiry.
    pub login_token_ttl_days: u32,
    pub login_email_failures_per_minute: u32,
    pub login_address_failures_per_minute: u32,
}

/// `[rate_limit]`: requests per second per token and per user, with bursts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub per_second: u32,
    pub burst: u32,
    pub per_user_per_second: u32,
    pub per_user_burst: u32,
    /// Uses of stored secrets (reveal, signature checks, access tokens, verify,
    /// import) per second per token, one bucket for all of them; 0 turns it off.
    #[serde(default = "default_secret_use_per_second")]
    pub secret_use_per_second: u32,
    #[serde(default = "default_secret_use_burst")]
    pub secret_use_burst: u32,
    /// Where buckets live: in this process, or shared by every replica.
    pub store: RateLimitStore,
    /// A shared store that does not answer in time lets requests through (`true`)
    /// or they are answered 503.
    pub fail_open: bool,
    /// Prefix of the shared stores' keys (several deployments on one Redis).
    pub key_prefix: String,
    /// Connections of the `postgres` store's own pool.
    pub postgres_pool_size: u32,
}

fn default_secret_use_per_second() -> u32 {
    10
}

fn default_secret_use_burst() -> u32 {
    20
}

/// `rate_limit.store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateLimitStore {
    Memory,
    Redis,
    Postgres,
}

impl RateLimitStore {
    /// The setting's value, which is also a shared store's label in
    /// `switchboard_rate_limit_store_errors_total`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Redis => "redis",
            Self::Postgres => "postgres",
        }
    }
}

/// `[redis]`: the Redis of `rate_limit.store = "redis"`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://host:port/db`; may hold a password, so never shown.
    pub url: SecretString,
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &"[REDACTED]")
            .finish()
    }
}

/// `[verify]`: where each provider's API lives for credential verification, and
/// how long one call may take.
///
/// Base URLs are a map by provider slug, `[verify.base_urls]` (in the environment
/// `SWITCHBOARD__VERIFY__BASE_URLS__<SLUG>`, the slug in any case). The four older
/// names (`twilio_base_url`, `plivo_base_url`, `vonage_base_url`, `telnyx_base_url`)
/// keep working: a slug's map entry wins, and the older name is used when the map
/// has no entry for that slug. A provider in neither uses its verification module's
/// default (its public API).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifySettings {
    pub twilio_base_url: String,
    pub plivo_base_url: String,
    pub vonage_base_url: String,
    pub telnyx_base_url: String,
    /// Base URLs by provider slug (lower case), winning over the older names.
    #[serde(default)]
    pub base_urls: BTreeMap<String, String>,
    pub timeout_ms: u64,
}

impl VerifySettings {
    /// The configured base URL of `slug` (any case): its `base_urls` entry, else the
    /// older setting of that provider (twilio, plivo, vonage, telnyx); `None` when
    /// neither is set (the verifier then uses the module's default).
    #[must_use]
    pub fn base_url(&self, slug: &str) -> Option<&str> {
        let slug = slug.to_ascii_lowercase();
        if let Some(url) = self.base_urls.get(&slug) {
            return Some(url);
        }
        match slug.as_str() {
            "twilio" => Some(&self.twilio_base_url),
            "plivo" => Some(&self.plivo_base_url),
            "vonage" => Some(&self.vonage_base_url),
            "telnyx" => Some(&self.telnyx_base_url),
            _ => None,
        }
    }

    /// Every configured base URL by slug (lower case), precedence applied.
    #[must_use]
    pub fn resolved_base_urls(&self) -> BTreeMap<String, String> {
        let mut urls: BTreeMap<String, String> = ["twilio", "plivo", "vonage", "telnyx"]
            .into_iter()
            .filter_map(|slug| Some((slug.to_owned(), self.base_url(slug)?.to_owned())))
            .collect();
        for (slug, url) in &self.base_urls {
            urls.insert(slug.to_ascii_lowercase(), url.clone());
        }
        urls
    }
}

/// `[webhooks]`: the delivery worker inside the server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Seconds before each retry of a failed delivery (then `dead`); in the
    /// environment a comma-separated list.
    pub retry_schedule_s: Vec<u64>,
    /// Allow targets in private, loopback and link-local ranges, and `http://`.
    pub allow_private_targets: bool,
    /// Run the delivery worker in this process.
    pub worker: bool,
    /// How often the worker looks for due deliveries.
    pub poll_interval_ms: u64,
    /// Time one delivery may take (2xx within it is success).
    pub timeout_ms: u64,
}

/// `[rotation]`: the sweeper of staged rotation inside the server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationSettings {
    /// Seconds between two sweeps that erase expired previous versions.
    pub sweep_interval_s: u64,
    /// Run the sweeper in this process (every replica may).
    pub sweeper: bool,
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

type Builder = config::ConfigBuilder<config::builder::DefaultState>;

fn environment() -> Environment {
    Environment::with_prefix("SWITCHBOARD")
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true)
        .list_separator(",")
        .with_list_parse_key("server.trusted_proxies")
        .with_list_parse_key("cors.allowed_origins")
        .with_list_parse_key("webhooks.retry_schedule_s")
}

/// `SWITCHBOARD_CONFIG_DIR`, when set and not empty.
#[must_use]
pub fn config_dir_from_env() -> Option<PathBuf> {
    std::env::var_os("SWITCHBOARD_CONFIG_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
}

/// The layers every profile shares (the profile is not known yet): the embedded
/// `default.toml`, the one of the settings folder, and the environment.
fn base_builder(config_dir: Option<&Path>) -> Builder {
    let mut builder = Config::builder().add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml));
    if let Some(dir) = config_dir {
        builder = builder.add_source(File::from(dir.join("default.toml")).required(false));
    }
    builder.add_source(environment())
}

fn builder(profile: Profile, config_dir: Option<&Path>, dev_keys: Option<&Path>) -> Builder {
    let mut builder = Config::builder()
        .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
        .add_source(File::from_str(profile.base_toml(), FileFormat::Toml));
    if let Some(dir) = config_dir {
        builder = builder
            .add_source(File::from(dir.join("default.toml")).required(false))
            .add_source(File::from(dir.join(format!("{}.toml", profile.as_str()))).required(false));
    }
    if let Some(path) = dev_keys {
        builder = builder.add_source(File::from(path.to_path_buf()).required(false));
    }
    builder.add_source(environment())
}

impl From<config::ConfigError> for SettingsError {
    fn from(error: config::ConfigError) -> Self {
        Self::Config(describe_config_error(&error))
    }
}

/// `crypto.primary_key_id (SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID)`.
fn setting_name(key: &str) -> String {
    let variable = key.replace('.', "__").to_ascii_uppercase();
    format!("{key} (SWITCHBOARD__{variable})")
}

/// What is wrong with the configuration, naming the setting and what it expects but
/// never the value it was given: the `config` crate's own messages quote rejected
/// values (`invalid type: string "<the value>"`), and a value in the wrong variable
/// may be a key. Messages of deserialization (`unknown field`, `missing field`) name
/// settings only and are kept; any other message keeps only what follows
/// `expected`. A file that is not valid TOML is named with the line of the error,
/// not its text.
#[must_use]
pub fn describe_config_error(error: &config::ConfigError) -> String {
    use config::ConfigError;
    match error {
        ConfigError::Type { key, expected, .. } => match key {
            Some(key) => format!("{} must be {expected}", setting_name(key)),
            None => format!("a setting must be {expected}"),
        },
        ConfigError::At { error, key, .. } => {
            let inner = describe_config_error(error);
            match key {
                Some(key) => format!("{}: {inner}", setting_name(key)),
                None => inner,
            }
        }
        ConfigError::NotFound(key) => format!("{} is missing", setting_name(key)),
        ConfigError::Message(message) => describe_message(message),
        ConfigError::FileParse { uri, cause } => {
            let place = cause
                .to_string()
                .lines()
                .next()
                .and_then(|line| line.find(" at line ").map(|at| line[at + 1..].to_owned()))
                .filter(|place| {
                    place
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == ',')
                })
                .unwrap_or_else(|| "somewhere".to_owned());
            format!(
                "the file {} is not valid TOML ({place})",
                uri.as_deref().unwrap_or("(embedded)")
            )
        }
        ConfigError::Frozen => "the configuration is frozen".to_owned(),
        ConfigError::PathParse { .. } => "a setting path is malformed".to_owned(),
        ConfigError::Foreign(_) => "a configuration source could not be read".to_owned(),
        _ => "the configuration could not be read".to_owned(),
    }
}

fn describe_message(message: &str) -> String {
    if message.starts_with("missing field") || message.starts_with("unknown field") {
        return message.to_owned();
    }
    let kind = message
        .split([':', ' '])
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    match message.rfind(", expected ") {
        Some(at) => format!("{kind}: expected {}", &message[at + ", expected ".len()..]),
        None => "a setting has a value that is not accepted".to_owned(),
    }
}

impl Settings {
    /// Loads the settings of `profile` from every layer. In development, missing keys
    /// are generated once into `<data_dir>/dev-keys.toml` (mode 0600) and the database
    /// defaults to a SQLite file in the data directory.
    ///
    /// # Errors
    /// [`SettingsError`]; messages never contain key material.
    pub fn load(profile: Profile) -> Result<Loaded, SettingsError> {
        Self::load_with(
            profile,
            &LoadOptions {
                config_dir: config_dir_from_env(),
                generate_dev_keys: true,
            },
        )
    }

    /// [`Settings::load`] with the settings folder given explicitly, and, when
    /// `options.generate_dev_keys` is false, without writing anything: a missing
    /// development key file then leaves the keys empty (`--check` says so).
    ///
    /// # Errors
    /// [`SettingsError`]; messages never contain key material.
    pub fn load_with(profile: Profile, options: &LoadOptions) -> Result<Loaded, SettingsError> {
        let config_dir = options.config_dir.as_deref();
        let mut notes = Vec::new();
        let first: Self = builder(profile, config_dir, None)
            .build()?
            .try_deserialize()?;
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
        if keys_missing && !keys_path.exists() && options.generate_dev_keys {
            write_dev_keys(&keys_path)?;
            notes.push(format!(
                "generated development keys into {} (development only: configure real keys in production)",
                keys_path.display()
            ));
        }
        let mut settings: Self = builder(profile, config_dir, Some(&keys_path))
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

/// How [`Settings::load_with`] loads.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The folder whose `default.toml` and `<profile>.toml` override the built-in
    /// settings (`--config-dir`, else `SWITCHBOARD_CONFIG_DIR`).
    pub config_dir: Option<PathBuf>,
    /// In development, generate `<data_dir>/dev-keys.toml` when keys are missing.
    pub generate_dev_keys: bool,
}

/// Where the settings of `loaded` came from, in the order they apply: the built-in
/// files, the files of the settings folder that exist, the development key file when
/// it exists, and the environment. For start banners; never a value.
#[must_use]
pub fn sources(loaded: &Loaded, config_dir: Option<&Path>) -> Vec<String> {
    let profile = loaded.profile.as_str();
    let mut sources = vec![format!("built-in default.toml + {profile}.toml")];
    if let Some(dir) = config_dir {
        for name in ["default.toml".to_owned(), format!("{profile}.toml")] {
            let path = dir.join(name);
            if path.is_file() {
                sources.push(path.display().to_string());
            }
        }
    }
    if loaded.profile == Profile::Development {
        let keys = loaded.settings.data_dir.join(DEV_KEYS_FILE);
        if keys.is_file() {
            sources.push(keys.display().to_string());
        }
    }
    let variables = std::env::vars_os()
        .filter(|(name, _)| name.to_string_lossy().starts_with("SWITCHBOARD__"))
        .count();
    if variables > 0 {
        sources.push(format!(
            "{variables} SWITCHBOARD__* environment variable(s)"
        ));
    }
    sources
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "otXGa1ZuQ2VjcmV0LWtleS1ieXRlcy0wMTIzNDU2Nzg5YWI=";

    /// The settings of the embedded files with `overrides` as if from the
    /// environment, deserialized the way [`Settings::load`] does.
    fn load_with(overrides: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
            .add_source(File::from_str(PRODUCTION_TOML, FileFormat::Toml));
        for (key, value) in overrides {
            builder = builder
                .set_override(*key, *value)
                .map_err(SettingsError::from)?;
        }
        Ok(builder.build()?.try_deserialize()?)
    }

    #[test]
    fn errors_name_the_setting_and_never_the_value() {
        for (key, named) in [
            ("crypto.primary_key_id", "crypto.primary_key_id"),
            ("server.port", "server.port"),
            ("log.format", "log.format"),
            ("rate_limit.burst", "rate_limit.burst"),
        ] {
            let message = load_with(&[(key, KEY)])
                .expect_err("a key is not a number")
                .to_string();
            assert!(message.contains(named), "{message}");
            assert!(
                !message.contains(KEY) && !message.contains(&KEY[..10]),
                "{message}"
            );
        }
        let message = load_with(&[("server.prot", "1")])
            .expect_err("unknown settings are refused")
            .to_string();
        assert!(message.contains("prot"), "{message}");
    }

    #[test]
    fn messages_keep_only_what_is_expected() {
        assert_eq!(
            describe_message(&format!("invalid value: string {KEY:?}, expected a port")),
            "invalid value: expected a port"
        );
        assert_eq!(
            describe_message(&format!(
                "unknown variant `{KEY}`, expected `pretty` or `json`"
            )),
            "unknown variant: expected `pretty` or `json`"
        );
        assert_eq!(
            describe_message("missing field `keys`"),
            "missing field `keys`"
        );
        assert_eq!(
            describe_message(&format!("something else about {KEY}")),
            "a setting has a value that is not accepted"
        );
        assert_eq!(
            setting_name("crypto.primary_key_id"),
            "crypto.primary_key_id (SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID)"
        );
    }

    #[test]
    fn debug_shows_no_key() {
        let mut settings = load_with(&[]).expect("the embedded settings load");
        settings.crypto.keys = SecretString::from(format!("1:{KEY}"));
        settings.auth.token_hmac_key = SecretString::from(KEY);
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains(KEY) && !shown.contains(&KEY[..10]),
            "{shown}"
        );
        assert!(
            shown.contains("primary_key_id"),
            "the rest is shown: {shown}"
        );
    }

    /// The embedded settings with `variables` as the process environment, read by
    /// the same [`environment`] source as [`Settings::load`].
    fn load_with_env(variables: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let source: config::Map<String, String> = variables
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Ok(Config::builder()
            .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
            .add_source(File::from_str(PRODUCTION_TOML, FileFormat::Toml))
            .add_source(environment().source(Some(source)))
            .build()?
            .try_deserialize()?)
    }

    #[test]
    fn verify_base_urls_are_a_map_by_slug_and_the_old_names_still_work() {
        // Nothing set: the four older names' defaults.
        let verify = load_with_env(&[]).expect("loads").verify;
        assert_eq!(verify.base_url("twilio"), Some("https://api.twilio.com"));
        assert_eq!(verify.base_url("exotel"), None);
        assert!(verify.base_urls.is_empty());
        // The map, in upper case as environment names are written.
        let verify = load_with_env(&[
            (
                "SWITCHBOARD__VERIFY__BASE_URLS__TELNYX",
                "http://127.0.0.1:7001",
            ),
            (
                "SWITCHBOARD__VERIFY__BASE_URLS__EXOTEL",
                "https://exotel.test",
            ),
        ])
        .expect("loads")
        .verify;
        assert_eq!(verify.base_url("telnyx"), Some("http://127.0.0.1:7001"));
        assert_eq!(verify.base_url("EXOTEL"), Some("https://exotel.test"));
        assert_eq!(verify.base_url("twilio"), Some("https://api.twilio.com"));
        // An older name alone is used...
        let verify = load_with_env(&[(
            "SWITCHBOARD__VERIFY__TWILIO_BASE_URL",
            "http://127.0.0.1:7002",
        )])
        .expect("loads")
        .verify;
        assert_eq!(verify.base_url("twilio"), Some("http://127.0.0.1:7002"));
        // ...and the map's entry wins over it.
        let verify = load_with_env(&[
            (
                "SWITCHBOARD__VERIFY__TWILIO_BASE_URL",
                "http://127.0.0.1:7002",
            ),
            (
                "SWITCHBOARD__VERIFY__BASE_URLS__TWILIO",
                "http://127.0.0.1:7003",
            ),
            (
                "SWITCHBOARD__VERIFY__PLIVO_BASE_URL",
                "http://127.0.0.1:7004",
            ),
        ])
        .expect("loads")
        .verify;
        assert_eq!(verify.base_url("twilio"), Some("http://127.0.0.1:7003"));
        assert_eq!(verify.base_url("plivo"), Some("http://127.0.0.1:7004"));
        let resolved = verify.resolved_base_urls();
        assert_eq!(resolved["twilio"], "http://127.0.0.1:7003");
        assert_eq!(resolved["plivo"], "http://127.0.0.1:7004");
        assert_eq!(resolved["vonage"], "https://rest.nexmo.com");
        assert_eq!(resolved.len(), 4);
    }

    #[test]
    fn verify_base_urls_may_be_written_in_a_settings_file() {
        let settings: Settings = Config::builder()
            .add_source(File::from_str(DEFAULT_TOML, FileFormat::Toml))
            .add_source(File::from_str(PRODUCTION_TOML, FileFormat::Toml))
            .add_source(File::from_str(
                "[verify.base_urls]\nvonage = \"http://127.0.0.1:7005\"\n",
                FileFormat::Toml,
            ))
            .build()
            .and_then(Config::try_deserialize)
            .expect("loads");
        assert_eq!(
            settings.verify.base_url("vonage"),
            Some("http://127.0.0.1:7005")
        );
    }

    #[test]
    fn only_a_missing_database_url_implies_development() {
        assert_eq!(Profile::implied_by_database_url(""), Profile::Development);
        assert_eq!(Profile::implied_by_database_url("  "), Profile::Development);
        assert_eq!(
            Profile::implied_by_database_url("sqlite://data/switchboard.db"),
            Profile::Production
        );
        assert_eq!(
            Profile::implied_by_database_url("postgres://db/switchboard"),
            Profile::Production
        );
    }
}
