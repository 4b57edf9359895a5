//! The webhook delivery worker that runs inside the server, and the resolvers that
//! keep deliveries away from private targets.
//!
//! The worker polls the database (no LISTEN/NOTIFY, no session locks): it leases
//! endpoints with due deliveries (`WebhookService::claim`; several replicas share
//! the work, each endpoint held by one at a time), sends each due delivery in commit
//! order as the Standard Webhooks specification says (`webhook-id` = the event id,
//! the same on every retry; `webhook-timestamp`; `webhook-signature` with one `v1,`
//! signature per live secret), and records the outcome: a 2xx within the timeout is
//! success; `410 Gone` kills the delivery and disables the endpoint; anything else
//! is retried on the schedule with jitter (`Retry-After` may lengthen the wait),
//! then the delivery is dead. Redirects are not followed.
//!
//! Private targets: unless `allow_private_targets`, the HTTP client resolves names
//! through [`GuardedResolver`], which drops every address in a refused range
//! (`switchboard_domain::webhooks::target`), so a name that resolves to loopback
//! fails to connect; a literal address in a refused range is refused before any
//! connection. Endpoint URLs are checked the same way when they are set
//! ([`SystemTargetResolver`]).

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use switchboard_application::WebhookService;
use switchboard_application::webhooks::TargetResolver;
use switchboard_domain::webhooks::retry::{NextAttempt, next_attempt};
use switchboard_domain::webhooks::target::is_refused_address;
use switchboard_domain::webhooks::{AttemptOutcome, ClaimedEndpoint, DeliveryStatus, DueDelivery};

use crate::settings::WebhookSettings;

/// Endpoints one poll leases at most.
const ENDPOINTS_PER_CLAIM: i64 = 16;
/// Deliveries of one endpoint sent per lease at most.
const DELIVERIES_PER_ENDPOINT: i64 = 20;
/// How often queue figures are refreshed for `/metrics`.
const STATS_INTERVAL: Duration = Duration::from_secs(5);

/// Resolution for the endpoint checks of the application (the system resolver).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemTargetResolver;

impl TargetResolver for SystemTargetResolver {
    fn resolve(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, String> {
        (host, port)
            .to_socket_addrs()
            .map(|addresses| addresses.map(|address| address.ip()).collect())
            .map_err(|error| error.kind().to_string())
    }
}

/// The delivery client's resolver: the system's answer without refused addresses
/// (see the module).
#[derive(Debug, Clone, Copy)]
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .into_iter()
                .filter(|address| allow_private || !is_refused_address(address.ip()))
                .collect();
            if kept.is_empty() {
                return Err(Box::new(std::io::Error::other(
                    "the target resolves only to refused addresses",
                ))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// Why a target was not called.
fn literal_target_refused(url: &str, allow_private: bool) -> bool {
    if allow_private {
        return false;
    }
    match reqwest::Url::parse(url) {
        Ok(parsed) => match parsed.host() {
            Some(url::Host::Ipv4(v4)) => is_refused_address(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => is_refused_address(IpAddr::V6(v6)),
            Some(url::Host::Domain(_)) => false,
            None => true,
        },
        Err(_) => true,
    }
}

/// The worker.
pub struct DeliveryWorker {
    service: Arc<WebhookService>,
    client: reqwest::Client,
    settings: WebhookSettings,
    id: String,
}

impl std::fmt::Debug for DeliveryWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryWorker")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What one HTTP attempt came to.
struct Sent {
    status: Option<u16>,
    retry_after: Option<Duration>,
    error: Option<&'static str>,
}

impl DeliveryWorker {
    /// A worker over `service`.
    ///
    /// # Errors
    /// The HTTP client's error when it cannot be built.
    pub fn new(service: Arc<WebhookService>, settings: &WebhookSettings) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms.max(1)))
            .connect_timeout(Duration::from_millis(settings.timeout_ms.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Switchboard-Webhooks/1")
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: settings.allow_private_targets,
            }))
            .build()
            .map_err(|error| error.to_string())?;
        Ok(Self {
            service,
            client,
            settings: settings.clone(),
            id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
        })
    }

    /// Polls and delivers until the task is dropped.
    pub async fn run(self) {
        let worker = Arc::new(self);
        let poll = Duration::from_millis(worker.settings.poll_interval_ms.max(10));
        let mut last_stats: Option<Instant> = None;
        loop {
            if last_stats.is_none_or(|at| at.elapsed() >= STATS_INTERVAL) {
                last_stats = Some(Instant::now());
                worker.refresh_stats().await;
            }
            let delivered = worker.poll_once().await;
            if !delivered {
                tokio::time::sleep(poll).await;
            }
        }
    }

