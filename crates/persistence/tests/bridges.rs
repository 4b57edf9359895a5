//! The bridges repository suite (numbers, bridges, connections, the configuration
//! delete guard), run once on SQLite and once on PostgreSQL (when
//! `SWITCHBOARD_TEST_POSTGRES_URL` names a server). Each case gets a database of its
//! own.

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::sync::{Arc, Barrier};

use serde_json::Map;
use switchboard_domain::audit::{
    AuditAction, AuditActor, AuditChanges, AuditEntry, AuditFilter, AuditRepository,
};
use switchboard_domain::identity::{DomainHandle, IdentityRepository, OrgId};
use switchboard_domain::shared::{Clock, PageRequest, SystemClock, Timestamp, WriteError};
use switchboard_domain::telephony::{
    BridgeConnection, BridgeDetail, BridgeRepository, BridgeSlug, BridgeStatus, BridgeUpdate,
    BridgeWriteError, ConfigDeletion, ConnectionError, E164, KeyId, NewBridge, NewPhoneNumber,
    NewProviderConfig, NumberConflict, NumberDeletion, NumberFilter, NumberState, PhoneNumberId,
    ProviderCatalogRepository, ProviderConfigId, ProviderConfigRepository, ProviderConfigUpdate,
    Region, SealedSecret,
};
use switchboard_persistence::{
    Database, DieselAuditRepository, DieselBridgeRepository, DieselIdentityRepository,
    DieselProviderCatalogRepository, DieselProviderConfigRepository,
};
use switchboard_test_support::{TestDatabase, on_both_backends};

on_both_backends!(
    sync:
    numbers_are_unique_per_organization_and_listed_with_their_state,
    numbers_on_a_bridge_cannot_be_deleted,
    bridges_take_their_numbers_in_one_transaction,
    duplicate_slugs_are_refused_and_similar_slugs_listed,
    number_sets_are_replaced_atomically,
    deleting_a_bridge_frees_its_numbers,
    connections_follow_the_rules,
    connected_configurations_cannot_be_deleted,
    racing_assignments_leave_a_number_on_one_bridge,
    racing_connects_and_deletes_leave_no_dangling_connection,
    bridges_list_newest_first_with_totals,
);

/// Everything a case needs.
struct Fixture {
    repo: Arc<DieselBridgeRepository>,
    configs: Arc<DieselProviderConfigRepository>,
    org: OrgId,
    other: OrgId,
    db: Database,
}

fn now() -> Timestamp {
    SystemClock.now()
}

fn fixture(test_db: &TestDatabase) -> Fixture {
    let db = Database::connect(&test_db.settings()).unwrap();
    db.run_pending_migrations().unwrap();
    let identity = DieselIdentityRepository::new(db.clone());
    let org = |handle: &str| {
        identity
            .insert_organization(handle, &DomainHandle::parse(handle).unwrap(), now())
            .unwrap()
            .unwrap()
            .id
    };
    let (acme, other) = (org("acme"), org("other"));
    Fixture {
        repo: Arc::new(DieselBridgeRepository::new(db.clone())),
        configs: Arc::new(DieselProviderConfigRepository::new(db.clone())),
        org: acme,
        other,
        db,
    }
}

impl Fixture {
    fn number(&self, org: OrgId, text: &str) -> PhoneNumberId {
        self.repo
            .insert_number(&NewPhoneNumber {
                org_id: org,
                number: e164(text),
                active: true,
                created_at: now(),
            })
            .unwrap()
            .id
    }

    fn bridge(
        &self,
        slug: &str,
        numbers: &[PhoneNumberId],
    ) -> Result<BridgeDetail, BridgeWriteError> {
        self.repo.insert_bridge(&NewBridge {
            org_id: self.org,
            name: format!("Bridge {slug}"),
            slug: BridgeSlug::parse(slug).unwrap(),
            description: None,
            status: BridgeStatus::Active,
            region: Some(Region::Us),
            number_ids: numbers.to_vec(),
            created_at: now(),
        })
    }

    fn config(&self, org: OrgId, n: u32) -> ProviderConfigId {
        let twilio = DieselProviderCatalogRepository::new(self.db.clone())
            .providers()
            .unwrap()
            .into_iter()
            .find(|provider| provider.slug == "twilio")
            .unwrap()
            .id;
        self.configs
            .insert(
                &NewProviderConfig {
                    uid: uuid::Uuid::new_v4().to_string(),
                    org_id: org,
                    provider_id: twilio,
                    name: format!("config {n}"),
                    account_sid: format!("AC{n:032x}"),
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
                },
                &audit(),
            )
            .unwrap()
            .id
    }

