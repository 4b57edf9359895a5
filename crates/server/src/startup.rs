//! The composition root: checks keys, opens the database (applying or checking
//! migrations as the profile says), wires adapters into services, checks that every
//! key id used by stored secrets is configured, runs the development bootstrap and
//! binds the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpServer, web};
use secrecy::ExposeSecret;
use switchboard_application::credential_use::SecretUseLimits;
use switchboard_application::identity::BOOTSTRAP_OWNER_EMAIL;
use switchboard_application::key_rotation::KeyRotationService;
use switchboard_application::limits::{LoginThrottle, RequestLimits};
use switchboard_application::{
    AuditService, BridgeService, CredentialUseService, IdempotencyService, IdentityService,
    NumberImportService, ProviderConfigService, RotationService, ServiceAccountService,
    WebhookService,
};
use switchboard_console::ConsoleConfig;
use switchboard_crypto::{
    AesGcmKeyring, Argon2PasswordHasher, HmacTokenHasher, KeyringError, PooledPasswordHasher,
    ProviderSignatures, RandomTokenGenerator, StandardWebhookSigner, parse_key_base64,
};
use switchboard_domain::identity::ApiToken;
use switchboard_domain::limits::{LimitStore, Policy};
use switchboard_domain::shared::SystemClock;
use switchboard_domain::telephony::{NumberImportStore, NumberSource};
use switchboard_http::{
    AppState, InvalidTrustedProxy, ReadSessions, TrustedProxies, configure, metrics_endpoint,
    normalize_path, openapi_document, prometheus, request_id_middleware, track_requests,
};
use switchboard_limits::{
    BudgetedStore, MemoryLimitStore, PostgresLimitStore, PostgresStoreSettings, RedisLimitStore,
    STORE_BUDGET,
};
use switchboard_persistence::{
    Backend, Database, DatabaseError, DatabaseSettings, DieselAuditRepository,
    DieselBridgeRepository, DieselCredentialKeyRepository, DieselIdempotencyStore,
    DieselIdentityRepository, DieselProviderCatalogRepository, DieselProviderConfigRepository,
    DieselRotationRepository, DieselWebhookRepository,
};
use switchboard_verify::{HttpCredentialVerifier, InvalidBaseUrl, VerifierSettings};

use crate::cors::{CorsPolicy, InvalidOrigin};
use crate::readiness::{CredentialHealth, ServiceReadiness};
use crate::settings::{
    Loaded, Profile, RateLimitStore, RotationSettings, Settings, WebhookSettings,
};
use crate::webhooks::{DeliveryWorker, SystemTargetResolver};

