//! Identity use cases: resolving a request's token (and organization) to an actor,
//! listing the caller's organizations, and the administrative operations on
//! organizations, users, memberships and tokens.

mod console;

pub use console::{
    CONSOLE_LINK_NAME, CONSOLE_LINK_SESSION_NAME, CONSOLE_SESSION_NAME, ChangePasswordError,
    ConsoleSession, SessionPolicy,
};

use std::future::Future;
use std::sync::Arc;

use chrono::Duration;
use secrecy::SecretString;
use switchboard_domain::identity::{
    ApiToken, DomainHandle, DomainHandleError, Email, EmailError, Grants, IdentityRepository,
    Member, NewApiTokenRecord, NewUser, OrgId, Organization, OrganizationMembership,
    OutlivesParent, PasswordHasher, Principal, Role, Scope, ScopeSet, TokenGenerator, TokenHasher,
    TokenId, TokenInsert, TokenKind, TokenLimit, TokenRecord, UserId, UserSummary,
    minted_token_expiry,
};
use switchboard_domain::identity::{OrganizationRequest, TokenRequest, UserRequest};
use switchboard_domain::shared::{Clock, RepositoryError, Timestamp};
use switchboard_domain::validation;

/// A caller acting inside one organization.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub user_id: UserId,
    pub token_id: TokenId,
    pub org_id: OrgId,
    pub org_handle: DomainHandle,
    pub role: Role,
}

/// An authenticated caller, with no organization selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub token_id: TokenId,
}

