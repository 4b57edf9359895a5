//! Diesel implementation of the identity port: organizations, users, memberships and
//! API tokens.
//!
//! Rows are private to this module and converted to domain types on the way out; a
//! stored value the domain refuses (a bad handle or role) is an internal error. Reads
//! use the read pool, writes the write connection.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use switchboard_domain::identity::{
    DomainHandle, Email, IdentityRepository, NewApiTokenRecord, NewUser, OrgId, Organization,
    OrganizationMembership, PasswordHash, Principal, PrincipalMembership, Role, TokenHash, TokenId,
    TokenRecord, UserId,
};
use switchboard_domain::shared::{RepositoryError, Timestamp};

use crate::connection::DbConnection;
use crate::connection::on_backend;
use crate::database::{Backend, Database};
use crate::error::{is_unique_violation, repository_error};
use crate::schema::{api_tokens, memberships, organizations, users};
use crate::time::{from_db, to_db};
use crate::transaction::{TransactionError, write_transaction};

/// [`IdentityRepository`] over a [`Database`].
#[derive(Debug, Clone)]
pub struct DieselIdentityRepository {
    db: Database,
}

impl DieselIdentityRepository {
    /// A repository using `db`'s pools.
    #[must_use]
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[derive(Queryable)]
struct OrganizationRow {
    id: i64,
    name: String,
    domain_handle: String,
    created_at: NaiveDateTime,
}

impl OrganizationRow {
    fn into_domain(self) -> Result<Organization, RepositoryError> {
        let domain_handle = DomainHandle::parse(&self.domain_handle).map_err(|error| {
            RepositoryError::Internal(format!(
                "stored organization {} has an invalid domain handle: {error}",
                self.id
            ))
        })?;
        Ok(Organization {
            id: OrgId(self.id),
            name: self.name,
            domain_handle,
            created_at: from_db(self.created_at),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = organizations)]
struct NewOrganizationRow<'a> {
    name: &'a str,
    domain_handle: &'a str,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    email: &'a str,
    password_hash: &'a str,
    created_at: NaiveDateTime,
}

impl<'a> NewUserRow<'a> {
    fn from_domain(user: &'a NewUser) -> Self {
        Self {
            email: user.email.as_str(),
            password_hash: &user.password_hash.0,
            created_at: to_db(user.created_at),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = memberships)]
struct NewMembershipRow<'a> {
    organization_id: i64,
    user_id: i64,
    role: &'a str,
    created_at: NaiveDateTime,
}

/// A token row; field order is the table's column order (`RETURNING` relies on it).
#[derive(Queryable)]
struct ApiTokenRow {
    id: i64,
    user_id: i64,
    name: String,
    _token_hash: String,
    prefix: String,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    expires_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl ApiTokenRow {
    fn into_domain(self) -> TokenRecord {
        TokenRecord {
            id: TokenId(self.id),
            user_id: UserId(self.user_id),
            name: self.name,
            prefix: self.prefix,
            created_at: from_db(self.created_at),
            last_used_at: self.last_used_at.map(from_db),
            expires_at: self.expires_at.map(from_db),
            revoked_at: self.revoked_at.map(from_db),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = api_tokens)]
struct NewApiTokenRow<'a> {
    user_id: i64,
    name: &'a str,
    token_hash: &'a str,
    prefix: &'a str,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
}

impl<'a> NewApiTokenRow<'a> {
    fn from_domain(token: &'a NewApiTokenRecord, user: UserId) -> Self {
        Self {
            user_id: user.0,
            name: &token.name,
            token_hash: &token.hash.0,
            prefix: &token.prefix,
            created_at: to_db(token.created_at),
            expires_at: token.expires_at.map(to_db),
        }
    }
}

/// What the one-query principal lookup returns; the membership columns are NULL when
/// the handle names no organization or the user is not a member.
#[derive(Queryable)]
struct PrincipalRow {
    token_id: i64,
    user_id: i64,
    expires_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    org_id: Option<i64>,
    role: Option<String>,
}

fn parse_role(text: &str) -> Result<Role, RepositoryError> {
    text.parse::<Role>()
        .map_err(|()| RepositoryError::Internal("stored membership has an unknown role".into()))
}

/// Why the bootstrap transaction stopped.
enum BootstrapError {
    /// An organization exists already: roll back, report `false`.
    AlreadyBootstrapped,
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for BootstrapError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

impl TransactionError for BootstrapError {
    fn database_error(&self) -> Option<&diesel::result::Error> {
        match self {
            Self::Database(error) => Some(error),
            Self::AlreadyBootstrapped => None,
        }
    }
}

fn insert_token_row(conn: &mut DbConnection, row: &NewApiTokenRow<'_>) -> QueryResult<ApiTokenRow> {
    diesel::insert_into(api_tokens::table)
        .values(row)
        .returning(api_tokens::all_columns)
        .get_result(conn)
}

impl IdentityRepository for DieselIdentityRepository {
    fn principal(
        &self,
        hash: &TokenHash,
        organization: Option<&DomainHandle>,
    ) -> Result<Option<Principal>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let live = api_tokens::token_hash
            .eq(hash.0.as_str())
            .and(api_tokens::revoked_at.is_null());
        let Some(handle) = organization else {
            type BareRow = (i64, i64, Option<NaiveDateTime>, Option<NaiveDateTime>);
            let query = api_tokens::table
                .inner_join(users::table)
                .filter(live)
                .select((
                    api_tokens::id,
                    users::id,
                    api_tokens::expires_at,
                    api_tokens::last_used_at,
                ));
            // On every request: run on the inner connection (see crate::connection).
            let row: Option<BareRow> = on_backend!(conn, |inner| query.first(inner).optional())
                .map_err(repository_error)?;
            return Ok(
                row.map(|(token_id, user_id, expires_at, last_used_at)| Principal {
                    user_id: UserId(user_id),
                    token_id: TokenId(token_id),
                    token_expires_at: expires_at.map(from_db),
                    token_last_used_at: last_used_at.map(from_db),
                    membership: None,
                }),
            );
        };
        // One query: the token and its user, the organization named by the handle
        // (at most one row: handles are unique) and the user's membership in it.
        let query = api_tokens::table
            .inner_join(users::table)
            .left_join(
                // An owned bind: Diesel wants join conditions free of borrows.
                organizations::table
                    .on(organizations::domain_handle.eq(handle.as_str().to_owned())),
            )
            .left_join(
                memberships::table.on(memberships::organization_id
                    .eq(organizations::id)
                    .and(memberships::user_id.eq(users::id))),
            )
            .filter(live)
            .select((
                api_tokens::id,
                users::id,
                api_tokens::expires_at,
                api_tokens::last_used_at,
                memberships::organization_id.nullable(),
                memberships::role.nullable(),
            ));
        // On every request: run on the inner connection (see crate::connection).
        let row: Option<PrincipalRow> =
            on_backend!(conn, |inner| query.first(inner).optional()).map_err(repository_error)?;
        let Some(PrincipalRow {
            token_id,
            user_id,
            expires_at,
            last_used_at,
            org_id,
            role,
        }) = row
        else {
            return Ok(None);
        };
        let membership = match (org_id, role) {
            (Some(org_id), Some(role)) => Some(PrincipalMembership {
                org_id: OrgId(org_id),
                handle: handle.clone(),
                role: parse_role(&role)?,
            }),
            _ => None,
        };
        Ok(Some(Principal {
            user_id: UserId(user_id),
            token_id: TokenId(token_id),
            token_expires_at: expires_at.map(from_db),
            token_last_used_at: last_used_at.map(from_db),
            membership,
        }))
    }

