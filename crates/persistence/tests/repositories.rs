//! The persistence suite, run once on SQLite and once on PostgreSQL (see
//! `switchboard_test_support::on_both_backends!`: without
//! `SWITCHBOARD_TEST_POSTGRES_URL` the PostgreSQL cases are reported as ignored).
//!
//! Each case gets a database of its own, so the cases run in parallel.

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use serde_json::{Map, Value, json};
use switchboard_domain::audit::{AuditAction, AuditActor, AuditChanges, AuditEntry};
use switchboard_domain::identity::{
    DomainHandle, Email, IdentityRepository, NewApiTokenRecord, NewUser, OrgId, PasswordHash, Role,
    TokenHash, TokenKind, TokenLimit, UserId,
};
use switchboard_domain::shared::{
    Clock, PageRequest, RepositoryError, SystemClock, Timestamp, WriteError,
};
use switchboard_domain::telephony::{
    KeyId, NewProviderConfig, ProviderCatalog, ProviderCatalogRepository, ProviderConfig,
    ProviderConfigFilter, ProviderConfigId, ProviderConfigRepository, ProviderConfigUpdate,
    ProviderId, SealedSecret,
};
use switchboard_persistence::{
    Backend, Database, DatabaseError, DatabaseSettings, DieselIdentityRepository,
    DieselProviderCatalogRepository, DieselProviderConfigRepository,
};
use switchboard_test_support::{TestDatabase, on_both_backends};

on_both_backends!(
    sync:
    migrations_apply_and_leave_none_pending,
    down_migrations_revert_cleanly,
    every_catalog_row_is_a_usable_provider,
    organizations_users_and_memberships,
    operators_list_organizations_users_and_members,
    principal_resolves_tokens_and_memberships,
    bootstrap_creates_the_first_owner_once,
    configurations_insert_get_and_list,
    configurations_are_scoped_to_their_organization,
    duplicate_account_sids_are_refused_without_regard_to_case,
    concurrent_duplicate_inserts_let_exactly_one_win,
    updates_change_fields_and_version,
    deletes_remove_only_the_named_configuration,
    a_held_lock_is_unavailable_not_internal,
);

fn open(test_db: &TestDatabase) -> Database {
    let db = Database::connect(&test_db.settings()).unwrap();
    db.run_pending_migrations().unwrap();
    db
}

fn now() -> Timestamp {
    SystemClock.now()
}

fn handle(text: &str) -> DomainHandle {
    DomainHandle::parse(text).unwrap()
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        password_hash: PasswordHash("$argon2id$v=19$placeholder".into()),
        created_at: now(),
    }
}

fn new_token(user: UserId, hash: &str) -> NewApiTokenRecord {
    NewApiTokenRecord {
        user_id: user,
        name: format!("token {hash}"),
        hash: TokenHash(hash.into()),
        prefix: "sbt_abcd".into(),
        created_at: now(),
        expires_at: Some(now() + TimeDelta::days(30)),
        kind: TokenKind::Admin,
        parent: None,
    }
}

fn sealed(key: u32) -> SealedSecret {
    SealedSecret::from_parts(KeyId(key), &[0; 12], &[1; 20])
}

fn new_config(org: OrgId, provider: ProviderId, sid: &str) -> NewProviderConfig {
    NewProviderConfig {
        uid: uuid::Uuid::new_v4().to_string(),
        org_id: org,
        provider_id: provider,
        name: format!("config {sid}"),
        account_sid: sid.into(),
        auth_token: sealed(1),
        auth_token_last4: "cdef".into(),
        public_fields: serde_json::Map::new(),
        secret_last4: std::collections::BTreeMap::from([(
            "auth_token".to_owned(),
            "cdef".to_owned(),
        )]),
        active: true,
        base_url: None,
        sip_url: Some("sip:trunk.example.com".into()),
        meta_json: Map::new(),
        verification: None,
        created_at: now(),
    }
}

fn audit() -> AuditEntry {
    AuditEntry::new(
        AuditActor::default(),
        AuditAction::Updated,
        AuditChanges::new(),
        now(),
    )
}

fn provider_id(db: &Database, slug: &str) -> ProviderId {
    DieselProviderCatalogRepository::new(db.clone())
        .providers()
        .unwrap()
        .into_iter()
        .find(|provider| provider.slug == slug)
        .unwrap()
        .id
}

fn organization(db: &Database, text: &str) -> OrgId {
    DieselIdentityRepository::new(db.clone())
        .insert_organization(text, &handle(text), now())
        .unwrap()
        .unwrap()
        .id
}

/// The migration names of `backend`'s tree on disk, sorted (the order Diesel applies
/// them in).
fn migration_names(backend: Backend) -> Vec<String> {
    let tree = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut names: Vec<String> = std::fs::read_dir(root.join(tree))
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_dir())
        .map(|entry| {
            for file in ["up.sql", "down.sql"] {
                assert!(
                    entry.path().join(file).is_file(),
                    "{:?} lacks {file}",
                    entry.path()
                );
            }
            entry.file_name().into_string().unwrap()
        })
        .collect();
    names.sort();
    names
}

