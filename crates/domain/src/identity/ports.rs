//! Ports of the identity context: what the application needs from storage and from
//! cryptography, as traits the adapters implement.

use std::future::Future;
use std::pin::Pin;

use secrecy::SecretString;

use super::{
    ApiToken, DomainHandle, Email, OrgId, Organization, OrganizationMembership, PasswordHash, Role,
    ScopeSet, TokenHash, TokenId, TokenInsert, TokenKind, TokenLimit, UserId,
};
use crate::shared::{RepositoryError, Timestamp};

/// Keyed hash of API tokens (HMAC-SHA256 under a server key): one cheap operation
/// per request, never a password hash.
pub trait TokenHasher: Send + Sync {
    /// The lookup key of `token`.
    fn hash(&self, token: &ApiToken) -> TokenHash;
}

/// Source of new API tokens (a cryptographically secure random generator).
pub trait TokenGenerator: Send + Sync {
    /// A fresh token.
    fn generate(&self) -> ApiToken;
}

/// A password check under way: whether the password matches, or why the hasher could
/// not tell (a description that never contains the password).
pub type PendingVerification = Pin<Box<dyn Future<Output = Result<bool, String>> + Send>>;

/// Slow, salted hashing of human passwords (Argon2id).
pub trait PasswordHasher: Send + Sync {
    /// Hashes `password` with a fresh salt.
    ///
    /// # Errors
    /// A description of the failure (never containing the password).
    fn hash(&self, password: &SecretString) -> Result<PasswordHash, String>;

    /// Whether `password` matches `hash`. A malformed hash is a mismatch.
    fn verify(&self, password: &SecretString, hash: &PasswordHash) -> bool;

    /// [`PasswordHasher::verify`] as a future, for callers that must not block while
    /// the hash is computed (a login waits for it on an async worker thread). Where
    /// the hash runs is the implementation's choice.
    fn verify_later(&self, password: &SecretString, hash: &PasswordHash) -> PendingVerification;
}

/// Who is calling: the token's user, the token, and (when the request named an
/// organization the user belongs to) the membership.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user_id: UserId,
    pub token_id: TokenId,
    pub token_expires_at: Option<Timestamp>,
    /// When the token was last recorded as used (recorded at most once a minute).
    pub token_last_used_at: Option<Timestamp>,
    /// The token's stored scopes (`None`: every scope except `credentials:reveal`).
    pub token_scopes: Option<ScopeSet>,
    /// Whether the token's user is a service account.
    pub service_account: bool,
    pub membership: Option<PrincipalMembership>,
}

/// The caller's membership in the organization named by `Org-Handle`.
#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalMembership {
    pub org_id: OrgId,
    pub handle: DomainHandle,
    pub role: Role,
}

/// A user to store.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub password_hash: PasswordHash,
    pub created_at: Timestamp,
}

/// A token to store: only its hash and public prefix.
#[derive(Debug, Clone)]
pub struct NewApiTokenRecord {
    pub user_id: UserId,
    pub name: String,
    pub hash: TokenHash,
    pub prefix: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub kind: TokenKind,
    /// The token that minted this one (`POST /auth/tokens/`): this one is revoked
    /// with it.
    pub parent: Option<TokenId>,
    /// Its scopes (`None`: every scope except `credentials:reveal`).
    pub scopes: Option<ScopeSet>,
}

/// A stored token, as its owner may see it (never the secret).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub kind: TokenKind,
    pub parent: Option<TokenId>,
    /// Its scopes (`None`: every scope except `credentials:reveal`).
    pub scopes: Option<ScopeSet>,
}

/// A user as operators list it (never the password hash).
#[derive(Debug, Clone, PartialEq)]
pub struct UserSummary {
    pub id: UserId,
    pub email: String,
    pub created_at: Timestamp,
}

/// A member of an organization, as operators list it.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub role: Role,
    pub since: Timestamp,
}

