//! Audit use cases: reading the trail of an organization (owners and admins only)
//! and the history of one configuration, and recording events for contexts that
//! have no transaction of their own to put them in.
//!
//! Writes of the telephony service record their events themselves, through the
//! configuration repository, in the transaction of the change.

use std::sync::Arc;

use switchboard_domain::audit::{
    AuditAction, AuditEntry, AuditEvent, AuditFilter, AuditRepository,
};
use switchboard_domain::identity::{OrgId, Role};
use switchboard_domain::shared::{Page, PageRequest, RepositoryError, Timestamp};
use switchboard_domain::telephony::{ProviderConfigId, ProviderConfigRepository};

use crate::Actor;

/// Which events to list: action, time range (inclusive), page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListAuditEventsQuery {
    pub action: Option<AuditAction>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub page: PageRequest,
}

/// Why the organization's trail could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListAuditEventsError {
    /// Only owners and admins read the organization-wide trail.
    #[error("the caller's role may not read the audit trail")]
    PermissionDenied,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a configuration's history could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderConfigHistoryError {
    /// No such configuration in this organization, and no event about one.
    #[error("no such configuration in this organization")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Audit trail use cases.
pub struct AuditService {
    events: Arc<dyn AuditRepository>,
    configs: Arc<dyn ProviderConfigRepository>,
}

impl std::fmt::Debug for AuditService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditService").finish_non_exhaustive()
    }
}

impl AuditService {
    /// Wires the service.
    #[must_use]
    pub fn new(
        events: Arc<dyn AuditRepository>,
        configs: Arc<dyn ProviderConfigRepository>,
    ) -> Self {
        Self { events, configs }
    }

    /// One page of the organization's events, newest first.
    ///
    /// # Errors
    /// [`ListAuditEventsError::PermissionDenied`] for members and viewers.
    pub fn list(
        &self,
        actor: &Actor,
        query: &ListAuditEventsQuery,
    ) -> Result<Page<AuditEvent>, ListAuditEventsError> {
        if !matches!(actor.role, Role::Owner | Role::Admin) {
            return Err(ListAuditEventsError::PermissionDenied);
        }
        let filter = AuditFilter {
            provider_config_id: None,
            action: query.action,
            from: query.from,
            to: query.to,
        };
        Ok(self.events.list(actor.org_id, &filter, query.page)?)
    }

    /// One page of the events of configuration `id`, newest first. Every member
    /// may read it (as they may read the configuration). The history of a deleted
    /// configuration stays readable.
    ///
    /// # Errors
    /// [`ProviderConfigHistoryError::NotFound`] when the organization has neither
    /// the configuration nor any event about it (another organization's id
    /// included).
    pub fn history(
        &self,
        actor: &Actor,
        id: ProviderConfigId,
        query: &ListAuditEventsQuery,
    ) -> Result<Page<AuditEvent>, ProviderConfigHistoryError> {
        let filter = AuditFilter {
            provider_config_id: Some(id),
            action: query.action,
            from: query.from,
            to: query.to,
        };
        let page = self.events.list(actor.org_id, &filter, query.page)?;
        if page.total > 0 {
            return Ok(page);
        }
        if self.configs.get(actor.org_id, id)?.is_some() {
            return Ok(page);
        }
        let any = AuditFilter {
            provider_config_id: Some(id),
            ..AuditFilter::default()
        };
        let unfiltered = self.events.list(
            actor.org_id,
            &any,
            PageRequest {
                page: 1,
                page_size: 1,
            },
        )?;
        if unfiltered.total > 0 {
            Ok(page)
        } else {
            Err(ProviderConfigHistoryError::NotFound)
        }
    }

    /// Records an event on its own, for a change that happens outside the
    /// configuration repository (the bridges context records `connected` and
    /// `disconnected` in its own transactions instead, when it can).
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn record(
        &self,
        org: OrgId,
        provider_config_id: Option<ProviderConfigId>,
        entry: &AuditEntry,
    ) -> Result<AuditEvent, RepositoryError> {
        self.events.record(org, provider_config_id, entry)
    }
}
