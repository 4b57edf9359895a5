//! The provider configuration service over in-memory fakes of its ports: audit
//! entries handed to every write, `If-Match` preconditions and lost races,
//! verification before saving, and the verify use case.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use switchboard_application::telephony::{
    CreateProviderConfigError, CredentialCheckFailure, UpdateProviderConfigError,
    VerifyProviderConfigError,
};
use switchboard_application::{Actor, ProviderConfigService, WriteOptions};
use switchboard_domain::audit::{AuditAction, AuditEntry};
use switchboard_domain::identity::{DomainHandle, OrgId, Role, TokenId, UserId};
use switchboard_domain::precondition::Precondition;
use switchboard_domain::shared::{Page, PageRequest, RepositoryError, SystemClock, WriteError};
use switchboard_domain::telephony::{
    AssociatedData, CipherError, CredentialVerifier, CredentialsToVerify, KeyId, NewProviderConfig,
    ProviderCatalogRepository, ProviderConfig, ProviderConfigDraft, ProviderConfigFilter,
    ProviderConfigId, ProviderConfigRepository, ProviderConfigUpdate, ProviderId, ProviderRecord,
    ProviderRef, SealedSecret, SecretCipher, UnsupportedProvider, Verification, VerificationStatus,
};

struct Catalog;

impl ProviderCatalogRepository for Catalog {
    fn providers(&self) -> Result<Vec<ProviderRecord>, RepositoryError> {
        let record = |id, slug: &str| ProviderRecord {
            id: ProviderId(id),
            slug: slug.into(),
            name: slug.into(),
            description: String::new(),
            icon: String::new(),
            account_sid_label: "SID".into(),
            account_sid_pattern: "^[ -~]{1,256}$".into(),
            account_sid_hint: "text".into(),
            auth_token_label: "Token".into(),
            auth_token_pattern: "^[ -~]{1,256}$".into(),
            auth_token_hint: "text".into(),
        };
        Ok(vec![record(1, "twilio"), record(2, "sip")])
    }
}

/// Not encryption: the plaintext behind a header and a zero tag, enough to check
/// that the right credential reaches the verifier.
struct Cipher;

impl SecretCipher for Cipher {
    fn seal(
        &self,
        plaintext: &SecretString,
        binding: &AssociatedData,
    ) -> Result<SealedSecret, CipherError> {
        let mut bytes = plaintext.expose_secret().as_bytes().to_vec();
        bytes.extend_from_slice(&[0; 16]);
        Ok(SealedSecret::from_parts_with_format(
            binding.format(),
            KeyId(1),
            &[0; 12],
            &bytes,
        ))
    }

    fn open(&self, sealed: &SealedSecret, _: &AssociatedData) -> Result<SecretString, CipherError> {
        let bytes = sealed.ciphertext_and_tag();
        let text =
            std::str::from_utf8(&bytes[..bytes.len() - 16]).map_err(|_| CipherError::NotUtf8)?;
        Ok(SecretString::from(text))
    }

    fn primary_key_id(&self) -> KeyId {
        KeyId(1)
    }

    fn key_ids(&self) -> Vec<KeyId> {
        vec![KeyId(1)]
    }
}

#[derive(Default)]
struct Repository {
    rows: Mutex<Vec<ProviderConfig>>,
    events: Mutex<Vec<(ProviderConfigId, AuditEntry)>>,
    /// When set, the next write finds the row changed by someone else first.
    interfere: AtomicBool,
}

impl Repository {
    fn interfere_once(&self) -> bool {
        if self.interfere.swap(false, Ordering::SeqCst) {
            for row in self.rows.lock().expect("lock").iter_mut() {
                row.version += 1;
            }
            return true;
        }
        false
    }

    /// Applies `update` to the row when its version matches, with its audit event.
    fn apply(
        &self,
        rows: &mut [ProviderConfig],
        org: OrgId,
        id: ProviderConfigId,
        update: &ProviderConfigUpdate,
        audit: &AuditEntry,
    ) -> Option<ProviderConfig> {
        let row = rows.iter_mut().find(|c| c.id == id && c.org_id == org)?;
        if update.expected_version.is_some_and(|v| v != row.version) {
            return None;
        }
        if let Some(name) = &update.name {
            row.name.clone_from(name);
        }
        if let Some((sealed, last4)) = &update.auth_token {
            row.auth_token = sealed.clone().into();
            row.auth_token_last4.clone_from(last4);
        }
        if let Some(last4s) = &update.secret_last4 {
            row.secret_last4.clone_from(last4s);
        }
        if let Some(verification) = update.verification {
            row.verification = verification;
        }
        row.version += 1;
        self.events.lock().expect("lock").push((id, audit.clone()));
        Some(row.clone())
    }

