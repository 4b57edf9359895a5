//! Shared state of the HTTP adapter: the application services, the limits, the
//! settings the handlers need, the OpenAPI document built at start, and the two
//! ports the composition root implements over the database (readiness and pool
//! usage).

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use switchboard_application::limits::{LoginThrottle, RequestLimits};
use switchboard_application::{
    AuditService, BridgeService, CredentialUseService, IdempotencyService, IdentityService,
    NumberImportService, ProviderConfigService, RotationService, ServiceAccountService,
    WebhookService,
};

use crate::wire::forwarded::TrustedProxies;

/// What a readiness check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The database answered a trivial query.
    pub database_ok: bool,
    /// Number of migrations not yet applied (`None` when unknown).
    pub pending_migrations: Option<usize>,
    /// Writes fail for lack of storage (a full disk).
    pub writes_failing: bool,
    /// Key ids used by stored secrets that are not configured, with their counts.
    pub missing_keys: Vec<(u32, u64)>,
    /// Stored secrets that do not open (`None` until first counted).
    pub unreadable_credentials: Option<u64>,
}

/// The readiness check, implemented by the composition root over the database.
pub trait ReadinessProbe: Send + Sync {
    /// Checks the database and the migrations; blocking.
    fn check(&self) -> Readiness;
}

/// The state of one connection pool, as the composition root reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGauge {
    pub pool: &'static str,
    pub max_size: u32,
    pub in_use: u32,
    pub idle: u32,
}

/// What SQLite's group commit has done since the start: commits, and the write
/// transactions they committed (their ratio is the writes per commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupCommitCounts {
    pub commits: u64,
    pub writes: u64,
}

/// Where pool usage comes from (implemented over the database by the server).
pub trait PoolGauges: Send + Sync {
    /// The current usage of every pool.
    fn pools(&self) -> Vec<PoolGauge>;

    /// SQLite's group commit so far (`None` on PostgreSQL).
    fn group_commits(&self) -> Option<GroupCommitCounts> {
        None
    }
}

/// One read session for a trip's reads, implemented over the database by the
/// composition root: authorization and the handler's read use one connection and,
/// on PostgreSQL, one read-only transaction (one snapshot, and two round trips fewer).
pub trait ReadSessions: Send + Sync {
    /// Runs `work` (once) inside one read session.
    fn run(&self, work: &mut dyn FnMut());
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub identity: Arc<IdentityService>,
    pub provider_configs: Arc<ProviderConfigService>,
    pub bridges: Arc<BridgeService>,
    pub audit: Arc<AuditService>,
    pub idempotency: Arc<IdempotencyService>,
    pub service_accounts: Arc<ServiceAccountService>,
    /// Reveal and the uses of secrets without revealing them.
    pub credential_use: Arc<CredentialUseService>,
    /// Staged rotation of configurations' credentials.
    pub rotations: Arc<RotationService>,
    /// Number import from providers' accounts.
    pub number_import: Arc<NumberImportService>,
    /// Webhook endpoints, deliveries and the events feed.
    pub webhooks: Arc<WebhookService>,
    pub readiness: Arc<dyn ReadinessProbe>,
    /// Largest accepted request body in bytes (larger is 413).
    pub body_limit_bytes: usize,
    /// Time a whole request body may take to arrive (longer is 408).
    pub body_timeout: Duration,
    /// Per-token and per-user request limits.
    pub request_limits: Arc<RequestLimits>,
    /// Failed-login limits per email and per client address.
    pub login_throttle: Arc<LoginThrottle>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Lifetime of tokens issued by a login, in days (`None`: no expiry).
    pub login_token_ttl_days: Option<u32>,
    /// The Prometheus recorder (`None`: `/metrics` is off).
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Connection pool usage for `/metrics`.
    pub pool_gauges: Arc<dyn PoolGauges>,
    /// Authorization and the hot reads (one configuration, a page of them) run on
    /// the HTTP worker instead of the blocking pool ([`crate::wire::error::reading`]).
    /// The composition root sets it only where that never waits on the network or
    /// on another writer: a SQLite database (in WAL mode a read never waits for the
    /// writer) with the rate-limit store in this process's memory.
    pub reads_inline: bool,
    /// Read sessions for the one-trip reads.
    pub read_sessions: Arc<dyn ReadSessions>,
    /// The OpenAPI document, serialized once at start
    /// ([`crate::openapi_document`]).
    pub openapi: Bytes,
}

impl AppState {
    /// Runs `work` inside one read session ([`ReadSessions`]); `None` only if the
    /// session did not run it.
    pub(crate) fn in_read_session<T>(&self, work: impl FnOnce() -> T) -> Option<T> {
        let mut work = Some(work);
        let mut outcome = None;
        self.read_sessions.run(&mut || {
            if let Some(work) = work.take() {
                outcome = Some(work());
            }
        });
        outcome
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("body_timeout", &self.body_timeout)
            .finish_non_exhaustive()
    }
}
