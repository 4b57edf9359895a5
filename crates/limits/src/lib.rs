//! Rate-limit stores: adapters of the domain's [`LimitStore`] port. The GCRA
//! arithmetic is the domain's ([`switchboard_domain::limits::gcra`]); a store only
//! keeps each bucket's time and applies a step atomically.
//!
//! [`MemoryLimitStore`] keeps buckets in the process (each replica limits on its
//! own); shared stores (Redis, PostgreSQL) will live beside it.
//!
//! [`LimitStore`]: switchboard_domain::limits::LimitStore

mod memory;

pub use memory::{MemoryLimitStore, MonotonicTime};
