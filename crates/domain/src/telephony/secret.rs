//! Encrypted secrets: the envelope of a sealed blob, the associated data that binds a
//! blob to its organization, row and field, and the cipher port.
//!
//! Envelope: `format (1 byte) | key id (u32, big endian) | nonce (12 bytes) |
//! ciphertext and 16-byte tag`. Format 1 holds one secret bound to one field (the
//! `auth_token` of rows written before credential fields were data); format 2 holds
//! a JSON object of every secret of a configuration, bound to the sorted field names
//! (see `credentials`); format 3 is format 2 whose binding also names the credential
//! version (staged rotation: a blob cannot move between versions of its row). The
//! binding ([`AssociatedData`]) decides the format of a new seal. The algorithm lives in the crypto adapter; this
//! module only knows the layout, so that storage and key rotation can read the key
//! id of a blob without decrypting it.
//!
//! What storage hands back is a [`StoredSecret`]: the bytes as read, unchecked. They
//! are parsed into a [`SealedSecret`] when the secret is opened, never when a row is
//! listed or read, so that one malformed blob (a partial restore, a bad disk) breaks
//! the uses of that secret and nothing else.

use std::fmt;

use secrecy::SecretString;

use super::super::identity::OrgId;

/// Id of an encryption key in the keyring (a positive integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub u32);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A sealed (encrypted and authenticated) secret in its stored envelope.
/// `Debug` shows only its length: never bytes, nonce or key id.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(Vec<u8>);

/// Why bytes are not a sealed secret envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("sealed secret is too short")]
    TooShort,
    #[error("sealed secret has an unknown format version")]
    UnknownVersion,
    #[error("sealed secret names key id 0")]
    ZeroKeyId,
}

impl SealedSecret {
    /// The format byte of version 1 (one secret bound to one field).
    pub const FORMAT_V1: u8 = 1;
    /// The format byte of version 2 (every secret of a configuration in one object).
    pub const FORMAT_V2: u8 = 2;
    /// The format byte of version 3 (as 2, bound to the credential version too).
    pub const FORMAT_V3: u8 = 3;
    /// Bytes of the nonce.
    pub const NONCE_LEN: usize = 12;
    /// Bytes of the authentication tag.
    pub const TAG_LEN: usize = 16;
    /// Bytes before the ciphertext: format, key id, nonce.
    pub const HEADER_LEN: usize = 1 + 4 + Self::NONCE_LEN;

    /// Assembles an envelope of format 1.
    #[must_use]
    pub fn from_parts(
        key_id: KeyId,
        nonce: &[u8; Self::NONCE_LEN],
        ciphertext_and_tag: &[u8],
    ) -> Self {
        Self::from_parts_with_format(Self::FORMAT_V1, key_id, nonce, ciphertext_and_tag)
    }

    /// Assembles an envelope of `format`.
    #[must_use]
    pub fn from_parts_with_format(
        format: u8,
        key_id: KeyId,
        nonce: &[u8; Self::NONCE_LEN],
        ciphertext_and_tag: &[u8],
    ) -> Self {
        let mut bytes = Vec::with_capacity(Self::HEADER_LEN + ciphertext_and_tag.len());
        bytes.push(format);
        bytes.extend_from_slice(&key_id.0.to_be_bytes());
        bytes.extend_from_slice(nonce);
        bytes.extend_from_slice(ciphertext_and_tag);
        Self(bytes)
    }

    /// Checks the layout of stored bytes.
    ///
    /// # Errors
    /// [`EnvelopeError`] when the bytes cannot be an envelope.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, EnvelopeError> {
        if bytes.len() < Self::HEADER_LEN + Self::TAG_LEN {
            return Err(EnvelopeError::TooShort);
        }
        if !matches!(
            bytes[0],
            Self::FORMAT_V1 | Self::FORMAT_V2 | Self::FORMAT_V3
        ) {
            return Err(EnvelopeError::UnknownVersion);
        }
        let sealed = Self(bytes);
        if sealed.key_id().0 == 0 {
            return Err(EnvelopeError::ZeroKeyId);
        }
        Ok(sealed)
    }

    /// The format byte.
    #[must_use]
    pub fn format(&self) -> u8 {
        self.0[0]
    }

    /// The key that sealed this secret.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        let mut id = [0_u8; 4];
        id.copy_from_slice(&self.0[1..5]);
        KeyId(u32::from_be_bytes(id))
    }

    /// The nonce.
    #[must_use]
    pub fn nonce(&self) -> &[u8] {
        &self.0[5..Self::HEADER_LEN]
    }

    /// Format byte and key id: authenticated along with the caller's associated data,
    /// so that a header cannot be altered.
    #[must_use]
    pub fn header(&self) -> &[u8] {
        &self.0[..5]
    }

    /// Ciphertext followed by the tag.
    #[must_use]
    pub fn ciphertext_and_tag(&self) -> &[u8] {
        &self.0[Self::HEADER_LEN..]
    }

    /// The whole envelope, for storage.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedSecret({} bytes)", self.0.len())
    }
}