    fn actions(&self) -> Vec<AuditAction> {
        self.events
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, e)| e.action)
            .collect()
    }
}

impl ProviderConfigRepository for Repository {
    fn insert(
        &self,
        new: &NewProviderConfig,
        audit: &AuditEntry,
    ) -> Result<ProviderConfig, WriteError> {
        let mut rows = self.rows.lock().expect("lock");
        let id = ProviderConfigId(i64::try_from(rows.len()).expect("small") + 1);
        let config = ProviderConfig {
            id,
            uid: new.uid.clone(),
            org_id: new.org_id,
            provider_id: new.provider_id,
            name: new.name.clone(),
            account_sid: new.account_sid.clone(),
            auth_token: new.auth_token.clone().into(),
            auth_token_last4: new.auth_token_last4.clone(),
            public_fields: new.public_fields.clone(),
            secret_last4: new.secret_last4.clone(),
            credential_version: 1,
            active: new.active,
            base_url: new.base_url.clone(),
            sip_url: new.sip_url.clone(),
            meta_json: new.meta_json.clone(),
            verification: new.verification,
            version: 1,
            created_at: new.created_at,
            updated_at: new.created_at,
        };
        rows.push(config.clone());
        self.events.lock().expect("lock").push((id, audit.clone()));
        Ok(config)
    }

    fn list(
        &self,
        _: OrgId,
        _: ProviderConfigFilter,
        _: PageRequest,
    ) -> Result<Page<ProviderConfig>, RepositoryError> {
        let items = self.rows.lock().expect("lock").clone();
        let total = u64::try_from(items.len()).expect("small");
        Ok(Page { items, total })
    }

    fn get(
        &self,
        org: OrgId,
        id: ProviderConfigId,
    ) -> Result<Option<ProviderConfig>, RepositoryError> {
        Ok(self
            .rows
            .lock()
            .expect("lock")
            .iter()
            .find(|c| c.id == id && c.org_id == org)
            .cloned())
    }

    fn update(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        update: &ProviderConfigUpdate,
        audit: &AuditEntry,
    ) -> Result<Option<ProviderConfig>, WriteError> {
        self.interfere_once();
        let mut rows = self.rows.lock().expect("lock");
        Ok(self.apply(&mut rows, org, id, update, audit))
    }

    /// A write that came in before the lock was taken is seen by the plan.
    fn update_locked(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        plan: &mut dyn FnMut(&ProviderConfig) -> Option<(ProviderConfigUpdate, AuditEntry)>,
    ) -> Result<Option<ProviderConfig>, WriteError> {
        self.interfere_once();
        let mut rows = self.rows.lock().expect("lock");
        let Some(current) = rows.iter().find(|c| c.id == id && c.org_id == org).cloned() else {
            return Ok(None);
        };
        let Some((update, audit)) = plan(&current) else {
            return Ok(None);
        };
        Ok(self.apply(&mut rows, org, id, &update, &audit))
    }

    fn delete(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        expected: Option<i64>,
        audit: &AuditEntry,
    ) -> Result<bool, RepositoryError> {
        self.interfere_once();
        let mut rows = self.rows.lock().expect("lock");
        let before = rows.len();
        rows.retain(|c| {
            !(c.id == id && c.org_id == org && expected.is_none_or(|v| v == c.version))
        });
        let deleted = rows.len() < before;
        if deleted {
            self.events.lock().expect("lock").push((id, audit.clone()));
        }
        Ok(deleted)
    }

    fn delete_unless_connected(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        expected: Option<i64>,
        audit: &AuditEntry,
    ) -> Result<switchboard_domain::telephony::ConfigDeletion, RepositoryError> {
        // This fake holds no bridges: nothing is ever connected.
        Ok(if self.delete(org, id, expected, audit)? {
            switchboard_domain::telephony::ConfigDeletion::Deleted
        } else {
            switchboard_domain::telephony::ConfigDeletion::NotFound
        })
    }

    fn record_verification(
        &self,
        org: OrgId,
        id: ProviderConfigId,
        verification: &Verification,
        expected: i64,
        audit: &AuditEntry,
    ) -> Result<Option<ProviderConfig>, RepositoryError> {
        let interfered = self.interfere_once();
        let mut rows = self.rows.lock().expect("lock");
        let Some(row) = rows
            .iter_mut()
            .find(|c| c.id == id && c.org_id == org && c.version == expected)
        else {
            assert!(
                interfered || rows.is_empty(),
                "only a race loses a verification"
            );
            return Ok(None);
        };
        row.verification = Some(*verification);
        row.version += 1;
        self.events.lock().expect("lock").push((id, audit.clone()));
        Ok(Some(row.clone()))
    }
}

/// Accepts exactly one token for Twilio; knows no other provider.
struct Verifier {
    good_token: &'static str,
    calls: AtomicUsize,
}

