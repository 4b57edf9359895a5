//! The AES-256-GCM keyring: keys by id, one primary for new seals, every listed key
//! for opening. The associated data authenticated with each blob is the blob's header
//! (format and key id) followed by the caller's binding (organization, row, field).

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use switchboard_domain::telephony::{
    AssociatedData, CipherError, KeyId, SealedSecret, SecretCipher,
};
use zeroize::Zeroizing;

/// Why a keyring could not be built. Messages name key ids, never key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyringError {
    #[error("no encryption key is configured")]
    Empty,
    #[error("encryption key entry {position} is not of the form id:base64")]
    Entry { position: usize },
    #[error("encryption key id in entry {position} is not a positive integer")]
    Id { position: usize },
    #[error("encryption key {id} is not standard base64 of exactly 32 bytes")]
    Material { id: u32 },
    #[error("encryption key {id} is listed twice")]
    DuplicateId { id: u32 },
    #[error("primary key id {id} is not among the configured keys")]
    MissingPrimary { id: u32 },
}

/// AES-256-GCM with a keyring.
pub struct AesGcmKeyring {
    ciphers: BTreeMap<KeyId, Aes256Gcm>,
    primary: KeyId,
}

impl fmt::Debug for AesGcmKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesGcmKeyring")
            .field("key_ids", &self.ciphers.keys().collect::<Vec<_>>())
            .field("primary", &self.primary)
            .finish()
    }
}

impl AesGcmKeyring {
    /// Builds a keyring from `id:base64` pairs separated by commas (whitespace around
    /// entries is ignored) and the primary key's id.
    ///
    /// # Errors
    /// [`KeyringError`] naming the faulty entry or id.
    pub fn from_config(keys: &SecretString, primary: u32) -> Result<Self, KeyringError> {
        let mut ciphers = BTreeMap::new();
        for (index, entry) in keys
            .expose_secret()
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .enumerate()
        {
            let position = index + 1;
            let (id, material) = entry
                .split_once(':')
                .ok_or(KeyringError::Entry { position })?;
            let id: u32 = id
                .trim()
                .parse()
                .ok()
                .filter(|id| *id > 0)
                .ok_or(KeyringError::Id { position })?;
            let key = parse_key_base64(material.trim()).ok_or(KeyringError::Material { id })?;
            let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key));
            if ciphers.insert(KeyId(id), cipher).is_some() {
                return Err(KeyringError::DuplicateId { id });
            }
        }
        if ciphers.is_empty() {
            return Err(KeyringError::Empty);
        }
        if !ciphers.contains_key(&KeyId(primary)) {
            return Err(KeyringError::MissingPrimary { id: primary });
        }
        Ok(Self {
            ciphers,
            primary: KeyId(primary),
        })
    }

    /// The ids of every configured key.
    #[must_use]
    pub fn key_ids(&self) -> Vec<KeyId> {
        self.ciphers.keys().copied().collect()
    }
}

fn authenticated_data(header: &[u8], binding: &AssociatedData) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + binding.as_bytes().len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(binding.as_bytes());
    aad
}

impl SecretCipher for AesGcmKeyring {
    fn seal(
        &self,
        plaintext: &SecretString,
        binding: &AssociatedData,
    ) -> Result<SealedSecret, CipherError> {
        let cipher = self.ciphers.get(&self.primary).ok_or(CipherError::Seal)?;
        let nonce = Nonce::generate();
        let nonce_bytes: [u8; SealedSecret::NONCE_LEN] = nonce.into();
        // The header is authenticated, so it must be known before encrypting.
        let header =
            SealedSecret::from_parts_with_format(binding.format(), self.primary, &nonce_bytes, &[]);
        let aad = authenticated_data(header.header(), binding);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.expose_secret().as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| CipherError::Seal)?;
        Ok(SealedSecret::from_parts_with_format(
            binding.format(),
            self.primary,
            &nonce_bytes,
            &ciphertext,
        ))
    }

    fn open(
        &self,
        sealed: &SealedSecret,
        binding: &AssociatedData,
    ) -> Result<SecretString, CipherError> {
        let sealed = SealedSecret::parse(sealed.as_bytes().to_vec())?;
        let key_id = sealed.key_id();
        let cipher = self
            .ciphers
            .get(&key_id)
            .ok_or(CipherError::UnknownKey(key_id))?;
        let nonce = Nonce::try_from(sealed.nonce()).map_err(|_| CipherError::Authentication)?;
        let aad = authenticated_data(sealed.header(), binding);
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    &nonce,
                    Payload {
                        msg: sealed.ciphertext_and_tag(),
                        aad: &aad,
                    },
                )
                .map_err(|_| CipherError::Authentication)?,
        );
        let text = std::str::from_utf8(&plaintext).map_err(|_| CipherError::NotUtf8)?;
        Ok(SecretString::from(text))
    }

    fn primary_key_id(&self) -> KeyId {
        self.primary
    }

    fn key_ids(&self) -> Vec<KeyId> {
        AesGcmKeyring::key_ids(self)
    }
}