fn migrations_apply_and_leave_none_pending(test_db: &TestDatabase) {
    let db = Database::connect(&test_db.settings()).unwrap();
    assert_eq!(db.backend(), test_db.backend());
    db.ping().unwrap();
    // The embedded set is the tree on disk, applied in name order.
    let on_disk = migration_names(test_db.backend());
    assert!(!on_disk.is_empty());
    assert_eq!(db.pending_migrations().unwrap(), on_disk);
    assert!(db.applied_migrations().unwrap().is_empty());
    assert_eq!(db.run_pending_migrations().unwrap(), on_disk);
    assert!(db.pending_migrations().unwrap().is_empty());
    assert_eq!(db.applied_migrations().unwrap(), on_disk);
    assert!(db.run_pending_migrations().unwrap().is_empty());
    // A second handle on the same database sees the same state.
    let again = Database::connect(&test_db.settings()).unwrap();
    assert!(again.pending_migrations().unwrap().is_empty());
}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// One line of a schema dump.
#[derive(QueryableByName)]
struct SchemaLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    line: String,
}

/// Everything SQLite keeps of the schema (tables with their columns and
/// constraints, indexes, triggers, views), Diesel's own table left out.
const SQLITE_SCHEMA: &str = "\
    SELECT type || ' ' || name || ' on ' || tbl_name || ': ' || coalesce(sql, '') AS line \
    FROM sqlite_schema \
    WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> '__diesel_schema_migrations' \
    ORDER BY type, name";

/// The schema of PostgreSQL's `public` schema as the catalogs describe it (columns
/// with type, nullability and default; constraints; indexes; sequences; triggers;
/// functions; views), Diesel's own table left out.
const POSTGRES_SCHEMA: &str = "\
    SELECT line FROM ( \
      SELECT format('column %s.%s %s %s %s %s', table_name, column_name, data_type, \
                    coalesce(character_maximum_length::text, '-'), is_nullable, \
                    coalesce(column_default, '-')) AS line \
        FROM information_schema.columns \
        WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
      UNION ALL \
      SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) \
        FROM pg_constraint \
        WHERE connamespace = 'public'::regnamespace \
          AND conrelid::regclass::text <> '__diesel_schema_migrations' \
      UNION ALL \
      SELECT 'index ' || indexdef FROM pg_indexes \
        WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations' \
      UNION ALL \
      SELECT 'sequence ' || sequence_name || ' ' || data_type FROM information_schema.sequences \
        WHERE sequence_schema = 'public' \
      UNION ALL \
      SELECT format('trigger %s', pg_get_triggerdef(oid)) FROM pg_trigger WHERE NOT tgisinternal \
      UNION ALL \
      SELECT format('function %s %s', oid::regprocedure, md5(pg_get_functiondef(oid))) \
        FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND prokind = 'f' \
      UNION ALL \
      SELECT format('view %s %s', table_name, md5(view_definition)) FROM information_schema.views \
        WHERE table_schema = 'public' \
    ) AS schema ORDER BY line";

fn lines(dump: diesel::QueryResult<Vec<SchemaLine>>) -> Vec<String> {
    dump.unwrap().into_iter().map(|line| line.line).collect()
}

/// Fails with the lines that differ, not two whole dumps.
fn assert_same_schema(actual: &[String], expected: &[String], what: &str) {
    let extra: Vec<&String> = actual.iter().filter(|l| !expected.contains(l)).collect();
    let missing: Vec<&String> = expected.iter().filter(|l| !actual.contains(l)).collect();
    assert!(
        extra.is_empty() && missing.is_empty() && actual.len() == expected.len(),
        "{what}: left behind {extra:#?}, lost {missing:#?}"
    );
}

/// Runs the migrations one at a time; after each, its `down.sql` must give back
/// exactly the schema from before its `up.sql`, and running it again the schema it
/// made the first time. `migrations` is a function because `EmbeddedMigrations` is
/// neither `Copy` nor `Clone`.
fn each_down_reverts_its_up<C>(
    connection: &mut C,
    migrations: fn() -> EmbeddedMigrations,
    dump: impl Fn(&mut C) -> Vec<String>,
) where
    C: MigrationHarness<C::Backend> + Connection,
{
    let mut before = dump(connection);
    assert!(before.is_empty(), "a fresh database: {before:?}");
    let count = connection.pending_migrations(migrations()).unwrap().len();
    assert!(count > 0);
    for _ in 0..count {
        let version = connection
            .run_next_migration(migrations())
            .unwrap()
            .to_string();
        let made = dump(connection);
        assert_ne!(made, before, "migration {version} changes the schema");
        connection.revert_last_migration(migrations()).unwrap();
        assert_same_schema(
            &dump(connection),
            &before,
            &format!("down.sql of {version} gives back the schema from before its up.sql"),
        );
        connection.run_next_migration(migrations()).unwrap();
        assert_same_schema(
            &dump(connection),
            &made,
            &format!("{version} applies the same way twice"),
        );
        before = made;
    }
    connection.revert_all_migrations(migrations()).unwrap();
    assert_same_schema(&dump(connection), &[], "everything reverted");
    connection.run_pending_migrations(migrations()).unwrap();
    assert_same_schema(&dump(connection), &before, "everything applied again");
}

