//! Webhook use cases (contract section 13): endpoints (created with a secret shown
//! once, sealed at rest), secret rotation with a day of double signatures, test
//! events, deliveries and manual retries, the `/events/` feed, and what the
//! delivery worker asks of the store (claims, attempts, queue figures).
//!
//! Every route is for owners and admins (`webhooks:manage` narrows tokens further,
//! checked by the HTTP adapter's scope check where scopes exist). Targets are
//! checked when set: `https://` only, and no address in a private, loopback or
//! link-local range after DNS resolution, unless the private-targets setting is on.
//! The worker checks the addresses again when it connects.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::Duration;
use secrecy::SecretString;
use serde_json::{Map, Value};
use switchboard_domain::identity::{OrgId, Role};
use switchboard_domain::shared::{
    Clock, Page, PageRequest, RepositoryError, Timestamp, ValidationErrors,
};
use switchboard_domain::telephony::{AssociatedData, SecretCipher, StoredSecret};
use switchboard_domain::validation;
use switchboard_domain::webhooks::request::{EndpointRequest, TargetRules};
use switchboard_domain::webhooks::target::is_refused_address;
use switchboard_domain::webhooks::{
    AttemptOutcome, ChangeEvent, ClaimedEndpoint, Delivery, DeliveryId, EndpointId, EndpointUpdate,
    EndpointWriteError, EventType, NewChangeEvent, NewWebhookEndpoint, QueueStats, WebhookEndpoint,
    WebhookRepository, WebhookSigner,
};

use crate::Actor;

/// Table name in the secrets' binding.
const TABLE: &str = "webhook_endpoints";
/// Field name in the secrets' binding.
const FIELD: &str = "secret";
/// How long the previous secret still signs after a rotation.
pub const PREVIOUS_SECRET_HOURS: i64 = 24;
/// Most events of one `/events/` page.
pub const MAX_FEED_LIMIT: i64 = 100;
/// Events of a page when `limit` is absent.
pub const DEFAULT_FEED_LIMIT: i64 = 50;

/// Resolution of a target's host name to addresses (the adapter uses the system
/// resolver).
pub trait TargetResolver: Send + Sync {
    /// Every address `host` resolves to (empty or `Err` when it does not resolve).
    ///
    /// # Errors
    /// A description of the failure.
    fn resolve(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, String>;
}

/// Why a webhook operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Only owners and admins manage webhooks.
    #[error("the caller's role may not manage webhooks")]
    PermissionDenied,
    #[error("no such endpoint or delivery")]
    NotFound,
    /// Field problems (never repeating a value).
    #[error("invalid webhook input")]
    Validation(ValidationErrors),
    /// A secret could not be sealed.
    #[error("the endpoint secret could not be sealed")]
    Seal,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

impl From<EndpointWriteError> for WebhookError {
    fn from(error: EndpointWriteError) -> Self {
        match error {
            EndpointWriteError::NotFound => Self::NotFound,
            EndpointWriteError::Repository(error) => Self::Repository(error),
        }
    }
}

/// A new endpoint as asked for.
#[derive(Debug, Clone, Default)]
pub struct CreateEndpoint {
    pub url: String,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// A PATCH of an endpoint as asked for.
#[derive(Debug, Clone, Default)]
pub struct PatchEndpoint {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// An endpoint with its secret, shown this once.
#[derive(Debug)]
pub struct EndpointWithSecret {
    pub endpoint: WebhookEndpoint,
    pub secret: SecretString,
}

/// An endpoint's secrets opened for signing: current, and the previous one while
/// it still signs.
#[derive(Debug)]
pub struct SigningSecrets {
    pub current: Option<SecretString>,
    pub previous: Option<SecretString>,
}

/// A page of the feed: events and the position to ask for next.
#[derive(Debug, Clone)]
pub struct FeedPage {
    pub events: Vec<ChangeEvent>,
    /// The last event's id, or the `after` asked for when the page is empty.
    pub next_after: Option<String>,
}

/// Webhook use cases.
pub struct WebhookService {
    repo: Arc<dyn WebhookRepository>,
    cipher: Arc<dyn SecretCipher>,
    signer: Arc<dyn WebhookSigner>,
    resolver: Arc<dyn TargetResolver>,
    clock: Arc<dyn Clock>,
    allow_private_targets: bool,
}

impl std::fmt::Debug for WebhookService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookService")
            .field("allow_private_targets", &self.allow_private_targets)
            .finish_non_exhaustive()
    }
}

/// The associated data an endpoint's signing secret is sealed with (also used by key
/// rotation, [`crate::key_rotation`]).
pub(crate) fn secret_binding(org: OrgId, uid: &str) -> AssociatedData {
    AssociatedData::for_field(org, TABLE, uid, FIELD)
}

fn require_manager(actor: &Actor) -> Result<(), WebhookError> {
    if matches!(actor.role, Role::Owner | Role::Admin) {
        Ok(())
    } else {
        Err(WebhookError::PermissionDenied)
    }
}

/// The event types of a request whose shape holds, without repeats.
fn event_types(names: &[String]) -> Vec<EventType> {
    let mut types = Vec::new();
    for kind in names
        .iter()
        .filter_map(|name| name.parse::<EventType>().ok())
    {
        if !types.contains(&kind) {
            types.push(kind);
        }
    }
    types
}

impl WebhookService {
    /// Wires the service.
    #[must_use]
    pub fn new(
        repo: Arc<dyn WebhookRepository>,
        cipher: Arc<dyn SecretCipher>,
        signer: Arc<dyn WebhookSigner>,
        resolver: Arc<dyn TargetResolver>,
        clock: Arc<dyn Clock>,
        allow_private_targets: bool,
    ) -> Self {
        Self {
            repo,
            cipher,
            signer,
            resolver,
            clock,
            allow_private_targets,
        }
    }

