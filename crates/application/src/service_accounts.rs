//! Service accounts (contract section 11): created, listed and deleted by owners and
//! admins of an organization, with tokens shown once and revoked one by one or all
//! together when the account is deleted. A service account never logs in.
//!
//! Scopes of a service account's token: each must be one the account's role could
//! use, and none beyond what the creating token holds, except `credentials:reveal`,
//! which owners and admins may grant from an unnarrowed token of theirs (one that
//! holds every other scope).

use std::sync::Arc;

use switchboard_domain::identity::ServiceAccountRequest;
use switchboard_domain::identity::{
    Email, Grants, NewServiceAccount, NewUser, Role, SERVICE_ACCOUNT_EMAIL_DOMAIN, Scope, ScopeSet,
    ServiceAccount, ServiceAccountId, ServiceAccountRepository, TokenId, TokenRecord,
    service_account_role,
};
use switchboard_domain::shared::RepositoryError;
use switchboard_domain::validation;

use crate::identity::{Actor, IdentityService, IssueTokenError, IssuedToken};

/// Why a service account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateServiceAccountError {
    #[error("name must be 1 to 100 characters without control characters")]
    InvalidName,
    /// `owner` is not a role a service account may hold.
    #[error("a service account's role is admin, member or viewer")]
    InvalidRole,
    /// Only owners and admins manage service accounts.
    #[error("permission denied")]
    PermissionDenied,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why service accounts could not be listed, or one deleted.
#[derive(Debug, thiserror::Error)]
pub enum ServiceAccountError {
    #[error("permission denied")]
    PermissionDenied,
    /// No live service account (or token) with this id in the organization.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a service account's token could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueServiceTokenError {
    #[error("permission denied")]
    PermissionDenied,
    #[error("not found")]
    NotFound,
    /// A scope the account's role could not use, or one the creating token lacks.
    #[error("the caller may not grant one of the scopes asked for")]
    ScopeNotAllowed,
    #[error(transparent)]
    Issue(#[from] IssueTokenError),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// A service account with its live tokens (never their secrets).
#[derive(Debug, Clone)]
pub struct ServiceAccountView {
    pub account: ServiceAccount,
    pub tokens: Vec<TokenRecord>,
}

/// Service-account use cases.
pub struct ServiceAccountService {
    repository: Arc<dyn ServiceAccountRepository>,
    identity: Arc<IdentityService>,
}

impl std::fmt::Debug for ServiceAccountService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountService")
            .finish_non_exhaustive()
    }
}

fn ensure_manager(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin)
}

impl ServiceAccountService {
    /// Wires the service to its port; tokens are issued through `identity`.
    #[must_use]
    pub fn new(
        repository: Arc<dyn ServiceAccountRepository>,
        identity: Arc<IdentityService>,
    ) -> Self {
        Self {
            repository,
            identity,
        }
    }

    /// Creates a service account in the actor's organization.
    ///
    /// # Errors
    /// [`CreateServiceAccountError`].
    pub fn create(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
    ) -> Result<ServiceAccount, CreateServiceAccountError> {
        if let Err(errors) = validation::validate(&ServiceAccountRequest {
            name,
            role: role.as_str(),
        }) {
            return Err(if errors.has("name") {
                CreateServiceAccountError::InvalidName
            } else {
                CreateServiceAccountError::InvalidRole
            });
        }
        let trimmed = name.trim();
        if !ensure_manager(actor.role) {
            return Err(CreateServiceAccountError::PermissionDenied);
        }
        self.create_in(actor.org_id, trimmed, role)
    }

    /// Creates a service account in `org` (the operator's command).
    ///
    /// # Errors
    /// [`CreateServiceAccountError`].
    pub fn create_in(
        &self,
        org: switchboard_domain::identity::OrgId,
        name: &str,
        role: Role,
    ) -> Result<ServiceAccount, CreateServiceAccountError> {
        if !service_account_role(role) {
            return Err(CreateServiceAccountError::InvalidRole);
        }
        let local = uuid_like(&self.identity);
        let email = Email::parse(&format!("sa-{local}@{SERVICE_ACCOUNT_EMAIL_DOMAIN}"))
            .map_err(|_| RepositoryError::Internal("service account email is invalid".into()))?;
        let account = NewServiceAccount {
            user: NewUser {
                email,
                password_hash: IdentityService::no_password(),
                created_at: self.identity.now(),
            },
            org_id: org,
            name: name.trim().to_owned(),
            role,
        };
        Ok(self.repository.insert_service_account(&account)?)
    }

    /// The actor's organization's service accounts, each with its live tokens.
    ///
    /// # Errors
    /// [`ServiceAccountError`].
    pub fn list(&self, actor: &Actor) -> Result<Vec<ServiceAccountView>, ServiceAccountError> {
        if !ensure_manager(actor.role) {
            return Err(ServiceAccountError::PermissionDenied);
        }
        self.list_in(actor.org_id)
    }