fn down_migrations_revert_cleanly(test_db: &TestDatabase) {
    let url = test_db.url();
    match test_db.backend() {
        Backend::Sqlite => {
            let path = url.strip_prefix("sqlite://").unwrap();
            let mut connection = diesel::SqliteConnection::establish(path).unwrap();
            each_down_reverts_its_up(
                &mut connection,
                || SQLITE_MIGRATIONS,
                |c| lines(diesel::sql_query(SQLITE_SCHEMA).load(c)),
            );
        }
        Backend::Postgres => {
            let mut connection = diesel::PgConnection::establish(url).unwrap();
            each_down_reverts_its_up(
                &mut connection,
                || POSTGRES_MIGRATIONS,
                |c| lines(diesel::sql_query(POSTGRES_SCHEMA).load(c)),
            );
        }
    }
}

/// Properties of the seeded catalog that any provider added later must keep: every
/// row reads as a provider (its patterns compile), has its labels, hints, an icon and
/// a description, and slugs, names and ids are unique.
fn every_catalog_row_is_a_usable_provider(test_db: &TestDatabase) {
    let db = open(test_db);
    let records = DieselProviderCatalogRepository::new(db)
        .providers()
        .unwrap();
    assert!(!records.is_empty(), "the migrations seed a catalog");
    for record in &records {
        let slug = &record.slug;
        assert!(
            !slug.is_empty()
                && slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{slug}"
        );
        assert!(!record.name.trim().is_empty(), "{slug}");
        assert!(record.description.ends_with('.'), "{slug}");
        assert_eq!(
            record.icon,
            format!("https://assets.switchboard.dev/providers/{slug}.svg")
        );
        for (label, pattern, hint) in [
            (
                &record.account_sid_label,
                &record.account_sid_pattern,
                &record.account_sid_hint,
            ),
            (
                &record.auth_token_label,
                &record.auth_token_pattern,
                &record.auth_token_hint,
            ),
        ] {
            assert!(!label.trim().is_empty(), "{slug}: a label");
            assert!(!hint.trim().is_empty(), "{slug}: a hint for {label}");
            assert!(
                pattern.starts_with('^') && pattern.ends_with('$'),
                "{slug}: {label} pattern {pattern} is anchored"
            );
        }
    }
    let unique = |values: Vec<String>| {
        let count = values.len();
        let set: std::collections::BTreeSet<String> = values.into_iter().collect();
        set.len() == count
    };
    assert!(unique(records.iter().map(|r| r.slug.clone()).collect()));
    assert!(unique(records.iter().map(|r| r.name.clone()).collect()));
    assert!(unique(records.iter().map(|r| r.id.0.to_string()).collect()));
    // Every pattern compiles, and each rule tells what it wants.
    let catalog = ProviderCatalog::from_records(records.clone()).unwrap();
    for record in &records {
        let provider = catalog.by_slug(&record.slug).unwrap();
        for rule in [&provider.account_sid, &provider.auth_token] {
            assert!(!rule.message().is_empty(), "{}", record.slug);
            assert!(
                !rule.accepts(""),
                "{}: an empty value is refused",
                record.slug
            );
        }
    }
    // A few rules checked against values the providers really issue.
    let twilio = catalog.by_slug("twilio").unwrap();
    assert_eq!(twilio.name, "Twilio");
    assert_eq!(twilio.account_sid.label, "Account SID");
    assert!(
        twilio
            .account_sid
            .accepts("AC0123456789abcdef0123456789ABCDEF")
    );
    assert!(!twilio.account_sid.accepts("AC0123"));
    assert!(
        twilio
            .auth_token
            .accepts("0123456789abcdef0123456789abcdef")
    );
    assert_eq!(
        twilio.account_sid.message(),
        "must look like AC followed by 32 hexadecimal characters"
    );
    let plivo = catalog.by_slug("plivo").unwrap();
    assert!(plivo.account_sid.accepts("MAXXXXXXXXXXXXXXXXXX"));
    assert!(plivo.auth_token.accepts(&"a".repeat(40)));
    let vonage = catalog.by_slug("vonage").unwrap();
    assert!(vonage.account_sid.accepts("1a2b3c4d"));
    assert!(!vonage.account_sid.accepts("1A2B3C4D"));
    let telnyx = catalog.by_slug("telnyx").unwrap();
    assert!(
        telnyx
            .account_sid
            .accepts("0b8c7a56-2f1e-4d3c-9b8a-7f6e5d4c3b2a")
    );
    assert!(telnyx.auth_token.accepts("KEY0123456789ABCDEF_abcdef-01"));
    let sip = catalog.by_slug("sip").unwrap();
    assert_eq!(sip.account_sid.label, "Username");
    assert_eq!(sip.auth_token.label, "Password");
    assert!(sip.auth_token.accepts("any printable secret ~"));
    assert!(!sip.auth_token.accepts("tab\tis not printable"));
}