    /// Whether targets in private ranges are allowed (the setting).
    #[must_use]
    pub fn allows_private_targets(&self) -> bool {
        self.allow_private_targets
    }

    /// Checks a request's declared rules ([`EndpointRequest`]), then, when the
    /// URL's shape holds, where it points (see the module). Messages never repeat
    /// the value.
    fn check_request(&self, request: &EndpointRequest<'_>) -> ValidationErrors {
        let rules = TargetRules {
            allow_http: self.allow_private_targets,
        };
        let mut errors = validation::validate_with(request, &rules)
            .err()
            .unwrap_or_default();
        if let Some(url) = request.url
            && !errors.has("url")
        {
            self.check_target(url, &mut errors);
        }
        errors
    }

    /// Checks where a well-formed target URL points.
    fn check_target(&self, url: &str, errors: &mut ValidationErrors) {
        const FIELD: &str = "url";
        let Ok(parsed) = url::Url::parse(url) else {
            errors.add(FIELD, "must be an absolute https:// URL");
            return;
        };
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addresses = match parsed.host() {
            Some(url::Host::Ipv4(v4)) => vec![IpAddr::V4(v4)],
            Some(url::Host::Ipv6(v6)) => vec![IpAddr::V6(v6)],
            Some(url::Host::Domain(name)) => match self.resolver.resolve(name, port) {
                Ok(addresses) if !addresses.is_empty() => addresses,
                _ => {
                    errors.add(FIELD, "host does not resolve");
                    return;
                }
            },
            None => {
                errors.add(FIELD, "must name a host");
                return;
            }
        };
        if !self.allow_private_targets && addresses.into_iter().any(is_refused_address) {
            errors.add(
                FIELD,
                "must not point at a private, loopback or link-local address",
            );
        }
    }

    /// Creates an endpoint; its secret is in the answer only.
    ///
    /// # Errors
    /// [`WebhookError`].
    pub fn create(
        &self,
        actor: &Actor,
        input: &CreateEndpoint,
    ) -> Result<EndpointWithSecret, WebhookError> {
        require_manager(actor)?;
        let errors = self.check_request(&EndpointRequest {
            url: Some(&input.url),
            description: input.description.as_deref(),
            event_types: input.event_types.as_deref(),
        });
        let types = event_types(input.event_types.as_deref().unwrap_or_default());
        if !errors.is_empty() {
            return Err(WebhookError::Validation(errors));
        }
        let uid = format!("we_{}", uuid::Uuid::new_v4().simple());
        let secret = self.signer.generate_secret();
        let sealed = self
            .cipher
            .seal(&secret, &secret_binding(actor.org_id, &uid))
            .map_err(|_| WebhookError::Seal)?;
        let endpoint = self.repo.insert_endpoint(&NewWebhookEndpoint {
            uid,
            org_id: actor.org_id,
            url: input.url.clone(),
            description: input.description.clone().unwrap_or_default(),
            event_types: types,
            enabled: input.enabled.unwrap_or(true),
            secret: sealed,
            at: self.clock.now(),
        })?;
        Ok(EndpointWithSecret { endpoint, secret })
    }