    fn organizations_of(
        &self,
        user: UserId,
    ) -> Result<Vec<OrganizationMembership>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<(OrganizationRow, String)> = memberships::table
            .inner_join(organizations::table)
            .filter(memberships::user_id.eq(user.0))
            .order((organizations::created_at.asc(), organizations::id.asc()))
            .select((organizations::all_columns, memberships::role))
            .load(conn)
            .map_err(repository_error)?;
        rows.into_iter()
            .map(|(organization, role)| {
                Ok(OrganizationMembership {
                    organization: organization.into_domain()?,
                    role: parse_role(&role)?,
                })
            })
            .collect()
    }

    fn organization_count(&self) -> Result<u64, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let count: i64 = organizations::table
            .count()
            .get_result(conn)
            .map_err(repository_error)?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    fn insert_organization(
        &self,
        name: &str,
        handle: &DomainHandle,
        created_at: Timestamp,
    ) -> Result<Option<Organization>, RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let inserted = diesel::insert_into(organizations::table)
            .values(NewOrganizationRow {
                name,
                domain_handle: handle.as_str(),
                created_at: to_db(created_at),
            })
            .returning(organizations::all_columns)
            .get_result::<OrganizationRow>(conn);
        match inserted {
            Ok(row) => row.into_domain().map(Some),
            Err(error) if is_unique_violation(&error) => Ok(None),
            Err(error) => Err(repository_error(error)),
        }
    }