/// Decodes standard base64 of exactly 32 bytes; `None` otherwise.
#[must_use]
pub fn parse_key_base64(text: &str) -> Option<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(STANDARD.decode(text).ok()?);
    let mut key = Zeroizing::new([0_u8; 32]);
    if bytes.len() != key.len() {
        return None;
    }
    key.copy_from_slice(&bytes);
    Some(key)
}

/// A fresh random 256-bit key in standard base64.
#[must_use]
pub fn generate_key_base64() -> SecretString {
    let mut key = Zeroizing::new([0_u8; 32]);
    rand::rng().fill_bytes(key.as_mut_slice());
    SecretString::from(STANDARD.encode(key.as_slice()))
}

#[cfg(test)]
mod tests {
    use switchboard_domain::identity::OrgId;

    use super::*;

    fn keyring(spec: &str, primary: u32) -> AesGcmKeyring {
        AesGcmKeyring::from_config(&SecretString::from(spec), primary).expect("valid keyring")
    }

    fn spec(ids: &[u32]) -> String {
        ids.iter()
            .map(|id| format!("{id}:{}", generate_key_base64().expose_secret()))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn bind(org: i64, row: &str) -> AssociatedData {
        AssociatedData::for_field(OrgId(org), "provider_configurations", row, "auth_token")
    }

    #[test]
    fn seal_then_open_round_trips_with_fresh_nonces() {
        let ring = keyring(&spec(&[1]), 1);
        let secret = SecretString::from("0123456789abcdef0123456789abcdef");
        let a = ring.seal(&secret, &bind(1, "r")).expect("seal");
        let b = ring.seal(&secret, &bind(1, "r")).expect("seal");
        assert_ne!(a.nonce(), b.nonce());
        assert_ne!(a.as_bytes(), b.as_bytes());
        let opened = ring.open(&a, &bind(1, "r")).expect("open");
        assert_eq!(opened.expose_secret(), secret.expose_secret());
        assert_eq!(a.key_id(), KeyId(1));
    }

    #[test]
    fn another_binding_or_tampering_fails() {
        let ring = keyring(&spec(&[1]), 1);
        let sealed = ring
            .seal(&SecretString::from("token"), &bind(1, "r"))
            .expect("seal");
        assert_eq!(
            ring.open(&sealed, &bind(2, "r")).map(|_| ()),
            Err(CipherError::Authentication)
        );
        assert_eq!(
            ring.open(&sealed, &bind(1, "other")).map(|_| ()),
            Err(CipherError::Authentication)
        );
        let mut bytes = sealed.as_bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = SealedSecret::parse(bytes).expect("envelope");
        assert_eq!(
            ring.open(&tampered, &bind(1, "r")).map(|_| ()),
            Err(CipherError::Authentication)
        );
    }

    #[test]
    fn old_keys_open_and_the_primary_seals() {
        let keys = spec(&[1, 2]);
        let old = keyring(&keys, 1);
        let sealed_old = old
            .seal(&SecretString::from("old"), &bind(1, "r"))
            .expect("seal");
        let new = keyring(&keys, 2);
        assert!(new.open(&sealed_old, &bind(1, "r")).is_ok());
        let sealed_new = new
            .seal(&SecretString::from("new"), &bind(1, "r"))
            .expect("seal");
        assert_eq!(sealed_new.key_id(), KeyId(2));
        let without_key_1 = keyring(keys.split(',').nth(1).expect("two keys"), 2);
        assert_eq!(
            without_key_1.open(&sealed_old, &bind(1, "r")).map(|_| ()),
            Err(CipherError::UnknownKey(KeyId(1)))
        );
    }

    #[test]
    fn configuration_errors_never_show_key_material() {
        let good = generate_key_base64();
        let cases = [
            ("", 1, KeyringError::Empty),
            ("nocolon", 1, KeyringError::Entry { position: 1 }),
            ("0:AAAA", 1, KeyringError::Id { position: 1 }),
            ("1:c2hvcnQ=", 1, KeyringError::Material { id: 1 }),
        ];
        for (spec, primary, expected) in cases {
            let error = AesGcmKeyring::from_config(&SecretString::from(spec), primary)
                .expect_err("invalid");
            assert_eq!(error, expected);
        }
        let text = format!("1:{0},1:{0}", good.expose_secret());
        let error = AesGcmKeyring::from_config(&SecretString::from(text), 1).expect_err("dup");
        assert!(!error.to_string().contains(good.expose_secret()));
        let ring = keyring(&format!("3:{}", good.expose_secret()), 3);
        assert!(!format!("{ring:?}").contains(good.expose_secret()));
        assert_eq!(
            AesGcmKeyring::from_config(
                &SecretString::from(format!("3:{}", good.expose_secret())),
                4
            )
            .map(|_| ()),
            Err(KeyringError::MissingPrimary { id: 4 })
        );
    }
}
