//! Service accounts (contract section 11): members of one organization that are
//! machines, never people. A service account is a user that can never log in (its
//! password hash is no hash, and login treats its email as unknown), with a
//! membership holding its role (`admin`, `member` or `viewer`, never `owner`), and
//! tokens that live with it: deleting it revokes them all in the same transaction.

use std::fmt;

use super::{NewUser, OrgId, Role, TokenId, UserId};
use crate::shared::{RepositoryError, Timestamp};

/// Database id of a service account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceAccountId(pub i64);

impl fmt::Display for ServiceAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A live service account.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAccount {
    pub id: ServiceAccountId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub created_at: Timestamp,
}

/// A service account to store: its user (a synthetic email, a password hash that
/// no password matches), its organization, name and role.
#[derive(Debug, Clone)]
pub struct NewServiceAccount {
    pub user: NewUser,
    pub org_id: OrgId,
    pub name: String,
    pub role: Role,
}

/// The password hash of every service account: not a PHC string, so no password
/// ever matches it (and login never reaches it: see
/// [`super::IdentityRepository::login_credentials`]).
pub const NO_PASSWORD: &str = "!service-account";

/// The domain of service accounts' synthetic emails (`.invalid` is reserved: no
/// mail is ever delivered there, RFC 2606).
pub const SERVICE_ACCOUNT_EMAIL_DOMAIN: &str = "service-accounts.invalid";

/// The roles a service account may hold.
#[must_use]
pub fn service_account_role(role: Role) -> bool {
    role != Role::Owner
}

/// Storage of service accounts. Their tokens are stored through
/// [`super::IdentityRepository::insert_token`] under their user.
pub trait ServiceAccountRepository: Send + Sync {
    /// Stores the user, the membership and the service account in one transaction.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn insert_service_account(
        &self,
        account: &NewServiceAccount,
    ) -> Result<ServiceAccount, RepositoryError>;

    /// The organization's live service accounts, oldest first.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn service_accounts_of(&self, org: OrgId) -> Result<Vec<ServiceAccount>, RepositoryError>;

    /// The live service account `id` of `org` (another organization's is `None`).
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn service_account(
        &self,
        org: OrgId,
        id: ServiceAccountId,
    ) -> Result<Option<ServiceAccount>, RepositoryError>;

    /// In one transaction: marks the service account deleted, removes its
    /// membership and revokes every token of its user. `Ok(false)` when `org` has no
    /// live service account `id`.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn delete_service_account(
        &self,
        org: OrgId,
        id: ServiceAccountId,
        at: Timestamp,
    ) -> Result<bool, RepositoryError>;

    /// Revokes the live token `token` of the live service account `id` of `org`;
    /// `Ok(false)` when there is none.
    ///
    /// # Errors
    /// [`RepositoryError`].
    fn revoke_service_account_token(
        &self,
        org: OrgId,
        id: ServiceAccountId,
        token: TokenId,
        at: Timestamp,
    ) -> Result<bool, RepositoryError>;
}