fn organizations_users_and_memberships(test_db: &TestDatabase) {
    let db = open(test_db);
    let repo = DieselIdentityRepository::new(db);
    assert_eq!(repo.organization_count().unwrap(), 0);
    let created = now();
    let acme = repo
        .insert_organization("Acme", &handle("acme"), created)
        .unwrap()
        .unwrap();
    assert_eq!(acme.name, "Acme");
    assert_eq!(acme.domain_handle.as_str(), "acme");
    assert_eq!(acme.created_at, created);
    assert!(
        repo.insert_organization("Other Acme", &handle("acme"), now())
            .unwrap()
            .is_none()
    );
    let globex = repo
        .insert_organization("Globex", &handle("globex"), created + TimeDelta::seconds(1))
        .unwrap()
        .unwrap();
    assert_eq!(repo.organization_count().unwrap(), 2);
    assert_eq!(
        repo.organization_by_handle(&handle("acme")).unwrap(),
        Some(acme.clone())
    );
    assert_eq!(repo.organization_by_handle(&handle("nope")).unwrap(), None);

    let alice = repo
        .insert_user(&new_user("Alice@Example.com"))
        .unwrap()
        .unwrap();
    assert!(
        repo.insert_user(&new_user("alice@example.com"))
            .unwrap()
            .is_none()
    );
    assert_eq!(
        repo.user_id_by_email(&Email::parse("ALICE@example.com").unwrap())
            .unwrap(),
        Some(alice)
    );
    assert_eq!(
        repo.user_id_by_email(&Email::parse("bob@example.com").unwrap())
            .unwrap(),
        None
    );

    repo.upsert_membership(globex.id, alice, Role::Viewer, now())
        .unwrap();
    repo.upsert_membership(acme.id, alice, Role::Member, now())
        .unwrap();
    repo.upsert_membership(acme.id, alice, Role::Admin, now())
        .unwrap();
    let memberships = repo.organizations_of(alice).unwrap();
    let seen: Vec<(&str, Role)> = memberships
        .iter()
        .map(|m| (m.organization.domain_handle.as_str(), m.role))
        .collect();
    assert_eq!(seen, [("acme", Role::Admin), ("globex", Role::Viewer)]);
    assert!(repo.organizations_of(UserId(9999)).unwrap().is_empty());
}

fn principal_resolves_tokens_and_memberships(test_db: &TestDatabase) {
    let db = open(test_db);
    let repo = DieselIdentityRepository::new(db);
    let acme = repo
        .insert_organization("Acme", &handle("acme"), now())
        .unwrap()
        .unwrap();
    repo.insert_organization("Globex", &handle("globex"), now())
        .unwrap()
        .unwrap();
    let alice = repo
        .insert_user(&new_user("alice@example.com"))
        .unwrap()
        .unwrap();
    repo.upsert_membership(acme.id, alice, Role::Member, now())
        .unwrap();
    let record = new_token(alice, "aa11");
    let token = repo
        .insert_token(&record, TokenLimit::refuse())
        .unwrap()
        .inserted()
        .unwrap();
    assert_eq!(token.user_id, alice);
    assert_eq!(token.name, record.name);
    assert_eq!(token.prefix, "sbt_abcd");
    assert_eq!(token.created_at, record.created_at);
    assert_eq!(token.expires_at, record.expires_at);
    assert_eq!(token.revoked_at, None);
    let hash = TokenHash("aa11".into());

    let bare = repo.principal(&hash, None).unwrap().unwrap();
    assert_eq!(bare.user_id, alice);
    assert_eq!(bare.token_id, token.id);
    assert_eq!(bare.token_expires_at, record.expires_at);
    assert_eq!(bare.membership, None);

    let member = repo
        .principal(&hash, Some(&handle("acme")))
        .unwrap()
        .unwrap();
    let membership = member.membership.unwrap();
    assert_eq!(membership.org_id, acme.id);
    assert_eq!(membership.handle.as_str(), "acme");
    assert_eq!(membership.role, Role::Member);

    let outsider = repo
        .principal(&hash, Some(&handle("globex")))
        .unwrap()
        .unwrap();
    assert_eq!(outsider.user_id, alice);
    assert_eq!(outsider.membership, None);
    let unknown = repo
        .principal(&hash, Some(&handle("nowhere")))
        .unwrap()
        .unwrap();
    assert_eq!(unknown.membership, None);
    assert_eq!(
        repo.principal(&TokenHash("ffff".into()), Some(&handle("acme")))
            .unwrap(),
        None
    );

    let later = repo
        .insert_token(&new_token(alice, "bb22"), TokenLimit::refuse())
        .unwrap()
        .inserted()
        .unwrap();
    let tokens = repo.tokens_of(alice).unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(repo.revoke_token(token.id, now()).unwrap());
    assert!(!repo.revoke_token(token.id, now()).unwrap());
    assert_eq!(repo.principal(&hash, None).unwrap(), None);
    assert_eq!(repo.principal(&hash, Some(&handle("acme"))).unwrap(), None);
    let tokens = repo.tokens_of(alice).unwrap();
    assert_eq!(tokens.len(), 2, "revoked tokens are still listed");
    let revoked = tokens.iter().find(|t| t.id == token.id).unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(
        repo.principal(&TokenHash("bb22".into()), None)
            .unwrap()
            .is_some_and(|p| p.token_id == later.id)
    );
}