    fn numbers_on(&self, slug: &str) -> Vec<(String, Option<ProviderConfigId>)> {
        self.repo
            .get_bridge(self.org, slug)
            .unwrap()
            .unwrap()
            .numbers
            .into_iter()
            .map(|n| (n.number.as_str().to_owned(), n.provider_config_id))
            .collect()
    }

    fn state_of(&self, text: &str) -> Option<String> {
        self.repo
            .list_numbers(self.org, NumberFilter::default(), PageRequest::default())
            .unwrap()
            .items
            .into_iter()
            .find(|n| n.number.as_str() == text)
            .unwrap()
            .placement
            .map(|p| p.bridge_slug)
    }
}

fn e164(text: &str) -> E164 {
    E164::parse(text).unwrap()
}

fn numbers_only(update: Vec<PhoneNumberId>) -> BridgeUpdate {
    BridgeUpdate {
        name: None,
        description: None,
        status: None,
        region: None,
        number_ids: Some(update),
        updated_at: now(),
    }
}

fn numbers_are_unique_per_organization_and_listed_with_their_state(test_db: &TestDatabase) {
    let f = fixture(test_db);
    let a = f.number(f.org, "+14155550100");
    f.number(f.org, "+14155550101");
    let duplicate = f.repo.insert_number(&NewPhoneNumber {
        org_id: f.org,
        number: e164("+14155550100"),
        active: true,
        created_at: now(),
    });
    assert!(
        matches!(duplicate, Err(WriteError::Duplicate)),
        "{duplicate:?}"
    );
    // Another organization may hold the same number.
    f.number(f.other, "+14155550100");
    f.bridge("main", &[a]).unwrap();

    let all = f
        .repo
        .list_numbers(f.org, NumberFilter::default(), PageRequest::default())
        .unwrap();
    assert_eq!(all.total, 2);
    assert_eq!(all.items[0].number.as_str(), "+14155550101", "newest first");
    assert_eq!(all.items[1].state(), NumberState::Assigned);
    assert_eq!(
        all.items[1]
            .placement
            .as_ref()
            .map(|p| p.bridge_slug.as_str()),
        Some("main")
    );
    let assigned = f
        .repo
        .list_numbers(
            f.org,
            NumberFilter {
                state: Some(NumberState::Assigned),
            },
            PageRequest::default(),
        )
        .unwrap();
    assert_eq!(assigned.total, 1);
    assert_eq!(assigned.items[0].id, a);
    let free = f
        .repo
        .list_numbers(
            f.org,
            NumberFilter {
                state: Some(NumberState::NotAssigned),
            },
            PageRequest {
                page: 1,
                page_size: 1,
            },
        )
        .unwrap();
    assert_eq!((free.total, free.items.len()), (1, 1));
    let past = f
        .repo
        .list_numbers(
            f.org,
            NumberFilter::default(),
            PageRequest {
                page: 5,
                page_size: 1,
            },
        )
        .unwrap();
    assert_eq!((past.total, past.items.len()), (2, 0));
}

fn numbers_on_a_bridge_cannot_be_deleted(test_db: &TestDatabase) {
    let f = fixture(test_db);
    let a = f.number(f.org, "+14155550100");
    let b = f.number(f.org, "+14155550101");
    let theirs = f.number(f.other, "+14155550102");
    f.bridge("main", &[a]).unwrap();
    assert_eq!(
        f.repo.delete_number(f.org, a).unwrap(),
        NumberDeletion::Assigned
    );
    assert_eq!(
        f.repo.delete_number(f.org, theirs).unwrap(),
        NumberDeletion::NotFound
    );
    assert_eq!(
        f.repo.delete_number(f.org, b).unwrap(),
        NumberDeletion::Deleted
    );
    assert_eq!(
        f.repo.delete_number(f.org, b).unwrap(),
        NumberDeletion::NotFound
    );
    assert_eq!(
        f.repo.delete_number(f.other, theirs).unwrap(),
        NumberDeletion::Deleted
    );
}

