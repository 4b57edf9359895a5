//! Using a stored credential (contract section 11): revealing it to a token allowed
//! to see it, and (preferably) using it without revealing it. Every use takes one
//! cell from the token's own secret-use bucket first (one bucket per token, shared
//! by every kind of use), so that a leaked token cannot drain the store quickly.
//!
//! A reveal writes its audit event (who, which token, which request, from which
//! address) before the secret leaves: when the event cannot be written, nothing is
//! revealed. No secret, derived token or signature is ever logged or audited.

use std::collections::BTreeMap;
use std::sync::Arc;

use secrecy::SecretString;
use switchboard_domain::audit::{AuditAction, AuditActor, AuditChanges, AuditEntry};
use switchboard_domain::limits::{Decision, LimitStore, LimitStoreError, Policy};
use switchboard_domain::shared::Timestamp;
use switchboard_domain::shared::{Clock, RepositoryError};
use switchboard_domain::telephony::{
    AccessTokenMinter, LiveKitGrant, ProviderConfig, ProviderConfigId, SignedWebhook,
    WebhookSignatures,
};

use crate::audit::AuditService;
use crate::identity::Actor;
use crate::rotation::{PreviousSecrets, RotationService};
use crate::telephony::ProviderConfigService;

/// The kinds of secret use, as the metric `switchboard_credential_uses_total`
/// labels them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretUse {
    Reveal,
    SignatureCheck,
    AccessToken,
    Verify,
    Import,
}

impl SecretUse {
    /// Every kind, for the metric's series to start at 0.
    pub const ALL: [Self; 5] = [
        Self::Reveal,
        Self::SignatureCheck,
        Self::AccessToken,
        Self::Verify,
        Self::Import,
    ];

    /// The metric label.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reveal => "reveal",
            Self::SignatureCheck => "signature_check",
            Self::AccessToken => "access_token",
            Self::Verify => "verify",
            Self::Import => "import",
        }
    }
}

/// Why a secret may not be used now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretUseLimitError {
    /// The token's secret-use bucket is empty; the decision says when to retry.
    #[error("too many uses of secrets by this token")]
    Limited(Decision),
    #[error(transparent)]
    Store(#[from] LimitStoreError),
}

/// One bucket per token for every use of a secret.
pub struct SecretUseLimits {
    store: Arc<dyn LimitStore>,
    policy: Option<Policy>,
}

impl std::fmt::Debug for SecretUseLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretUseLimits")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl SecretUseLimits {
    /// Limits over `store`; a `None` policy is off.
    #[must_use]
    pub fn new(store: Arc<dyn LimitStore>, policy: Option<Policy>) -> Self {
        Self { store, policy }
    }

    /// Takes one cell from `actor`'s token's bucket.
    ///
    /// # Errors
    /// [`SecretUseLimitError::Limited`] when it is empty; the store's error.
    pub fn take(&self, actor: &Actor) -> Result<(), SecretUseLimitError> {
        let Some(policy) = &self.policy else {
            return Ok(());
        };
        let decision = self.store.check(policy, &actor.token_id.0.to_string(), 1)?;
        if decision.allowed {
            Ok(())
        } else {
            Err(SecretUseLimitError::Limited(decision))
        }
    }
}

/// Why a credential could not be revealed.
#[derive(Debug, thiserror::Error)]
pub enum RevealError {
    #[error("no such configuration in this organization")]
    NotFound,
    /// Inactive configurations are never revealed.
    #[error("the configuration is inactive")]
    Inactive,
    /// The stored secrets do not open (fail closed).
    #[error("the stored credentials cannot be opened")]
    Unreadable,
    #[error(transparent)]
    Limit(#[from] SecretUseLimitError),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a webhook signature could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum SignatureCheckError {
    /// The configuration's provider has no signature scheme here.
    #[error("no signature scheme for this provider")]
    Unsupported,
    #[error(transparent)]
    Use(#[from] RevealError),
}

impl From<SecretUseLimitError> for SignatureCheckError {
    fn from(error: SecretUseLimitError) -> Self {
        Self::Use(error.into())
    }
}

/// Which version of the credential a valid signature matched: the current one, or
/// the previous one during a staged rotation's overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    Current,
    Previous,
}

impl Matched {
    /// The wire form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Previous => "previous",
        }
    }
}

