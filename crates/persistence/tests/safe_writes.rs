//! The persistence suite of safe writes, on SQLite and on PostgreSQL: idempotency
//! keys (claim, replay, mismatch, in flight, release, expiry, takeover, races),
//! audit events written in the transaction of their change, compare-and-set on the
//! configuration version, locked read-then-write updates, and stored verification
//! outcomes.

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::sync::{Arc, Barrier};

use chrono::TimeDelta;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use serde_json::{Map, json};
use switchboard_domain::audit::{
    AuditAction, AuditActor, AuditChanges, AuditEntry, AuditFilter, AuditRepository,
};
use switchboard_domain::idempotency::{
    IdempotencyClaim, IdempotencyKey, IdempotencyScope, IdempotencyStore, StoredResponse,
};
use switchboard_domain::identity::{
    DomainHandle, Email, IdentityRepository, NewApiTokenRecord, NewUser, OrgId, PasswordHash,
    TokenHash, TokenId, TokenKind, TokenLimit, UserId,
};
use switchboard_domain::shared::{Clock, PageRequest, SystemClock, Timestamp, WriteError};
use switchboard_domain::telephony::{
    KeyId, NewProviderConfig, ProviderCatalogRepository, ProviderConfigId,
    ProviderConfigRepository, ProviderConfigUpdate, ProviderId, SealedSecret, Verification,
    VerificationStatus,
};
use switchboard_persistence::{
    Database, DieselAuditRepository, DieselIdempotencyStore, DieselIdentityRepository,
    DieselProviderCatalogRepository, DieselProviderConfigRepository,
};
use switchboard_test_support::{TestDatabase, on_both_backends};

on_both_backends!(
    sync:
    idempotency_keys_claim_replay_and_refuse,
    idempotency_keys_expire_release_and_take_over,
    concurrent_claims_let_exactly_one_win,
    writes_record_their_audit_event_in_one_transaction,
    updates_compare_and_set_on_the_version,
    locked_updates_keep_other_writers_out_between_read_and_write,
    verification_outcomes_are_stored,
    audit_events_filter_and_page,
);

fn open(test_db: &TestDatabase) -> Database {
    let db = Database::connect(&test_db.settings()).unwrap();
    db.run_pending_migrations().unwrap();
    db
}

fn now() -> Timestamp {
    SystemClock.now()
}