fn bridges_take_their_numbers_in_one_transaction(test_db: &TestDatabase) {
    let f = fixture(test_db);
    let a = f.number(f.org, "+14155550100");
    let b = f.number(f.org, "+14155550101");
    let c = f.number(f.org, "+14155550102");
    let theirs = f.number(f.other, "+14155550103");
    let main = f.bridge("main", &[a, b]).unwrap();
    assert_eq!(main.bridge.slug, "main");
    assert_eq!(main.bridge.region, Some(Region::Us));
    assert_eq!(
        main.numbers.iter().map(|n| n.number_id).collect::<Vec<_>>(),
        vec![a, b]
    );

    // b is taken: the bridge is not created and c stays free.
    let taken = f.bridge("second", &[b, c]);
    assert!(
        matches!(
            taken,
            Err(BridgeWriteError::Numbers(NumberConflict::OnAnotherBridge))
        ),
        "{taken:?}"
    );
    // Another organization's number, or an unknown id, is unknown.
    for ids in [vec![c, theirs], vec![PhoneNumberId(999_999)]] {
        let unknown = f.bridge("second", &ids);
        assert!(
            matches!(
                unknown,
                Err(BridgeWriteError::Numbers(NumberConflict::Unknown))
            ),
            "{unknown:?}"
        );
    }
    assert!(f.repo.get_bridge(f.org, "second").unwrap().is_none());
    assert_eq!(f.state_of("+14155550102"), None);
    let second = f.bridge("second", &[c]).unwrap();
    assert_eq!(second.numbers.len(), 1);
    // The other organization cannot see the bridges.
    assert!(f.repo.get_bridge(f.other, "main").unwrap().is_none());
}

fn duplicate_slugs_are_refused_and_similar_slugs_listed(test_db: &TestDatabase) {
    let f = fixture(test_db);
    f.bridge("my-bridge", &[]).unwrap();
    f.bridge("my-bridge-2", &[]).unwrap();
    f.bridge("my-bridgework", &[]).unwrap();
    let a = f.number(f.org, "+14155550100");
    // The slug conflict leaves the number free.
    let duplicate = f.bridge("my-bridge", &[a]);
    assert!(
        matches!(duplicate, Err(BridgeWriteError::DuplicateSlug)),
        "{duplicate:?}"
    );
    assert_eq!(f.state_of("+14155550100"), None);
    let mut similar = f
        .repo
        .slugs_like(f.org, &BridgeSlug::parse("my-bridge").unwrap())
        .unwrap();
    similar.sort();
    assert_eq!(similar, ["my-bridge", "my-bridge-2"]);
    assert!(
        f.repo
            .slugs_like(f.other, &BridgeSlug::parse("my-bridge").unwrap())
            .unwrap()
            .is_empty()
    );
}

fn number_sets_are_replaced_atomically(test_db: &TestDatabase) {
    let f = fixture(test_db);
    let a = f.number(f.org, "+14155550100");
    let b = f.number(f.org, "+14155550101");
    let c = f.number(f.org, "+14155550102");
    let d = f.number(f.org, "+14155550103");
    let config = f.config(f.org, 1);
    f.bridge("main", &[a, b]).unwrap();
    f.bridge("other", &[d]).unwrap();
    f.repo
        .connect_provider(f.org, "main", &e164("+14155550100"), config, &audit())
        .unwrap();
    f.repo
        .connect_provider(f.org, "main", &e164("+14155550101"), config, &audit())
        .unwrap();

    // A failing replacement changes nothing, not even the other fields.
    let mut update = numbers_only(vec![a, c, d]);
    update.name = Some("Renamed".into());
    let refused = f.repo.update_bridge(f.org, "main", &update);
    assert!(
        matches!(
            refused,
            Err(BridgeWriteError::Numbers(NumberConflict::OnAnotherBridge))
        ),
        "{refused:?}"
    );
    let main = f.repo.get_bridge(f.org, "main").unwrap().unwrap();
    assert_eq!(main.bridge.name, "Bridge main");
    assert_eq!(main.numbers.len(), 2);

    // Keep a (and its connection), drop b (and its connection), add c.
    let mut update = numbers_only(vec![a, c]);
    update.status = Some(BridgeStatus::Draft);
    update.region = Some(None);
    update.description = Some(Some("moved".into()));
    let changed = f
        .repo
        .update_bridge(f.org, "main", &update)
        .unwrap()
        .unwrap();
    assert_eq!(changed.bridge.status, BridgeStatus::Draft);
    assert_eq!(changed.bridge.region, None);
    assert_eq!(changed.bridge.description.as_deref(), Some("moved"));
    assert_eq!(
        f.numbers_on("main"),
        vec![
            ("+14155550100".to_owned(), Some(config)),
            ("+14155550102".to_owned(), None)
        ]
    );
    assert_eq!(f.state_of("+14155550101"), None);
    // b can now go on another bridge, and its old connection is gone.
    f.repo
        .update_bridge(f.org, "other", &numbers_only(vec![b, d]))
        .unwrap()
        .unwrap();
    assert_eq!(
        f.numbers_on("other"),
        vec![
            ("+14155550101".to_owned(), None),
            ("+14155550103".to_owned(), None)
        ]
    );
    // An empty set clears the bridge; an unknown slug is None.
    f.repo
        .update_bridge(f.org, "main", &numbers_only(vec![]))
        .unwrap()
        .unwrap();
    assert!(f.numbers_on("main").is_empty());
    assert!(
        f.repo
            .update_bridge(f.other, "main", &numbers_only(vec![]))
            .unwrap()
            .is_none()
    );
}