    fn insert_user(&self, user: &NewUser) -> Result<Option<UserId>, RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let inserted = diesel::insert_into(users::table)
            .values(NewUserRow::from_domain(user))
            .returning(users::id)
            .get_result::<i64>(conn);
        match inserted {
            Ok(id) => Ok(Some(UserId(id))),
            Err(error) if is_unique_violation(&error) => Ok(None),
            Err(error) => Err(repository_error(error)),
        }
    }

    fn user_id_by_email(&self, email: &Email) -> Result<Option<UserId>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        users::table
            .filter(users::email.eq(email.as_str()))
            .select(users::id)
            .first::<i64>(conn)
            .optional()
            .map(|id| id.map(UserId))
            .map_err(repository_error)
    }

    fn organization_by_handle(
        &self,
        handle: &DomainHandle,
    ) -> Result<Option<Organization>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        organizations::table
            .filter(organizations::domain_handle.eq(handle.as_str()))
            .first::<OrganizationRow>(conn)
            .optional()
            .map_err(repository_error)?
            .map(OrganizationRow::into_domain)
            .transpose()
    }

    fn upsert_membership(
        &self,
        organization: OrgId,
        user: UserId,
        role: Role,
        created_at: Timestamp,
    ) -> Result<(), RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let update_role = |conn: &mut DbConnection| {
            diesel::update(
                memberships::table
                    .filter(memberships::organization_id.eq(organization.0))
                    .filter(memberships::user_id.eq(user.0)),
            )
            .set(memberships::role.eq(role.as_str()))
            .execute(conn)
        };
        if update_role(conn).map_err(repository_error)? > 0 {
            return Ok(());
        }
        let inserted = diesel::insert_into(memberships::table)
            .values(NewMembershipRow {
                organization_id: organization.0,
                user_id: user.0,
                role: role.as_str(),
                created_at: to_db(created_at),
            })
            .execute(conn);
        match inserted {
            Ok(_) => Ok(()),
            // Another writer inserted the membership in between: change its role.
            Err(error) if is_unique_violation(&error) => {
                update_role(conn).map(|_| ()).map_err(repository_error)
            }
            Err(error) => Err(repository_error(error)),
        }
    }

    fn insert_token(&self, token: &NewApiTokenRecord) -> Result<TokenRecord, RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        insert_token_row(conn, &NewApiTokenRow::from_domain(token, token.user_id))
            .map(ApiTokenRow::into_domain)
            .map_err(repository_error)
    }

    fn tokens_of(&self, user: UserId) -> Result<Vec<TokenRecord>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<ApiTokenRow> = api_tokens::table
            .filter(api_tokens::user_id.eq(user.0))
            .order((api_tokens::created_at.desc(), api_tokens::id.desc()))
            .load(conn)
            .map_err(repository_error)?;
        Ok(rows.into_iter().map(ApiTokenRow::into_domain).collect())
    }

    fn revoke_token(&self, id: TokenId, at: Timestamp) -> Result<bool, RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let changed = diesel::update(
            api_tokens::table
                .filter(api_tokens::id.eq(id.0))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(Some(to_db(at))))
        .execute(conn)
        .map_err(repository_error)?;
        Ok(changed > 0)
    }

    fn revoke_token_of(
        &self,
        user: UserId,
        id: TokenId,
        at: Timestamp,
    ) -> Result<bool, RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let changed = diesel::update(
            api_tokens::table
                .filter(api_tokens::id.eq(id.0))
                .filter(api_tokens::user_id.eq(user.0))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(Some(to_db(at))))
        .execute(conn)
        .map_err(repository_error)?;
        Ok(changed > 0)
    }

    fn touch_token(&self, id: TokenId, at: Timestamp) -> Result<(), RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        diesel::update(api_tokens::table.filter(api_tokens::id.eq(id.0)))
            .set(api_tokens::last_used_at.eq(Some(to_db(at))))
            .execute(conn)
            .map_err(repository_error)?;
        Ok(())
    }

    fn login_credentials(
        &self,
        email: &Email,
    ) -> Result<Option<(UserId, PasswordHash)>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        users::table
            .filter(users::email.eq(email.as_str()))
            .select((users::id, users::password_hash))
            .first::<(i64, String)>(conn)
            .optional()
            .map(|row| row.map(|(id, hash)| (UserId(id), PasswordHash(hash))))
            .map_err(repository_error)
    }

    fn bootstrap_first_owner(
        &self,
        organization_name: &str,
        handle: &DomainHandle,
        owner: &NewUser,
        token: &NewApiTokenRecord,
    ) -> Result<bool, RepositoryError> {
        let is_postgres = self.db.backend() == Backend::Postgres;
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        let outcome = write_transaction::<(), BootstrapError>(conn, |conn| {
            if is_postgres {
                // Serializes concurrent bootstraps (other processes) while letting
                // reads through; SQLite's transaction holds the write lock from its
                // start (crate::transaction).
                conn.batch_execute("LOCK TABLE organizations IN SHARE ROW EXCLUSIVE MODE")?;
            }
            let inserted = diesel::insert_into(organizations::table)
                .values(NewOrganizationRow {
                    name: organization_name,
                    domain_handle: handle.as_str(),
                    created_at: to_db(owner.created_at),
                })
                .returning(organizations::id)
                .get_result::<i64>(conn);
            let org_id = match inserted {
                Ok(id) => id,
                Err(error) if is_unique_violation(&error) => {
                    return Err(BootstrapError::AlreadyBootstrapped);
                }
                Err(error) => return Err(error.into()),
            };
            let count: i64 = organizations::table.count().get_result(conn)?;
            if count > 1 {
                return Err(BootstrapError::AlreadyBootstrapped);
            }
            let user_id = diesel::insert_into(users::table)
                .values(NewUserRow::from_domain(owner))
                .returning(users::id)
                .get_result::<i64>(conn)?;
            diesel::insert_into(memberships::table)
                .values(NewMembershipRow {
                    organization_id: org_id,
                    user_id,
                    role: Role::Owner.as_str(),
                    created_at: to_db(owner.created_at),
                })
                .execute(conn)?;
            insert_token_row(conn, &NewApiTokenRow::from_domain(token, UserId(user_id)))?;
            Ok(())
        });
        match outcome {
            Ok(()) => Ok(true),
            Err(BootstrapError::AlreadyBootstrapped) => Ok(false),
            Err(BootstrapError::Database(error)) => Err(repository_error(error)),
        }
    }
}
