//! Shared state of the HTTP adapter: the application services and the settings the
//! handlers need.

use std::sync::Arc;

use switchboard_application::{
    AuditService, BridgeService, IdempotencyService, IdentityService, ProviderConfigService,
};

use crate::ReadinessProbe;
use crate::login_throttle::LoginThrottle;
use crate::rate_limit::TokenRateLimiter;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub identity: Arc<IdentityService>,
    pub provider_configs: Arc<ProviderConfigService>,
    pub bridges: Arc<BridgeService>,
    pub audit: Arc<AuditService>,
    pub idempotency: Arc<IdempotencyService>,
    pub readiness: Arc<dyn ReadinessProbe>,
    /// Largest accepted request body in bytes (larger is 413).
    pub body_limit_bytes: usize,
    /// Per-token request limits.
    pub rate_limiter: Arc<TokenRateLimiter>,
    /// Failed-login limits per email and per client address.
    pub login_throttle: Arc<LoginThrottle>,
    /// Bounds concurrent password hashes (Argon2id is memory- and CPU-hungry).
    pub password_hash_permits: Arc<tokio::sync::Semaphore>,
    /// Lifetime of tokens issued by a login, in days (`None`: no expiry).
    pub login_token_ttl_days: Option<u32>,
    /// The Prometheus recorder (`None`: `/metrics` is off).
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Connection pool usage for `/metrics`.
    pub pool_gauges: Arc<dyn crate::metrics::PoolGauges>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("body_limit_bytes", &self.body_limit_bytes)
            .finish_non_exhaustive()
    }
}