fn deleting_a_bridge_frees_its_numbers(test_db: &TestDatabase) {
    let f = fixture(test_db);
    let a = f.number(f.org, "+14155550100");
    let config = f.config(f.org, 1);
    f.bridge("main", &[a]).unwrap();
    f.repo
        .connect_provider(f.org, "main", &e164("+14155550100"), config, &audit())
        .unwrap();
    assert!(!f.repo.delete_bridge(f.other, "main", now()).unwrap());
    assert!(f.repo.delete_bridge(f.org, "main", now()).unwrap());
    assert!(!f.repo.delete_bridge(f.org, "main", now()).unwrap());
    assert_eq!(f.state_of("+14155550100"), None);
    // The connection went with the bridge: the configuration can be deleted.
    assert_eq!(
        f.configs
            .delete_unless_connected(f.org, config, None, &audit())
            .unwrap(),
        ConfigDeletion::Deleted
    );
    assert_eq!(
        f.repo.delete_number(f.org, a).unwrap(),
        NumberDeletion::Deleted
    );
}

fn connections_follow_the_rules(test_db: &TestDatabase) {
    let f = fixture(test_db);
    let a = f.number(f.org, "+14155550100");
    f.number(f.org, "+14155550101");
    let config = f.config(f.org, 1);
    let inactive = f.config(f.org, 2);
    let theirs = f.config(f.other, 3);
    f.configs
        .update(
            f.org,
            inactive,
            &ProviderConfigUpdate {
                active: Some(false),
                ..ProviderConfigUpdate::default()
            },
            &audit(),
        )
        .unwrap();
    f.bridge("main", &[a]).unwrap();
    let number = e164("+14155550100");
    let connect = |slug: &str, number: &E164, config| {
        f.repo
            .connect_provider(f.org, slug, number, config, &audit())
    };
    assert!(matches!(
        connect("nope", &number, config),
        Err(ConnectionError::BridgeNotFound)
    ));
    assert!(matches!(
        connect("main", &number, theirs),
        Err(ConnectionError::ConfigNotFound)
    ));
    assert!(matches!(
        connect("main", &number, ProviderConfigId(999_999)),
        Err(ConnectionError::ConfigNotFound)
    ));
    assert!(matches!(
        connect("main", &number, inactive),
        Err(ConnectionError::ConfigInactive)
    ));
    assert!(matches!(
        connect("main", &e164("+14155550101"), config),
        Err(ConnectionError::NumberNotOnBridge)
    ));
    assert!(matches!(
        connect("main", &e164("+19999999999"), config),
        Err(ConnectionError::NumberNotOnBridge)
    ));
    assert!(matches!(
        f.repo.disconnect_provider(f.org, "main", &number, &audit()),
        Err(ConnectionError::NotConnected)
    ));
    let connected = connect("main", &number, config).unwrap();
    assert_eq!(connected.numbers[0].provider_config_id, Some(config));
    // Connecting again (or another configuration) replaces the connection.
    let again = connect("main", &number, config).unwrap();
    assert_eq!(again.numbers[0].provider_config_id, Some(config));
    let listed = f
        .repo
        .list_numbers(f.org, NumberFilter::default(), PageRequest::default())
        .unwrap();
    let placed = listed.items.iter().find(|n| n.id == a).unwrap();
    assert_eq!(
        placed.placement.as_ref().and_then(|p| p.provider_config_id),
        Some(config)
    );
    // The other organization sees nothing of it.
    assert!(matches!(
        f.repo
            .disconnect_provider(f.other, "main", &number, &audit()),
        Err(ConnectionError::BridgeNotFound)
    ));
    let disconnected = f
        .repo
        .disconnect_provider(f.org, "main", &number, &audit())
        .unwrap();
    assert_eq!(disconnected.numbers[0].provider_config_id, None);
    assert!(matches!(
        f.repo
            .disconnect_provider(f.org, "main", &e164("+14155550101"), &audit()),
        Err(ConnectionError::NumberNotOnBridge)
    ));
    // The entries are the caller's, with the caller's time, recorded with the change.
    let at = now() + chrono::TimeDelta::days(3);
    let connected = AuditEntry::connected(AuditActor::default(), "main", number.as_str(), at);
    f.repo
        .connect_provider(f.org, "main", &number, config, &connected)
        .unwrap();
    let later = at + chrono::TimeDelta::seconds(5);
    let disconnected =
        AuditEntry::disconnected(AuditActor::default(), "main", number.as_str(), later);
    f.repo
        .disconnect_provider(f.org, "main", &number, &disconnected)
        .unwrap();
    let events = DieselAuditRepository::new(f.db.clone())
        .list(
            f.org,
            &AuditFilter {
                provider_config_id: Some(config),
                ..AuditFilter::default()
            },
            PageRequest::default(),
        )
        .unwrap();
    let recorded: Vec<(AuditAction, Timestamp)> = events
        .items
        .iter()
        .take(2)
        .map(|event| (event.action, event.created_at))
        .collect();
    assert_eq!(
        recorded,
        [
            (AuditAction::Disconnected, later),
            (AuditAction::Connected, at)
        ]
    );
}