    /// One page of the organization's endpoints.
    ///
    /// # Errors
    /// [`WebhookError`].
    pub fn list(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<WebhookEndpoint>, WebhookError> {
        require_manager(actor)?;
        Ok(self.repo.list_endpoints(actor.org_id, page)?)
    }

    /// One endpoint.
    ///
    /// # Errors
    /// [`WebhookError`].
    pub fn get(&self, actor: &Actor, id: EndpointId) -> Result<WebhookEndpoint, WebhookError> {
        require_manager(actor)?;
        self.repo
            .get_endpoint(actor.org_id, id)?
            .ok_or(WebhookError::NotFound)
    }

    /// Changes an endpoint.
    ///
    /// # Errors
    /// [`WebhookError`].
    pub fn update(
        &self,
        actor: &Actor,
        id: EndpointId,
        input: &PatchEndpoint,
    ) -> Result<WebhookEndpoint, WebhookError> {
        require_manager(actor)?;
        let errors = self.check_request(&EndpointRequest {
            url: input.url.as_deref(),
            description: input.description.as_deref(),
            event_types: input.event_types.as_deref(),
        });
        let types = input.event_types.as_deref().map(event_types);
        if !errors.is_empty() {
            return Err(WebhookError::Validation(errors));
        }
        let update = EndpointUpdate {
            url: input.url.clone(),
            description: input.description.clone(),
            event_types: types,
            enabled: input.enabled,
        };
        Ok(self
            .repo
            .update_endpoint(actor.org_id, id, &update, self.clock.now())?)
    }

    /// Deletes an endpoint and its deliveries.
    ///
    /// # Errors
    /// [`WebhookError`].
    pub fn delete(&self, actor: &Actor, id: EndpointId) -> Result<(), WebhookError> {
        require_manager(actor)?;
        if self.repo.delete_endpoint(actor.org_id, id)? {
            Ok(())
        } else {
            Err(WebhookError::NotFound)
        }
    }

    /// A new secret, shown once; the old one keeps signing for 24 hours.
    ///
    /// # Errors
    /// [`WebhookError`].
    pub fn rotate_secret(
        &self,
        actor: &Actor,
        id: EndpointId,
    ) -> Result<EndpointWithSecret, WebhookError> {
        require_manager(actor)?;
        let current = self
            .repo
            .get_endpoint(actor.org_id, id)?
            .ok_or(WebhookError::NotFound)?;
        let secret = self.signer.generate_secret();
        let sealed = self
            .cipher
            .seal(&secret, &secret_binding(actor.org_id, &current.uid))
            .map_err(|_| WebhookError::Seal)?;
        let now = self.clock.now();
        let endpoint = self.repo.rotate_secret(
            actor.org_id,
            id,
            &sealed,
            now + Duration::hours(PREVIOUS_SECRET_HOURS),
            now,
        )?;
        Ok(EndpointWithSecret { endpoint, secret })
    }

    /// Records a `webhook.test` event for this endpoint only.
    ///
    /// # Errors
    /// [`WebhookError`].
    pub fn send_test(&self, actor: &Actor, id: EndpointId) -> Result<ChangeEvent, WebhookError> {
        require_manager(actor)?;
        let mut data = Map::new();
        data.insert("endpoint_id".into(), Value::from(id.0));
        data.insert(
            "message".into(),
            Value::from("Test event from Switchboard."),
        );
        let event = NewChangeEvent {
            event_type: EventType::WebhookTest,
            data,
        };
        Ok(self
            .repo
            .record_test_event(actor.org_id, id, &event, self.clock.now())?)
    }

    /// One page of an endpoint's deliveries, newest first.
    ///
    /// # Errors
    /// [`WebhookError`].
    pub fn deliveries(
        &self,
        actor: &Actor,
        id: EndpointId,
        page: PageRequest,
    ) -> Result<Page<Delivery>, WebhookError> {
        require_manager(actor)?;
        if self.repo.get_endpoint(actor.org_id, id)?.is_none() {
            return Err(WebhookError::NotFound);
        }
        Ok(self.repo.list_deliveries(actor.org_id, id, page)?)
    }

    /// Makes a delivery due now.
    ///
    /// # Errors
    /// [`WebhookError`].
    pub fn retry(&self, actor: &Actor, id: DeliveryId) -> Result<Delivery, WebhookError> {
        require_manager(actor)?;
        self.repo
            .retry_delivery(actor.org_id, id, self.clock.now())?
            .ok_or(WebhookError::NotFound)
    }

    /// The organization's events after `after`, in commit order.
    ///
    /// # Errors
    /// [`WebhookError::NotFound`] when `after` names no event of the organization.
    pub fn feed(
        &self,
        actor: &Actor,
        after: Option<&str>,
        limit: i64,
    ) -> Result<FeedPage, WebhookError> {
        require_manager(actor)?;
        let feed = self
            .repo
            .events_after(actor.org_id, after, limit.clamp(1, MAX_FEED_LIMIT))?
            .ok_or(WebhookError::NotFound)?;
        let next_after = feed
            .events
            .last()
            .map(|event| event.uid.clone())
            .or_else(|| after.map(str::to_owned));
        Ok(FeedPage {
            events: feed.events,
            next_after,
        })
    }

    // The worker's side.

    /// Leases endpoints with due deliveries (see [`WebhookRepository::claim_due`]).
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn claim(
        &self,
        worker: &str,
        lease: std::time::Duration,
        endpoints: i64,
        per_endpoint: i64,
    ) -> Result<Vec<ClaimedEndpoint>, RepositoryError> {
        let now = self.clock.now();
        let lease = Duration::from_std(lease).unwrap_or(Duration::seconds(60));
        self.repo
            .claim_due(worker, now, now + lease, endpoints, per_endpoint)
    }

    /// The secrets that sign for `endpoint` now (a secret that does not open is
    /// skipped and logged by id only).
    #[must_use]
    pub fn signing_secrets(&self, endpoint: &WebhookEndpoint) -> SigningSecrets {
        let open = |stored: &StoredSecret| {
            let sealed = stored.parse().ok()?;
            match self
                .cipher
                .open(&sealed, &secret_binding(endpoint.org_id, &endpoint.uid))
            {
                Ok(secret) => Some(secret),
                Err(error) => {
                    tracing::warn!(endpoint = endpoint.id.0, %error, "webhook secret does not open");
                    None
                }
            }
        };
        let now = self.clock.now();
        let previous = match (
            &endpoint.previous_secret,
            endpoint.previous_secret_expires_at,
        ) {
            (Some(stored), Some(until)) if until > now => open(stored),
            _ => None,
        };
        SigningSecrets {
            current: open(&endpoint.secret),
            previous,
        }
    }

    /// The `webhook-signature` header value: one `v1,` signature per live secret,
    /// separated by spaces; `None` when no secret opens.
    #[must_use]
    pub fn signature(
        &self,
        secrets: &SigningSecrets,
        id: &str,
        timestamp: i64,
        body: &str,
    ) -> Option<String> {
        let signatures: Vec<String> = [&secrets.current, &secrets.previous]
            .into_iter()
            .flatten()
            .filter_map(|secret| self.signer.sign(secret, id, timestamp, body))
            .collect();
        (!signatures.is_empty()).then(|| signatures.join(" "))
    }

    /// Records one attempt.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn record_attempt(
        &self,
        id: DeliveryId,
        outcome: &AttemptOutcome,
    ) -> Result<(), RepositoryError> {
        self.repo.record_attempt(id, outcome)
    }

    /// Gives back a lease.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn release(&self, worker: &str, endpoint: EndpointId) -> Result<(), RepositoryError> {
        self.repo.release(worker, endpoint, self.clock.now())
    }

    /// Makes failed and dead deliveries since `since` due again (recovery after an
    /// outage); the number of deliveries.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn redeliver_since(
        &self,
        since: Timestamp,
        include_succeeded: bool,
    ) -> Result<u64, RepositoryError> {
        self.repo
            .redeliver_since(since, include_succeeded, self.clock.now())
    }

    /// Queue depth and oldest waiting age.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn queue_stats(&self) -> Result<QueueStats, RepositoryError> {
        self.repo.queue_stats(self.clock.now())
    }

    /// The current time of the service's clock.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
