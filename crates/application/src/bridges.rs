//! Bridge and number use cases (the second module of the telephony context): an
//! organization's phone numbers, its bridges, and the connections of its provider
//! configurations to bridge numbers.
//!
//! Each operation checks, in the contract's order: field shapes, role, existence,
//! the references the body makes (numbers, configurations: 400), conflicts (409).
//! Whether a number is free or a configuration usable is decided by the repository
//! inside the transaction that makes the change, never by a read before it.

use std::collections::BTreeSet;
use std::sync::Arc;

use switchboard_domain::audit::{AuditActor, AuditEntry};
use switchboard_domain::identity::Role;
use switchboard_domain::shared::{
    Clock, Page, PageRequest, RepositoryError, ValidationErrors, WriteError,
};
use switchboard_domain::telephony::{
    Bridge, BridgeChanges, BridgeDetail, BridgeDraft, BridgeRepository, BridgeSlug, BridgeUpdate,
    BridgeWriteError, ConnectProvider, ConnectionDraft, ConnectionError, CreateBridge,
    DisconnectProvider, E164, NewBridge, NewPhoneNumber, NumberConflict, NumberDeletion,
    NumberFilter, NumberRequest, PhoneNumber, PhoneNumberId,
};
use switchboard_domain::validation;

use crate::Actor;

/// How often a generated slug is retried when a concurrent create took it.
const SLUG_ATTEMPTS: usize = 5;

const NUMBER_IDS: &str = "number_ids";
const UNKNOWN_NUMBER: &str = "must hold only ids of this organization's numbers";
const NUMBER_ON_ANOTHER_BRIDGE: &str =
    "holds a number that is on another bridge; remove it from that bridge first";

/// Why numbers could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListNumbersError {
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a number could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddNumberError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("the organization already has this number")]
    Duplicate,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a number could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteNumberError {
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("no such number in this organization")]
    NotFound,
    #[error("the number is on a bridge")]
    Assigned,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a bridge could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateBridgeError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("the organization already has a bridge with this slug")]
    DuplicateSlug,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why bridges could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListBridgesError {
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a bridge could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GetBridgeError {
    #[error("no such bridge in this organization")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a bridge could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateBridgeError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("no such bridge in this organization")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a bridge could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteBridgeError {
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("no such bridge in this organization")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a configuration could not be connected to, or disconnected from, a number.
#[derive(Debug, thiserror::Error)]
pub enum ConnectProviderError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("the caller's role may not write")]
    PermissionDenied,
    #[error("no such bridge in this organization")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Number list query.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListNumbersQuery {
    pub filter: NumberFilter,
    pub page: PageRequest,
}

/// Bridge and number use cases.
pub struct BridgeService {
    repository: Arc<dyn BridgeRepository>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for BridgeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeService").finish_non_exhaustive()
    }
}

impl BridgeService {
    /// Wires the service.
    #[must_use]
    pub fn new(repository: Arc<dyn BridgeRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { repository, clock }
    }

    /// One page of the organization's numbers, newest first.
    ///
    /// # Errors
    /// [`ListNumbersError`].
    pub fn list_numbers(
        &self,
        actor: &Actor,
        query: ListNumbersQuery,
    ) -> Result<Page<PhoneNumber>, ListNumbersError> {
        Ok(self
            .repository
            .list_numbers(actor.org_id, query.filter, query.page)?)
    }

    /// Adds a number to the organization (on no bridge).
    ///
    /// # Errors
    /// [`AddNumberError`]; `Validation` unless `number` is strict E.164.
    pub fn add_number(
        &self,
        actor: &Actor,
        number: Option<&str>,
    ) -> Result<PhoneNumber, AddNumberError> {
        let Some(number) = number else {
            return Err(AddNumberError::Validation(ValidationErrors::single(
                "number",
                "This field is required.",
            )));
        };
        validation::validate(&NumberRequest { number }).map_err(AddNumberError::Validation)?;
        let number = E164::parse(number).map_err(|error| {
            AddNumberError::Validation(ValidationErrors::single("number", error.to_string()))
        })?;
        ensure_writer(actor.role).map_err(|()| AddNumberError::PermissionDenied)?;
        let new = NewPhoneNumber {
            org_id: actor.org_id,
            number,
            active: true,
            created_at: self.clock.now(),
        };
        self.repository
            .insert_number(&new)
            .map_err(|error| match error {
                WriteError::Duplicate => AddNumberError::Duplicate,
                WriteError::Repository(error) => AddNumberError::Repository(error),
            })
    }

