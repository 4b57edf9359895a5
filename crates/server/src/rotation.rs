//! The staged-rotation sweeper that runs inside the server: every interval it erases
//! the previous credential versions whose overlap ended
//! (`RotationService::sweep`: one `DELETE ... WHERE expires_at <= now`, then a WAL
//! checkpoint on SQLite or `VACUUM credential_versions` on PostgreSQL when it erased
//! something). Several replicas may run it at once: each expired version is deleted,
//! and its `previous_expired` event recorded, by exactly one of them. Reads treat an
//! expired version as gone before the sweeper gets to it, so the interval bounds how
//! long its ciphertext stays on disk, not how long it stays valid.

use std::sync::Arc;
use std::time::Duration;

use switchboard_application::RotationService;

/// Previous credential versions the sweeper erased.
pub(crate) const PREVIOUS_ERASED_METRIC: &str = "switchboard_rotation_previous_erased_total";
/// Sweeps that failed.
pub(crate) const SWEEP_ERRORS_METRIC: &str = "switchboard_rotation_sweep_errors_total";

/// Sweeps every `interval` until the task is aborted. A failed sweep is logged and
/// counted; the next interval tries again.
pub async fn sweep_forever(service: Arc<RotationService>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let service = service.clone();
        match tokio::task::spawn_blocking(move || service.sweep()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(erased)) => {
                tracing::info!(erased, "erased expired previous credential versions");
                metrics::counter!(PREVIOUS_ERASED_METRIC)
                    .increment(u64::try_from(erased).unwrap_or(u64::MAX));
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "sweeping expired previous credential versions failed");
                metrics::counter!(SWEEP_ERRORS_METRIC).increment(1);
            }
            Err(error) => {
                tracing::warn!(%error, "the rotation sweep task failed");
                metrics::counter!(SWEEP_ERRORS_METRIC).increment(1);
            }
        }
    }
}
