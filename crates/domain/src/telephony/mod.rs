//! Telephony context: the provider catalog and the organizations' provider
//! configurations (credentials encrypted at rest).

mod configuration;
mod key_rotation;
mod ports;
mod provider;
mod secret;

pub use configuration::{
    AUTH_TOKEN_FIELD, CreateProviderConfig, ProviderConfig, ProviderConfigChanges,
    ProviderConfigDraft, ProviderConfigId, ProviderRef, account_sid_key, auth_token_last4,
};
pub use key_rotation::{CredentialKeyRepository, SealedCredential};
pub use ports::{
    NewProviderConfig, ProviderCatalogRepository, ProviderConfigFilter, ProviderConfigRepository,
    ProviderConfigUpdate,
};
pub use provider::{CredentialRule, Provider, ProviderCatalog, ProviderId, ProviderRecord};
pub use secret::{AssociatedData, CipherError, EnvelopeError, KeyId, SealedSecret, SecretCipher};