/// An organization and a token in it (idempotency keys need both).
fn scope(db: &Database, handle: &str) -> IdempotencyScope {
    let identity = DieselIdentityRepository::new(db.clone());
    let org = identity
        .insert_organization(handle, &DomainHandle::parse(handle).unwrap(), now())
        .unwrap()
        .unwrap();
    let user = identity
        .insert_user(&NewUser {
            email: Email::parse(&format!("{handle}@example.com")).unwrap(),
            password_hash: PasswordHash("$argon2id$v=19$placeholder".into()),
            created_at: now(),
        })
        .unwrap()
        .unwrap();
    let token = identity
        .insert_token(
            &NewApiTokenRecord {
                user_id: user,
                name: "t".into(),
                hash: TokenHash(format!("hash-{handle}")),
                prefix: "sbt_x".into(),
                created_at: now(),
                expires_at: None,
                kind: TokenKind::Admin,
                parent: None,
            },
            TokenLimit::refuse(),
        )
        .unwrap()
        .inserted()
        .unwrap();
    IdempotencyScope {
        org_id: org.id,
        token_id: token.id,
    }
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

fn answer(status: u16) -> StoredResponse {
    StoredResponse {
        status,
        headers: vec![("etag".into(), "\"1-1\"".into())],
        body: r#"{"status_code":201}"#.into(),
    }
}

fn idempotency_keys_claim_replay_and_refuse(test_db: &TestDatabase) {
    let db = open(test_db);
    let store = DieselIdempotencyStore::new(db.clone());
    let acme = scope(&db, "acme");
    let globex = scope(&db, "globex");
    let k = key("order-1");
    assert_eq!(
        store.claim(acme, &k, "h1", now()).unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        store.claim(acme, &k, "h1", now()).unwrap(),
        IdempotencyClaim::InFlight
    );
    assert_eq!(
        store.claim(acme, &k, "h2", now()).unwrap(),
        IdempotencyClaim::Mismatch
    );
    // Another scope is another key.
    assert_eq!(
        store.claim(globex, &k, "h2", now()).unwrap(),
        IdempotencyClaim::Claimed
    );
    store.complete(acme, &k, &answer(201)).unwrap();
    assert_eq!(
        store.claim(acme, &k, "h1", now()).unwrap(),
        IdempotencyClaim::Replay(answer(201))
    );
    assert_eq!(
        store.claim(acme, &k, "h2", now()).unwrap(),
        IdempotencyClaim::Mismatch
    );
    // Release gives only an in-flight key up: a done key keeps its answer.
    store.release(acme, &k).unwrap();
    assert_eq!(
        store.claim(acme, &k, "h1", now()).unwrap(),
        IdempotencyClaim::Replay(answer(201))
    );
}

fn idempotency_keys_expire_release_and_take_over(test_db: &TestDatabase) {
    let db = open(test_db);
    let store = DieselIdempotencyStore::new(db.clone());
    let acme = scope(&db, "acme");
    // Released keys are free again.
    let released = key("released");
    assert_eq!(
        store.claim(acme, &released, "h", now()).unwrap(),
        IdempotencyClaim::Claimed
    );
    store.release(acme, &released).unwrap();
    assert_eq!(
        store.claim(acme, &released, "h2", now()).unwrap(),
        IdempotencyClaim::Claimed
    );

    // A key older than 24 hours is claimed afresh, whatever it held.
    let old = key("old");
    let long_ago = now() - TimeDelta::hours(25);
    assert_eq!(
        store.claim(acme, &old, "h", long_ago).unwrap(),
        IdempotencyClaim::Claimed
    );
    store.complete(acme, &old, &answer(201)).unwrap();
    assert_eq!(
        store.claim(acme, &old, "other", now()).unwrap(),
        IdempotencyClaim::Claimed
    );

    // A claim in flight for longer than the timeout is taken over by the same request.
    let stuck = key("stuck");
    let two_minutes_ago = now() - TimeDelta::minutes(2);
    assert_eq!(
        store.claim(acme, &stuck, "h", two_minutes_ago).unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        store.claim(acme, &stuck, "other", now()).unwrap(),
        IdempotencyClaim::Mismatch
    );
    assert_eq!(
        store.claim(acme, &stuck, "h", now()).unwrap(),
        IdempotencyClaim::Claimed
    );
    assert_eq!(
        store.claim(acme, &stuck, "h", now()).unwrap(),
        IdempotencyClaim::InFlight
    );

    // Purging removes expired keys only.
    for (name, at) in [("a", long_ago), ("b", long_ago), ("c", now())] {
        store.claim(acme, &key(name), "h", at).unwrap();
    }
    assert_eq!(store.purge_expired(now()).unwrap(), 2);
    assert_eq!(store.purge_expired(now()).unwrap(), 0);
    assert_eq!(
        store.claim(acme, &key("c"), "h", now()).unwrap(),
        IdempotencyClaim::InFlight
    );
}

fn concurrent_claims_let_exactly_one_win(test_db: &TestDatabase) {
    let db = open(test_db);
    let store = Arc::new(DieselIdempotencyStore::new(db.clone()));
    let acme = scope(&db, "acme");
    let threads = 12;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (store, barrier) = (store.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                store.claim(acme, &key("race"), "h", now()).unwrap()
            })
        })
        .collect();
    let claims: Vec<IdempotencyClaim> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let won = claims
        .iter()
        .filter(|c| **c == IdempotencyClaim::Claimed)
        .count();
    let busy = claims
        .iter()
        .filter(|c| **c == IdempotencyClaim::InFlight)
        .count();
    assert_eq!((won, busy), (1, threads - 1), "{claims:?}");
}