fn bootstrap_creates_the_first_owner_once(test_db: &TestDatabase) {
    let db = open(test_db);
    let repo = DieselIdentityRepository::new(db);
    let owner = new_user("owner@localhost");
    let token = new_token(UserId(0), "b00t");
    assert!(
        repo.bootstrap_first_owner("Default", &handle("default"), &owner, &token)
            .unwrap()
    );
    let again = new_user("second@localhost");
    assert!(
        !repo
            .bootstrap_first_owner(
                "Other",
                &handle("other"),
                &again,
                &new_token(UserId(0), "c00t")
            )
            .unwrap()
    );
    assert!(
        !repo
            .bootstrap_first_owner(
                "Default",
                &handle("default"),
                &again,
                &new_token(UserId(0), "d00t")
            )
            .unwrap()
    );
    assert_eq!(repo.organization_count().unwrap(), 1);
    assert_eq!(
        repo.user_id_by_email(&Email::parse("second@localhost").unwrap())
            .unwrap(),
        None,
        "a refused bootstrap leaves nothing behind"
    );
    let principal = repo
        .principal(&TokenHash("b00t".into()), Some(&handle("default")))
        .unwrap()
        .unwrap();
    let owner_id = repo
        .user_id_by_email(&Email::parse("owner@localhost").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(principal.user_id, owner_id);
    assert_eq!(principal.membership.unwrap().role, Role::Owner);
}

fn assert_same(actual: &ProviderConfig, expected: &NewProviderConfig) {
    assert_eq!(actual.uid, expected.uid);
    assert_eq!(actual.org_id, expected.org_id);
    assert_eq!(actual.provider_id, expected.provider_id);
    assert_eq!(actual.name, expected.name);
    assert_eq!(actual.account_sid, expected.account_sid);
    assert_eq!(actual.auth_token, expected.auth_token);
    assert_eq!(
        actual.auth_token_key_id(),
        Some(expected.auth_token.key_id())
    );
    assert_eq!(actual.auth_token_last4, expected.auth_token_last4);
    assert_eq!(actual.active, expected.active);
    assert_eq!(actual.base_url, expected.base_url);
    assert_eq!(actual.sip_url, expected.sip_url);
    assert_eq!(actual.meta_json, expected.meta_json);
    assert_eq!(actual.created_at, expected.created_at);
    assert_eq!(actual.updated_at, expected.created_at);
    assert_eq!(actual.version, 1);
}

fn page(page: u32, page_size: u32) -> PageRequest {
    PageRequest { page, page_size }
}

fn configurations_insert_get_and_list(test_db: &TestDatabase) {
    let db = open(test_db);
    let org = organization(&db, "acme");
    let twilio = provider_id(&db, "twilio");
    let sip = provider_id(&db, "sip");
    let repo = DieselProviderConfigRepository::new(db);

    let base = now();
    let mut inserted = Vec::new();
    for i in 0..5 {
        let provider = if i % 2 == 0 { twilio } else { sip };
        let mut config = new_config(org, provider, &format!("AC{i:032}"));
        config.created_at = base + TimeDelta::seconds(i) + TimeDelta::microseconds(123_456);
        config.active = i != 3;
        if i == 0 {
            config.meta_json = json!({"region": "eu", "tags": [1, 2]})
                .as_object()
                .unwrap()
                .clone();
            config.base_url = Some("https://api.example.com".into());
            config.auth_token = sealed(7);
        }
        let stored = repo.insert(&config, &audit()).unwrap();
        assert_same(&stored, &config);
        assert_eq!(repo.get(org, stored.id).unwrap(), Some(stored.clone()));
        inserted.push(stored);
    }
    assert_eq!(inserted[0].auth_token_key_id(), Some(KeyId(7)));
    assert_eq!(inserted[0].meta_json["region"], Value::from("eu"));

    let all = repo
        .list(org, ProviderConfigFilter::default(), PageRequest::default())
        .unwrap();
    assert_eq!(all.total, 5);
    let ids: Vec<ProviderConfigId> = all.items.iter().map(|c| c.id).collect();
    let newest_first: Vec<ProviderConfigId> = inserted.iter().rev().map(|c| c.id).collect();
    assert_eq!(ids, newest_first);

    let first = repo
        .list(org, ProviderConfigFilter::default(), page(1, 2))
        .unwrap();
    assert_eq!(first.total, 5);
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.items[0].id, newest_first[0]);
    let last = repo
        .list(org, ProviderConfigFilter::default(), page(3, 2))
        .unwrap();
    assert_eq!(last.total, 5);
    assert_eq!(last.items.len(), 1);
    assert_eq!(last.items[0].id, newest_first[4]);
    let beyond = repo
        .list(org, ProviderConfigFilter::default(), page(9, 2))
        .unwrap();
    assert_eq!(beyond.total, 5);
    assert!(beyond.items.is_empty());

    let only_twilio = ProviderConfigFilter {
        provider_id: Some(twilio),
        active: None,
    };
    let twilios = repo.list(org, only_twilio, page(1, 2)).unwrap();
    assert_eq!(twilios.total, 3);
    assert!(twilios.items.iter().all(|c| c.provider_id == twilio));
    let inactive = ProviderConfigFilter {
        provider_id: None,
        active: Some(false),
    };
    let inactive = repo.list(org, inactive, PageRequest::default()).unwrap();
    assert_eq!(inactive.total, 1);
    assert_eq!(inactive.items[0].id, inserted[3].id);
    let active_sip = ProviderConfigFilter {
        provider_id: Some(sip),
        active: Some(true),
    };
    assert_eq!(
        repo.list(org, active_sip, PageRequest::default())
            .unwrap()
            .total,
        1
    );
}