/// A resolved request: the caller, and the caller's membership in the organization
/// the request named, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Authentication {
    pub caller: Caller,
    /// `None` when no organization was named, it does not exist, or the caller is
    /// not a member of it.
    pub actor: Option<Actor>,
    /// The token's scopes, and whether its user is a service account.
    pub grants: Grants,
}

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email or wrong password: one answer for both.
    #[error("invalid email or password")]
    InvalidCredentials,
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The user holds the most live tokens allowed and none of them is a login
    /// token that could make room.
    #[error("the user holds the most live tokens allowed")]
    TokenLimit,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a request's credentials were refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthenticateError {
    /// Malformed, unknown, revoked or expired token: one answer for all four.
    #[error("invalid token")]
    InvalidToken,
    /// The organization does not exist or the caller is not a member.
    #[error("organization not accessible to the caller")]
    ForbiddenOrganization,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why an organization could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateOrganizationError {
    #[error("organization name must be 1 to 100 characters without control characters")]
    InvalidName,
    #[error("handle {0}")]
    InvalidHandle(#[from] DomainHandleError),
    #[error("an organization with this handle already exists")]
    Duplicate,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("email {0}")]
    InvalidEmail(#[from] EmailError),
    #[error("password must be 8 to 1024 characters")]
    InvalidPassword,
    #[error("a user with this email already exists")]
    Duplicate,
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a membership could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddMemberError {
    #[error("no organization has this handle")]
    UnknownOrganization,
    #[error("no user has this email")]
    UnknownUser,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a token could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum IssueTokenError {
    #[error("no user has this email")]
    UnknownUser,
    #[error("token name must be 1 to 100 characters without control characters")]
    InvalidName,
    #[error("expiry must be 1 to 3650 days")]
    InvalidExpiry,
    /// The new token would outlive the token that asks for it.
    #[error(transparent)]
    OutlivesParent(#[from] OutlivesParent),
    /// The token that asks was revoked (or expired) meanwhile.
    #[error("the token making the request is no longer valid")]
    ParentGone,
    /// The user holds the most live tokens allowed.
    #[error("the user holds the most live tokens allowed")]
    TokenLimit,
    /// A scope the caller's role could not use, or one the creating token lacks.
    #[error("the caller may not grant one of the scopes asked for")]
    ScopeNotAllowed,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a user's tokens could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListTokensError {
    #[error("no user has this email")]
    UnknownUser,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why the members of an organization could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum ListMembersError {
    #[error("no organization has this handle")]
    UnknownOrganization,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why a token could not be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeTokenError {
    #[error("no live token has this id")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Why the development bootstrap failed.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Who a login names, found before its password is checked ([`IdentityService::login_candidate`]).
pub struct LoginCandidate {
    user: Option<UserId>,
    hash: Option<switchboard_domain::identity::PasswordHash>,
}

impl std::fmt::Debug for LoginCandidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginCandidate").finish_non_exhaustive()
    }
}

/// A freshly issued token: the secret (shown once) and its stored record.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub record: TokenRecord,
}

/// Handle of the organization the development bootstrap creates.
pub const BOOTSTRAP_ORG_HANDLE: &str = "default";
/// Email of the owner the development bootstrap creates.
pub const BOOTSTRAP_OWNER_EMAIL: &str = "owner@localhost";

/// A token's `last_used_at` is written at most this often, not on every request.
const LAST_USED_RESOLUTION_SECONDS: i64 = 60;
/// Name given to tokens issued by a login.
pub const LOGIN_TOKEN_NAME: &str = "login";

/// Identity use cases.
pub struct IdentityService {
    repository: Arc<dyn IdentityRepository>,
    token_hasher: Arc<dyn TokenHasher>,
    token_generator: Arc<dyn TokenGenerator>,
    password_hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    /// Hash checked for unknown emails, so that both login failures cost the same.
    dummy_password_hash: std::sync::OnceLock<Option<switchboard_domain::identity::PasswordHash>>,
}

impl std::fmt::Debug for IdentityService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityService").finish_non_exhaustive()
    }
}

impl IdentityService {
    /// Wires the service to its ports.
    #[must_use]
    pub fn new(
        repository: Arc<dyn IdentityRepository>,
        token_hasher: Arc<dyn TokenHasher>,
        token_generator: Arc<dyn TokenGenerator>,
        password_hasher: Arc<dyn PasswordHasher>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            repository,
            token_hasher,
            token_generator,
            password_hasher,
            clock,
            dummy_password_hash: std::sync::OnceLock::new(),
        }
    }

    /// Resolves a presented token and, when `org_handle` is given, the caller's
    /// membership in that organization: one database query. Records the token's last
    /// use at most once a minute.
    ///
    /// # Errors
    /// [`AuthenticateError::InvalidToken`] or a repository failure; a missing
    /// membership is not an error here (`actor` is `None`) so that the caller can
    /// apply its own order of checks.
    pub fn resolve(
        &self,
        presented: &str,
        org_handle: Option<&str>,
    ) -> Result<Authentication, AuthenticateError> {
        let handle = org_handle.and_then(|text| DomainHandle::parse(text).ok());
        let principal = self.principal(presented, handle.as_ref())?;
        let caller = Caller {
            user_id: principal.user_id,
            token_id: principal.token_id,
        };
        let grants = Grants::of(principal.token_scopes, principal.service_account);
        let now = self.clock.now();
        let stale = principal
            .token_last_used_at
            .is_none_or(|last| (now - last).num_seconds() >= LAST_USED_RESOLUTION_SECONDS);
        if stale && let Err(error) = self.repository.touch_token(principal.token_id, now) {
            // Bookkeeping only: the request itself goes on.
            tracing::warn!(%error, "could not record the token's last use");
        }
        let actor = principal.membership.map(|membership| Actor {
            user_id: principal.user_id,
            token_id: principal.token_id,
            org_id: membership.org_id,
            org_handle: membership.handle,
            role: membership.role,
        });
        Ok(Authentication {
            caller,
            actor,
            grants,
        })
    }

    /// The first step of a login (blocking: one query): who `email` names, with the
    /// stored hash to check the password against. An unknown email gets the dummy
    /// hash, so that both failures cost the same and give the same answer.
    ///
    /// # Errors
    /// A repository failure.
    pub fn login_candidate(&self, email: &str) -> Result<LoginCandidate, LoginError> {
        let found = match Email::parse(email) {
            Ok(email) => self.repository.login_credentials(&email)?,
            Err(_) => None,
        };
        Ok(match found {
            Some((user, hash)) => LoginCandidate {
                user: Some(user),
                hash: Some(hash),
            },
            None => LoginCandidate {
                user: None,
                hash: self.dummy_hash().cloned(),
            },
        })
    }

    /// The second step: checks `password` on the password hasher, whose answer
    /// arrives as a future (Argon2id is slow on purpose; nothing blocks meanwhile).
    ///
    /// # Errors
    /// [`LoginError::InvalidCredentials`] for an unknown email or a wrong password;
    /// [`LoginError::Hashing`] when the hasher could not tell.
    pub fn check_password(
        &self,
        candidate: LoginCandidate,
        password: &SecretString,
    ) -> impl Future<Output = Result<UserId, LoginError>> + Send + 'static {
        let verdict = candidate
            .hash
            .as_ref()
            .map(|hash| self.password_hasher.verify_later(password, hash));
        let user = candidate.user;
        async move {
            let matched = match verdict {
                Some(verdict) => verdict.await.map_err(LoginError::Hashing)?,
                None => false,
            };
            match user {
                Some(user) if matched => Ok(user),
                _ => Err(LoginError::InvalidCredentials),
            }
        }
    }

    /// The last step (blocking: one insert): issues the login token of a user whose
    /// password matched (past the user's token cap, the oldest login token goes).
    ///
    /// # Errors
    /// [`LoginError::TokenLimit`] when the cap is reached and no login token can go;
    /// a repository failure.
    pub fn finish_login(
        &self,
        user: UserId,
        token_ttl_days: Option<u32>,
    ) -> Result<IssuedToken, LoginError> {
        let now = self.clock.now();
        let expires_at = token_ttl_days.map(|days| now + Duration::days(i64::from(days)));
        let lineage = Lineage {
            kind: TokenKind::Login,
            parent: None,
            limit: TokenLimit::for_login(),
            scopes: None,
        };
        self.store_token(user, LOGIN_TOKEN_NAME, now, expires_at, lineage)
            .map_err(|error| match error {
                IssueTokenError::Repository(error) => LoginError::Repository(error),
                IssueTokenError::TokenLimit => LoginError::TokenLimit,
                other => LoginError::Repository(RepositoryError::Internal(other.to_string())),
            })
    }

    fn dummy_hash(&self) -> Option<&switchboard_domain::identity::PasswordHash> {
        self.dummy_password_hash
            .get_or_init(|| {
                let random = SecretString::from(self.token_generator.generate().expose());
                self.password_hasher.hash(&random).ok()
            })
            .as_ref()
    }

    /// Computes the dummy hash now, so that the first login does not pay for it.
    pub fn warm_up(&self) {
        let _ = self.dummy_hash();
    }

    /// Issues a token to the caller, minted by the caller's token: it never outlives
    /// that token (no `expires_in_days` means the parent's expiry) and is revoked
    /// with it.
    ///
    /// # Errors
    /// [`IssueTokenError`] for a bad name or expiry, an expiry past the parent's, a
    /// parent revoked meanwhile, or a user at the token limit.
    pub fn issue_token_for(
        &self,
        caller: Caller,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> Result<IssuedToken, IssueTokenError> {
        self.issue_scoped_token_for(caller, name, expires_in_days, None)
    }

    /// [`IdentityService::issue_token_for`] with `scopes` (`None`: the creating
    /// token's). A token never carries a scope the token creating it lacks, nor one
    /// the caller's role could use in none of its organizations; the one exception
    /// is `credentials:reveal`, which an owner or admin may add with an unnarrowed
    /// token of their own (a login token, or one created without `scopes`): only
    /// owners and admins may grant it.
    ///
    /// # Errors
    /// As [`IdentityService::issue_token_for`], and
    /// [`IssueTokenError::ScopeNotAllowed`].
    pub fn issue_scoped_token_for(
        &self,
        caller: Caller,
        name: &str,
        expires_in_days: Option<u32>,
        scopes: Option<ScopeSet>,
    ) -> Result<IssuedToken, IssueTokenError> {
        check_token_request(name, expires_in_days)?;
        let parent = self
            .repository
            .token(caller.token_id)?
            .filter(|parent| parent.revoked_at.is_none())
            .ok_or(IssueTokenError::ParentGone)?;
        if let Some(requested) = scopes {
            self.check_grantable(caller, &parent, requested)?;
        }
        let now = self.clock.now();
        let expires_at = minted_token_expiry(now, expires_in_days, parent.expires_at)?;
        let lineage = Lineage {
            kind: TokenKind::Api,
            parent: Some(caller.token_id),
            limit: TokenLimit::refuse(),
            scopes: scopes.or(parent.scopes),
        };
        self.store_token(caller.user_id, name, now, expires_at, lineage)
    }

    /// Whether `caller`, through `parent`, may give a token `requested`.
    fn check_grantable(
        &self,
        caller: Caller,
        parent: &TokenRecord,
        requested: ScopeSet,
    ) -> Result<(), IssueTokenError> {
        let memberships = self.repository.organizations_of(caller.user_id)?;
        let usable = memberships
            .iter()
            .fold(ScopeSet::empty(), |usable, membership| {
                membership
                    .role
                    .usable_scopes(false)
                    .iter()
                    .fold(usable, ScopeSet::with)
            });
        if !requested.is_subset_of(usable) {
            return Err(IssueTokenError::ScopeNotAllowed);
        }
        let held = Grants::of(parent.scopes, false).scopes;
        let beyond = requested.iter().filter(|scope| !held.contains(*scope));
        for scope in beyond {
            // Only an owner's or admin's unnarrowed token may add reveal, which no
            // such token holds; a narrowed token never widens.
            let may_add = scope == Scope::CredentialsReveal
                && parent.scopes.is_none()
                && memberships
                    .iter()
                    .any(|membership| matches!(membership.role, Role::Owner | Role::Admin));
            if !may_add {
                return Err(IssueTokenError::ScopeNotAllowed);
            }
        }
        Ok(())
    }

    /// The caller's tokens, newest first (never their secrets).
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn tokens_of_caller(&self, caller: Caller) -> Result<Vec<TokenRecord>, RepositoryError> {
        self.repository.tokens_of(caller.user_id)
    }

    /// Revokes one of the caller's own tokens (another user's token is not found).
    ///
    /// # Errors
    /// [`RevokeTokenError::NotFound`] for an unknown, foreign or already revoked id.
    pub fn revoke_token_of_caller(
        &self,
        caller: Caller,
        id: TokenId,
    ) -> Result<(), RevokeTokenError> {
        if self
            .repository
            .revoke_token_of(caller.user_id, id, self.clock.now())?
        {
            Ok(())
        } else {
            Err(RevokeTokenError::NotFound)
        }
    }

    /// Resolves a presented token and the organization named by `org_handle`, in one
    /// database query.
    ///
    /// # Errors
    /// [`AuthenticateError::InvalidToken`] first, then
    /// [`AuthenticateError::ForbiddenOrganization`] for an unknown organization or
    /// one the caller does not belong to (the same answer for both).
    pub fn authenticate_in(
        &self,
        presented: &str,
        org_handle: &str,
    ) -> Result<Actor, AuthenticateError> {
        self.resolve(presented, Some(org_handle))?
            .actor
            .ok_or(AuthenticateError::ForbiddenOrganization)
    }

    fn principal(
        &self,
        presented: &str,
        handle: Option<&DomainHandle>,
    ) -> Result<Principal, AuthenticateError> {
        let token = ApiToken::parse(presented).map_err(|_| AuthenticateError::InvalidToken)?;
        let hash = self.token_hasher.hash(&token);
        let principal = self
            .repository
            .principal(&hash, handle)?
            .ok_or(AuthenticateError::InvalidToken)?;
        if principal
            .token_expires_at
            .is_some_and(|expires| expires <= self.clock.now())
        {
            return Err(AuthenticateError::InvalidToken);
        }
        Ok(principal)
    }

    /// The organizations the caller belongs to.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn organizations_of(
        &self,
        caller: Caller,
    ) -> Result<Vec<OrganizationMembership>, RepositoryError> {
        self.repository.organizations_of(caller.user_id)
    }

    /// Creates an organization.
    ///
    /// # Errors
    /// [`CreateOrganizationError`].
    pub fn create_organization(
        &self,
        name: &str,
        handle: &str,
    ) -> Result<Organization, CreateOrganizationError> {
        if let Err(errors) = validation::validate(&OrganizationRequest { name, handle })
            && errors.has("name")
        {
            return Err(CreateOrganizationError::InvalidName);
        }
        // The handle's rule is declared on the request; parsing names the rule broken.
        let handle = DomainHandle::parse(handle)?;
        self.repository
            .insert_organization(name.trim(), &handle, self.clock.now())?
            .ok_or(CreateOrganizationError::Duplicate)
    }

    /// Creates a user with an Argon2id password hash.
    ///
    /// # Errors
    /// [`CreateUserError`].
    pub fn create_user(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<UserId, CreateUserError> {
        use secrecy::ExposeSecret;
        if validation::validate(&UserRequest { email }).is_err() {
            return Err(EmailError.into());
        }
        let email = Email::parse(email)?;
        let length = password.expose_secret().chars().count();
        if !(8..=1024).contains(&length) {
            return Err(CreateUserError::InvalidPassword);
        }
        let password_hash = self
            .password_hasher
            .hash(password)
            .map_err(CreateUserError::Hashing)?;
        let user = NewUser {
            email,
            password_hash,
            created_at: self.clock.now(),
        };
        self.repository
            .insert_user(&user)?
            .ok_or(CreateUserError::Duplicate)
    }

    /// The id of the organization with `handle` (`None`: no such organization).
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn organization_id(&self, handle: &str) -> Result<Option<OrgId>, RepositoryError> {
        let Ok(handle) = DomainHandle::parse(handle) else {
            return Ok(None);
        };
        Ok(self
            .repository
            .organization_by_handle(&handle)?
            .map(|organization| organization.id))
    }

    /// Adds a user to an organization with a role (or changes the role).
    ///
    /// # Errors
    /// [`AddMemberError`].
    pub fn add_member(&self, handle: &str, email: &str, role: Role) -> Result<(), AddMemberError> {
        let handle =
            DomainHandle::parse(handle).map_err(|_| AddMemberError::UnknownOrganization)?;
        let organization = self
            .repository
            .organization_by_handle(&handle)?
            .ok_or(AddMemberError::UnknownOrganization)?;
        let user = self
            .user_by_email(email)
            .ok_or(AddMemberError::UnknownUser)??;
        self.repository
            .upsert_membership(organization.id, user, role, self.clock.now())?;
        Ok(())
    }

    /// Issues a new token for the user with `email` (an operator's token: no parent).
    ///
    /// # Errors
    /// [`IssueTokenError`].
    pub fn issue_token(
        &self,
        email: &str,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> Result<IssuedToken, IssueTokenError> {
        check_token_request(name, expires_in_days)?;
        let user = self
            .user_by_email(email)
            .ok_or(IssueTokenError::UnknownUser)??;
        let now = self.clock.now();
        let expires_at = expires_in_days.map(|days| now + Duration::days(i64::from(days)));
        let lineage = Lineage {
            kind: TokenKind::Admin,
            parent: None,
            limit: TokenLimit::refuse(),
            scopes: None,
        };
        self.store_token(user, name, now, expires_at, lineage)
    }

    /// Issues a token to a service account's user (no parent: it lives with the
    /// service account), with `scopes`, expiring after `expires_in_days`.
    ///
    /// # Errors
    /// [`IssueTokenError`] for a bad name or expiry, or a user at the token limit.
    pub(crate) fn issue_service_token(
        &self,
        user: UserId,
        name: &str,
        expires_in_days: Option<u32>,
        scopes: ScopeSet,
    ) -> Result<IssuedToken, IssueTokenError> {
        check_token_request(name, expires_in_days)?;
        let now = self.clock.now();
        let expires_at = expires_in_days.map(|days| now + Duration::days(i64::from(days)));
        let lineage = Lineage {
            kind: TokenKind::Admin,
            parent: None,
            limit: TokenLimit::refuse(),
            scopes: Some(scopes),
        };
        self.store_token(user, name, now, expires_at, lineage)
    }

    /// The tokens of `user`, newest first.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub(crate) fn tokens_of_user(&self, user: UserId) -> Result<Vec<TokenRecord>, RepositoryError> {
        self.repository.tokens_of(user)
    }

    /// A fresh random name of 26 lowercase letters and digits (from the token
    /// generator: cryptographically secure).
    pub(crate) fn random_name(&self) -> String {
        let token = self.token_generator.generate();
        token
            .expose()
            .chars()
            .skip(4)
            .take(ApiToken::RANDOM_LEN)
            .collect::<String>()
            .to_ascii_lowercase()
    }

    /// The clock of the service.
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// A hash no password matches, for service accounts' users.
    pub(crate) fn no_password() -> switchboard_domain::identity::PasswordHash {
        switchboard_domain::identity::PasswordHash(
            switchboard_domain::identity::NO_PASSWORD.to_owned(),
        )
    }

    /// Generates a token and stores its hash under `lineage`'s cap.
    fn store_token(
        &self,
        user: UserId,
        name: &str,
        now: Timestamp,
        expires_at: Option<Timestamp>,
        lineage: Lineage,
    ) -> Result<IssuedToken, IssueTokenError> {
        let token = self.token_generator.generate();
        let record = NewApiTokenRecord {
            user_id: user,
            name: name.trim().to_owned(),
            hash: self.token_hasher.hash(&token),
            prefix: token.public_prefix(),
            created_at: now,
            expires_at,
            kind: lineage.kind,
            parent: lineage.parent,
            scopes: lineage.scopes,
        };
        match self.repository.insert_token(&record, lineage.limit)? {
            TokenInsert::Inserted(record) => Ok(IssuedToken { token, record }),
            TokenInsert::LimitReached => Err(IssueTokenError::TokenLimit),
            TokenInsert::ParentGone => Err(IssueTokenError::ParentGone),
        }
    }

    /// The tokens of the user with `email` (never their secrets).
    ///
    /// # Errors
    /// [`ListTokensError`].
    pub fn list_tokens(&self, email: &str) -> Result<Vec<TokenRecord>, ListTokensError> {
        let user = self
            .user_by_email(email)
            .ok_or(ListTokensError::UnknownUser)??;
        Ok(self.repository.tokens_of(user)?)
    }

    /// Every organization, oldest first.
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn list_organizations(&self) -> Result<Vec<Organization>, RepositoryError> {
        self.repository.all_organizations()
    }

    /// Every user, oldest first (never a password hash).
    ///
    /// # Errors
    /// [`RepositoryError`].
    pub fn list_users(&self) -> Result<Vec<UserSummary>, RepositoryError> {
        self.repository.all_users()
    }

    /// The members of the organization with `handle`, with their roles.
    ///
    /// # Errors
    /// [`ListMembersError`].
    pub fn list_members(&self, handle: &str) -> Result<Vec<Member>, ListMembersError> {
        let handle =
            DomainHandle::parse(handle).map_err(|_| ListMembersError::UnknownOrganization)?;
        let organization = self
            .repository
            .organization_by_handle(&handle)?
            .ok_or(ListMembersError::UnknownOrganization)?;
        Ok(self.repository.members_of(organization.id)?)
    }

    /// Revokes a token: it fails on its very next request.
    ///
    /// # Errors
    /// [`RevokeTokenError`].
    pub fn revoke_token(&self, id: TokenId) -> Result<(), RevokeTokenError> {
        if self.repository.revoke_token(id, self.clock.now())? {
            Ok(())
        } else {
            Err(RevokeTokenError::NotFound)
        }
    }

    /// Development bootstrap: when no organization exists, creates `default` with
    /// owner `owner@localhost` (a random password nobody knows) and returns the
    /// owner's first token. `Ok(None)` when organizations already exist.
    ///
    /// # Errors
    /// [`BootstrapError`].
    pub fn bootstrap_first_owner(&self) -> Result<Option<ApiToken>, BootstrapError> {
        if self.repository.organization_count()? > 0 {
            return Ok(None);
        }
        let random_password = SecretString::from(self.token_generator.generate().expose());
        let password_hash = self
            .password_hasher
            .hash(&random_password)
            .map_err(BootstrapError::Hashing)?;
        let now = self.clock.now();
        let (Ok(email), Ok(handle)) = (
            Email::parse(BOOTSTRAP_OWNER_EMAIL),
            DomainHandle::parse(BOOTSTRAP_ORG_HANDLE),
        ) else {
            return Err(BootstrapError::Repository(RepositoryError::Internal(
                "bootstrap constants are invalid".into(),
            )));
        };
        let owner = NewUser {
            email,
            password_hash,
            created_at: now,
        };
        let token = self.token_generator.generate();
        let record = NewApiTokenRecord {
            user_id: UserId(0),
            name: "first token".to_owned(),
            hash: self.token_hasher.hash(&token),
            prefix: token.public_prefix(),
            created_at: now,
            expires_at: None,
            kind: TokenKind::Admin,
            parent: None,
            scopes: None,
        };
        let created = self
            .repository
            .bootstrap_first_owner("Default", &handle, &owner, &record)?;
        Ok(created.then_some(token))
    }

    fn user_by_email(&self, email: &str) -> Option<Result<UserId, RepositoryError>> {
        let email = Email::parse(email).ok()?;
        self.repository.user_id_by_email(&email).transpose()
    }
}

/// How a token is issued: its kind, the token minting it, and the cap that applies.
struct Lineage {
    kind: TokenKind,
    parent: Option<TokenId>,
    limit: TokenLimit,
    /// `None`: every scope except `credentials:reveal`.
    scopes: Option<ScopeSet>,
}

/// The declared rules of [`TokenRequest`], the name's first.
fn check_token_request(name: &str, expires_in_days: Option<u32>) -> Result<(), IssueTokenError> {
    match validation::validate(&TokenRequest {
        name,
        expires_in_days,
    }) {
        Ok(()) => Ok(()),
        Err(errors) if errors.has("name") => Err(IssueTokenError::InvalidName),
        Err(_) => Err(IssueTokenError::InvalidExpiry),
    }
}