fn connected_configurations_cannot_be_deleted(test_db: &TestDatabase) {
    let f = fixture(test_db);
    let a = f.number(f.org, "+14155550100");
    let b = f.number(f.org, "+14155550101");
    let config = f.config(f.org, 1);
    let unused = f.config(f.org, 2);
    f.bridge("zeta", &[a]).unwrap();
    f.bridge("alpha", &[b]).unwrap();
    f.repo
        .connect_provider(f.org, "zeta", &e164("+14155550100"), config, &audit())
        .unwrap();
    f.repo
        .connect_provider(f.org, "alpha", &e164("+14155550101"), config, &audit())
        .unwrap();
    assert_eq!(
        f.configs
            .delete_unless_connected(f.org, config, None, &audit())
            .unwrap(),
        ConfigDeletion::InUse(vec![
            BridgeConnection {
                bridge_slug: "alpha".into(),
                number: e164("+14155550101"),
            },
            BridgeConnection {
                bridge_slug: "zeta".into(),
                number: e164("+14155550100"),
            },
        ])
    );
    assert!(f.configs.get(f.org, config).unwrap().is_some());
    assert_eq!(
        f.configs
            .delete_unless_connected(f.other, config, None, &audit())
            .unwrap(),
        ConfigDeletion::NotFound
    );
    assert_eq!(
        f.configs
            .delete_unless_connected(f.org, unused, None, &audit())
            .unwrap(),
        ConfigDeletion::Deleted
    );
    f.repo
        .disconnect_provider(f.org, "zeta", &e164("+14155550100"), &audit())
        .unwrap();
    f.repo
        .update_bridge(f.org, "alpha", &numbers_only(vec![]))
        .unwrap()
        .unwrap();
    assert_eq!(
        f.configs
            .delete_unless_connected(f.org, config, None, &audit())
            .unwrap(),
        ConfigDeletion::Deleted
    );
    assert_eq!(
        f.configs
            .delete_unless_connected(f.org, config, None, &audit())
            .unwrap(),
        ConfigDeletion::NotFound
    );
}