fn provider(db: &Database, slug: &str) -> ProviderId {
    DieselProviderCatalogRepository::new(db.clone())
        .providers()
        .unwrap()
        .into_iter()
        .find(|p| p.slug == slug)
        .unwrap()
        .id
}

fn new_config(org: OrgId, provider: ProviderId, sid: &str) -> NewProviderConfig {
    NewProviderConfig {
        uid: uuid::Uuid::new_v4().to_string(),
        org_id: org,
        provider_id: provider,
        name: format!("config {sid}"),
        account_sid: sid.into(),
        auth_token: SealedSecret::from_parts(KeyId(1), &[0; 12], &[1; 20]),
        auth_token_last4: "cdef".into(),
        public_fields: serde_json::Map::new(),
        secret_last4: std::collections::BTreeMap::from([(
            "auth_token".to_owned(),
            "cdef".to_owned(),
        )]),
        active: true,
        base_url: None,
        sip_url: None,
        meta_json: Map::new(),
        verification: None,
        created_at: now(),
    }
}

fn entry(action: AuditAction, at: Timestamp) -> AuditEntry {
    AuditEntry::new(
        AuditActor {
            user_id: Some(UserId(7)),
            token_id: Some(TokenId(9)),
            request_id: Some(format!("req-{action}")),
        },
        action,
        AuditChanges::new().field("name"),
        at,
    )
}

fn everything() -> AuditFilter {
    AuditFilter::default()
}

fn writes_record_their_audit_event_in_one_transaction(test_db: &TestDatabase) {
    let db = open(test_db);
    let org = scope(&db, "acme").org_id;
    let twilio = provider(&db, "twilio");
    let configs = DieselProviderConfigRepository::new(db.clone());
    let events = DieselAuditRepository::new(db.clone());
    let sid = "AC0123456789abcdef0123456789abcdef";

    let created = configs
        .insert(
            &new_config(org, twilio, sid),
            &entry(AuditAction::Created, now()),
        )
        .unwrap();
    // A refused insert records nothing.
    assert!(matches!(
        configs.insert(
            &new_config(org, twilio, sid),
            &entry(AuditAction::Created, now())
        ),
        Err(WriteError::Duplicate)
    ));
    let page = events
        .list(org, &everything(), PageRequest::default())
        .unwrap();
    assert_eq!(page.total, 1);
    let event = &page.items[0];
    assert_eq!(event.provider_config_id, Some(created.id));
    assert_eq!(event.action, AuditAction::Created);
    assert_eq!(event.user_id, Some(UserId(7)));
    assert_eq!(event.token_id, Some(TokenId(9)));
    assert_eq!(event.request_id.as_deref(), Some("req-created"));
    assert_eq!(
        serde_json::Value::Object(event.changes.clone()),
        json!({"fields": ["name"]})
    );

    // A refused update (collision) records nothing either.
    let other = configs
        .insert(
            &new_config(org, twilio, "ACffffffffffffffffffffffffffffffff"),
            &entry(AuditAction::Created, now()),
        )
        .unwrap();
    let collide = ProviderConfigUpdate {
        account_sid: Some(sid.into()),
        ..ProviderConfigUpdate::default()
    };
    assert!(matches!(
        configs.update(org, other.id, &collide, &entry(AuditAction::Updated, now())),
        Err(WriteError::Duplicate)
    ));
    assert_eq!(
        events
            .list(org, &everything(), PageRequest::default())
            .unwrap()
            .total,
        2
    );

    // Deleting keeps the events and adds one; deleting again adds none.
    assert!(
        configs
            .delete(org, created.id, None, &entry(AuditAction::Deleted, now()))
            .unwrap()
    );
    assert!(
        !configs
            .delete(org, created.id, None, &entry(AuditAction::Deleted, now()))
            .unwrap()
    );
    let history = AuditFilter {
        provider_config_id: Some(created.id),
        ..AuditFilter::default()
    };
    let trail = events.list(org, &history, PageRequest::default()).unwrap();
    let actions: Vec<AuditAction> = trail.items.iter().map(|e| e.action).collect();
    assert_eq!(actions, [AuditAction::Deleted, AuditAction::Created]);

    // Events recorded on their own (for contexts without a transaction here).
    let recorded = events
        .record(
            org,
            Some(other.id),
            &AuditEntry::connected(AuditActor::default(), "main", "+14155550100", now()),
        )
        .unwrap();
    assert_eq!(recorded.action, AuditAction::Connected);
    assert_eq!(recorded.changes["bridge"], "main");
    assert_eq!(recorded.user_id, None);
}