/// The bytes stored for a sealed secret, exactly as read and not yet checked: they
/// may not even be an envelope. Rows carry these; [`StoredSecret::open`] parses them
/// when the secret is needed. `Debug` shows only the length.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSecret(Vec<u8>);

impl StoredSecret {
    /// Bytes read from storage.
    #[must_use]
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes, for a compare-and-set against what is stored.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The envelope these bytes hold.
    ///
    /// # Errors
    /// [`EnvelopeError`] when they are not one (truncated, empty, unknown format).
    pub fn parse(&self) -> Result<SealedSecret, EnvelopeError> {
        SealedSecret::parse(self.0.clone())
    }

    /// The key id of the envelope, when the bytes are one.
    #[must_use]
    pub fn key_id(&self) -> Option<KeyId> {
        self.parse().ok().map(|sealed| sealed.key_id())
    }

    /// Parses and opens the secret with `cipher`, checking `binding`.
    ///
    /// # Errors
    /// [`CipherError::Envelope`] when the bytes are not an envelope, else what
    /// [`SecretCipher::open`] reports.
    pub fn open(
        &self,
        cipher: &dyn SecretCipher,
        binding: &AssociatedData,
    ) -> Result<SecretString, CipherError> {
        cipher.open(&self.parse()?, binding)
    }
}

impl From<SealedSecret> for StoredSecret {
    fn from(sealed: SealedSecret) -> Self {
        Self(sealed.0)
    }
}

impl PartialEq<SealedSecret> for StoredSecret {
    fn eq(&self, other: &SealedSecret) -> bool {
        self.0 == other.0
    }
}

impl fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoredSecret({} bytes)", self.0.len())
    }
}

/// Associated data binding a sealed secret to where it is stored. Decryption with any
/// other binding fails. A binding also names the envelope format a seal under it
/// writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociatedData {
    bytes: Vec<u8>,
    format: u8,
}

impl AssociatedData {
    /// The binding of one secret stored in `field` of the row `row_uid` of `table`,
    /// owned by `organization` (envelope format 1).
    #[must_use]
    pub fn for_field(organization: OrgId, table: &str, row_uid: &str, field: &str) -> Self {
        Self {
            bytes: format!(
                "switchboard/v1;org={};table={table};row={row_uid};field={field}",
                organization.0
            )
            .into_bytes(),
            format: SealedSecret::FORMAT_V1,
        }
    }

    /// The binding of the secrets `fields` (sorted by the caller, names without `,`)
    /// of the row `row_uid` of `table`, owned by `organization`, sealed together
    /// (envelope format 2).
    #[must_use]
    pub fn for_secrets(organization: OrgId, table: &str, row_uid: &str, fields: &[&str]) -> Self {
        Self {
            bytes: format!(
                "switchboard/v2;org={};table={table};row={row_uid};fields={}",
                organization.0,
                fields.join(",")
            )
            .into_bytes(),
            format: SealedSecret::FORMAT_V2,
        }
    }

    /// The binding of the secrets `fields` (sorted by the caller, names without `,`)
    /// of credential version `version` of the row `row_uid` of `table`, owned by
    /// `organization`, sealed together (envelope format 3).
    #[must_use]
    pub fn for_version(
        organization: OrgId,
        table: &str,
        row_uid: &str,
        version: i64,
        fields: &[&str],
    ) -> Self {
        Self {
            bytes: format!(
                "switchboard/v3;org={};table={table};row={row_uid};version={version};fields={}",
                organization.0,
                fields.join(",")
            )
            .into_bytes(),
            format: SealedSecret::FORMAT_V3,
        }
    }

    /// The bytes to authenticate.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The envelope format a seal under this binding writes.
    #[must_use]
    pub fn format(&self) -> u8 {
        self.format
    }
}

/// Why sealing or opening failed. Messages never contain key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The blob names a key that is not in the keyring (fail closed).
    #[error("encryption key {0} is not configured")]
    UnknownKey(KeyId),
    /// Wrong key, wrong associated data or tampered bytes.
    #[error("sealed secret failed authentication")]
    Authentication,
    /// The stored bytes are not an envelope.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// The plaintext is not UTF-8 (a secret of this service always is).
    #[error("decrypted secret is not valid UTF-8")]
    NotUtf8,
    /// The encryption itself failed.
    #[error("encryption failed")]
    Seal,
}