fn racing_assignments_leave_a_number_on_one_bridge(test_db: &TestDatabase) {
    let f = fixture(test_db);
    for round in 0..10 {
        let number = format!("+1415555{round:04}");
        let id = f.number(f.org, &number);
        let (left, right) = (format!("left-{round}"), format!("right-{round}"));
        f.bridge(&left, &[]).unwrap();
        // Half the rounds race two updates, half an update and a create.
        let racing_create = round % 2 == 1;
        if !racing_create {
            f.bridge(&right, &[]).unwrap();
        }
        let barrier = Arc::new(Barrier::new(2));
        let spawn = |slug: String, create: bool| {
            let repo = Arc::clone(&f.repo);
            let barrier = Arc::clone(&barrier);
            let org = f.org;
            std::thread::spawn(move || {
                barrier.wait();
                if create {
                    repo.insert_bridge(&NewBridge {
                        org_id: org,
                        name: slug.clone(),
                        slug: BridgeSlug::parse(&slug).unwrap(),
                        description: None,
                        status: BridgeStatus::Active,
                        region: None,
                        number_ids: vec![id],
                        created_at: now(),
                    })
                    .map(|_| ())
                } else {
                    repo.update_bridge(org, &slug, &numbers_only(vec![id]))
                        .map(|_| ())
                }
            })
        };
        let first = spawn(left.clone(), false);
        let second = spawn(right.clone(), racing_create);
        let results = [first.join().unwrap(), second.join().unwrap()];
        let wins = results.iter().filter(|r| r.is_ok()).count();
        let refused = results
            .iter()
            .filter(|r| {
                matches!(
                    r,
                    Err(BridgeWriteError::Numbers(NumberConflict::OnAnotherBridge))
                )
            })
            .count();
        assert_eq!((wins, refused), (1, 1), "round {round}: {results:?}");
        let holder = f.state_of(&number).unwrap();
        let on_left = f.numbers_on(&left).len();
        let on_right = f
            .repo
            .get_bridge(f.org, &right)
            .unwrap()
            .map_or(0, |d| d.numbers.len());
        assert_eq!(on_left + on_right, 1, "round {round}");
        assert!(holder == left || holder == right);
        if racing_create && results[1].is_err() {
            assert!(f.repo.get_bridge(f.org, &right).unwrap().is_none());
        }
    }
}

fn racing_connects_and_deletes_leave_no_dangling_connection(test_db: &TestDatabase) {
    let f = fixture(test_db);
    let a = f.number(f.org, "+14155550100");
    f.bridge("main", &[a]).unwrap();
    for round in 0..10 {
        let config = f.config(f.org, 100 + round);
        let barrier = Arc::new(Barrier::new(2));
        let connect = {
            let repo = Arc::clone(&f.repo);
            let barrier = Arc::clone(&barrier);
            let org = f.org;
            std::thread::spawn(move || {
                barrier.wait();
                repo.connect_provider(org, "main", &e164("+14155550100"), config, &audit())
                    .map(|_| ())
            })
        };
        let delete = {
            let configs = Arc::clone(&f.configs);
            let barrier = Arc::clone(&barrier);
            let org = f.org;
            std::thread::spawn(move || {
                barrier.wait();
                configs.delete_unless_connected(org, config, None, &audit())
            })
        };
        let connected = connect.join().unwrap();
        let deleted = delete.join().unwrap().unwrap();
        match (&connected, &deleted) {
            (Ok(()), ConfigDeletion::InUse(connections)) => {
                assert_eq!(connections.len(), 1);
                assert_eq!(f.numbers_on("main")[0].1, Some(config));
                f.repo
                    .disconnect_provider(f.org, "main", &e164("+14155550100"), &audit())
                    .unwrap();
            }
            (Err(ConnectionError::ConfigNotFound), ConfigDeletion::Deleted) => {
                assert_eq!(f.numbers_on("main")[0].1, None);
            }
            other => panic!("round {round}: unexpected outcome {other:?}"),
        }
    }
}

fn bridges_list_newest_first_with_totals(test_db: &TestDatabase) {
    let f = fixture(test_db);
    for slug in ["b1", "b2", "b3"] {
        f.bridge(slug, &[]).unwrap();
    }
    let page = f
        .repo
        .list_bridges(
            f.org,
            PageRequest {
                page: 1,
                page_size: 2,
            },
        )
        .unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(
        page.items
            .iter()
            .map(|b| b.slug.as_str())
            .collect::<Vec<_>>(),
        ["b3", "b2"]
    );
    let last = f
        .repo
        .list_bridges(
            f.org,
            PageRequest {
                page: 2,
                page_size: 2,
            },
        )
        .unwrap();
    assert_eq!((last.total, last.items.len()), (3, 1));
    let other = f
        .repo
        .list_bridges(f.other, PageRequest::default())
        .unwrap();
    assert_eq!((other.total, other.items.len()), (0, 0));
}

/// An audit entry for the repository writes these tests make.
fn audit() -> AuditEntry {
    AuditEntry::new(
        AuditActor::default(),
        AuditAction::Updated,
        AuditChanges::new(),
        now(),
    )
}
