//! Staged rotation in the database (migration 2026-12-06-000700_staged_rotation), on
//! SQLite and PostgreSQL: a row written before the migration is credential version
//! 1, current, with no other version; the database itself refuses a second pending
//! version, a second previous version and a second pending rotation of one
//! configuration; and a key rewrap moves the blobs of version rows too.

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::collections::BTreeMap;
use std::sync::Arc;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use secrecy::{ExposeSecret, SecretString};
use switchboard_application::key_rotation::KeyRotationService;
use switchboard_crypto::{AesGcmKeyring, generate_key_base64};
use switchboard_domain::audit::{AuditAction, AuditActor, AuditChanges, AuditEntry};
use switchboard_domain::identity::OrgId;
use switchboard_domain::telephony::{
    CredentialKeyRepository, CredentialRotationRepository, Credentials, KeyId, NewRotation,
    ProviderConfigId, ProviderConfigRepository, StartOutcome,
};
use switchboard_persistence::{
    Backend, Database, DieselCredentialKeyRepository, DieselProviderConfigRepository,
    DieselRotationRepository,
};
use switchboard_test_support::{TestDatabase, on_both_backends};

on_both_backends!(sync: existing_rows_are_version_one_and_the_database_enforces_the_stages);

const BEFORE: &str = "2026-12-06-000600_events_and_webhooks";

fn execute(test_db: &TestDatabase, sql: &str) -> Result<(), String> {
    match test_db.backend() {
        Backend::Sqlite => {
            let path = test_db.url().strip_prefix("sqlite://").unwrap();
            diesel::SqliteConnection::establish(path)
                .unwrap()
                .batch_execute(&format!("PRAGMA foreign_keys = ON; {sql}"))
                .map_err(|error| error.to_string())
        }
        Backend::Postgres => diesel::PgConnection::establish(test_db.url())
            .unwrap()
            .batch_execute(sql)
            .map_err(|error| error.to_string()),
    }
}

fn version_row(test_db: &TestDatabase, id: i64, version: i64, stage: &str) -> String {
    let blob = match test_db.backend() {
        Backend::Sqlite => "X'00'",
        Backend::Postgres => "'\\x00'::bytea",
    };
    format!(
        "INSERT INTO credential_versions (id, organization_id, provider_config_id, version, \
         stage, sealed_secret, key_id, secret_last4, auth_token_last4, created_at, expires_at) \
         VALUES ({id}, 1, 1, {version}, '{stage}', {blob}, 1, '{{}}', '****', \
         '2026-12-06 10:00:00', NULL)"
    )
}

fn rotation_row(id: i64, status: &str) -> String {
    format!(
        "INSERT INTO credential_rotations (id, organization_id, provider_config_id, status, \
         version, secret_last4, created_at) VALUES ({id}, 1, 1, '{status}', 2, '{{}}', \
         '2026-12-06 10:00:00')"
    )
}

