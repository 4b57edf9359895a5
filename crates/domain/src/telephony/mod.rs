//! Telephony context: the provider catalog and the organizations' provider
//! configurations (credentials encrypted at rest).

mod configuration;
mod ports;
mod provider;
mod secret;
mod verification;

pub use configuration::{
    AUTH_TOKEN_FIELD, CreateProviderConfig, ProviderConfig, ProviderConfigChanges,
    ProviderConfigDraft, ProviderConfigId, ProviderRef, account_sid_key, auth_token_last4,
};
pub use ports::{
    NewProviderConfig, ProviderCatalogRepository, ProviderConfigFilter, ProviderConfigRepository,
    ProviderConfigUpdate,
};
pub use provider::{CredentialRule, Provider, ProviderCatalog, ProviderId, ProviderRecord};
pub use secret::{AssociatedData, CipherError, EnvelopeError, KeyId, SealedSecret, SecretCipher};
pub use verification::{
    CredentialVerifier, CredentialsToVerify, NoCredentialVerifier, UnknownVerificationStatus,
    UnsupportedProvider, Verification, VerificationStatus,
};
