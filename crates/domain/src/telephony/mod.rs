//! Telephony context: the provider catalog, the organizations' provider
//! configurations (credentials encrypted at rest), and their phone numbers and
//! bridges (which connect numbers to configurations).

mod bridge;
mod bridge_ports;
mod configuration;
mod credentials;
mod key_rotation;
mod number;
mod number_import;
mod ports;
mod provider;
mod rotation;
mod secret;
mod signatures;
mod verification;

pub use bridge::{
    Bridge, BridgeChanges, BridgeConnection, BridgeDetail, BridgeDraft, BridgeId, BridgeNumber,
    BridgeSlug, BridgeSlugError, BridgeStatus, ConnectProvider, ConnectionDraft, CreateBridge,
    DisconnectProvider, MAX_NUMBER_IDS, Region,
};
pub use bridge_ports::{
    BridgeRepository, BridgeUpdate, BridgeWriteError, ConfigDeletion, ConnectionError, NewBridge,
    NewPhoneNumber, NumberConflict, NumberDeletion, NumberFilter,
};
pub use configuration::{
    AUTH_TOKEN_FIELD, CreateProviderConfig, ProviderConfig, ProviderConfigChanges,
    ProviderConfigDraft, ProviderConfigId, ProviderRef, account_sid_key, auth_token_last4,
};
pub use credentials::{
    CREDENTIALS_TABLE, CheckMode, CredentialInput, Credentials, SentValue, last4,
};
pub use key_rotation::{
    CredentialKeyRepository, CredentialSlot, SealedCredential, SealedWebhookSecret,
    WebhookSecretSlot,
};
pub use number::{
    E164, E164Error, NumberPlacement, NumberRequest, NumberState, PhoneNumber, PhoneNumberId,
};
pub use number_import::{
    ImportOutcome, ImportStoreError, ImportedNumber, MAX_IMPORTED_NUMBERS, NoNumberSource,
    NumberImportStore, NumberSource, NumberSourceError, importable_numbers,
};
pub use ports::{
    NewProviderConfig, ProviderCatalogRepository, ProviderConfigFilter, ProviderConfigRepository,
    ProviderConfigUpdate,
};
pub use provider::{
    CATALOG_TOML, CredentialField, CredentialRule, FieldType, IDENTIFIER_ALIAS,
    IDENTIFIER_OLD_ALIAS, PRIMARY_SECRET_ALIAS, PRIMARY_SECRET_OLD_ALIAS, Provider,
    ProviderCatalog, ProviderId, ProviderRecord, RESERVED_FIELD_NAMES,
};
pub use rotation::{
    CredentialRotationRepository, DEFAULT_KEEP_PREVIOUS_SECONDS, ErasedVersion,
    MAX_KEEP_PREVIOUS_SECONDS, NewRotation, PromoteOutcome, Promotion, Rotation, RotationId,
    RotationStatus, StageChange, StartOutcome, StoredVersion, UnknownRotationStatus, VersionStage,
};
pub use secret::{
    AssociatedData, CipherError, EnvelopeError, KeyId, SealedSecret, SecretCipher, StoredSecret,
};
pub use signatures::{
    AccessTokenMinter, AccessTokenRequest, LiveKitGrant, SIGNATURE_PROVIDERS, SignedWebhook,
    WebhookSignatures,
};
pub use verification::{
    CredentialVerifier, CredentialsToVerify, NoCredentialVerifier, UnknownVerificationStatus,
    UnsupportedProvider, Verification, VerificationStatus,
};
