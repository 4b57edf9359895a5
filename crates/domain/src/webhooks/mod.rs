//! Change events and webhooks: every change of an organization's objects records an
//! event (in the transaction of the change) and one delivery per matching webhook
//! endpoint; a worker delivers them signed as the Standard Webhooks specification
//! says, retrying on a schedule.
//!
//! This module holds the entities, the ports, and the pure rules (event types,
//! which endpoint receives what, target address policy, retry timing).

pub mod request;
pub mod retry;
pub mod target;

use std::fmt;
use std::str::FromStr;

use secrecy::SecretString;
use serde_json::{Map, Value};

use crate::identity::OrgId;
use crate::shared::{Page, PageRequest, RepositoryError, Timestamp};
use crate::telephony::{SealedSecret, StoredSecret};

/// The kinds of change an event reports (contract section 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    ConfigurationCreated,
    ConfigurationUpdated,
    ConfigurationDeleted,
    ConfigurationVerified,
    ConfigurationCredentialsRevealed,
    RotationStarted,
    RotationPromoted,
    RotationCancelled,
    RotationPreviousExpired,
    BridgeCreated,
    BridgeUpdated,
    BridgeDeleted,
    BridgeProviderConnected,
    BridgeProviderDisconnected,
    NumberCreated,
    NumberDeleted,
    NumberImported,
    /// Sent by `POST /webhooks/endpoints/{id}/test/` to that endpoint only.
    WebhookTest,
}

impl EventType {
    /// Every type, in the contract's order.
    pub const ALL: [Self; 18] = [
        Self::ConfigurationCreated,
        Self::ConfigurationUpdated,
        Self::ConfigurationDeleted,
        Self::ConfigurationVerified,
        Self::ConfigurationCredentialsRevealed,
        Self::RotationStarted,
        Self::RotationPromoted,
        Self::RotationCancelled,
        Self::RotationPreviousExpired,
        Self::BridgeCreated,
        Self::BridgeUpdated,
        Self::BridgeDeleted,
        Self::BridgeProviderConnected,
        Self::BridgeProviderDisconnected,
        Self::NumberCreated,
        Self::NumberDeleted,
        Self::NumberImported,
        Self::WebhookTest,
    ];

    /// The wire and stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConfigurationCreated => "provider_configuration.created",
            Self::ConfigurationUpdated => "provider_configuration.updated",
            Self::ConfigurationDeleted => "provider_configuration.deleted",
            Self::ConfigurationVerified => "provider_configuration.verified",
            Self::ConfigurationCredentialsRevealed => "provider_configuration.credentials_revealed",
            Self::RotationStarted => "provider_configuration.rotation.started",
            Self::RotationPromoted => "provider_configuration.rotation.promoted",
            Self::RotationCancelled => "provider_configuration.rotation.cancelled",
            Self::RotationPreviousExpired => "provider_configuration.rotation.previous_expired",
            Self::BridgeCreated => "bridge.created",
            Self::BridgeUpdated => "bridge.updated",
            Self::BridgeDeleted => "bridge.deleted",
            Self::BridgeProviderConnected => "bridge.provider_connected",
            Self::BridgeProviderDisconnected => "bridge.provider_disconnected",
            Self::NumberCreated => "number.created",
            Self::NumberDeleted => "number.deleted",
            Self::NumberImported => "number.imported",
            Self::WebhookTest => "webhook.test",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown event type")]
pub struct UnknownEventType;

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or(UnknownEventType)
    }
}

/// Whether an endpoint subscribed to `subscribed` (empty: every type) receives an
/// event of type `kind`. `webhook.test` goes only to the endpoint tested, never
/// through subscriptions.
#[must_use]
pub fn endpoint_receives(subscribed: &[EventType], kind: EventType) -> bool {
    kind != EventType::WebhookTest && (subscribed.is_empty() || subscribed.contains(&kind))
}

/// The event a configuration change recorded in the audit trail also records;
/// `None` for the one audited step that has no event type in the contract (the
/// provider's verdict on a pending rotation: the rotation list shows it).
#[must_use]
pub fn event_type_of_audit(action: crate::audit::AuditAction) -> Option<EventType> {
    use crate::audit::AuditAction;
    Some(match action {
        AuditAction::Created => EventType::ConfigurationCreated,
        AuditAction::Updated | AuditAction::Rotated => EventType::ConfigurationUpdated,
        AuditAction::Deleted => EventType::ConfigurationDeleted,
        AuditAction::Verified => EventType::ConfigurationVerified,
        AuditAction::CredentialsRevealed => EventType::ConfigurationCredentialsRevealed,
        AuditAction::Connected => EventType::BridgeProviderConnected,
        AuditAction::Disconnected => EventType::BridgeProviderDisconnected,
        AuditAction::RotationStarted => EventType::RotationStarted,
        AuditAction::RotationPromoted => EventType::RotationPromoted,
        AuditAction::RotationCancelled => EventType::RotationCancelled,
        AuditAction::PreviousExpired => EventType::RotationPreviousExpired,
        // A verification of a pending version changes nothing others use; an
        // import records one `number.imported` per number it creates itself.
        AuditAction::RotationVerified | AuditAction::NumbersImported => return None,
    })
}