    /// Deletes a number that is on no bridge.
    ///
    /// # Errors
    /// [`DeleteNumberError`].
    pub fn delete_number(&self, actor: &Actor, id: PhoneNumberId) -> Result<(), DeleteNumberError> {
        ensure_writer(actor.role).map_err(|()| DeleteNumberError::PermissionDenied)?;
        match self.repository.delete_number(actor.org_id, id)? {
            NumberDeletion::Deleted => Ok(()),
            NumberDeletion::NotFound => Err(DeleteNumberError::NotFound),
            NumberDeletion::Assigned => Err(DeleteNumberError::Assigned),
        }
    }

    /// Creates a bridge with its numbers. Without a slug, one is generated from the
    /// name and made unique within the organization (`name`, `name-2`, ...); a slug
    /// that was sent and exists is a conflict.
    ///
    /// # Errors
    /// [`CreateBridgeError`].
    pub fn create_bridge(
        &self,
        actor: &Actor,
        draft: BridgeDraft,
    ) -> Result<BridgeDetail, CreateBridgeError> {
        let create = CreateBridge::validate(draft).map_err(CreateBridgeError::Validation)?;
        ensure_writer(actor.role).map_err(|()| CreateBridgeError::PermissionDenied)?;
        let base = create.slug_base();
        let generated = create.slug.is_none();
        let created_at = self.clock.now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let slug = if generated {
                let taken: BTreeSet<String> = self
                    .repository
                    .slugs_like(actor.org_id, &base)?
                    .into_iter()
                    .collect();
                BridgeSlug::first_free(&base, &taken)
            } else {
                base.clone()
            };
            let new = NewBridge {
                org_id: actor.org_id,
                name: create.name.clone(),
                slug,
                description: create.description.clone(),
                status: create.status,
                region: create.region,
                number_ids: create.number_ids.clone(),
                created_at,
            };
            match self.repository.insert_bridge(&new) {
                Ok(detail) => return Ok(detail),
                // Another create took the generated slug between the read and the
                // insert: read again and take the next one.
                Err(BridgeWriteError::DuplicateSlug) if generated && attempt < SLUG_ATTEMPTS => {}
                Err(BridgeWriteError::DuplicateSlug) => {
                    return Err(CreateBridgeError::DuplicateSlug);
                }
                Err(BridgeWriteError::Numbers(conflict)) => {
                    return Err(CreateBridgeError::Validation(number_errors(conflict)));
                }
                Err(BridgeWriteError::Repository(error)) => {
                    return Err(CreateBridgeError::Repository(error));
                }
            }
        }
    }

    /// One page of the organization's bridges, newest first.
    ///
    /// # Errors
    /// [`ListBridgesError`].
    pub fn list_bridges(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<Bridge>, ListBridgesError> {
        Ok(self.repository.list_bridges(actor.org_id, page)?)
    }

    /// The bridge `slug` with its numbers.
    ///
    /// # Errors
    /// [`GetBridgeError::NotFound`] also for another organization's slug.
    pub fn get_bridge(&self, actor: &Actor, slug: &str) -> Result<BridgeDetail, GetBridgeError> {
        let slug = possible_slug(slug).ok_or(GetBridgeError::NotFound)?;
        self.repository
            .get_bridge(actor.org_id, slug.as_str())?
            .ok_or(GetBridgeError::NotFound)
    }

    /// Changes a bridge; `number_ids` replaces its set of numbers in one transaction.
    ///
    /// # Errors
    /// [`UpdateBridgeError`]; `Validation` under `number_ids` when a number is not the
    /// organization's or is on another bridge (then nothing changes).
    pub fn update_bridge(
        &self,
        actor: &Actor,
        slug: &str,
        draft: BridgeDraft,
    ) -> Result<BridgeDetail, UpdateBridgeError> {
        let changes = BridgeChanges::validate(draft).map_err(UpdateBridgeError::Validation)?;
        ensure_writer(actor.role).map_err(|()| UpdateBridgeError::PermissionDenied)?;
        let update = BridgeUpdate {
            name: changes.name,
            description: changes.description,
            status: changes.status,
            region: changes.region,
            number_ids: changes.number_ids,
            updated_at: self.clock.now(),
        };
        let slug = possible_slug(slug).ok_or(UpdateBridgeError::NotFound)?;
        match self
            .repository
            .update_bridge(actor.org_id, slug.as_str(), &update)
        {
            Ok(Some(detail)) => Ok(detail),
            Ok(None) => Err(UpdateBridgeError::NotFound),
            Err(BridgeWriteError::Numbers(conflict)) => {
                Err(UpdateBridgeError::Validation(number_errors(conflict)))
            }
            Err(BridgeWriteError::DuplicateSlug) => Err(UpdateBridgeError::Repository(
                RepositoryError::Internal("a bridge update reported a duplicate slug".into()),
            )),
            Err(BridgeWriteError::Repository(error)) => Err(UpdateBridgeError::Repository(error)),
        }
    }

    /// Deletes a bridge; its numbers return to no bridge.
    ///
    /// # Errors
    /// [`DeleteBridgeError`].
    pub fn delete_bridge(&self, actor: &Actor, slug: &str) -> Result<(), DeleteBridgeError> {
        ensure_writer(actor.role).map_err(|()| DeleteBridgeError::PermissionDenied)?;
        let slug = possible_slug(slug).ok_or(DeleteBridgeError::NotFound)?;
        if self
            .repository
            .delete_bridge(actor.org_id, slug.as_str(), self.clock.now())?
        {
            Ok(())
        } else {
            Err(DeleteBridgeError::NotFound)
        }
    }

    /// Connects an active configuration of the organization to a number of the
    /// bridge.
    ///
    /// # Errors
    /// [`ConnectProviderError`]: `NotFound` for the bridge, `Validation` for the body's
    /// references (configuration unknown or inactive, number not on this bridge).
    ///
    /// The connection is recorded in the configuration's audit history, in the same
    /// transaction, with `request_id`.
    pub fn connect_provider(
        &self,
        actor: &Actor,
        slug: &str,
        draft: ConnectionDraft,
        request_id: Option<&str>,
    ) -> Result<BridgeDetail, ConnectProviderError> {
        let connect = ConnectProvider::validate(draft).map_err(ConnectProviderError::Validation)?;
        ensure_writer(actor.role).map_err(|()| ConnectProviderError::PermissionDenied)?;
        let slug = possible_slug(slug).ok_or(ConnectProviderError::NotFound)?;
        self.repository
            .connect_provider(
                actor.org_id,
                slug.as_str(),
                &connect.phone_number,
                connect.provider_config_id,
                &AuditEntry::connected(
                    audit_actor(actor, request_id),
                    slug.as_str(),
                    connect.phone_number.as_str(),
                    self.clock.now(),
                ),
            )
            .map_err(connection_error)
    }

    /// Removes the connection of a number of the bridge.
    ///
    /// # Errors
    /// [`ConnectProviderError`]: `Validation` also when nothing is connected.
    ///
    /// The disconnection is recorded in the configuration's audit history, in the
    /// same transaction, with `request_id`.
    pub fn disconnect_provider(
        &self,
        actor: &Actor,
        slug: &str,
        draft: ConnectionDraft,
        request_id: Option<&str>,
    ) -> Result<BridgeDetail, ConnectProviderError> {
        let disconnect =
            DisconnectProvider::validate(draft).map_err(ConnectProviderError::Validation)?;
        ensure_writer(actor.role).map_err(|()| ConnectProviderError::PermissionDenied)?;
        let slug = possible_slug(slug).ok_or(ConnectProviderError::NotFound)?;
        self.repository
            .disconnect_provider(
                actor.org_id,
                slug.as_str(),
                &disconnect.phone_number,
                &AuditEntry::disconnected(
                    audit_actor(actor, request_id),
                    slug.as_str(),
                    disconnect.phone_number.as_str(),
                    self.clock.now(),
                ),
            )
            .map_err(connection_error)
    }
}