impl CredentialVerifier for Verifier {
    fn supports(&self, provider: &str) -> bool {
        provider == "twilio"
    }

    fn verify(
        &self,
        provider: &str,
        credentials: &CredentialsToVerify<'_>,
    ) -> Result<VerificationStatus, UnsupportedProvider> {
        if !self.supports(provider) {
            return Err(UnsupportedProvider(provider.into()));
        }
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(
            if credentials.auth_token.expose_secret() == self.good_token {
                VerificationStatus::Valid
            } else {
                VerificationStatus::Invalid
            },
        )
    }
}

struct Fixture {
    service: ProviderConfigService,
    repository: Arc<Repository>,
    verifier: Arc<Verifier>,
    actor: Actor,
}

/// Creates a configuration through the server's path: shapes first, then the write.
fn create(
    service: &ProviderConfigService,
    actor: &Actor,
    draft: ProviderConfigDraft,
    options: &WriteOptions,
) -> Result<ProviderConfig, CreateProviderConfigError> {
    service
        .check_create(draft)
        .and_then(|checked| service.create_checked(actor, checked, options))
}

fn fixture() -> Fixture {
    let repository = Arc::new(Repository::default());
    let verifier = Arc::new(Verifier {
        good_token: "good-token-0001",
        calls: AtomicUsize::new(0),
    });
    let catalog = switchboard_domain::telephony::ProviderCatalog::from_records(
        Catalog.providers().expect("records"),
    )
    .expect("catalog");
    let service = ProviderConfigService::with_catalog(
        catalog,
        repository.clone(),
        Arc::new(Cipher),
        Arc::new(SystemClock),
    )
    .with_verifier(verifier.clone());
    let actor = Actor {
        user_id: UserId(3),
        token_id: TokenId(5),
        org_id: OrgId(1),
        org_handle: DomainHandle::parse("acme").expect("handle"),
        role: Role::Member,
    };
    Fixture {
        service,
        repository,
        verifier,
        actor,
    }
}

fn draft(provider: &str, token: &str) -> ProviderConfigDraft {
    ProviderConfigDraft {
        provider: Some(ProviderRef::Slug(provider.into())),
        account_sid: Some("AC1".into()),
        auth_token: Some(SecretString::from(token)),
        ..ProviderConfigDraft::default()
    }
}

fn rename(name: &str) -> ProviderConfigDraft {
    ProviderConfigDraft {
        name: Some(name.into()),
        ..ProviderConfigDraft::default()
    }
}

fn options(precondition: Precondition) -> WriteOptions {
    WriteOptions {
        request_id: Some("req-1".into()),
        precondition,
        verify: false,
    }
}

#[test]
fn writes_hand_their_audit_entry_to_the_repository() {
    let f = fixture();
    let created = create(
        &f.service,
        &f.actor,
        draft("twilio", "first-token-0001"),
        &options(Precondition::None),
    )
    .expect("created");
    f.service
        .update_with(
            &f.actor,
            created.id,
            draft_token("second-token-0002"),
            &options(Precondition::None),
        )
        .expect("rotated");
    f.service
        .delete_with(&f.actor, created.id, &options(Precondition::None))
        .expect("deleted");
    assert_eq!(
        f.repository.actions(),
        [
            AuditAction::Created,
            AuditAction::Rotated,
            AuditAction::Deleted
        ]
    );
    let events = f.repository.events.lock().expect("lock");
    let (_, rotated) = &events[1];
    assert_eq!(rotated.actor.user_id, Some(UserId(3)));
    assert_eq!(rotated.actor.token_id, Some(TokenId(5)));
    assert_eq!(rotated.actor.request_id.as_deref(), Some("req-1"));
    let changes = serde_json::Value::Object(rotated.changes.to_json());
    assert_eq!(changes["auth_token_last4"]["old"], "0001");
    assert_eq!(changes["auth_token_last4"]["new"], "0002");
    assert!(
        !changes.to_string().contains("token-000"),
        "no secret in the event"
    );
}

fn draft_token(token: &str) -> ProviderConfigDraft {
    ProviderConfigDraft {
        auth_token: Some(SecretString::from(token)),
        ..ProviderConfigDraft::default()
    }
}

