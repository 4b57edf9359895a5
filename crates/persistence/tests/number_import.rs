//! Number import's storage on SQLite and PostgreSQL: the migration
//! `2026-12-06-000800_number_import` keeps every number row (ids, links, bridges) of
//! a database written before it, and lifts the rule that tied a link to a bridge
//! (SQLite rebuilds the table; ids keep growing past deleted ones); then imports
//! link the numbers they create, count the others as existing, and never block a
//! configuration's delete.

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use diesel::Connection;
use diesel::connection::SimpleConnection;
use switchboard_domain::audit::{AuditAction, AuditActor, AuditChanges, AuditEntry};
use switchboard_domain::identity::OrgId;
use switchboard_domain::shared::PageRequest;
use switchboard_domain::telephony::{
    BridgeRepository, ConfigDeletion, E164, NewPhoneNumber, NumberFilter, NumberImportStore,
    ProviderConfigId, ProviderConfigRepository,
};
use switchboard_persistence::{
    Backend, Database, DieselBridgeRepository, DieselProviderConfigRepository,
};
use switchboard_test_support::{TestDatabase, on_both_backends};

on_both_backends!(sync: numbers_survive_the_migration_and_imports_link_them);

/// Every migration before this one (other work may add some before it).
const BEFORE: &str = "2026-12-06-000799";

fn execute(test_db: &TestDatabase, sql: &str) -> Result<(), String> {
    match test_db.backend() {
        Backend::Sqlite => {
            let path = test_db.url().strip_prefix("sqlite://").unwrap();
            let mut conn = diesel::SqliteConnection::establish(path).unwrap();
            conn.batch_execute("PRAGMA foreign_keys = ON")
                .and_then(|()| conn.batch_execute(sql))
                .map_err(|error| error.to_string())
        }
        Backend::Postgres => diesel::PgConnection::establish(test_db.url())
            .unwrap()
            .batch_execute(sql)
            .map_err(|error| error.to_string()),
    }
}

fn entry(action: AuditAction) -> AuditEntry {
    AuditEntry::new(
        AuditActor::default(),
        action,
        AuditChanges::new(),
        chrono::Utc::now(),
    )
}

fn e164(text: &str) -> E164 {
    E164::parse(text).unwrap()
}

