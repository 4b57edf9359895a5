//! Buckets in Redis, shared by every replica: one Lua script per check
//! (`EVALSHA`, loaded again after a Redis restart) takes the GCRA step atomically on
//! Redis's own clock (`TIME`), so that the replicas' clocks never matter. A bucket is
//! one string (its TAT in microseconds since the Unix epoch) that expires once it
//! would be full again.
//!
//! Connections are plain synchronous ones (checks run on the blocking pool already),
//! kept in a small idle list; every operation has the store's time budget as its
//! connect, read and write timeout, and a connection that failed is dropped.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use switchboard_domain::limits::{Decision, LimitStore, LimitStoreError, Policy};

use crate::shared::{self, DEFAULT_KEY_PREFIX, interval_micros};

/// Idle connections kept for the next checks.
const MAX_IDLE: usize = 32;

/// The GCRA step of [`switchboard_domain::limits::gcra`] in integer microseconds.
/// KEYS[1] the bucket; ARGV interval (µs), burst, cost. Returns {previous TAT or -1,
/// now}. Lua numbers are doubles: integers up to 2^53 (about 285 years of
/// microseconds) are exact, and the TAT is written with `%.0f` so that it is not
/// rounded to 14 digits.
const SCRIPT: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local stored = redis.call('GET', KEYS[1])
local previous = -1
local tat = now
if stored then
  previous = tonumber(stored)
  if previous > tat then tat = previous end
end
if cost == 0 then
  return {previous, now}
end
local new_tat = tat
if cost < 0 then
  new_tat = tat + interval * cost
  if new_tat < now then new_tat = now end
else
  local candidate = tat + interval * cost
  if now >= candidate - interval * burst then new_tat = candidate end
end
if new_tat > now then
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
else
  redis.call('DEL', KEYS[1])
end
return {previous, now}
";

/// Buckets in Redis (see the module).
pub struct RedisLimitStore {
    client: redis::Client,
    idle: Mutex<Vec<redis::Connection>>,
    timeout: Duration,
    prefix: String,
    script: redis::Script,
}

impl std::fmt::Debug for RedisLimitStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: never shown.
        f.debug_struct("RedisLimitStore")
            .field("timeout", &self.timeout)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn unavailable(error: &redis::RedisError) -> LimitStoreError {
    LimitStoreError::Unavailable(format!("redis: {:?}", error.kind()))
}

impl RedisLimitStore {
    /// A store on the Redis at `url` (`redis://host:port/db`), whose operations give
    /// up after `timeout`, with keys under `prefix` (empty: [`DEFAULT_KEY_PREFIX`]).
    /// No connection is opened here.
    ///
    /// # Errors
    /// [`LimitStoreError::Unavailable`] for a URL that is not a Redis URL.
    pub fn new(url: &str, timeout: Duration, prefix: &str) -> Result<Self, LimitStoreError> {
        let client = redis::Client::open(url)
            .map_err(|_| LimitStoreError::Unavailable("the Redis URL is not valid".to_owned()))?;
        Ok(Self {
            client,
            idle: Mutex::default(),
            timeout: timeout.max(Duration::from_millis(1)),
            prefix: if prefix.is_empty() {
                DEFAULT_KEY_PREFIX.to_owned()
            } else {
                prefix.to_owned()
            },
            script: redis::Script::new(SCRIPT),
        })
    }

    fn connection(&self) -> Result<redis::Connection, redis::RedisError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        if let Some(connection) = idle {
            return Ok(connection);
        }
        let connection = self.client.get_connection_with_timeout(self.timeout)?;
        connection.set_read_timeout(Some(self.timeout))?;
        connection.set_write_timeout(Some(self.timeout))?;
        Ok(connection)
    }

    fn give_back(&self, connection: redis::Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
    }

    /// The store's answer for one step: (previous TAT or -1, now).
    fn step(&self, key: &str, policy: &Policy, cost: i64) -> Result<(i64, i64), redis::RedisError> {
        let mut connection = self.connection()?;
        let answer = self
            .script
            .key(key)
            .arg(interval_micros(policy))
            .arg(policy.burst())
            .arg(cost)
            .invoke::<(i64, i64)>(&mut connection);
        // A connection that failed (timed out, reset) may hold a late answer: dropped.
        if answer.is_ok() {
            self.give_back(connection);
        }
        answer
    }
}

impl LimitStore for RedisLimitStore {
    fn check(
        &self,
        policy: &Policy,
        subject: &str,
        cost: i64,
    ) -> Result<Decision, LimitStoreError> {
        let key = shared::key(&self.prefix, policy, subject);
        let (previous, now) = self
            .step(&key, policy, cost)
            .map_err(|error| unavailable(&error))?;
        shared::decision(policy, (previous >= 0).then_some(previous), now, cost)
    }
}
