//! Rate-limit stores: adapters of the domain's [`LimitStore`] port. The GCRA
//! arithmetic is the domain's ([`switchboard_domain::limits::gcra`]); a store only
//! keeps each bucket's time and applies a step atomically.
//!
//! - [`MemoryLimitStore`] keeps buckets in the process (each replica limits on its
//!   own): the default, and the only one that needs nothing else.
//! - [`RedisLimitStore`] and [`PostgresLimitStore`] keep them where every replica
//!   sees them, on the store's own clock ([`shared`]), so that limits hold across
//!   replicas.
//! - [`BudgetedStore`] wraps a shared store: a store that does not answer within its
//!   budget lets the request through (counted, warned once a minute) or refuses it.
//!
//! [`LimitStore`]: switchboard_domain::limits::LimitStore

mod budget;
mod memory;
mod postgres_store;
mod redis_store;
pub mod shared;

pub use budget::{BudgetedStore, STORE_BUDGET, STORE_ERRORS_METRIC};
pub use memory::{MemoryLimitStore, MonotonicTime};
pub use postgres_store::{PostgresLimitStore, PostgresStoreSettings};
pub use redis_store::RedisLimitStore;