/// Storage of organizations, users, memberships and tokens.
///
/// Every method fails with [`RepositoryError`] when the database is unavailable or
/// broken; methods that insert report uniqueness violations as `Ok(None)` or
/// `Ok(false)` where documented, so callers map them to their own `Duplicate`.
pub trait IdentityRepository: Send + Sync {
    /// Resolves a token hash, in one query, to its live (not revoked) token and user,
    /// and, when `organization` is given, the user's membership in it.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn principal(
        &self,
        hash: &TokenHash,
        organization: Option<&DomainHandle>,
    ) -> Result<Option<Principal>, RepositoryError>;

    /// The organizations `user` belongs to, with the user's role, oldest first.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn organizations_of(
        &self,
        user: UserId,
    ) -> Result<Vec<OrganizationMembership>, RepositoryError>;

    /// Number of organizations (the development bootstrap runs when it is 0).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn organization_count(&self) -> Result<u64, RepositoryError>;

    /// Inserts an organization; `Ok(None)` when the handle is taken.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn insert_organization(
        &self,
        name: &str,
        handle: &DomainHandle,
        created_at: Timestamp,
    ) -> Result<Option<Organization>, RepositoryError>;

    /// Inserts a user; `Ok(None)` when the email is taken.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn insert_user(&self, user: &NewUser) -> Result<Option<UserId>, RepositoryError>;

    /// The id of the user with `email`.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn user_id_by_email(&self, email: &Email) -> Result<Option<UserId>, RepositoryError>;

    /// The organization with `handle`.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn organization_by_handle(
        &self,
        handle: &DomainHandle,
    ) -> Result<Option<Organization>, RepositoryError>;

    /// Adds `user` to `organization` with `role`, or changes the role of an existing
    /// membership.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn upsert_membership(
        &self,
        organization: OrgId,
        user: UserId,
        role: Role,
        created_at: Timestamp,
    ) -> Result<(), RepositoryError>;

    /// Stores a token, in one transaction with the checks that make it safe: the
    /// user holds fewer than `limit.max_live` live tokens (else what
    /// `limit.when_full` says: refuse, or revoke the oldest live login token first),
    /// and the parent, when there is one, is still live.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn insert_token(
        &self,
        token: &NewApiTokenRecord,
        limit: TokenLimit,
    ) -> Result<TokenInsert, RepositoryError>;

    /// The token with `id`, live or not.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn token(&self, id: TokenId) -> Result<Option<TokenRecord>, RepositoryError>;

    /// The tokens of `user`, newest first, revoked ones included.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn tokens_of(&self, user: UserId) -> Result<Vec<TokenRecord>, RepositoryError>;

    /// Marks a token revoked, with every token it minted, directly or not;
    /// `Ok(false)` when no live token has that id.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn revoke_token(&self, id: TokenId, at: Timestamp) -> Result<bool, RepositoryError>;

    /// Marks a token of `user` revoked, with every token it minted, directly or not;
    /// `Ok(false)` when `user` has no live token with that id (another user's token
    /// is never touched).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn revoke_token_of(
        &self,
        user: UserId,
        id: TokenId,
        at: Timestamp,
    ) -> Result<bool, RepositoryError>;

    /// Records that a token was used at `at`.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn touch_token(&self, id: TokenId, at: Timestamp) -> Result<(), RepositoryError>;

    /// The password hash of `user` (`None` for an unknown user).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn password_hash(&self, user: UserId) -> Result<Option<PasswordHash>, RepositoryError>;

    /// Replaces the password hash of `user` (the console's password form).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn set_password(&self, user: UserId, hash: &PasswordHash) -> Result<(), RepositoryError>;

    /// The id and password hash of the user with `email`, for login.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn login_credentials(
        &self,
        email: &Email,
    ) -> Result<Option<(UserId, PasswordHash)>, RepositoryError>;

    /// In one transaction, and only while no organization exists: creates the
    /// organization, its owner and the owner's first token. `Ok(false)` when an
    /// organization already existed (another process bootstrapped first).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn bootstrap_first_owner(
        &self,
        organization_name: &str,
        handle: &DomainHandle,
        owner: &NewUser,
        token: &NewApiTokenRecord,
    ) -> Result<bool, RepositoryError>;

    /// Every organization, oldest first (operators' listing).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn all_organizations(&self) -> Result<Vec<Organization>, RepositoryError>;

    /// Every user, oldest first (operators' listing; never password hashes).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn all_users(&self) -> Result<Vec<UserSummary>, RepositoryError>;

    /// The members of `organization` with their roles, oldest membership first.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn members_of(&self, organization: OrgId) -> Result<Vec<Member>, RepositoryError>;
}