    /// The service accounts of `org`, each with its live tokens.
    ///
    /// # Errors
    /// [`ServiceAccountError`].
    pub fn list_in(
        &self,
        org: switchboard_domain::identity::OrgId,
    ) -> Result<Vec<ServiceAccountView>, ServiceAccountError> {
        let now = self.identity.now();
        self.repository
            .service_accounts_of(org)?
            .into_iter()
            .map(|account| {
                let tokens = self
                    .identity
                    .tokens_of_user(account.user_id)?
                    .into_iter()
                    .filter(|token| {
                        token.revoked_at.is_none()
                            && token.expires_at.is_none_or(|expires| expires > now)
                    })
                    .collect();
                Ok(ServiceAccountView { account, tokens })
            })
            .collect()
    }

    /// Deletes a service account: its tokens stop working at once.
    ///
    /// # Errors
    /// [`ServiceAccountError`].
    pub fn delete(&self, actor: &Actor, id: ServiceAccountId) -> Result<(), ServiceAccountError> {
        if !ensure_manager(actor.role) {
            return Err(ServiceAccountError::PermissionDenied);
        }
        self.delete_in(actor.org_id, id)
    }

    /// Deletes the service account `id` of `org`.
    ///
    /// # Errors
    /// [`ServiceAccountError::NotFound`].
    pub fn delete_in(
        &self,
        org: switchboard_domain::identity::OrgId,
        id: ServiceAccountId,
    ) -> Result<(), ServiceAccountError> {
        if self
            .repository
            .delete_service_account(org, id, self.identity.now())?
        {
            Ok(())
        } else {
            Err(ServiceAccountError::NotFound)
        }
    }

    /// Issues a token to service account `id` with `scopes`, on behalf of `actor`
    /// holding `grants`.
    ///
    /// # Errors
    /// [`IssueServiceTokenError`].
    pub fn issue_token(
        &self,
        actor: &Actor,
        grants: Grants,
        id: ServiceAccountId,
        name: &str,
        scopes: ScopeSet,
        expires_in_days: Option<u32>,
    ) -> Result<IssuedToken, IssueServiceTokenError> {
        if !ensure_manager(actor.role) {
            return Err(IssueServiceTokenError::PermissionDenied);
        }
        let account = self
            .repository
            .service_account(actor.org_id, id)?
            .ok_or(IssueServiceTokenError::NotFound)?;
        let unnarrowed = ScopeSet::legacy().is_subset_of(grants.scopes);
        let grantable = scopes.iter().all(|scope| {
            grants.scopes.contains(scope) || (scope == Scope::CredentialsReveal && unnarrowed)
        });
        if !grantable {
            return Err(IssueServiceTokenError::ScopeNotAllowed);
        }
        self.issue_checked(&account, name, scopes, expires_in_days)
    }

    /// Issues a token to service account `id` of `org` (the operator's command: any
    /// scope the account's role could use).
    ///
    /// # Errors
    /// [`IssueServiceTokenError`].
    pub fn issue_token_in(
        &self,
        org: switchboard_domain::identity::OrgId,
        id: ServiceAccountId,
        name: &str,
        scopes: ScopeSet,
        expires_in_days: Option<u32>,
    ) -> Result<IssuedToken, IssueServiceTokenError> {
        let account = self
            .repository
            .service_account(org, id)?
            .ok_or(IssueServiceTokenError::NotFound)?;
        self.issue_checked(&account, name, scopes, expires_in_days)
    }

    fn issue_checked(
        &self,
        account: &ServiceAccount,
        name: &str,
        scopes: ScopeSet,
        expires_in_days: Option<u32>,
    ) -> Result<IssuedToken, IssueServiceTokenError> {
        if !scopes.is_subset_of(account.role.usable_scopes(true)) {
            return Err(IssueServiceTokenError::ScopeNotAllowed);
        }
        Ok(self
            .identity
            .issue_service_token(account.user_id, name, expires_in_days, scopes)?)
    }

    /// Revokes one token of service account `id`.
    ///
    /// # Errors
    /// [`ServiceAccountError`].
    pub fn revoke_token(
        &self,
        actor: &Actor,
        id: ServiceAccountId,
        token: TokenId,
    ) -> Result<(), ServiceAccountError> {
        if !ensure_manager(actor.role) {
            return Err(ServiceAccountError::PermissionDenied);
        }
        if self.repository.revoke_service_account_token(
            actor.org_id,
            id,
            token,
            self.identity.now(),
        )? {
            Ok(())
        } else {
            Err(ServiceAccountError::NotFound)
        }
    }
}

/// A unique local part for a service account's email: a fresh token's random part
/// (the generator is the service's cryptographically secure one), lowercased.
fn uuid_like(identity: &IdentityService) -> String {
    identity.random_name()
}
