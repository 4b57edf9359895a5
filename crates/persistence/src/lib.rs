//! Switchboard's persistence adapter: Diesel over SQLite and PostgreSQL through one
//! code path (a `MultiConnection` enum and one portable schema), r2d2 pools, and the
//! embedded migrations of both backends.
//!
//! It implements the domain's repository ports and knows nothing of HTTP, of
//! configuration files or of cryptography: credentials arrive sealed and leave sealed.
//! Every call blocks; callers run them on a blocking thread pool, except SQLite reads,
//! which never wait for the writer in WAL mode and which the HTTP adapter may run on
//! its workers. [`Database::read_session`] gives the reads of one trip one connection
//! (on PostgreSQL one read-only transaction).

mod audit;
mod bridges;
mod connection;
mod connection_health;
mod database;
mod error;
mod events;
mod group_commit;
mod idempotency;
mod identity;
mod key_rotation;
mod number_import;
mod pool;
mod rotation;
mod schema;
mod service_accounts;
mod statement_timeout;
mod storage;
mod telephony;
mod time;
mod transaction;
mod transport;

pub use audit::DieselAuditRepository;
pub use bridges::DieselBridgeRepository;
pub use database::{Backend, DEFAULT_GROUP_COMMIT_MAX, Database, DatabaseSettings, PoolUsage};
pub use error::DatabaseError;
pub use events::DieselWebhookRepository;
pub use group_commit::GroupCommitStats;
pub use idempotency::DieselIdempotencyStore;
pub use identity::DieselIdentityRepository;
pub use key_rotation::DieselCredentialKeyRepository;
pub use rotation::DieselRotationRepository;
pub use telephony::{DieselProviderCatalogRepository, DieselProviderConfigRepository};
pub use transport::{PostgresTransport, postgres_transport};