    /// One poll: claims and delivers; whether anything was claimed.
    pub async fn poll_once(self: &Arc<Self>) -> bool {
        let service = self.service.clone();
        let id = self.id.clone();
        // The lease covers a full batch at the timeout, with room to spare.
        let lease = Duration::from_millis(self.settings.timeout_ms.max(1))
            .saturating_mul(u32::try_from(DELIVERIES_PER_ENDPOINT).unwrap_or(20) + 2);
        let claimed = tokio::task::spawn_blocking(move || {
            service.claim(&id, lease, ENDPOINTS_PER_CLAIM, DELIVERIES_PER_ENDPOINT)
        })
        .await;
        let claimed = match claimed {
            Ok(Ok(claimed)) => claimed,
            Ok(Err(error)) => {
                tracing::warn!(%error, "webhook worker could not claim deliveries");
                return false;
            }
            Err(error) => {
                tracing::warn!(%error, "webhook worker claim task failed");
                return false;
            }
        };
        if claimed.is_empty() {
            return false;
        }
        let tasks: Vec<_> = claimed
            .into_iter()
            .map(|endpoint| {
                let worker = self.clone();
                tokio::spawn(async move { worker.deliver_endpoint(endpoint).await })
            })
            .collect();
        for task in tasks {
            if let Err(error) = task.await {
                tracing::warn!(%error, "webhook delivery task failed");
            }
        }
        true
    }

    async fn deliver_endpoint(&self, claimed: ClaimedEndpoint) {
        let ClaimedEndpoint {
            endpoint,
            deliveries,
        } = claimed;
        let secrets = self.service.signing_secrets(&endpoint);
        for delivery in deliveries {
            let outcome = self.attempt(&endpoint.url, &secrets, &delivery).await;
            let failed = outcome.status != DeliveryStatus::Succeeded;
            let gone = outcome.disable_endpoint;
            metrics::counter!(DELIVERIES_METRIC, "outcome" => outcome_label(&outcome)).increment(1);
            let service = self.service.clone();
            let id = delivery.id;
            let recorded =
                tokio::task::spawn_blocking(move || service.record_attempt(id, &outcome)).await;
            match recorded {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(delivery = id.0, %error, "webhook attempt not recorded");
                    break;
                }
                Err(error) => {
                    tracing::warn!(delivery = id.0, %error, "webhook attempt not recorded");
                    break;
                }
            }
            // Order holds while the endpoint answers: after a failure the rest wait
            // for the next poll.
            if failed || gone {
                break;
            }
        }
        let service = self.service.clone();
        let worker = self.id.clone();
        let endpoint_id = endpoint.id;
        let released =
            tokio::task::spawn_blocking(move || service.release(&worker, endpoint_id)).await;
        if !matches!(released, Ok(Ok(()))) {
            tracing::warn!(
                endpoint = endpoint_id.0,
                "webhook lease not released; it expires"
            );
        }
    }

    async fn attempt(
        &self,
        url: &str,
        secrets: &switchboard_application::webhooks::SigningSecrets,
        delivery: &DueDelivery,
    ) -> AttemptOutcome {
        let timestamp = Utc::now().timestamp();
        let sent = if literal_target_refused(url, self.settings.allow_private_targets) {
            Sent {
                status: None,
                retry_after: None,
                error: Some("refused target address"),
            }
        } else {
            match self
                .service
                .signature(secrets, &delivery.event_uid, timestamp, &delivery.body)
            {
                None => Sent {
                    status: None,
                    retry_after: None,
                    error: Some("endpoint secret does not open"),
                },
                Some(signature) => self.send(url, delivery, timestamp, &signature).await,
            }
        };
        let at = self.service.now();
        let attempts = u32::try_from(delivery.attempts.saturating_add(1)).unwrap_or(u32::MAX);
        let status_code = sent.status.map(i32::from);
        match sent.status {
            Some(code) if (200..300).contains(&code) => AttemptOutcome {
                status: DeliveryStatus::Succeeded,
                status_code,
                error: None,
                next_attempt_at: None,
                disable_endpoint: false,
                at,
            },
            Some(410) => AttemptOutcome {
                status: DeliveryStatus::Dead,
                status_code,
                error: Some("the endpoint answered 410 Gone; it is disabled".into()),
                next_attempt_at: None,
                disable_endpoint: true,
                at,
            },
            _ => {
                let jitter = rand::random::<f64>().mul_add(2.0, -1.0);
                let error = sent
                    .error
                    .map(str::to_owned)
                    .or_else(|| sent.status.map(|code| format!("answered {code}")));
                match next_attempt(
                    &self.settings.retry_schedule_s,
                    attempts,
                    jitter,
                    sent.retry_after,
                ) {
                    NextAttempt::After(wait) => AttemptOutcome {
                        status: DeliveryStatus::Failed,
                        status_code,
                        error,
                        next_attempt_at: Some(
                            at + chrono::Duration::from_std(wait)
                                .unwrap_or(chrono::Duration::hours(10)),
                        ),
                        disable_endpoint: false,
                        at,
                    },
                    NextAttempt::Dead => AttemptOutcome {
                        status: DeliveryStatus::Dead,
                        status_code,
                        error,
                        next_attempt_at: None,
                        disable_endpoint: false,
                        at,
                    },
                }
            }
        }
    }

    async fn send(
        &self,
        url: &str,
        delivery: &DueDelivery,
        timestamp: i64,
        signature: &str,
    ) -> Sent {
        let request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &delivery.event_uid)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.body.clone());
        match request.send().await {
            Ok(response) => {
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|text| text.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                Sent {
                    status: Some(response.status().as_u16()),
                    retry_after,
                    error: None,
                }
            }
            Err(error) => Sent {
                status: None,
                retry_after: None,
                error: Some(if error.is_timeout() {
                    "timed out"
                } else if error.is_connect() {
                    "connection failed"
                } else {
                    "request failed"
                }),
            },
        }
    }

    async fn refresh_stats(&self) {
        let service = self.service.clone();
        if let Ok(Ok(stats)) = tokio::task::spawn_blocking(move || service.queue_stats()).await {
            metrics::gauge!("switchboard_webhook_queue_depth").set(stats.depth as f64);
            metrics::gauge!("switchboard_webhook_oldest_pending_age_seconds")
                .set(stats.oldest_pending_age_s as f64);
        }
    }
}

