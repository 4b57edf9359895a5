//! Switchboard's use cases: one service per context, written against the domain's
//! ports only. The HTTP and admin adapters call these services; the services know
//! nothing about HTTP, SQL or the cipher in use.
//!
//! Services are synchronous (the storage port is), so async callers run them on a
//! blocking pool.

pub mod audit;
pub mod bridges;
pub mod credential_use;
pub mod idempotency;
pub mod identity;
pub mod key_rotation;
pub mod limits;
pub mod number_import;
pub mod rotation;
pub mod service_accounts;
pub mod telephony;
pub mod webhooks;

pub use audit::AuditService;
pub use bridges::BridgeService;
pub use credential_use::CredentialUseService;
pub use idempotency::IdempotencyService;
pub use identity::{Actor, IdentityService};
pub use number_import::NumberImportService;
pub use rotation::RotationService;
pub use service_accounts::ServiceAccountService;
pub use telephony::{ProviderConfigService, WriteOptions};
pub use webhooks::WebhookService;