/// A recorded change, as the feed and deliveries show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEvent {
    /// `evt_...`: the event's public id, the `webhook-id` of its deliveries.
    pub uid: String,
    pub org_id: OrgId,
    pub event_type: String,
    /// The whole JSON body delivered: `{id, type, timestamp, organization, data}`.
    pub body: Map<String, Value>,
    pub created_at: Timestamp,
}

/// What a change records: its type and the object as the API shows it (never a
/// secret).
#[derive(Debug, Clone, PartialEq)]
pub struct NewChangeEvent {
    pub event_type: EventType,
    pub data: Map<String, Value>,
}

/// The events after a position, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFeed {
    pub events: Vec<ChangeEvent>,
}

/// Database id of a webhook endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointId(pub i64);

/// Database id of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryId(pub i64);

/// A webhook endpoint (its sealed secrets never leave the service).
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: EndpointId,
    pub uid: String,
    pub org_id: OrgId,
    pub url: String,
    pub description: String,
    /// Empty: every event type.
    pub event_types: Vec<EventType>,
    pub enabled: bool,
    /// Why the service disabled it (`gone`: it answered 410).
    pub disabled_reason: Option<String>,
    pub secret: StoredSecret,
    pub previous_secret: Option<StoredSecret>,
    pub previous_secret_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// An endpoint to insert.
#[derive(Debug, Clone)]
pub struct NewWebhookEndpoint {
    pub uid: String,
    pub org_id: OrgId,
    pub url: String,
    pub description: String,
    pub event_types: Vec<EventType>,
    pub enabled: bool,
    pub secret: SealedSecret,
    pub at: Timestamp,
}

/// The fields a PATCH changes (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct EndpointUpdate {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<EventType>>,
    pub enabled: Option<bool>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Not tried yet.
    Pending,
    Succeeded,
    /// Tried and failed; another attempt is scheduled.
    Failed,
    /// No attempt left (or the endpoint answered 410).
    Dead,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [Self; 4] = [Self::Pending, Self::Succeeded, Self::Failed, Self::Dead];

    /// The wire and stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Dead => "dead",
        }
    }
}

impl FromStr for DeliveryStatus {
    type Err = UnknownEventType;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or(UnknownEventType)
    }
}

/// A delivery as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: DeliveryId,
    pub endpoint_id: EndpointId,
    pub event_uid: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// A delivery handed to a worker: the event's id and body and where it goes.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: DeliveryId,
    pub event_uid: String,
    /// The body exactly as signed and sent.
    pub body: String,
    pub attempts: i32,
}

/// An endpoint a worker holds the lease of, with its due deliveries in commit order.
#[derive(Debug, Clone)]
pub struct ClaimedEndpoint {
    pub endpoint: WebhookEndpoint,
    pub deliveries: Vec<DueDelivery>,
}

/// What one attempt ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    pub status: DeliveryStatus,
    /// The HTTP status answered (`None`: no answer: timeout, refused, reset).
    pub status_code: Option<i32>,
    /// A short reason without any secret (for operators).
    pub error: Option<String>,
    /// When the next attempt is due (`failed` only).
    pub next_attempt_at: Option<Timestamp>,
    /// The endpoint answered 410: disable it.
    pub disable_endpoint: bool,
    pub at: Timestamp,
}

/// Queue figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Deliveries pending or failed (waiting for an attempt).
    pub depth: u64,
    /// Age in seconds of the oldest waiting delivery (0 when none).
    pub oldest_pending_age_s: u64,
}

/// Why an endpoint write failed.
#[derive(Debug, thiserror::Error)]
pub enum EndpointWriteError {
    #[error("no such endpoint")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Storage of endpoints, deliveries and the feed.
pub trait WebhookRepository: Send + Sync {
    /// Inserts an endpoint.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn insert_endpoint(
        &self,
        endpoint: &NewWebhookEndpoint,
    ) -> Result<WebhookEndpoint, RepositoryError>;