fn configurations_are_scoped_to_their_organization(test_db: &TestDatabase) {
    let db = open(test_db);
    let acme = organization(&db, "acme");
    let globex = organization(&db, "globex");
    let twilio = provider_id(&db, "twilio");
    let repo = DieselProviderConfigRepository::new(db);
    let sid = "AC0123456789abcdef0123456789abcdef";
    let mine = repo
        .insert(&new_config(acme, twilio, sid), &audit())
        .unwrap();
    // The same account in another organization is no duplicate.
    let theirs = repo
        .insert(&new_config(globex, twilio, sid), &audit())
        .unwrap();

    assert_eq!(repo.get(globex, mine.id).unwrap(), None);
    let change = ProviderConfigUpdate {
        name: Some("stolen".into()),
        ..ProviderConfigUpdate::default()
    };
    assert!(
        repo.update(globex, mine.id, &change, &audit())
            .unwrap()
            .is_none()
    );
    assert!(!repo.delete(globex, mine.id, None, &audit()).unwrap());
    assert_eq!(repo.get(acme, mine.id).unwrap(), Some(mine.clone()));
    let listed = repo
        .list(
            globex,
            ProviderConfigFilter::default(),
            PageRequest::default(),
        )
        .unwrap();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.items[0].id, theirs.id);
    assert_eq!(
        repo.list(
            OrgId(9999),
            ProviderConfigFilter::default(),
            PageRequest::default()
        )
        .unwrap()
        .total,
        0
    );
}

fn duplicate_account_sids_are_refused_without_regard_to_case(test_db: &TestDatabase) {
    let db = open(test_db);
    let org = organization(&db, "acme");
    let twilio = provider_id(&db, "twilio");
    let sip = provider_id(&db, "sip");
    let repo = DieselProviderConfigRepository::new(db);
    let first = repo
        .insert(
            &new_config(org, twilio, "AC0123456789abcdef0123456789abcdef"),
            &audit(),
        )
        .unwrap();
    let upper = new_config(org, twilio, "AC0123456789ABCDEF0123456789ABCDEF");
    assert!(matches!(
        repo.insert(&upper, &audit()),
        Err(WriteError::Duplicate)
    ));
    // Another provider may hold the same account SID.
    repo.insert(
        &new_config(org, sip, "AC0123456789abcdef0123456789abcdef"),
        &audit(),
    )
    .unwrap();
    // So may the same provider with another SID, until an update makes it collide.
    let second = repo
        .insert(
            &new_config(org, twilio, "ACffffffffffffffffffffffffffffffff"),
            &audit(),
        )
        .unwrap();
    let collide = ProviderConfigUpdate {
        account_sid: Some("ac0123456789ABCDEF0123456789abcdef".into()),
        ..ProviderConfigUpdate::default()
    };
    assert!(matches!(
        repo.update(org, second.id, &collide, &audit()),
        Err(WriteError::Duplicate)
    ));
    // A failed update changes nothing; the row keeps its case-changed own SID.
    assert_eq!(repo.get(org, second.id).unwrap(), Some(second));
    let recase = ProviderConfigUpdate {
        account_sid: Some("AC0123456789ABCDEF0123456789ABCDEF".into()),
        ..ProviderConfigUpdate::default()
    };
    let recased = repo
        .update(org, first.id, &recase, &audit())
        .unwrap()
        .unwrap();
    assert_eq!(recased.account_sid, "AC0123456789ABCDEF0123456789ABCDEF");
}

fn concurrent_duplicate_inserts_let_exactly_one_win(test_db: &TestDatabase) {
    let db = open(test_db);
    let org = organization(&db, "acme");
    let twilio = provider_id(&db, "twilio");
    let repo = Arc::new(DieselProviderConfigRepository::new(db));
    let threads = 20;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let repo = Arc::clone(&repo);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let sid = if i % 2 == 0 {
                    "AC0123456789abcdef0123456789abcdef"
                } else {
                    "AC0123456789ABCDEF0123456789ABCDEF"
                };
                let config = new_config(org, twilio, sid);
                barrier.wait();
                repo.insert(&config, &audit())
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let wins = results.iter().filter(|r| r.is_ok()).count();
    let duplicates = results
        .iter()
        .filter(|r| matches!(r, Err(WriteError::Duplicate)))
        .count();
    assert_eq!((wins, duplicates), (1, threads - 1), "{results:?}");
    let listed = repo
        .list(org, ProviderConfigFilter::default(), PageRequest::default())
        .unwrap();
    assert_eq!(listed.total, 1);
}