fn updates_compare_and_set_on_the_version(test_db: &TestDatabase) {
    let db = open(test_db);
    let org = scope(&db, "acme").org_id;
    let twilio = provider(&db, "twilio");
    let configs = DieselProviderConfigRepository::new(db.clone());
    let events = DieselAuditRepository::new(db.clone());
    let config = configs
        .insert(
            &new_config(org, twilio, "AC0123456789abcdef0123456789abcdef"),
            &entry(AuditAction::Created, now()),
        )
        .unwrap();
    let rename = |name: &str, version: Option<i64>| ProviderConfigUpdate {
        name: Some(name.into()),
        expected_version: version,
        ..ProviderConfigUpdate::default()
    };
    let updated = configs
        .update(
            org,
            config.id,
            &rename("one", Some(1)),
            &entry(AuditAction::Updated, now()),
        )
        .unwrap()
        .unwrap();
    assert_eq!(updated.version, 2);
    // The same expected version again: nothing changes, nothing is recorded.
    assert!(
        configs
            .update(
                org,
                config.id,
                &rename("two", Some(1)),
                &entry(AuditAction::Updated, now())
            )
            .unwrap()
            .is_none()
    );
    assert!(
        !configs
            .delete(org, config.id, Some(1), &entry(AuditAction::Deleted, now()))
            .unwrap()
    );
    assert_eq!(configs.get(org, config.id).unwrap().unwrap().name, "one");
    assert_eq!(
        events
            .list(org, &everything(), PageRequest::default())
            .unwrap()
            .total,
        2
    );

    // Two writers from one version: exactly one wins.
    let configs = Arc::new(configs);
    let barrier = Arc::new(Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (configs, barrier) = (configs.clone(), barrier.clone());
            std::thread::spawn(move || {
                let update = ProviderConfigUpdate {
                    name: Some(format!("racer {i}")),
                    expected_version: Some(2),
                    ..ProviderConfigUpdate::default()
                };
                barrier.wait();
                configs
                    .update(org, config.id, &update, &entry(AuditAction::Updated, now()))
                    .unwrap()
                    .is_some()
            })
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|w| *w)
        .count();
    assert_eq!(wins, 1);
    assert_eq!(configs.get(org, config.id).unwrap().unwrap().version, 3);
    assert_eq!(
        events
            .list(org, &everything(), PageRequest::default())
            .unwrap()
            .total,
        3
    );
    // Without an expected version the write applies to whatever is current.
    assert!(
        configs
            .update(
                org,
                config.id,
                &rename("blind", None),
                &entry(AuditAction::Updated, now())
            )
            .unwrap()
            .is_some()
    );
    assert!(
        configs
            .delete(org, config.id, Some(4), &entry(AuditAction::Deleted, now()))
            .unwrap()
    );
}

