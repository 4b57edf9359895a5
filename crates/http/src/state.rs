//! Shared state of the HTTP adapter: the application services and the settings the
//! handlers need.

use std::sync::Arc;

use switchboard_application::{
    AuditService, IdempotencyService, IdentityService, ProviderConfigService,
};

use crate::ReadinessProbe;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub identity: Arc<IdentityService>,
    pub provider_configs: Arc<ProviderConfigService>,
    pub audit: Arc<AuditService>,
    pub idempotency: Arc<IdempotencyService>,
    pub readiness: Arc<dyn ReadinessProbe>,
    /// Largest accepted request body in bytes (larger is 413).
    pub body_limit_bytes: usize,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("body_limit_bytes", &self.body_limit_bytes)
            .finish_non_exhaustive()
    }
}