fn updates_change_fields_and_version(test_db: &TestDatabase) {
    let db = open(test_db);
    let org = organization(&db, "acme");
    let twilio = provider_id(&db, "twilio");
    let repo = DieselProviderConfigRepository::new(db);
    let original = repo
        .insert(
            &new_config(org, twilio, "AC0123456789abcdef0123456789abcdef"),
            &audit(),
        )
        .unwrap();

    let later = original.created_at + TimeDelta::seconds(5);
    let rename = ProviderConfigUpdate {
        name: Some("Main trunk".into()),
        active: Some(false),
        base_url: Some(Some("https://eu.example.com".into())),
        sip_url: Some(None),
        updated_at: Some(later),
        ..ProviderConfigUpdate::default()
    };
    let renamed = repo
        .update(org, original.id, &rename, &audit())
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name, "Main trunk");
    assert!(!renamed.active);
    assert_eq!(renamed.base_url.as_deref(), Some("https://eu.example.com"));
    assert_eq!(renamed.sip_url, None);
    assert_eq!(renamed.version, 2);
    assert_eq!(renamed.updated_at, later);
    assert_eq!(renamed.created_at, original.created_at);
    assert_eq!(renamed.account_sid, original.account_sid);
    assert_eq!(renamed.auth_token, original.auth_token);
    assert_eq!(renamed.meta_json, original.meta_json);

    let rotated_at = later + TimeDelta::seconds(5);
    let rotate = ProviderConfigUpdate {
        account_sid: Some("ACffffffffffffffffffffffffffffffff".into()),
        auth_token: Some((sealed(2), "9f3c".into())),
        meta_json: Some(json!({"note": "rotated"}).as_object().unwrap().clone()),
        updated_at: Some(rotated_at),
        ..ProviderConfigUpdate::default()
    };
    let rotated = repo
        .update(org, original.id, &rotate, &audit())
        .unwrap()
        .unwrap();
    assert_eq!(rotated.account_sid, "ACffffffffffffffffffffffffffffffff");
    assert_eq!(rotated.auth_token, sealed(2));
    assert_eq!(rotated.auth_token_key_id(), Some(KeyId(2)));
    assert_eq!(rotated.auth_token_last4, "9f3c");
    assert_eq!(rotated.meta_json["note"], Value::from("rotated"));
    assert_eq!(rotated.name, "Main trunk");
    assert_eq!(rotated.version, 3);
    assert_eq!(rotated.updated_at, rotated_at);
    assert_eq!(repo.get(org, original.id).unwrap(), Some(rotated));
    // The time of a change is the caller's: none given, none changed (no clock here).
    let untimed = ProviderConfigUpdate {
        name: Some("Untimed".into()),
        ..ProviderConfigUpdate::default()
    };
    let untimed = repo
        .update(org, original.id, &untimed, &audit())
        .unwrap()
        .unwrap();
    assert_eq!((untimed.name.as_str(), untimed.version), ("Untimed", 4));
    assert_eq!(untimed.updated_at, rotated_at);
    // The old SID is free again, the new one is taken.
    repo.insert(
        &new_config(org, twilio, "AC0123456789abcdef0123456789abcdef"),
        &audit(),
    )
    .unwrap();
    assert!(matches!(
        repo.insert(
            &new_config(org, twilio, "ACFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),
            &audit()
        ),
        Err(WriteError::Duplicate)
    ));

    let missing = repo
        .update(org, ProviderConfigId(999_999), &rename, &audit())
        .unwrap();
    assert!(missing.is_none());
}

fn deletes_remove_only_the_named_configuration(test_db: &TestDatabase) {
    let db = open(test_db);
    let org = organization(&db, "acme");
    let twilio = provider_id(&db, "twilio");
    let repo = DieselProviderConfigRepository::new(db);
    let doomed = repo
        .insert(
            &new_config(org, twilio, "AC0123456789abcdef0123456789abcdef"),
            &audit(),
        )
        .unwrap();
    let kept = repo
        .insert(
            &new_config(org, twilio, "ACffffffffffffffffffffffffffffffff"),
            &audit(),
        )
        .unwrap();
    assert!(repo.delete(org, doomed.id, None, &audit()).unwrap());
    assert!(!repo.delete(org, doomed.id, None, &audit()).unwrap());
    assert_eq!(repo.get(org, doomed.id).unwrap(), None);
    assert_eq!(repo.get(org, kept.id).unwrap(), Some(kept));
    // The deleted account can be configured again.
    repo.insert(
        &new_config(org, twilio, "AC0123456789abcdef0123456789abcdef"),
        &audit(),
    )
    .unwrap();
}

#[test]
fn migration_trees_hold_the_same_names() {
    let sqlite = migration_names(Backend::Sqlite);
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, migration_names(Backend::Postgres));
}

#[test]
fn an_unreachable_postgres_is_unavailable_quickly() {
    let started = Instant::now();
    let db = Database::connect(&DatabaseSettings {
        url: "postgres://postgres@127.0.0.1:1/x".into(),
        pool_size: 2,
        connect_timeout_ms: 500,
        statement_timeout_ms: 500,
    })
    .unwrap();
    assert_eq!(db.backend(), Backend::Postgres);
    let result = DieselIdentityRepository::new(db.clone()).organization_count();
    assert!(
        matches!(result, Err(RepositoryError::Unavailable(_))),
        "{result:?}"
    );
    assert!(matches!(db.ping(), Err(RepositoryError::Unavailable(_))));
    assert!(matches!(
        db.pending_migrations(),
        Err(DatabaseError::Unavailable(_))
    ));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn in_memory_sqlite_is_refused() {
    for url in [":memory:", "sqlite://:memory:"] {
        let settings = DatabaseSettings::new(url);
        assert!(
            matches!(
                Database::connect(&settings),
                Err(DatabaseError::InvalidUrl(_))
            ),
            "{url}"
        );
    }
}

#[test]
fn sqlite_urls_create_missing_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/sb.db");
    let db = Database::connect(&DatabaseSettings::new(format!(
        "sqlite://{}",
        path.display()
    )))
    .unwrap();
    assert_eq!(db.backend(), Backend::Sqlite);
    db.run_pending_migrations().unwrap();
    assert!(path.is_file());
    assert!(
        path.with_extension("db-wal").is_file(),
        "journal_mode=WAL is set at connect"
    );
    // A bare path works too.
    let bare = dir.path().join("bare.db");
    let db = Database::connect(&DatabaseSettings::new(bare.display().to_string())).unwrap();
    db.ping().unwrap();
}