/// Another connection's attempt to rename configuration `id`, giving up at once
/// (SQLite: no busy wait; PostgreSQL: a 200 ms lock timeout). `true` when it wrote.
fn outside_write(test_db: &TestDatabase, id: ProviderConfigId) -> bool {
    let rename = format!(
        "UPDATE provider_configurations SET name = 'outside' WHERE id = {}",
        id.0
    );
    if let Some(path) = test_db.url().strip_prefix("sqlite://") {
        let mut conn = SqliteConnection::establish(path).unwrap();
        conn.batch_execute("PRAGMA busy_timeout = 0;").unwrap();
        conn.batch_execute(&rename).is_ok()
    } else {
        let mut conn = PgConnection::establish(test_db.url()).unwrap();
        conn.batch_execute("SET lock_timeout = '200ms';").unwrap();
        conn.batch_execute(&rename).is_ok()
    }
}

fn locked_updates_keep_other_writers_out_between_read_and_write(test_db: &TestDatabase) {
    let db = open(test_db);
    let org = scope(&db, "acme").org_id;
    let twilio = provider(&db, "twilio");
    let configs = DieselProviderConfigRepository::new(db.clone());
    let events = DieselAuditRepository::new(db.clone());
    let config = configs
        .insert(
            &new_config(org, twilio, "AC0123456789abcdef0123456789abcdef"),
            &entry(AuditAction::Created, now()),
        )
        .unwrap();
    // While the plan runs, the configuration is locked against every other writer
    // (on SQLite the whole database is), and the plan saw the stored version.
    let mut seen = Vec::new();
    let mut plan = |current: &switchboard_domain::telephony::ProviderConfig| {
        seen.push((current.version, outside_write(test_db, config.id)));
        Some((
            ProviderConfigUpdate {
                name: Some("planned".into()),
                expected_version: Some(current.version),
                ..ProviderConfigUpdate::default()
            },
            entry(AuditAction::Updated, now()),
        ))
    };
    let updated = configs
        .update_locked(org, config.id, &mut plan)
        .unwrap()
        .unwrap();
    assert_eq!(seen, [(1, false)], "another writer got in during the plan");
    assert_eq!((updated.name.as_str(), updated.version), ("planned", 2));
    // Once it has committed, others write again.
    assert!(outside_write(test_db, config.id));
    assert_eq!(
        configs.get(org, config.id).unwrap().unwrap().name,
        "outside"
    );

    // A plan that declines writes nothing and records nothing; an unknown id (or
    // another organization's) is not planned at all.
    let mut decline = |_: &switchboard_domain::telephony::ProviderConfig| None;
    assert!(
        configs
            .update_locked(org, config.id, &mut decline)
            .unwrap()
            .is_none()
    );
    let mut never = |_: &switchboard_domain::telephony::ProviderConfig| -> Option<_> {
        panic!("planned a configuration that is not there")
    };
    let other = scope(&db, "globex").org_id;
    for (org, id) in [
        (org, ProviderConfigId(config.id.0 + 1000)),
        (other, config.id),
    ] {
        assert!(
            configs
                .update_locked(org, id, &mut never)
                .unwrap()
                .is_none()
        );
    }
    assert_eq!(configs.get(org, config.id).unwrap().unwrap().version, 2);
    assert_eq!(
        events
            .list(org, &everything(), PageRequest::default())
            .unwrap()
            .total,
        2
    );
}