/// `(id, number, bridge, config)` of every number of organization 1, by id.
fn rows(bridges: &DieselBridgeRepository) -> Vec<(i64, String, Option<String>, Option<i64>)> {
    let mut rows: Vec<_> = bridges
        .list_numbers(
            OrgId(1),
            NumberFilter::default(),
            PageRequest {
                page: 1,
                page_size: 100,
            },
        )
        .unwrap()
        .items
        .into_iter()
        .map(|number| {
            (
                number.id.0,
                number.number.as_str().to_owned(),
                number.placement.map(|placement| placement.bridge_slug),
                number.provider_config_id.map(|id| id.0),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn numbers_survive_the_migration_and_imports_link_them(test_db: &TestDatabase) {
    let db = Database::connect(&test_db.settings()).unwrap();
    db.run_migrations_through(BEFORE).unwrap();
    let pending = db.pending_migrations().unwrap();
    assert!(pending.iter().any(|name| name.contains("number_import")));

    let blob = match test_db.backend() {
        Backend::Sqlite => "X'00'",
        Backend::Postgres => "'\\x00'::bytea",
    };
    let at = "'2026-12-01 10:00:00'";
    execute(
        test_db,
        &format!(
            "INSERT INTO organizations (id, name, domain_handle, created_at) VALUES (1, 'Acme', 'acme', {at});
             INSERT INTO provider_configurations (id, uid, organization_id, provider_id, name,
                 account_sid, account_sid_key, auth_token_ciphertext, auth_token_key_id,
                 auth_token_last4, active, base_url, sip_url, meta_json, version, created_at,
                 updated_at)
                 VALUES (1, '00000000-0000-4000-8000-000000000001', 1, 1, 'Main',
                 'AC00000000000000000000000000000001', 'ac00000000000000000000000000000001',
                 {blob}, 1, 'abcd', TRUE, NULL, NULL, '{{}}', 1, {at}, {at});
             INSERT INTO bridges (id, organization_id, name, slug, description, status, region,
                 created_at, updated_at) VALUES (1, 1, 'Front', 'front', NULL, 'ACTIVE', NULL, {at}, {at});
             INSERT INTO phone_numbers (organization_id, number, active, bridge_id,
                 provider_config_id, created_at, updated_at)
                 VALUES (1, '+14155550100', TRUE, 1, 1, {at}, {at});
             INSERT INTO phone_numbers (organization_id, number, active, bridge_id,
                 provider_config_id, created_at, updated_at)
                 VALUES (1, '+14155550101', TRUE, NULL, NULL, {at}, {at});
             INSERT INTO phone_numbers (organization_id, number, active, bridge_id,
                 provider_config_id, created_at, updated_at)
                 VALUES (1, '+14155550102', TRUE, NULL, NULL, {at}, {at});
             DELETE FROM phone_numbers WHERE number = '+14155550102';"
        ),
    )
    .unwrap();
    // Before the migration, a link needs a bridge.
    let unbridged_link = format!(
        "INSERT INTO phone_numbers (organization_id, number, active, bridge_id,
             provider_config_id, created_at, updated_at)
             VALUES (1, '+14155550109', TRUE, NULL, 1, {at}, {at})"
    );
    assert!(execute(test_db, &unbridged_link).is_err());

    let applied = db.run_pending_migrations().unwrap();
    assert!(applied.iter().any(|name| name.contains("number_import")));
    let bridges = DieselBridgeRepository::new(db.clone());
    let before = vec![
        (
            1,
            "+14155550100".to_owned(),
            Some("front".to_owned()),
            Some(1),
        ),
        (2, "+14155550101".to_owned(), None, None),
    ];
    assert_eq!(rows(&bridges), before, "every row survives as it was");
    // The unique key stays; a new number never reuses the deleted id 3.
    assert!(
        execute(
            test_db,
            &format!(
                "INSERT INTO phone_numbers (organization_id, number, active, created_at, updated_at)
                 VALUES (1, '+14155550101', TRUE, {at}, {at})"
            )
        )
        .is_err()
    );
    let added = bridges
        .insert_number(&NewPhoneNumber {
            org_id: OrgId(1),
            number: e164("+14155550103"),
            active: true,
            created_at: chrono::Utc::now(),
        })
        .unwrap();
    assert!(added.id.0 > 3, "id {} reused", added.id.0);

    // An import links what it creates and counts the rest as existing.
    let wanted = [
        e164("+14155550101"),
        e164("+14155550104"),
        e164("+14155550105"),
    ];
    let imported = bridges
        .import_numbers(
            OrgId(1),
            ProviderConfigId(1),
            &wanted,
            &entry(AuditAction::NumbersImported),
        )
        .unwrap();
    let created: Vec<(&str, bool, Option<i64>)> = imported
        .iter()
        .map(|number| {
            (
                number.number.number.as_str(),
                number.created,
                number.number.provider_config_id.map(|id| id.0),
            )
        })
        .collect();
    assert_eq!(
        created,
        [
            ("+14155550101", false, None),
            ("+14155550104", true, Some(1)),
            ("+14155550105", true, Some(1)),
        ]
    );
    let again = bridges
        .import_numbers(
            OrgId(1),
            ProviderConfigId(1),
            &wanted,
            &entry(AuditAction::NumbersImported),
        )
        .unwrap();
    assert!(again.iter().all(|number| !number.created));

    // The bridge connection still guards the delete; import links never do.
    let configs = DieselProviderConfigRepository::new(db.clone());
    let refused = configs
        .delete_unless_connected(
            OrgId(1),
            ProviderConfigId(1),
            None,
            &entry(AuditAction::Deleted),
        )
        .unwrap();
    assert!(matches!(refused, ConfigDeletion::InUse(_)), "{refused:?}");
    execute(
        test_db,
        &format!("UPDATE phone_numbers SET provider_config_id = NULL, updated_at = {at} WHERE bridge_id = 1"),
    )
    .unwrap();
    let deleted = configs
        .delete_unless_connected(
            OrgId(1),
            ProviderConfigId(1),
            None,
            &entry(AuditAction::Deleted),
        )
        .unwrap();
    assert_eq!(deleted, ConfigDeletion::Deleted);
    assert!(
        rows(&bridges)
            .iter()
            .all(|(_, _, _, config)| config.is_none())
    );
    assert_eq!(rows(&bridges).len(), 5);
}
