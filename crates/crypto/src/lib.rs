//! Cryptography adapter: the AES-256-GCM keyring behind the domain's `SecretCipher`,
//! the HMAC-SHA256 token hasher, the Argon2id password hasher, the random token
//! generator and Standard Webhooks signing. Nothing here logs, and no error or `Debug` output carries key bytes,
//! plaintexts or tokens.

pub mod access_tokens;
mod hash_pool;
mod keyring;
mod password;
pub mod provider_signatures;
mod token;
mod webhook;

pub use hash_pool::{HASHING_NICENESS, PooledPasswordHasher};
pub use keyring::{AesGcmKeyring, KeyringError, generate_key_base64, parse_key_base64};
pub use password::Argon2PasswordHasher;
pub use provider_signatures::ProviderSignatures;
pub use token::{HmacTokenHasher, RandomTokenGenerator};
pub use webhook::{SECRET_PREFIX as WEBHOOK_SECRET_PREFIX, StandardWebhookSigner};