fn existing_rows_are_version_one_and_the_database_enforces_the_stages(test_db: &TestDatabase) {
    let db = Database::connect(&test_db.settings()).unwrap();
    db.run_migrations_through(BEFORE).unwrap();
    let keys = SecretString::from(format!(
        "1:{},2:{}",
        generate_key_base64().expose_secret(),
        generate_key_base64().expose_secret()
    ));
    let old_keyring = Arc::new(AesGcmKeyring::from_config(&keys, 1).unwrap());
    let uid = "00000000-0000-4000-8000-000000000001";
    let token = "0123456789abcdef0123456789abcdef";
    let secrets = BTreeMap::from([("auth_token".to_owned(), SecretString::from(token))]);
    let sealed = Credentials::seal(&secrets, old_keyring.as_ref(), OrgId(1), uid, 1).unwrap();
    let hex: String = sealed
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let blob = match test_db.backend() {
        Backend::Sqlite => format!("X'{hex}'"),
        Backend::Postgres => format!("'\\x{hex}'::bytea"),
    };
    execute(
        test_db,
        &format!(
            "INSERT INTO organizations (id, name, domain_handle, created_at) \
             VALUES (1, 'Acme', 'acme', '2026-11-30 10:00:00'); \
             INSERT INTO provider_configurations (id, uid, organization_id, provider_id, name, \
             account_sid, account_sid_key, auth_token_ciphertext, auth_token_key_id, \
             auth_token_last4, active, base_url, sip_url, meta_json, version, created_at, \
             updated_at, public_fields, secret_last4) VALUES (1, '{uid}', 1, 1, 'Old', \
             'AC0123456789abcdef0123456789abcdef', 'ac0123456789abcdef0123456789abcdef', {blob}, \
             1, 'cdef', TRUE, NULL, NULL, '{{}}', 2, '2026-11-30 10:00:00', \
             '2026-11-30 10:00:00', '{{\"account_sid\": \"AC0123456789abcdef0123456789abcdef\"}}', \
             '{{\"auth_token\": \"cdef\"}}')"
        ),
    )
    .unwrap();
    let applied = db.run_pending_migrations().unwrap();
    assert!(applied.iter().any(|name| name.contains("staged_rotation")));

    // The existing row: version 1, current (its own blob), nothing else.
    let configs = DieselProviderConfigRepository::new(db.clone());
    let config = configs.get(OrgId(1), ProviderConfigId(1)).unwrap().unwrap();
    assert_eq!(config.credential_version, 1);
    let rotations = DieselRotationRepository::new(db.clone());
    assert_eq!(
        rotations.list(OrgId(1), ProviderConfigId(1)).unwrap(),
        Some(Vec::new())
    );
    assert!(
        rotations
            .live_previous(OrgId(1), ProviderConfigId(1), chrono::Utc::now())
            .unwrap()
            .is_none()
    );
    // Another organization sees no such configuration.
    assert_eq!(rotations.list(OrgId(2), ProviderConfigId(1)).unwrap(), None);

    // The database refuses a second pending version, a second previous one, a
    // second pending rotation and a stage or status outside the model.
    execute(test_db, &version_row(test_db, 1, 2, "pending")).unwrap();
    assert!(execute(test_db, &version_row(test_db, 2, 3, "pending")).is_err());
    execute(test_db, &version_row(test_db, 3, 0, "previous")).unwrap();
    assert!(execute(test_db, &version_row(test_db, 4, -1, "previous")).is_err());
    assert!(execute(test_db, &version_row(test_db, 5, 9, "stale")).is_err());
    execute(test_db, &rotation_row(1, "pending")).unwrap();
    assert!(execute(test_db, &rotation_row(2, "pending")).is_err());
    execute(test_db, &rotation_row(3, "cancelled")).unwrap();
    execute(test_db, &rotation_row(4, "cancelled")).unwrap();
    assert!(execute(test_db, &rotation_row(5, "paused")).is_err());
    // Through the repository, a start while one is pending is refused too.
    let audit = AuditEntry::new(
        AuditActor::default(),
        AuditAction::RotationStarted,
        AuditChanges::new(),
        chrono::Utc::now(),
    );
    let next = Credentials::seal(&secrets, old_keyring.as_ref(), OrgId(1), uid, 2).unwrap();
    let new = NewRotation {
        from_version: 1,
        sealed: next,
        secret_last4: BTreeMap::from([("auth_token".to_owned(), "cdef".to_owned())]),
        auth_token_last4: "cdef".to_owned(),
        created_at: chrono::Utc::now(),
    };
    assert_eq!(
        rotations
            .start(OrgId(1), ProviderConfigId(1), &new, &audit)
            .unwrap(),
        StartOutcome::AlreadyPending
    );
    execute(
        test_db,
        "DELETE FROM credential_versions; DELETE FROM credential_rotations;",
    )
    .unwrap();
    assert!(matches!(
        rotations
            .start(OrgId(1), ProviderConfigId(1), &new, &audit)
            .unwrap(),
        StartOutcome::Started(_)
    ));

    // A rewrap under key 2 moves the current blob and the pending version's blob.
    let keys_repo = DieselCredentialKeyRepository::new(db.clone());
    assert_eq!(keys_repo.key_usage().unwrap(), vec![(KeyId(1), 2)]);
    let new_keyring = Arc::new(AesGcmKeyring::from_config(&keys, 2).unwrap());
    let service = KeyRotationService::new(Arc::new(keys_repo.clone()), new_keyring.clone());
    let report = service.rewrap_all(10, |_| {}).unwrap();
    assert_eq!(report.rewrapped, 2, "{report:?}");
    assert!(report.failed.is_empty());
    assert_eq!(keys_repo.key_usage().unwrap(), vec![(KeyId(2), 2)]);
    assert!(service.check_all(10, |_| {}).unwrap().unreadable.is_empty());
    let (_, pending) = rotations
        .list(OrgId(1), ProviderConfigId(1))
        .unwrap()
        .unwrap()
        .first()
        .map(|rotation| {
            rotations
                .get(OrgId(1), ProviderConfigId(1), rotation.id)
                .unwrap()
                .unwrap()
        })
        .unwrap();
    let pending = pending.unwrap();
    let opened = Credentials::open(
        &pending.sealed,
        &pending.secret_names(),
        new_keyring.as_ref(),
        OrgId(1),
        uid,
        2,
    )
    .unwrap();
    assert_eq!(opened["auth_token"].expose_secret(), token);
    // Bound to its version: it does not open as another one.
    assert!(
        Credentials::open(
            &pending.sealed,
            &pending.secret_names(),
            new_keyring.as_ref(),
            OrgId(1),
            uid,
            1,
        )
        .is_err()
    );
}