/// The slug a path names, when it could name a bridge at all. Every stored slug
/// follows [`BridgeSlug`]'s rules, so any other text (a NUL byte, which PostgreSQL
/// refuses in a query with an error, uppercase, 5,000 characters) names no bridge:
/// such requests are answered as not found without asking the database.
fn possible_slug(text: &str) -> Option<BridgeSlug> {
    BridgeSlug::parse(text).ok()
}

fn audit_actor(actor: &Actor, request_id: Option<&str>) -> AuditActor {
    AuditActor {
        user_id: Some(actor.user_id),
        token_id: Some(actor.token_id),
        request_id: request_id.map(str::to_owned),
    }
}

fn number_errors(conflict: NumberConflict) -> ValidationErrors {
    ValidationErrors::single(
        NUMBER_IDS,
        match conflict {
            NumberConflict::Unknown => UNKNOWN_NUMBER,
            NumberConflict::OnAnotherBridge => NUMBER_ON_ANOTHER_BRIDGE,
        },
    )
}

fn connection_error(error: ConnectionError) -> ConnectProviderError {
    let invalid = |field: &str, message: &str| {
        ConnectProviderError::Validation(ValidationErrors::single(field, message))
    };
    match error {
        ConnectionError::BridgeNotFound => ConnectProviderError::NotFound,
        ConnectionError::NumberNotOnBridge => {
            invalid("phone_number", "must be a number on this bridge")
        }
        ConnectionError::ConfigNotFound => invalid(
            "provider_config_id",
            "must be the id of a provider configuration of this organization",
        ),
        ConnectionError::ConfigInactive => invalid(
            "provider_config_id",
            "names an inactive provider configuration; activate it first",
        ),
        ConnectionError::NotConnected => invalid(
            "phone_number",
            "has no provider configuration connected on this bridge",
        ),
        ConnectionError::Repository(error) => ConnectProviderError::Repository(error),
    }
}

