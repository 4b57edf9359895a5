//! Identity context: organizations, users, memberships with roles, and API tokens.

mod lineage;
mod organization;
mod ports;
mod requests;
mod scope;
mod service_account;
mod token;
mod user;

pub use lineage::{
    OutlivesParent, TokenInsert, TokenKind, TokenLimit, WhenFull, minted_token_expiry,
};
pub use organization::{
    DomainHandle, DomainHandleError, OrgId, Organization, OrganizationMembership, Role,
};
pub use ports::{
    IdentityRepository, Member, NewApiTokenRecord, NewUser, PasswordHasher, PendingVerification,
    Principal, PrincipalMembership, TokenGenerator, TokenHasher, TokenRecord, UserSummary,
};
pub use requests::{
    LoginRequest, MAX_EXPIRY_DAYS, OrganizationRequest, ScopeList, ServiceAccountRequest,
    TokenRequest, UserRequest,
};
pub use scope::{Grants, Scope, ScopeSet, UnknownScope};
pub use service_account::{
    NO_PASSWORD, NewServiceAccount, SERVICE_ACCOUNT_EMAIL_DOMAIN, ServiceAccount, ServiceAccountId,
    ServiceAccountRepository, service_account_role,
};
pub use token::{ApiToken, TokenHash, TokenId, TokenParseError};
pub use user::{Email, EmailError, PasswordHash, UserId};