/// Why the server (or the admin binary) could not start. Messages never contain key
/// material.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(
        "encryption keys (SWITCHBOARD__CRYPTO__KEYS, SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID): {0}"
    )]
    Keyring(#[from] KeyringError),
    #[error("SWITCHBOARD__AUTH__TOKEN_HMAC_KEY must be standard base64 of exactly 32 bytes")]
    TokenHmacKey,
    #[error("SWITCHBOARD__DATABASE__URL is not set (required outside the development profile)")]
    MissingDatabaseUrl,
    #[error("database: {0}")]
    Database(#[from] DatabaseError),
    #[error("{count} database migration(s) pending: run `switchboard-admin migrate` first")]
    PendingMigrations { count: usize },
    /// The SQLite file the settings name does not exist, and this command does not
    /// create databases.
    #[error(
        "no SQLite database at {path} (SWITCHBOARD__DATABASE__URL, relative to the folder \
         {cwd}): create it with `switchboard-admin migrate`, or point the setting at the \
         existing one"
    )]
    NoDatabase { path: String, cwd: String },
    /// Stored secrets are sealed under key ids the keyring lacks (ids and counts,
    /// never key bytes).
    #[error(
        "stored secrets use encryption keys that are not configured: {0}; add them to \
         SWITCHBOARD__CRYPTO__KEYS (`switchboard-admin keys status` shows every key id in use)"
    )]
    KeysNotConfigured(String),
    #[error("provider catalog: {0}")]
    Catalog(String),
    #[error("credential verification (SWITCHBOARD__VERIFY__*): {0}")]
    Verify(#[from] InvalidBaseUrl),
    #[error("development bootstrap failed: {0}")]
    Bootstrap(String),
    #[error("{0}")]
    TrustedProxies(#[from] InvalidTrustedProxy),
    /// The shared rate-limit store is misconfigured (never shows the URL).
    #[error("rate-limit store (SWITCHBOARD__RATE_LIMIT__STORE, SWITCHBOARD__REDIS__URL): {0}")]
    LimitStore(String),
    #[error("{0}")]
    Cors(#[from] InvalidOrigin),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// The wired services, shared by the HTTP server, the admin binary and tests.
#[derive(Clone)]
pub struct Services {
    pub database: Database,
    pub identity: Arc<IdentityService>,
    pub provider_configs: Arc<ProviderConfigService>,
    pub key_rotation: Arc<KeyRotationService>,
    pub bridges: Arc<BridgeService>,
    pub audit: Arc<AuditService>,
    pub idempotency: Arc<IdempotencyService>,
    pub service_accounts: Arc<ServiceAccountService>,
    pub webhooks: Arc<WebhookService>,
    /// Staged rotation (and its sweeper's step).
    pub rotations: Arc<RotationService>,
    /// Reads providers' number listings (the verification adapter's HTTP client).
    pub number_source: Arc<dyn NumberSource>,
    /// Stores imported numbers.
    pub number_store: Arc<dyn NumberImportStore>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

/// The database settings of the adapter, from the configuration.
///
/// # Errors
/// [`StartupError::MissingDatabaseUrl`] when no URL is configured.
pub fn database_settings(settings: &Settings) -> Result<DatabaseSettings, StartupError> {
    let url = settings.database.url.trim();
    if url.is_empty() {
        return Err(StartupError::MissingDatabaseUrl);
    }
    Ok(DatabaseSettings {
        url: url.to_owned(),
        pool_size: pool_size(settings),
        connect_timeout_ms: settings.database.connect_timeout_ms,
        statement_timeout_ms: settings.database.statement_timeout_ms,
        migration_url: Some(settings.database.migration_url.trim().to_owned())
            .filter(|url| !url.is_empty()),
        statement_cache: settings.database.statement_cache,
        group_commit_max: settings.database.group_commit_max,
    })
}

/// The rate-limit store of `rate_limit.store`: this process's memory, or a shared
/// store (Redis, or the service's PostgreSQL database) behind the 25 ms budget and
/// the `fail_open` policy.
///
/// # Errors
/// [`StartupError::LimitStore`] for a shared store without its URL, or a `postgres`
/// store on a SQLite database.
pub fn limit_store(settings: &Settings) -> Result<Arc<dyn LimitStore>, StartupError> {
    let rate = &settings.rate_limit;
    let store: Arc<dyn LimitStore> = match rate.store {
        RateLimitStore::Memory => Arc::new(MemoryLimitStore::new(LIMIT_STORE_MAX_ENTRIES)),
        RateLimitStore::Redis => {
            let url = settings.redis.url.expose_secret().trim();
            if url.is_empty() {
                return Err(StartupError::LimitStore(
                    "store = \"redis\" needs SWITCHBOARD__REDIS__URL".to_owned(),
                ));
            }
            let redis = RedisLimitStore::new(url, STORE_BUDGET, &rate.key_prefix)
                .map_err(|error| StartupError::LimitStore(error.to_string()))?;
            Arc::new(BudgetedStore::new(redis, rate.store.name(), rate.fail_open))
        }
        RateLimitStore::Postgres => {
            let url = settings.database.url.trim();
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
                return Err(StartupError::LimitStore(
                    "store = \"postgres\" needs a PostgreSQL database URL".to_owned(),
                ));
            }
            let postgres = PostgresLimitStore::new(&PostgresStoreSettings {
                url: url.to_owned(),
                pool_size: rate.postgres_pool_size.max(1),
                timeout: STORE_BUDGET,
                statement_cache: settings.database.statement_cache,
                key_prefix: rate.key_prefix.clone(),
            });
            Arc::new(BudgetedStore::new(
                postgres,
                rate.store.name(),
                rate.fail_open,
            ))
        }
    };
    Ok(store)
}

/// The counters this crate and the limit store record, described and at 0 before
/// their first event (so that a rate or an alert has a series): the shared limit
/// store's failures, webhook deliveries by outcome, and the rotation sweep's
/// counters. Call once the metrics recorder is installed.
fn start_counters_at_zero(settings: &Settings) {
    let store = settings.rate_limit.store;
    if store != RateLimitStore::Memory {
        metrics::describe_counter!(
            switchboard_limits::STORE_ERRORS_METRIC,
            "Calls to the shared rate-limit store that failed or took longer than its budget, by store (answered as rate_limit.fail_open says)."
        );
        metrics::counter!(switchboard_limits::STORE_ERRORS_METRIC, "store" => store.name())
            .absolute(0);
    }
    for outcome in crate::webhooks::DELIVERY_OUTCOMES {
        metrics::counter!(crate::webhooks::DELIVERIES_METRIC, "outcome" => outcome).absolute(0);
    }
    for name in [
        crate::rotation::PREVIOUS_ERASED_METRIC,
        crate::rotation::SWEEP_ERRORS_METRIC,
    ] {
        metrics::counter!(name).absolute(0);
    }
}

/// The keyring from `[crypto]`.
///
/// # Errors
/// [`StartupError::Keyring`].
pub fn keyring(settings: &Settings) -> Result<AesGcmKeyring, StartupError> {
    Ok(AesGcmKeyring::from_config(
        &settings.crypto.keys,
        settings.crypto.primary_key_id,
    )?)
}

/// The token hasher from `[auth]`.
///
/// # Errors
/// [`StartupError::TokenHmacKey`].
pub fn token_hasher(settings: &Settings) -> Result<HmacTokenHasher, StartupError> {
    parse_key_base64(settings.auth.token_hmac_key.expose_secret().trim())
        .map(HmacTokenHasher::new)
        .ok_or(StartupError::TokenHmacKey)
}

/// The credential verifier from `[verify]`.
///
/// # Errors
/// [`StartupError::Verify`] for a base URL that is not an absolute http(s) URL.
pub fn credential_verifier(settings: &Settings) -> Result<HttpCredentialVerifier, StartupError> {
    let verify = &settings.verify;
    Ok(HttpCredentialVerifier::new(VerifierSettings {
        base_urls: verify.resolved_base_urls(),
        timeout: Duration::from_millis(verify.timeout_ms.max(1)),
    })?)
}

/// Refuses a SQLite database file that does not exist (opening it would create an
/// empty one): only the development profile's server and `switchboard-admin migrate`
/// create databases. PostgreSQL databases are never created by the service.
///
/// # Errors
/// [`StartupError::NoDatabase`], naming the file and the current folder;
/// [`StartupError::MissingDatabaseUrl`].
pub fn require_existing_database(settings: &Settings) -> Result<(), StartupError> {
    let database = database_settings(settings)?;
    match database.sqlite_path() {
        Some(path) if !path.exists() => Err(StartupError::NoDatabase {
            path: path.display().to_string(),
            cwd: std::env::current_dir()
                .map_or_else(|_| "(unknown)".to_owned(), |dir| dir.display().to_string()),
        }),
        _ => Ok(()),
    }
}

/// The database URL without its password, for banners.
#[must_use]
pub fn database_for_display(settings: &Settings) -> String {
    database_settings(settings).map_or_else(
        |_| "(not configured)".to_owned(),
        |database| database.redacted_url(),
    )
}

/// Opens the database. In development pending migrations are applied (and a missing
/// SQLite file is created); in the other profiles a missing SQLite file and pending
/// migrations stop the start. Either way the provider catalog compiled into the
/// binary is written to the database.
///
/// # Errors
/// [`StartupError`].
pub fn open_database(settings: &Settings, profile: Profile) -> Result<Database, StartupError> {
    if profile != Profile::Development {
        require_existing_database(settings)?;
    }
    let database = Database::connect(&database_settings(settings)?)?;
    if profile == Profile::Development {
        let applied = database.run_pending_migrations()?;
        if !applied.is_empty() {
            tracing::info!(count = applied.len(), "applied database migrations");
        }
    } else {
        let pending = database.pending_migrations()?;
        if !pending.is_empty() {
            return Err(StartupError::PendingMigrations {
                count: pending.len(),
            });
        }
        // The provider catalog compiled into this binary (development did it with
        // the migrations).
        database.sync_builtin_catalog()?;
    }
    Ok(database)
}

/// Wires the adapters into the services. Keys are checked first, so that a missing
/// or malformed key stops the start before the database is touched.
///
/// # Errors
/// [`StartupError`].
pub fn wire(settings: &Settings, database: Database) -> Result<Services, StartupError> {
    let keyring = Arc::new(keyring(settings)?);
    let token_hasher = token_hasher(settings)?;
    let verifier = Arc::new(credential_verifier(settings)?);
    let clock = Arc::new(SystemClock);
    let identity_repository = Arc::new(DieselIdentityRepository::new(database.clone()));
    let identity = IdentityService::new(
        identity_repository.clone(),
        Arc::new(token_hasher),
        Arc::new(RandomTokenGenerator),
        // Argon2id on its own low-priority threads (see switchboard_crypto::hash_pool).
        Arc::new(PooledPasswordHasher::new(
            Argon2PasswordHasher::default(),
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        )),
        clock.clone(),
    );
    let configs = Arc::new(DieselProviderConfigRepository::new(database.clone()));
    let provider_configs = ProviderConfigService::new(
        &DieselProviderCatalogRepository::new(database.clone()),
        configs.clone(),
        keyring.clone(),
        clock.clone(),
    )
    .map_err(|error| StartupError::Catalog(error.to_string()))?
    .with_verifier(verifier.clone());
    let audit = AuditService::new(
        Arc::new(DieselAuditRepository::new(database.clone())),
        configs,
    );
    let webhooks = WebhookService::new(
        Arc::new(DieselWebhookRepository::new(database.clone())),
        keyring.clone(),
        Arc::new(StandardWebhookSigner),
        Arc::new(SystemTargetResolver),
        clock.clone(),
        settings.webhooks.allow_private_targets,
    );
    let key_rotation = KeyRotationService::new(
        Arc::new(DieselCredentialKeyRepository::new(database.clone())),
        keyring,
    );
    let bridge_repository = Arc::new(DieselBridgeRepository::new(database.clone()));
    let bridges = BridgeService::new(bridge_repository.clone(), clock.clone());
    let idempotency = IdempotencyService::new(
        Arc::new(DieselIdempotencyStore::new(database.clone())),
        clock,
    );
    let identity = Arc::new(identity);
    let service_accounts = ServiceAccountService::new(identity_repository, identity.clone());
    let provider_configs = Arc::new(provider_configs);
    let rotations = RotationService::new(
        provider_configs.clone(),
        Arc::new(DieselRotationRepository::new(database.clone())),
    );
    Ok(Services {
        rotations: Arc::new(rotations),
        number_source: verifier,
        number_store: bridge_repository,
        database,
        service_accounts: Arc::new(service_accounts),
        identity,
        provider_configs,
        key_rotation: Arc::new(key_rotation),
        bridges: Arc::new(bridges),
        audit: Arc::new(audit),
        idempotency: Arc::new(idempotency),
        webhooks: Arc::new(webhooks),
    })
}

/// Checks keys, then opens the database and wires the services.
///
/// # Errors
/// [`StartupError`].
pub fn services(loaded: &Loaded) -> Result<Services, StartupError> {
    keyring(&loaded.settings)?;
    token_hasher(&loaded.settings)?;
    let database = open_database(&loaded.settings, loaded.profile)?;
    wire(&loaded.settings, database)
}

/// Connections of the read pool (all connections on PostgreSQL): `pool_size`, or
/// when it is 0 (the default) twice the CPU cores the process may use, at least 4.
/// More connections than that only add contention: on 2 cores 4 connections served
/// as many requests as 8, with half the p99 latency (docs/performance.md).
#[must_use]
pub fn pool_size(settings: &Settings) -> u32 {
    match settings.database.pool_size {
        0 => {
            let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
            u32::try_from(cores.saturating_mul(2))
                .unwrap_or(u32::MAX)
                .max(4)
        }
        size => size,
    }
}

/// Blocking threads per HTTP worker: the database's connections shared out over the
/// workers (at least two each). Requests then wait for a connection in the blocking
/// pool's FIFO queue instead of racing for one inside r2d2, where at 32 concurrent
/// requests some lost the race for hundreds of milliseconds (docs/performance.md).
fn blocking_threads_per_worker(settings: &Settings, backend: Backend) -> usize {
    let workers = if settings.server.workers > 0 {
        settings.server.workers
    } else {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    };
    // SQLite has one writer connection besides the read pool.
    let writers = usize::from(backend == Backend::Sqlite);
    let connections = usize::try_from(pool_size(settings)).unwrap_or(1) + writers;
    connections.div_ceil(workers.max(1)).max(2)
}

/// Most rate-limit buckets the in-process store keeps (about 40 MB at the longest
/// keys); past it new buckets are refused with 503 rather than memory growing.
const LIMIT_STORE_MAX_ENTRIES: usize = 100_000;

/// The HTTP crate's read sessions, over the database.
#[derive(Debug)]
struct DatabaseReadSessions(Database);

impl ReadSessions for DatabaseReadSessions {
    fn run(&self, work: &mut dyn FnMut()) {
        self.0.read_session(work);
    }
}

/// A bound, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
    /// The listener of `GET /metrics` when `metrics.address` is set, and its port.
    metrics_server: Option<(Server, u16)>,
    services: Services,
    first_token: Option<ApiToken>,
    /// The delivery worker's settings, when this process runs one.
    webhook_worker: Option<WebhookSettings>,
    /// The rotation sweeper's settings, when this process runs one.
    rotation_sweeper: Option<RotationSettings>,
    first_console_link: Option<ApiToken>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Wires everything and binds the listener (port 0 picks a free port).
    ///
    /// # Errors
    /// [`StartupError`]; nothing is bound when it fails.
    pub fn build(loaded: &Loaded) -> Result<Self, StartupError> {
        let services = services(loaded)?;
        // Secrets under a key that is not configured fail every use: production and
        // test refuse to start; development starts, and readiness says why it is not
        // ready.
        let coverage = services
            .key_rotation
            .coverage()
            .map_err(DatabaseError::from)?;
        if !coverage.is_complete() {
            if loaded.profile == Profile::Development {
                tracing::warn!(
                    missing = %coverage.describe_missing(),
                    "stored secrets use encryption keys that are not configured: /health/ready \
                     answers 503 until they are"
                );
            } else {
                return Err(StartupError::KeysNotConfigured(coverage.describe_missing()));
            }
        }
        let first_token = if loaded.profile == Profile::Development {
            services
                .identity
                .bootstrap_first_owner()
                .map_err(|error| StartupError::Bootstrap(error.to_string()))?
        } else {
            None
        };
        // Beside the first token, a one-time console sign-in link for its owner.
        let first_console_link = match &first_token {
            Some(_) => Some(
                services
                    .identity
                    .issue_console_link(BOOTSTRAP_OWNER_EMAIL)
                    .map_err(|error| StartupError::Bootstrap(error.to_string()))?,
            ),
            None => None,
        };
        let mut app = Self::serve(&loaded.settings, services, first_token)?;
        app.first_console_link = first_console_link;
        Ok(app)
    }

    /// Binds a server over already wired services.
    ///
    /// # Errors
    /// [`StartupError::TrustedProxies`] for a malformed proxy entry,
    /// [`StartupError::Bind`].
    pub fn serve(
        settings: &Settings,
        services: Services,
        first_token: Option<ApiToken>,
    ) -> Result<Self, StartupError> {
        let trusted_proxies = TrustedProxies::parse(&settings.server.trusted_proxies)?;
        let cors = CorsPolicy::from_settings(&settings.cors)?;
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let bind_error = |source| StartupError::Bind {
            address: address.clone(),
            source,
        };
        // The dummy hash that unknown-email logins check against, computed once,
        // before the port opens.
        services.identity.warm_up();
        let listener = TcpListener::bind(&address).map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();
        // Key coverage is one counting query; the opening of every stored secret runs
        // on a thread of its own and shows in readiness when done.
        let coverage = services.key_rotation.coverage().unwrap_or_else(|error| {
            tracing::warn!(%error, "could not count stored secrets per key");
            switchboard_application::key_rotation::KeyCoverage::default()
        });
        let credentials = CredentialHealth::new(services.key_rotation.clone(), &coverage);
        credentials.refresh_in_background();
        let database = Arc::new(ServiceReadiness::new(
            services.database.clone(),
            credentials,
        ));
        let metrics = match prometheus() {
            Ok(handle) => {
                start_counters_at_zero(settings);
                Some(handle)
            }
            Err(error) => {
                tracing::warn!(%error, "metrics are off");
                None
            }
        };
        // With an address of their own, metrics are served there only.
        let metrics_address = settings.metrics.address.trim();
        let (api_metrics, metrics_listener) = if metrics_address.is_empty() {
            (metrics, None)
        } else {
            let listener =
                TcpListener::bind(metrics_address).map_err(|source| StartupError::Bind {
                    address: metrics_address.to_owned(),
                    source,
                })?;
            (None, Some((listener, metrics)))
        };
        let limits = limit_store(settings)?;
        let rate = &settings.rate_limit;
        let credential_use = Arc::new(
            CredentialUseService::new(
                services.provider_configs.clone(),
                services.audit.clone(),
                Arc::new(SecretUseLimits::new(
                    limits.clone(),
                    Policy::per_second(
                        "secret_use",
                        rate.secret_use_per_second,
                        rate.secret_use_burst,
                    ),
                )),
                Arc::new(ProviderSignatures),
                Arc::new(ProviderSignatures),
                Arc::new(SystemClock),
            )
            .with_rotations(services.rotations.clone()),
        );
        let state = web::Data::new(AppState {
            identity: services.identity.clone(),
            provider_configs: services.provider_configs.clone(),
            bridges: services.bridges.clone(),
            audit: services.audit.clone(),
            idempotency: services.idempotency.clone(),
            service_accounts: services.service_accounts.clone(),
            credential_use: credential_use.clone(),
            rotations: services.rotations.clone(),
            number_import: Arc::new(NumberImportService::new(
                services.provider_configs.clone(),
                credential_use,
                services.number_source.clone(),
                services.number_store.clone(),
                Arc::new(SystemClock),
            )),
            webhooks: services.webhooks.clone(),
            readiness: database.clone(),
            pool_gauges: database,
            read_sessions: Arc::new(DatabaseReadSessions(services.database.clone())),
            body_limit_bytes: settings.server.body_limit_bytes,
            body_timeout: Duration::from_millis(settings.server.body_timeout_ms.max(1)),
            request_limits: Arc::new(RequestLimits::new(
                limits.clone(),
                Policy::per_second("token", rate.per_second, rate.burst),
                Policy::per_second("user", rate.per_user_per_second, rate.per_user_burst),
            )),
            login_throttle: Arc::new(LoginThrottle::new(
                limits,
                settings.auth.login_email_failures_per_minute,
                settings.auth.login_address_failures_per_minute,
            )),
            trusted_proxies,
            // Reads on the HTTP workers only where they wait for no one: SQLite in WAL
            // mode, and the rate limits in this process (a shared store is a round
            // trip on the network).
            reads_inline: services.database.backend() == Backend::Sqlite
                && rate.store == RateLimitStore::Memory,
            login_token_ttl_days: Some(settings.auth.login_token_ttl_days).filter(|days| *days > 0),
            metrics: api_metrics,
            openapi: openapi_document(services.provider_configs.catalog()),
        });
        let metrics_server = match metrics_listener {
            None => None,
            Some((listener, handle)) => {
                let metrics_bind = |source| StartupError::Bind {
                    address: metrics_address.to_owned(),
                    source,
                };
                let port = listener.local_addr().map_err(metrics_bind)?.port();
                let metrics_state = web::Data::new(AppState {
                    metrics: handle,
                    ..state.get_ref().clone()
                });
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(metrics_state.clone())
                        .route("/metrics", web::get().to(metrics_endpoint))
                })
                .workers(1)
                .shutdown_timeout(1)
                .listen(listener)
                .map_err(metrics_bind)?
                .run();
                Some((server, port))
            }
        };

        let console = ConsoleConfig::new(
            settings.console.secure_cookies,
            settings.console.idle_timeout_minutes,
            settings.console.session_hours,
        );
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .configure(switchboard_console::configure(console))
                .configure(configure)
                .wrap(from_fn(track_requests))
                .wrap(from_fn(request_id_middleware))
                .wrap(from_fn(normalize_path))
                // Outermost: a preflight is answered before anything else runs.
                .wrap(Condition::new(cors.enabled(), cors.middleware()))
        })
        .client_request_timeout(Duration::from_millis(settings.server.request_timeout_ms))
        .shutdown_timeout(settings.server.shutdown_timeout_s);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        server = server.worker_max_blocking_threads(blocking_threads_per_worker(
            settings,
            services.database.backend(),
        ));
        let server = server.listen(listener).map_err(bind_error)?.run();
        Ok(Self {
            port,
            server,
            metrics_server,
            services,
            first_token,
            webhook_worker: settings.webhooks.worker.then(|| settings.webhooks.clone()),
            rotation_sweeper: settings.rotation.sweeper.then(|| settings.rotation.clone()),
            first_console_link: None,
        })
    }

    /// The bound port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the metrics listener, when `metrics.address` is set.
    #[must_use]
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(_, port)| *port)
    }

    /// The wired services (tests use them to set up users and organizations).
    #[must_use]
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Takes the development bootstrap's first token (present only on the very
    /// first start of the development profile).
    pub fn take_first_token(&mut self) -> Option<ApiToken> {
        self.first_token.take()
    }

    /// Takes the development bootstrap's one-time console sign-in link token
    /// (present only beside [`Self::take_first_token`]'s token); the link is
    /// `switchboard_console::sign_in_link_path(token)` on this server.
    pub fn take_first_console_link(&mut self) -> Option<ApiToken> {
        self.first_console_link.take()
    }

    /// A handle that stops the server.
    #[must_use]
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM/SIGINT (graceful: in-flight requests finish).
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics_server.map(|(server, _)| {
            let handle = server.handle();
            actix_web::rt::spawn(server);
            handle
        });
        let worker = match self.webhook_worker.as_ref() {
            Some(settings) => match DeliveryWorker::new(self.services.webhooks.clone(), settings) {
                Ok(worker) => Some(tokio::spawn(worker.run())),
                Err(error) => {
                    tracing::error!(%error, "the webhook delivery worker could not start");
                    None
                }
            },
            None => None,
        };
        let sweeper = self.rotation_sweeper.as_ref().map(|settings| {
            tokio::spawn(crate::rotation::sweep_forever(
                self.services.rotations.clone(),
                Duration::from_secs(settings.sweep_interval_s.max(1)),
            ))
        });
        let outcome = self.server.await;
        if let Some(worker) = worker {
            worker.abort();
        }
        if let Some(sweeper) = sweeper {
            sweeper.abort();
        }
        if let Some(metrics) = metrics {
            metrics.stop(true).await;
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Profile;

    #[test]
    fn the_pool_is_sized_to_the_cores_unless_set() {
        let mut settings = Settings::load(Profile::Test)
            .expect("test settings")
            .settings;
        settings.database.pool_size = 0;
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        let automatic = pool_size(&settings);
        assert_eq!(
            usize::try_from(automatic).expect("small"),
            (2 * cores).max(4)
        );
        settings.database.pool_size = 3;
        assert_eq!(pool_size(&settings), 3);
        settings.database.url = "sqlite://switchboard.db".into();
        assert_eq!(database_settings(&settings).expect("url").pool_size, 3);
    }

    #[test]
    fn the_verifier_takes_the_base_url_map_before_the_older_names() {
        let mut settings = Settings::load(Profile::Test)
            .expect("test settings")
            .settings;
        assert!(credential_verifier(&settings).is_ok());
        // An older name that is not a URL is refused...
        settings.verify.twilio_base_url = "not a url".into();
        match credential_verifier(&settings) {
            Err(StartupError::Verify(error)) => assert_eq!(error.provider, "twilio"),
            other => panic!("expected a refused base URL, got {other:?}"),
        }
        // ...unless the map names twilio's base URL, which wins.
        settings
            .verify
            .base_urls
            .insert("twilio".into(), "http://127.0.0.1:9".into());
        assert!(credential_verifier(&settings).is_ok());
        // A map entry is checked like the older names.
        settings
            .verify
            .base_urls
            .insert("exotel".into(), "ftp://example.com".into());
        match credential_verifier(&settings) {
            Err(StartupError::Verify(error)) => assert_eq!(error.provider, "exotel"),
            other => panic!("expected a refused base URL, got {other:?}"),
        }
    }
}