fn ensure_writer(role: Role) -> Result<(), ()> {
    if role.can_write() { Ok(()) } else { Err(()) }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use switchboard_domain::identity::{DomainHandle, OrgId, TokenId, UserId};
    use switchboard_domain::shared::SystemClock;
    use switchboard_domain::telephony::{BridgeId, ProviderConfigId};

    use super::*;

    /// An in-memory repository that records calls and can be told to lose the
    /// first slug races.
    #[derive(Default)]
    struct FakeRepository {
        slugs: Mutex<Vec<String>>,
        /// Slugs "taken by a concurrent create" the first time they are inserted.
        stolen: Mutex<Vec<String>>,
        calls: Mutex<Vec<&'static str>>,
    }

    impl FakeRepository {
        fn record(&self, call: &'static str) {
            if let Ok(mut calls) = self.calls.lock() {
                calls.push(call);
            }
        }

        fn calls(&self) -> Vec<&'static str> {
            self.calls.lock().map(|c| c.clone()).unwrap_or_default()
        }
    }

    fn detail(bridge: &NewBridge) -> BridgeDetail {
        BridgeDetail {
            bridge: Bridge {
                id: BridgeId(1),
                org_id: bridge.org_id,
                name: bridge.name.clone(),
                slug: bridge.slug.as_str().to_owned(),
                description: bridge.description.clone(),
                status: bridge.status,
                region: bridge.region,
                created_at: bridge.created_at,
                updated_at: bridge.created_at,
            },
            numbers: Vec::new(),
        }
    }

    impl BridgeRepository for FakeRepository {
        fn list_numbers(
            &self,
            _: OrgId,
            _: NumberFilter,
            _: PageRequest,
        ) -> Result<Page<PhoneNumber>, RepositoryError> {
            self.record("list_numbers");
            Ok(Page {
                items: Vec::new(),
                total: 0,
            })
        }

        fn insert_number(&self, _: &NewPhoneNumber) -> Result<PhoneNumber, WriteError> {
            self.record("insert_number");
            Err(WriteError::Duplicate)
        }

        fn delete_number(
            &self,
            _: OrgId,
            id: PhoneNumberId,
        ) -> Result<NumberDeletion, RepositoryError> {
            self.record("delete_number");
            Ok(if id.0 == 1 {
                NumberDeletion::Assigned
            } else {
                NumberDeletion::NotFound
            })
        }

        fn slugs_like(&self, _: OrgId, _: &BridgeSlug) -> Result<Vec<String>, RepositoryError> {
            self.record("slugs_like");
            Ok(self.slugs.lock().map(|s| s.clone()).unwrap_or_default())
        }

        fn insert_bridge(&self, bridge: &NewBridge) -> Result<BridgeDetail, BridgeWriteError> {
            self.record("insert_bridge");
            let slug = bridge.slug.as_str().to_owned();
            let mut slugs = self
                .slugs
                .lock()
                .map_err(|_| RepositoryError::Internal("poisoned".into()))?;
            let mut stolen = self
                .stolen
                .lock()
                .map_err(|_| RepositoryError::Internal("poisoned".into()))?;
            if let Some(position) = stolen.iter().position(|s| *s == slug) {
                stolen.remove(position);
                slugs.push(slug);
                return Err(BridgeWriteError::DuplicateSlug);
            }
            if slugs.contains(&slug) {
                return Err(BridgeWriteError::DuplicateSlug);
            }
            if bridge.number_ids.contains(&PhoneNumberId(99)) {
                return Err(BridgeWriteError::Numbers(NumberConflict::OnAnotherBridge));
            }
            slugs.push(slug);
            Ok(detail(bridge))
        }

        fn list_bridges(&self, _: OrgId, _: PageRequest) -> Result<Page<Bridge>, RepositoryError> {
            self.record("list_bridges");
            Ok(Page {
                items: Vec::new(),
                total: 0,
            })
        }

        fn get_bridge(&self, _: OrgId, _: &str) -> Result<Option<BridgeDetail>, RepositoryError> {
            self.record("get_bridge");
            Ok(None)
        }

        fn update_bridge(
            &self,
            _: OrgId,
            _: &str,
            _: &BridgeUpdate,
        ) -> Result<Option<BridgeDetail>, BridgeWriteError> {
            self.record("update_bridge");
            Ok(None)
        }

        fn delete_bridge(
            &self,
            _: OrgId,
            _: &str,
            _: switchboard_domain::shared::Timestamp,
        ) -> Result<bool, RepositoryError> {
            self.record("delete_bridge");
            Ok(false)
        }

        fn connect_provider(
            &self,
            _: OrgId,
            _: &str,
            _: &E164,
            config: ProviderConfigId,
            _: &AuditEntry,
        ) -> Result<BridgeDetail, ConnectionError> {
            self.record("connect_provider");
            Err(if config.0 == 1 {
                ConnectionError::ConfigInactive
            } else {
                ConnectionError::BridgeNotFound
            })
        }

        fn disconnect_provider(
            &self,
            _: OrgId,
            _: &str,
            _: &E164,
            _: &AuditEntry,
        ) -> Result<BridgeDetail, ConnectionError> {
            self.record("disconnect_provider");
            Err(ConnectionError::NotConnected)
        }
    }

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: UserId(1),
            token_id: TokenId(1),
            org_id: OrgId(1),
            org_handle: DomainHandle::parse("acme").expect("valid handle"),
            role,
        }
    }

    fn service(repository: &Arc<FakeRepository>) -> BridgeService {
        BridgeService::new(repository.clone(), Arc::new(SystemClock))
    }

    fn named(name: &str) -> BridgeDraft {
        BridgeDraft {
            name: Some(name.into()),
            ..BridgeDraft::default()
        }
    }

    #[test]
    fn generated_slugs_follow_the_series_and_survive_races() {
        let repository = Arc::new(FakeRepository::default());
        let service = service(&repository);
        let owner = actor(Role::Owner);
        let first = service.create_bridge(&owner, named("My Bridge"));
        assert_eq!(
            first.map(|d| d.bridge.slug).ok().as_deref(),
            Some("my-bridge")
        );
        let second = service.create_bridge(&owner, named("My  bridge!"));
        assert_eq!(
            second.map(|d| d.bridge.slug).ok().as_deref(),
            Some("my-bridge-2")
        );
        // A concurrent create takes my-bridge-3 first: the next one is taken.
        if let Ok(mut stolen) = repository.stolen.lock() {
            stolen.push("my-bridge-3".into());
        }
        let third = service.create_bridge(&owner, named("my bridge"));
        assert_eq!(
            third.map(|d| d.bridge.slug).ok().as_deref(),
            Some("my-bridge-4")
        );
    }

    #[test]
    fn a_sent_slug_that_exists_is_a_conflict() {
        let repository = Arc::new(FakeRepository::default());
        let service = service(&repository);
        let owner = actor(Role::Owner);
        let draft = BridgeDraft {
            slug: Some("main".into()),
            ..named("Main")
        };
        assert!(service.create_bridge(&owner, draft.clone()).is_ok());
        assert!(matches!(
            service.create_bridge(&owner, draft),
            Err(CreateBridgeError::DuplicateSlug)
        ));
    }

    #[test]
    fn numbers_on_another_bridge_are_a_validation_error() {
        let repository = Arc::new(FakeRepository::default());
        let service = service(&repository);
        let draft = BridgeDraft {
            number_ids: Some(vec![99]),
            ..named("Main")
        };
        match service.create_bridge(&actor(Role::Member), draft) {
            Err(CreateBridgeError::Validation(errors)) => assert!(errors.has(NUMBER_IDS)),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn shapes_come_before_the_role_and_the_role_before_storage() {
        let repository = Arc::new(FakeRepository::default());
        let service = service(&repository);
        let viewer = actor(Role::Viewer);
        assert!(matches!(
            service.create_bridge(&viewer, BridgeDraft::default()),
            Err(CreateBridgeError::Validation(_))
        ));
        assert!(matches!(
            service.create_bridge(&viewer, named("x")),
            Err(CreateBridgeError::PermissionDenied)
        ));
        assert!(matches!(
            service.update_bridge(&viewer, "x", named("y")),
            Err(UpdateBridgeError::PermissionDenied)
        ));
        assert!(matches!(
            service.delete_bridge(&viewer, "x"),
            Err(DeleteBridgeError::PermissionDenied)
        ));
        assert!(matches!(
            service.add_number(&viewer, Some("+1 415")),
            Err(AddNumberError::Validation(_))
        ));
        assert!(matches!(
            service.add_number(&viewer, Some("+14155550100")),
            Err(AddNumberError::PermissionDenied)
        ));
        assert!(matches!(
            service.delete_number(&viewer, PhoneNumberId(1)),
            Err(DeleteNumberError::PermissionDenied)
        ));
        let connect = ConnectionDraft {
            provider_config_id: Some(1),
            phone_number: Some("+14155550100".into()),
        };
        assert!(matches!(
            service.connect_provider(&viewer, "x", connect.clone(), None),
            Err(ConnectProviderError::PermissionDenied)
        ));
        assert!(repository.calls().is_empty(), "{:?}", repository.calls());
        // Readers may read.
        assert!(
            service
                .list_numbers(&viewer, ListNumbersQuery::default())
                .is_ok()
        );
        assert!(
            service
                .list_bridges(&viewer, PageRequest::default())
                .is_ok()
        );
        assert!(matches!(
            service.get_bridge(&viewer, "x"),
            Err(GetBridgeError::NotFound)
        ));
    }

    #[test]
    fn a_slug_that_cannot_exist_never_reaches_the_repository() {
        let repository = Arc::new(FakeRepository::default());
        let service = service(&repository);
        let owner = actor(Role::Admin);
        let connect = ConnectionDraft {
            provider_config_id: Some(1),
            phone_number: Some("+14155550100".into()),
        };
        for slug in ["br\u{0}", "\u{0}", "Main", "a--b", "", &"a".repeat(64)] {
            assert!(matches!(
                service.get_bridge(&owner, slug),
                Err(GetBridgeError::NotFound)
            ));
            assert!(matches!(
                service.update_bridge(&owner, slug, named("y")),
                Err(UpdateBridgeError::NotFound)
            ));
            assert!(matches!(
                service.delete_bridge(&owner, slug),
                Err(DeleteBridgeError::NotFound)
            ));
            assert!(matches!(
                service.connect_provider(&owner, slug, connect.clone(), None),
                Err(ConnectProviderError::NotFound)
            ));
            let disconnect = ConnectionDraft {
                provider_config_id: None,
                phone_number: Some("+14155550100".into()),
            };
            assert!(matches!(
                service.disconnect_provider(&owner, slug, disconnect, None),
                Err(ConnectProviderError::NotFound)
            ));
        }
        assert!(repository.calls().is_empty(), "{:?}", repository.calls());
    }

    #[test]
    fn repository_outcomes_map_to_operation_errors() {
        let repository = Arc::new(FakeRepository::default());
        let service = service(&repository);
        let owner = actor(Role::Admin);
        assert!(matches!(
            service.add_number(&owner, Some("+14155550100")),
            Err(AddNumberError::Duplicate)
        ));
        assert!(matches!(
            service.delete_number(&owner, PhoneNumberId(1)),
            Err(DeleteNumberError::Assigned)
        ));
        assert!(matches!(
            service.delete_number(&owner, PhoneNumberId(2)),
            Err(DeleteNumberError::NotFound)
        ));
        assert!(matches!(
            service.update_bridge(&owner, "x", named("y")),
            Err(UpdateBridgeError::NotFound)
        ));
        let connect = |id| ConnectionDraft {
            provider_config_id: Some(id),
            phone_number: Some("+14155550100".into()),
        };
        match service.connect_provider(&owner, "x", connect(1), None) {
            Err(ConnectProviderError::Validation(errors)) => {
                assert!(errors.has("provider_config_id"));
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
        assert!(matches!(
            service.connect_provider(&owner, "x", connect(2), None),
            Err(ConnectProviderError::NotFound)
        ));
        let disconnect = ConnectionDraft {
            provider_config_id: None,
            phone_number: Some("+14155550100".into()),
        };
        match service.disconnect_provider(&owner, "x", disconnect, None) {
            Err(ConnectProviderError::Validation(errors)) => assert!(errors.has("phone_number")),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }
}