fn verification_outcomes_are_stored(test_db: &TestDatabase) {
    let db = open(test_db);
    let org = scope(&db, "acme").org_id;
    let twilio = provider(&db, "twilio");
    let configs = DieselProviderConfigRepository::new(db.clone());
    let checked_at = now();
    let valid = Verification {
        status: VerificationStatus::Valid,
        checked_at,
    };
    let mut new = new_config(org, twilio, "AC0123456789abcdef0123456789abcdef");
    new.verification = Some(valid);
    let config = configs
        .insert(&new, &entry(AuditAction::Created, now()))
        .unwrap();
    assert_eq!(config.verification, Some(valid));
    let unreachable = Verification {
        status: VerificationStatus::Unreachable,
        checked_at: checked_at + TimeDelta::seconds(1),
    };
    let verified = configs
        .record_verification(
            org,
            config.id,
            &unreachable,
            1,
            &entry(AuditAction::Verified, now()),
        )
        .unwrap()
        .unwrap();
    assert_eq!(verified.verification, Some(unreachable));
    assert_eq!(verified.version, 2);
    assert_eq!(
        verified.updated_at, config.updated_at,
        "verification is no edit"
    );
    assert!(
        configs
            .record_verification(
                org,
                config.id,
                &valid,
                1,
                &entry(AuditAction::Verified, now())
            )
            .unwrap()
            .is_none()
    );
    // An update may clear it.
    let clear = ProviderConfigUpdate {
        verification: Some(None),
        ..ProviderConfigUpdate::default()
    };
    let cleared = configs
        .update(org, config.id, &clear, &entry(AuditAction::Rotated, now()))
        .unwrap()
        .unwrap();
    assert_eq!(cleared.verification, None);
    assert_eq!(
        configs.get(org, config.id).unwrap().unwrap().verification,
        None
    );
    assert!(
        configs
            .record_verification(
                OrgId(99_999),
                config.id,
                &valid,
                3,
                &entry(AuditAction::Verified, now())
            )
            .unwrap()
            .is_none()
    );
}

fn audit_events_filter_and_page(test_db: &TestDatabase) {
    let db = open(test_db);
    let acme = scope(&db, "acme").org_id;
    let globex = scope(&db, "globex").org_id;
    let events = DieselAuditRepository::new(db.clone());
    let base = now() - TimeDelta::hours(1);
    let actions = [
        AuditAction::Created,
        AuditAction::Updated,
        AuditAction::Rotated,
        AuditAction::Verified,
        AuditAction::Deleted,
    ];
    for (i, action) in actions.into_iter().enumerate() {
        let at = base + TimeDelta::minutes(i64::try_from(i).unwrap());
        events
            .record(acme, Some(ProviderConfigId(1)), &entry(action, at))
            .unwrap();
    }
    events
        .record(
            acme,
            Some(ProviderConfigId(2)),
            &entry(AuditAction::Created, base),
        )
        .unwrap();
    events
        .record(
            globex,
            Some(ProviderConfigId(1)),
            &entry(AuditAction::Created, base),
        )
        .unwrap();

    let all = events
        .list(acme, &everything(), PageRequest::default())
        .unwrap();
    assert_eq!(all.total, 6);
    assert_eq!(all.items[0].action, AuditAction::Deleted, "newest first");
    let of_one = AuditFilter {
        provider_config_id: Some(ProviderConfigId(1)),
        ..AuditFilter::default()
    };
    assert_eq!(
        events
            .list(acme, &of_one, PageRequest::default())
            .unwrap()
            .total,
        5
    );
    let created = AuditFilter {
        action: Some(AuditAction::Created),
        ..AuditFilter::default()
    };
    assert_eq!(
        events
            .list(acme, &created, PageRequest::default())
            .unwrap()
            .total,
        2
    );
    let window = AuditFilter {
        from: Some(base + TimeDelta::minutes(1)),
        to: Some(base + TimeDelta::minutes(3)),
        ..AuditFilter::default()
    };
    let middle = events.list(acme, &window, PageRequest::default()).unwrap();
    let names: Vec<AuditAction> = middle.items.iter().map(|e| e.action).collect();
    assert_eq!(
        names,
        [
            AuditAction::Verified,
            AuditAction::Rotated,
            AuditAction::Updated
        ]
    );
    let page = PageRequest {
        page: 2,
        page_size: 4,
    };
    let second = events.list(acme, &everything(), page).unwrap();
    assert_eq!((second.total, second.items.len()), (6, 2));
    let beyond = PageRequest {
        page: 5,
        page_size: 4,
    };
    let past = events.list(acme, &everything(), beyond).unwrap();
    assert_eq!((past.total, past.items.len()), (6, 0));
    assert_eq!(
        events
            .list(globex, &everything(), PageRequest::default())
            .unwrap()
            .total,
        1
    );
}