#[test]
fn stale_preconditions_and_lost_races_are_refused_or_retried() {
    let f = fixture();
    let created = create(
        &f.service,
        &f.actor,
        draft("twilio", "first-token-0001"),
        &WriteOptions::default(),
    )
    .expect("created");
    // A stale version: refused before anything is written.
    let stale = f.service.update_with(
        &f.actor,
        created.id,
        rename("x"),
        &options(Precondition::Versions(vec![7])),
    );
    assert!(matches!(
        stale,
        Err(UpdateProviderConfigError::PreconditionFailed)
    ));
    // The right version, but another writer wins first: refused.
    f.repository.interfere.store(true, Ordering::SeqCst);
    let lost = f.service.update_with(
        &f.actor,
        created.id,
        rename("y"),
        &options(Precondition::Versions(vec![1])),
    );
    assert!(matches!(
        lost,
        Err(UpdateProviderConfigError::PreconditionFailed)
    ));
    // Without a precondition a lost race is retried on the new version.
    f.repository.interfere.store(true, Ordering::SeqCst);
    let retried = f
        .service
        .update_with(
            &f.actor,
            created.id,
            rename("z"),
            &options(Precondition::None),
        )
        .expect("retried");
    assert_eq!((retried.name.as_str(), retried.version), ("z", 4));
    // `*` admits any version of an existing configuration.
    f.service
        .delete_with(&f.actor, created.id, &options(Precondition::Any))
        .expect("deleted");
    assert_eq!(
        f.repository.actions(),
        [
            AuditAction::Created,
            AuditAction::Updated,
            AuditAction::Deleted
        ]
    );
}

#[test]
fn verify_before_saving_refuses_what_the_provider_refuses() {
    let f = fixture();
    let verify = WriteOptions {
        verify: true,
        ..WriteOptions::default()
    };
    let refused = create(
        &f.service,
        &f.actor,
        draft("twilio", "wrong-token-0009"),
        &verify,
    );
    assert!(matches!(
        refused,
        Err(
            switchboard_application::telephony::CreateProviderConfigError::Verification(
                CredentialCheckFailure::Rejected
            )
        )
    ));
    let unsupported = create(&f.service, &f.actor, draft("sip", "pw"), &verify);
    assert!(matches!(
        unsupported,
        Err(
            switchboard_application::telephony::CreateProviderConfigError::Verification(
                CredentialCheckFailure::Unsupported
            )
        )
    ));
    assert!(f.repository.rows.lock().expect("lock").is_empty());
    let created = create(
        &f.service,
        &f.actor,
        draft("twilio", "good-token-0001"),
        &verify,
    )
    .expect("created");
    assert_eq!(
        created.verification.map(|v| v.status),
        Some(VerificationStatus::Valid)
    );
    // A PATCH with verify checks the stored credential when it sends none.
    let renamed = f
        .service
        .update_with(&f.actor, created.id, rename("checked"), &verify)
        .expect("renamed");
    assert_eq!(
        renamed.verification.map(|v| v.status),
        Some(VerificationStatus::Valid)
    );
    assert_eq!(f.verifier.calls.load(Ordering::SeqCst), 3);
    // New credentials without verify clear the stored outcome.
    let rotated = f
        .service
        .update_with(
            &f.actor,
            created.id,
            draft_token("other-token-0002"),
            &WriteOptions::default(),
        )
        .expect("rotated");
    assert_eq!(rotated.verification, None);
}

#[test]
fn the_verify_use_case_records_outcomes() {
    let f = fixture();
    let created = create(
        &f.service,
        &f.actor,
        draft("twilio", "wrong-token-0009"),
        &WriteOptions::default(),
    )
    .expect("created");
    let verified = f
        .service
        .verify(&f.actor, created.id, &WriteOptions::default())
        .expect("verified");
    assert_eq!(
        verified.verification.map(|v| v.status),
        Some(VerificationStatus::Invalid)
    );
    assert!(
        verified
            .verification
            .is_some_and(|v| v.checked_at <= Utc::now())
    );
    assert_eq!(verified.version, 2);
    // A change while the provider is asked: asked again about the current state.
    f.repository.interfere.store(true, Ordering::SeqCst);
    f.service
        .verify(&f.actor, created.id, &WriteOptions::default())
        .expect("verified");
    assert_eq!(f.verifier.calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        f.repository.actions(),
        [
            AuditAction::Created,
            AuditAction::Verified,
            AuditAction::Verified
        ]
    );

    let sip = create(
        &f.service,
        &f.actor,
        draft("sip", "pw"),
        &WriteOptions::default(),
    )
    .expect("created");
    assert!(matches!(
        f.service.verify(&f.actor, sip.id, &WriteOptions::default()),
        Err(VerifyProviderConfigError::Unsupported)
    ));
    assert!(matches!(
        f.service
            .verify(&f.actor, ProviderConfigId(99), &WriteOptions::default()),
        Err(VerifyProviderConfigError::NotFound)
    ));
    let viewer = Actor {
        role: Role::Viewer,
        ..f.actor.clone()
    };
    assert!(matches!(
        f.service
            .verify(&viewer, created.id, &WriteOptions::default()),
        Err(VerifyProviderConfigError::PermissionDenied)
    ));
}