    /// The organization's endpoints, oldest first.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn list_endpoints(
        &self,
        org: OrgId,
        page: PageRequest,
    ) -> Result<Page<WebhookEndpoint>, RepositoryError>;

    /// One endpoint of the organization.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn get_endpoint(
        &self,
        org: OrgId,
        id: EndpointId,
    ) -> Result<Option<WebhookEndpoint>, RepositoryError>;

    /// Applies `update` (re-enabling clears the disabled reason).
    ///
    /// # Errors
    /// [`EndpointWriteError`].
    fn update_endpoint(
        &self,
        org: OrgId,
        id: EndpointId,
        update: &EndpointUpdate,
        at: Timestamp,
    ) -> Result<WebhookEndpoint, EndpointWriteError>;

    /// Deletes the endpoint and its deliveries; `false` when there was none.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn delete_endpoint(&self, org: OrgId, id: EndpointId) -> Result<bool, RepositoryError>;

    /// Replaces the secret; the current one becomes the previous one until
    /// `previous_expires_at`.
    ///
    /// # Errors
    /// [`EndpointWriteError`].
    fn rotate_secret(
        &self,
        org: OrgId,
        id: EndpointId,
        secret: &SealedSecret,
        previous_expires_at: Timestamp,
        at: Timestamp,
    ) -> Result<WebhookEndpoint, EndpointWriteError>;

    /// Records a `webhook.test` event of the organization with one delivery, to
    /// endpoint `id` only.
    ///
    /// # Errors
    /// [`EndpointWriteError`].
    fn record_test_event(
        &self,
        org: OrgId,
        id: EndpointId,
        event: &NewChangeEvent,
        at: Timestamp,
    ) -> Result<ChangeEvent, EndpointWriteError>;

    /// The endpoint's deliveries, newest first.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn list_deliveries(
        &self,
        org: OrgId,
        endpoint: EndpointId,
        page: PageRequest,
    ) -> Result<Page<Delivery>, RepositoryError>;

    /// Makes a delivery due now again (status `pending`, whatever it was), keeping
    /// its attempts; `None` when the organization has no such delivery.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn retry_delivery(
        &self,
        org: OrgId,
        id: DeliveryId,
        at: Timestamp,
    ) -> Result<Option<Delivery>, RepositoryError>;

    /// The organization's events after the one named `after` (from the start when
    /// `None`), in commit order, at most `limit`; only events every later reader
    /// will also see (a slower transaction's event is never passed). `Ok(None)`
    /// when `after` names no event of the organization.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn events_after(
        &self,
        org: OrgId,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Option<EventFeed>, RepositoryError>;

    /// Takes the lease (`worker`, until `lease_until`) of up to `endpoints` enabled
    /// endpoints with due deliveries that no other worker holds, with up to
    /// `per_endpoint` due deliveries each, oldest event first.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn claim_due(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        endpoints: i64,
        per_endpoint: i64,
    ) -> Result<Vec<ClaimedEndpoint>, RepositoryError>;

    /// Records one attempt of delivery `id`.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn record_attempt(
        &self,
        id: DeliveryId,
        outcome: &AttemptOutcome,
    ) -> Result<(), RepositoryError>;

    /// Gives back the lease of `endpoint` held by `worker` at `at` (endpoints
    /// claimed least recently are claimed first, so none starves).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn release(
        &self,
        worker: &str,
        endpoint: EndpointId,
        at: Timestamp,
    ) -> Result<(), RepositoryError>;

    /// Makes every failed or dead delivery created at or after `since` (and the
    /// succeeded ones too when `include_succeeded`) due again now; the number of
    /// deliveries.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn redeliver_since(
        &self,
        since: Timestamp,
        include_succeeded: bool,
        now: Timestamp,
    ) -> Result<u64, RepositoryError>;

    /// Depth and oldest age of the queue.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn queue_stats(&self, now: Timestamp) -> Result<QueueStats, RepositoryError>;
}

/// Endpoint secrets and Standard Webhooks signatures.
pub trait WebhookSigner: Send + Sync {
    /// A fresh endpoint secret: `whsec_` + base64 of random bytes (shown once).
    fn generate_secret(&self) -> SecretString;

    /// The signature `v1,<base64 HMAC-SHA256>` of `{id}.{timestamp}.{body}` under
    /// `secret` (`whsec_` + base64); `None` when the secret is not of that form.
    fn sign(&self, secret: &SecretString, id: &str, timestamp: i64, body: &str) -> Option<String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip() {
        for kind in EventType::ALL {
            assert_eq!(kind.as_str().parse::<EventType>(), Ok(kind));
        }
        assert!("bridge.renamed".parse::<EventType>().is_err());
    }

    #[test]
    fn subscriptions_filter_and_tests_are_never_broadcast() {
        assert!(endpoint_receives(&[], EventType::BridgeCreated));
        assert!(endpoint_receives(
            &[EventType::BridgeCreated],
            EventType::BridgeCreated
        ));
        assert!(!endpoint_receives(
            &[EventType::BridgeCreated],
            EventType::NumberCreated
        ));
        assert!(!endpoint_receives(&[], EventType::WebhookTest));
    }
}