/// Delivery attempts, by outcome.
pub(crate) const DELIVERIES_METRIC: &str = "switchboard_webhook_deliveries_total";
/// Every label [`outcome_label`] gives.
pub(crate) const DELIVERY_OUTCOMES: [&str; 4] = ["succeeded", "failed", "dead", "gone"];

fn outcome_label(outcome: &AttemptOutcome) -> &'static str {
    match outcome.status {
        DeliveryStatus::Succeeded => "succeeded",
        DeliveryStatus::Dead if outcome.disable_endpoint => "gone",
        DeliveryStatus::Dead => "dead",
        DeliveryStatus::Failed | DeliveryStatus::Pending => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_label_is_one_the_metric_starts_at_zero() {
        for status in [
            DeliveryStatus::Succeeded,
            DeliveryStatus::Failed,
            DeliveryStatus::Dead,
            DeliveryStatus::Pending,
        ] {
            for disable_endpoint in [false, true] {
                let outcome = AttemptOutcome {
                    status,
                    status_code: None,
                    error: None,
                    next_attempt_at: None,
                    disable_endpoint,
                    at: Utc::now(),
                };
                let label = outcome_label(&outcome);
                assert!(DELIVERY_OUTCOMES.contains(&label), "{label}");
            }
        }
    }

    #[test]
    fn literal_loopback_spellings_are_refused_without_the_setting() {
        for url in [
            "http://127.0.0.1/hook",
            "https://127.0.0.1:8443/hook",
            "http://[::1]/hook",
            "http://0x7f.1/hook",
            "http://2130706433/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://0.0.0.0/hook",
        ] {
            assert!(literal_target_refused(url, false), "{url}");
            assert!(!literal_target_refused(url, true), "{url}");
        }
        assert!(!literal_target_refused(
            "https://hooks.example.com/x",
            false
        ));
    }

    #[tokio::test]
    async fn the_guarded_resolver_drops_loopback() {
        let guarded = GuardedResolver {
            allow_private: false,
        };
        let name: Name = "localhost".parse().expect("a name");
        assert!(guarded.resolve(name).await.is_err());
        let open = GuardedResolver {
            allow_private: true,
        };
        let name: Name = "localhost".parse().expect("a name");
        let found: Vec<SocketAddr> = open.resolve(name).await.expect("resolves").collect();
        assert!(found.iter().all(|address| address.ip().is_loopback()));
    }
}