/// Authenticated encryption of secrets with a keyring: one primary key seals, every
/// listed key opens.
pub trait SecretCipher: Send + Sync {
    /// Seals `plaintext` under the primary key with a fresh nonce.
    ///
    /// # Errors
    /// [`CipherError::Seal`].
    fn seal(
        &self,
        plaintext: &SecretString,
        binding: &AssociatedData,
    ) -> Result<SealedSecret, CipherError>;

    /// Opens `sealed`, checking `binding`.
    ///
    /// # Errors
    /// [`CipherError`]: unknown key, failed authentication, bad envelope.
    fn open(
        &self,
        sealed: &SealedSecret,
        binding: &AssociatedData,
    ) -> Result<SecretString, CipherError>;

    /// The key new seals use.
    fn primary_key_id(&self) -> KeyId;

    /// Every key id the keyring holds (each one opens), in ascending order.
    fn key_ids(&self) -> Vec<KeyId>;
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn envelope_round_trips_its_parts() {
        let sealed = SealedSecret::from_parts(KeyId(7), &[9; 12], &[1; 20]);
        let parsed = SealedSecret::parse(sealed.as_bytes().to_vec()).expect("valid");
        assert_eq!(parsed.key_id(), KeyId(7));
        assert_eq!(parsed.nonce(), &[9; 12]);
        assert_eq!(parsed.ciphertext_and_tag(), &[1; 20]);
        assert_eq!(parsed.header(), &[1, 0, 0, 0, 7]);
        assert_eq!(format!("{parsed:?}"), "SealedSecret(37 bytes)");
    }

    #[test]
    fn bad_envelopes_are_refused() {
        assert_eq!(
            SealedSecret::parse(vec![1; 10]),
            Err(EnvelopeError::TooShort)
        );
        let mut wrong_version = SealedSecret::from_parts(KeyId(1), &[0; 12], &[0; 16])
            .as_bytes()
            .to_vec();
        wrong_version[0] = 4;
        assert_eq!(
            SealedSecret::parse(wrong_version),
            Err(EnvelopeError::UnknownVersion)
        );
        let zero = SealedSecret::from_parts(KeyId(0), &[0; 12], &[0; 16]);
        assert_eq!(
            SealedSecret::parse(zero.as_bytes().to_vec()),
            Err(EnvelopeError::ZeroKeyId)
        );
    }

    #[test]
    fn stored_bytes_are_checked_only_when_parsed() {
        let sealed = SealedSecret::from_parts(KeyId(3), &[0; 12], &[1; 16]);
        let stored = StoredSecret::from(sealed.clone());
        assert_eq!(stored, sealed);
        assert_eq!(stored.key_id(), Some(KeyId(3)));
        assert_eq!(stored.parse(), Ok(sealed));
        for (bytes, error) in [
            (Vec::new(), EnvelopeError::TooShort),
            (vec![1; 10], EnvelopeError::TooShort),
            (vec![9; 40], EnvelopeError::UnknownVersion),
            (vec![4; 40], EnvelopeError::UnknownVersion),
        ] {
            let stored = StoredSecret::from_bytes(bytes);
            assert_eq!(stored.parse(), Err(error));
            assert_eq!(stored.key_id(), None);
        }
        assert_eq!(
            format!("{:?}", StoredSecret::from_bytes(vec![7; 5])),
            "StoredSecret(5 bytes)"
        );
    }

    #[test]
    fn bindings_differ_by_org_row_and_field() {
        let a = AssociatedData::for_field(OrgId(1), "t", "r1", "f");
        assert_ne!(a, AssociatedData::for_field(OrgId(2), "t", "r1", "f"));
        assert_ne!(a, AssociatedData::for_field(OrgId(1), "t", "r2", "f"));
        assert_ne!(a, AssociatedData::for_field(OrgId(1), "t", "r1", "g"));
        let b = AssociatedData::for_secrets(OrgId(1), "t", "r1", &["a", "b"]);
        assert_eq!(b.format(), SealedSecret::FORMAT_V2);
        assert_ne!(b, AssociatedData::for_secrets(OrgId(1), "t", "r1", &["a"]));
        assert_ne!(
            b,
            AssociatedData::for_secrets(OrgId(1), "t", "r2", &["a", "b"])
        );
        assert_ne!(b.as_bytes(), a.as_bytes());
        let c = AssociatedData::for_version(OrgId(1), "t", "r1", 2, &["a", "b"]);
        assert_eq!(c.format(), SealedSecret::FORMAT_V3);
        assert_ne!(
            c,
            AssociatedData::for_version(OrgId(1), "t", "r1", 3, &["a", "b"])
        );
    }

    proptest! {
        #[test]
        fn envelope_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(sealed) = SealedSecret::parse(bytes) {
                let _ = (sealed.key_id(), sealed.nonce(), sealed.ciphertext_and_tag());
            }
        }
    }
}