/// Why an access token could not be minted.
#[derive(Debug, thiserror::Error)]
pub enum AccessTokenError {
    /// The configuration's provider mints no access tokens here (a Twilio one
    /// without an API key included).
    #[error("no access tokens for this provider")]
    Unsupported,
    /// LiveKit tokens name a room.
    #[error("a room is required")]
    RoomRequired,
    #[error(transparent)]
    Use(#[from] RevealError),
}

/// A minted access token (shown once) and when it expires.
pub struct MintedToken {
    pub token: SecretString,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for MintedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintedToken")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Where a use of a secret comes from, for its audit event.
#[derive(Debug, Clone, Default)]
pub struct UseContext {
    pub request_id: Option<String>,
    pub client_address: Option<String>,
}

/// A revealed credential: the configuration (its public fields), its primary
/// secret, every secret by catalog name, and during a staged rotation's overlap the
/// previous version.
pub struct Revealed {
    pub config: ProviderConfig,
    pub auth_token: SecretString,
    pub secrets: BTreeMap<String, SecretString>,
    pub previous: Option<PreviousSecrets>,
}

impl std::fmt::Debug for Revealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revealed")
            .field("config", &self.config.id)
            .finish_non_exhaustive()
    }
}

/// Uses of stored credentials.
pub struct CredentialUseService {
    signatures: Arc<dyn WebhookSignatures>,
    minter: Arc<dyn AccessTokenMinter>,
    configs: Arc<ProviderConfigService>,
    audit: Arc<AuditService>,
    limits: Arc<SecretUseLimits>,
    clock: Arc<dyn Clock>,
    rotations: Option<Arc<RotationService>>,
}

impl std::fmt::Debug for CredentialUseService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialUseService")
            .finish_non_exhaustive()
    }
}

