//! A database written by the previous release (migrations up to 000100, one sealed
//! `auth_token` per row in envelope format 1) migrates to credential fields as data
//! without losing a row: public fields and last-4 maps are named after each
//! provider's catalog entry, the credential version is 1, every stored secret still
//! opens through the repository's rows, and a rewrap moves the blobs to format 2.
//! Run on SQLite and PostgreSQL.

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::sync::Arc;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use switchboard_application::key_rotation::KeyRotationService;
use switchboard_crypto::AesGcmKeyring;
use switchboard_crypto::generate_key_base64;
use switchboard_domain::identity::OrgId;
use switchboard_domain::telephony::{
    AssociatedData, Credentials, ProviderConfigId, ProviderConfigRepository, SealedSecret,
    SecretCipher,
};
use switchboard_persistence::{
    Backend, Database, DieselCredentialKeyRepository, DieselProviderConfigRepository,
};
use switchboard_test_support::{TestDatabase, on_both_backends};

on_both_backends!(sync: rows_of_the_previous_release_migrate_and_still_decrypt);

/// The last migration of the previous release.
const PREVIOUS_RELEASE: &str = "2026-12-06-000100_token_lineage";

/// (provider id, account SID, auth token, identifier name, primary secret name).
const ROWS: [(i64, &str, &str, &str, &str); 4] = [
    (
        1,
        "AC0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef",
        "account_sid",
        "auth_token",
    ),
    (3, "abcdef12", "Abcdef1234567890", "api_key", "api_secret"),
    (8, "trunk-user", "pw", "username", "password"),
    (
        4,
        "123e4567-e89b-12d3-a456-426614174000",
        "KEY0123456789abcdefghijKLMN",
        "account_id",
        "api_key",
    ),
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn execute(test_db: &TestDatabase, sql: &str) {
    match test_db.backend() {
        Backend::Sqlite => {
            let path = test_db.url().strip_prefix("sqlite://").unwrap();
            diesel::SqliteConnection::establish(path)
                .unwrap()
                .batch_execute(sql)
                .unwrap();
        }
        Backend::Postgres => {
            diesel::PgConnection::establish(test_db.url())
                .unwrap()
                .batch_execute(sql)
                .unwrap();
        }
    }
}

fn rows_of_the_previous_release_migrate_and_still_decrypt(test_db: &TestDatabase) {
    let db = Database::connect(&test_db.settings()).unwrap();
    let applied = db.run_migrations_through(PREVIOUS_RELEASE).unwrap();
    assert_eq!(applied.last().map(String::as_str), Some(PREVIOUS_RELEASE));
    assert!(!db.pending_migrations().unwrap().is_empty());
    let keys = SecretString::from(format!("1:{}", generate_key_base64().expose_secret()));
    let keyring = Arc::new(AesGcmKeyring::from_config(&keys, 1).unwrap());

    // Written as the previous release wrote them: one format-1 blob per row.
    let blob = |bytes: &[u8]| match test_db.backend() {
        Backend::Sqlite => format!("X'{}'", hex(bytes)),
        Backend::Postgres => format!("'\\x{}'::bytea", hex(bytes)),
    };
    execute(
        test_db,
        "INSERT INTO organizations (id, name, domain_handle, created_at) \
         VALUES (1, 'Acme', 'acme', '2026-11-30 10:00:00')",
    );
    let mut uids = Vec::new();
    for (index, (provider, sid, token, _, _)) in ROWS.iter().enumerate() {
        let uid = format!("00000000-0000-4000-8000-00000000000{index}");
        let sealed = keyring
            .seal(
                &SecretString::from(*token),
                &AssociatedData::for_field(OrgId(1), "provider_configurations", &uid, "auth_token"),
            )
            .unwrap();
        assert_eq!(sealed.format(), SealedSecret::FORMAT_V1);
        let last4 = if token.len() < 12 {
            "****".to_owned()
        } else {
            token[token.len() - 4..].to_owned()
        };
        execute(
            test_db,
            &format!(
                "INSERT INTO provider_configurations (id, uid, organization_id, provider_id, name, \
                 account_sid, account_sid_key, auth_token_ciphertext, auth_token_key_id, \
                 auth_token_last4, active, base_url, sip_url, meta_json, version, created_at, \
                 updated_at) VALUES ({id}, '{uid}', 1, {provider}, 'Old {index}', '{sid}', \
                 '{key}', {blob}, 1, '{last4}', TRUE, NULL, NULL, '{{}}', 3, \
                 '2026-11-30 10:00:00', '2026-11-30 10:00:00')",
                id = index + 1,
                key = sid.to_lowercase(),
                blob = blob(sealed.as_bytes()),
            ),
        );
        uids.push(uid);
    }

    let applied = db.run_pending_migrations().unwrap();
    assert!(
        applied
            .iter()
            .any(|name| name.contains("credentials_as_data"))
    );
    assert!(db.pending_migrations().unwrap().is_empty());

    let repository = DieselProviderConfigRepository::new(db.clone());
    for (index, (_, sid, token, identifier, primary)) in ROWS.iter().enumerate() {
        let id = ProviderConfigId(i64::try_from(index).unwrap() + 1);
        let config = repository.get(OrgId(1), id).unwrap().unwrap();
        assert_eq!(config.account_sid, *sid);
        assert_eq!(config.uid, uids[index]);
        assert_eq!(config.version, 3, "the row itself did not change");
        assert_eq!(config.credential_version, 1);
        assert_eq!(
            Value::Object(config.public_fields.clone()),
            json!({*identifier: sid})
        );
        assert_eq!(config.secret_names(), vec![*primary]);
        assert_eq!(config.secret_last4[*primary], config.auth_token_last4);
        let opened = Credentials::open(
            &config.auth_token,
            &config.secret_names(),
            keyring.as_ref(),
            OrgId(1),
            &config.uid,
            config.credential_version,
        )
        .unwrap();
        assert_eq!(opened.len(), 1);
        assert_eq!(opened[*primary].expose_secret(), *token);
    }

    // A rewrap moves every format-1 blob (here all under the primary key) to format 3.
    let rotation = KeyRotationService::new(
        Arc::new(DieselCredentialKeyRepository::new(db.clone())),
        keyring.clone(),
    );
    let report = rotation.rewrap_all(2, |_| {}).unwrap();
    assert_eq!(report.rewrapped, ROWS.len() as u64);
    assert!(report.failed.is_empty());
    assert_eq!(rotation.rewrap_all(2, |_| {}).unwrap().examined, 0);
    for (index, (_, _, token, _, primary)) in ROWS.iter().enumerate() {
        let id = ProviderConfigId(i64::try_from(index).unwrap() + 1);
        let config = repository.get(OrgId(1), id).unwrap().unwrap();
        assert_eq!(
            config.auth_token.parse().unwrap().format(),
            SealedSecret::FORMAT_V3
        );
        let opened = Credentials::open(
            &config.auth_token,
            &config.secret_names(),
            keyring.as_ref(),
            OrgId(1),
            &config.uid,
            config.credential_version,
        )
        .unwrap();
        assert_eq!(opened[*primary].expose_secret(), *token);
    }
    assert!(
        rotation
            .check_all(10, |_| {})
            .unwrap()
            .unreadable
            .is_empty()
    );
}