/// A lock held by another session (another process's write on SQLite, a table lock
/// on PostgreSQL) makes calls fail as unavailable (a 503, to retry), never as
/// internal, and within the statement timeout.
fn a_held_lock_is_unavailable_not_internal(test_db: &TestDatabase) {
    use diesel::connection::SimpleConnection;

    let mut settings = test_db.settings();
    settings.statement_timeout_ms = 200;
    let db = Database::connect(&settings).unwrap();
    db.run_pending_migrations().unwrap();
    let started = Instant::now();
    match test_db.backend() {
        Backend::Sqlite => {
            let path = test_db.url().strip_prefix("sqlite://").unwrap();
            let mut other_process = diesel::SqliteConnection::establish(path).unwrap();
            other_process.batch_execute("BEGIN IMMEDIATE").unwrap();
            let result = DieselIdentityRepository::new(db.clone()).insert_organization(
                "Acme",
                &handle("acme"),
                now(),
            );
            assert!(
                matches!(result, Err(RepositoryError::Unavailable(_))),
                "{result:?}"
            );
            assert!(started.elapsed() < Duration::from_secs(3));
            // Reads go on while another connection writes (WAL).
            assert_eq!(
                DieselIdentityRepository::new(db.clone())
                    .organization_count()
                    .unwrap(),
                0
            );
            other_process.batch_execute("ROLLBACK").unwrap();
        }
        Backend::Postgres => {
            let mut other_session = diesel::PgConnection::establish(test_db.url()).unwrap();
            other_session
                .batch_execute("BEGIN; LOCK TABLE organizations IN ACCESS EXCLUSIVE MODE;")
                .unwrap();
            let result = DieselIdentityRepository::new(db.clone()).organization_count();
            assert!(
                matches!(result, Err(RepositoryError::Unavailable(_))),
                "{result:?}"
            );
            assert!(started.elapsed() < Duration::from_secs(3));
            other_session.batch_execute("ROLLBACK").unwrap();
        }
    }
    assert_eq!(
        DieselIdentityRepository::new(db.clone())
            .organization_count()
            .unwrap(),
        0
    );
    organization(&db, "acme");
}

/// The admin binary's listings: every organization and user oldest first, and an
/// organization's members with their roles (never a password hash).
fn operators_list_organizations_users_and_members(test_db: &TestDatabase) {
    let db = open(test_db);
    let repo = DieselIdentityRepository::new(db);
    assert!(repo.all_organizations().unwrap().is_empty());
    assert!(repo.all_users().unwrap().is_empty());
    let created = now();
    let acme = repo
        .insert_organization("Acme", &handle("acme"), created)
        .unwrap()
        .unwrap();
    let globex = repo
        .insert_organization("Globex", &handle("globex"), created + TimeDelta::seconds(1))
        .unwrap()
        .unwrap();
    let handles: Vec<String> = repo
        .all_organizations()
        .unwrap()
        .into_iter()
        .map(|org| org.domain_handle.as_str().to_owned())
        .collect();
    assert_eq!(handles, ["acme", "globex"]);

    let alice = repo
        .insert_user(&new_user("alice@example.com"))
        .unwrap()
        .unwrap();
    let bob = repo
        .insert_user(&new_user("bob@example.com"))
        .unwrap()
        .unwrap();
    let users = repo.all_users().unwrap();
    assert_eq!(
        users
            .iter()
            .map(|user| (user.id, user.email.as_str()))
            .collect::<Vec<_>>(),
        [(alice, "alice@example.com"), (bob, "bob@example.com")]
    );

    repo.upsert_membership(acme.id, alice, Role::Owner, created)
        .unwrap();
    repo.upsert_membership(acme.id, bob, Role::Viewer, created + TimeDelta::seconds(1))
        .unwrap();
    repo.upsert_membership(globex.id, bob, Role::Admin, created)
        .unwrap();
    let members = repo.members_of(acme.id).unwrap();
    assert_eq!(
        members
            .iter()
            .map(|member| (member.user_id, member.email.as_str(), member.role))
            .collect::<Vec<_>>(),
        [
            (alice, "alice@example.com", Role::Owner),
            (bob, "bob@example.com", Role::Viewer)
        ]
    );
    let members = repo.members_of(globex.id).unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].role, Role::Admin);
    assert!(repo.members_of(OrgId(9999)).unwrap().is_empty());
}