impl CredentialUseService {
    /// Wires the service.
    #[must_use]
    pub fn new(
        configs: Arc<ProviderConfigService>,
        audit: Arc<AuditService>,
        limits: Arc<SecretUseLimits>,
        signatures: Arc<dyn WebhookSignatures>,
        minter: Arc<dyn AccessTokenMinter>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            signatures,
            minter,
            configs,
            audit,
            limits,
            clock,
            rotations: None,
        }
    }

    /// Uses `rotations` to find a staged rotation's live previous version (without
    /// it, `previous` is always none).
    #[must_use]
    pub fn with_rotations(mut self, rotations: Arc<RotationService>) -> Self {
        self.rotations = Some(rotations);
        self
    }

    /// The secret-use limits (verify and import take their cell through them too).
    #[must_use]
    pub fn limits(&self) -> &SecretUseLimits {
        &self.limits
    }

    /// The configuration `id` of the actor's organization with its secret opened,
    /// after one cell of the token's bucket.
    fn open(&self, actor: &Actor, id: ProviderConfigId) -> Result<Revealed, RevealError> {
        self.limits.take(actor)?;
        let config = self.configs.get(actor, id).map_err(|error| match error {
            crate::telephony::GetProviderConfigError::NotFound => RevealError::NotFound,
            crate::telephony::GetProviderConfigError::Repository(error) => error.into(),
        })?;
        self.unseal(config)
    }

    /// `config` with its secrets opened: refused when it is inactive or its secrets
    /// do not open. (The caller has taken the use's cell.)
    pub(crate) fn unseal(&self, config: ProviderConfig) -> Result<Revealed, RevealError> {
        if !config.active {
            return Err(RevealError::Inactive);
        }
        let secrets = self
            .configs
            .open_secrets(&config)
            .map_err(|_| RevealError::Unreadable)?;
        let primary = self
            .configs
            .catalog()
            .by_id(config.provider_id)
            .map(|provider| provider.primary_secret().name.clone());
        let auth_token = primary
            .and_then(|name| secrets.get(&name).cloned())
            .or_else(|| secrets.values().next().cloned())
            .ok_or(RevealError::Unreadable)?;
        // During an overlap, the previous version too. One that does not open is
        // left out (logged): it can only make fewer signatures match.
        let previous = match &self.rotations {
            Some(rotations) => rotations.live_previous(&config).unwrap_or_default(),
            None => None,
        };
        Ok(Revealed {
            config,
            auth_token,
            secrets,
            previous,
        })
    }

    /// Reveals the credential of configuration `id` to `actor` (whose token the
    /// caller has checked for `credentials:reveal`), after recording the audit event
    /// `credentials_revealed`.
    ///
    /// # Errors
    /// [`RevealError`]; nothing is revealed when the event cannot be recorded.
    pub fn reveal(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        context: &UseContext,
    ) -> Result<Revealed, RevealError> {
        let revealed = self.open(actor, id)?;
        let mut changes = AuditChanges::new();
        if let Some(address) = &context.client_address {
            changes = changes.detail("client_address", address.as_str());
        }
        let entry = AuditEntry::new(
            AuditActor {
                user_id: Some(actor.user_id),
                token_id: Some(actor.token_id),
                request_id: context.request_id.clone(),
            },
            AuditAction::CredentialsRevealed,
            changes,
            self.clock.now(),
        );
        self.audit.record(actor.org_id, Some(id), &entry)?;
        Ok(revealed)
    }

    /// Checks a provider's webhook signature with the stored secret of
    /// configuration `id`, which is never revealed. `None`: the signature does not
    /// match.
    ///
    /// # Errors
    /// [`SignatureCheckError::Unsupported`] for a provider without a scheme (the
    /// use has taken its cell by then); [`RevealError`]'s cases.
    pub fn check_signature(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        webhook: &SignedWebhook,
    ) -> Result<Option<Matched>, SignatureCheckError> {
        let revealed = self.open(actor, id)?;
        let slug = self
            .configs
            .catalog()
            .by_id(revealed.config.provider_id)
            .map(|provider| provider.slug.as_str())
            .unwrap_or_default();
        match self.signatures.matches(slug, &revealed.auth_token, webhook) {
            None => Err(SignatureCheckError::Unsupported),
            Some(true) => Ok(Some(Matched::Current)),
            Some(false) => {
                let previous = revealed
                    .previous
                    .as_ref()
                    .and_then(|previous| previous.primary.as_ref());
                Ok(previous
                    .and_then(|token| self.signatures.matches(slug, token, webhook))
                    .filter(|matched| *matched)
                    .map(|_| Matched::Previous))
            }
        }
    }

    /// Mints an access token from the stored keys of configuration `id`, valid for
    /// `ttl_seconds` from now: LiveKit (the configuration's API key and secret), or
    /// Twilio with a Voice grant (the configuration's API key SID and secret).
    ///
    /// # Errors
    /// [`AccessTokenError::Unsupported`] for other providers; [`RevealError`]'s
    /// cases.
    pub fn mint_access_token(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        grant: &LiveKitGrant,
        ttl_seconds: u32,
    ) -> Result<MintedToken, AccessTokenError> {
        let revealed = self.open(actor, id)?;
        let slug = self
            .configs
            .catalog()
            .by_id(revealed.config.provider_id)
            .map(|provider| provider.slug.as_str())
            .unwrap_or_default();
        let now = self.clock.now();
        let expires_at = now + chrono::Duration::seconds(i64::from(ttl_seconds));
        let public = |name: &str| {
            revealed
                .config
                .public_fields
                .get(name)
                .and_then(|value| value.as_str())
                .map(str::to_owned)
        };
        let token = match slug {
            "livekit" => {
                if grant.room.is_empty() {
                    return Err(AccessTokenError::RoomRequired);
                }
                let api_key =
                    public("api_key").unwrap_or_else(|| revealed.config.account_sid.clone());
                let api_secret = revealed
                    .secrets
                    .get("api_secret")
                    .unwrap_or(&revealed.auth_token);
                self.minter.livekit(
                    &api_key,
                    api_secret,
                    grant,
                    now.timestamp(),
                    expires_at.timestamp(),
                )
            }
            "twilio" => {
                let (Some(key_sid), Some(key_secret)) = (
                    public("api_key_sid"),
                    revealed.secrets.get("api_key_secret"),
                ) else {
                    return Err(AccessTokenError::Unsupported);
                };
                self.minter.twilio_voice(
                    &revealed.config.account_sid,
                    &key_sid,
                    key_secret,
                    &grant.identity,
                    now.timestamp(),
                    expires_at.timestamp(),
                )
            }
            _ => return Err(AccessTokenError::Unsupported),
        };
        Ok(MintedToken { token, expires_at })
    }
}
