//! Identity context: organizations, users, memberships with roles, and API tokens.

mod lineage;
mod organization;
mod ports;
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
pub use token::{ApiToken, TokenHash, TokenId, TokenParseError};
pub use user::{Email, EmailError, PasswordHash, UserId};
