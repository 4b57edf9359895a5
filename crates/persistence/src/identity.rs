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
    DomainHandle, Email, IdentityRepository, Member, NewApiTokenRecord, NewUser, OrgId,
    Organization, OrganizationMembership, PasswordHash, Principal, PrincipalMembership, Role,
    ScopeSet, TokenHash, TokenId, TokenInsert, TokenKind, TokenLimit, TokenRecord, UserId,
    UserSummary, WhenFull,
};
use switchboard_domain::shared::{RepositoryError, Timestamp};

use crate::connection::DbConnection;
use crate::connection::on_backend;
use crate::database::{Backend, Database};
use crate::error::{is_unique_violation, repository_error};
use crate::schema::{api_tokens, memberships, organizations, service_accounts, users};
use crate::time::{StoredTime, from_db, to_db};
use crate::transaction::TransactionError;

/// [`IdentityRepository`] over a [`Database`].
#[derive(Debug, Clone)]
pub struct DieselIdentityRepository {
    pub(crate) db: Database,
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
pub(crate) struct NewUserRow<'a> {
    email: &'a str,
    password_hash: &'a str,
    created_at: NaiveDateTime,
}

impl<'a> NewUserRow<'a> {
    pub(crate) fn from_domain(user: &'a NewUser) -> Self {
        Self {
            email: user.email.as_str(),
            password_hash: &user.password_hash.0,
            created_at: to_db(user.created_at),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = memberships)]
pub(crate) struct NewMembershipRow<'a> {
    pub(crate) organization_id: i64,
    pub(crate) user_id: i64,
    pub(crate) role: &'a str,
    pub(crate) created_at: NaiveDateTime,
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
    kind: String,
    parent_id: Option<i64>,
    scopes: Option<String>,
}

/// Parses stored scopes; an unknown name is an internal error.
fn parse_scopes(stored: Option<&str>) -> Result<Option<ScopeSet>, RepositoryError> {
    stored
        .map(|text| {
            ScopeSet::from_stored(text)
                .map_err(|_| RepositoryError::Internal("stored token has an unknown scope".into()))
        })
        .transpose()
}

impl ApiTokenRow {
    fn into_domain(self) -> Result<TokenRecord, RepositoryError> {
        let kind = self.kind.parse::<TokenKind>().map_err(|()| {
            RepositoryError::Internal(format!("stored token {} has an unknown kind", self.id))
        })?;
        Ok(TokenRecord {
            id: TokenId(self.id),
            user_id: UserId(self.user_id),
            name: self.name,
            prefix: self.prefix,
            created_at: from_db(self.created_at),
            last_used_at: self.last_used_at.map(from_db),
            expires_at: self.expires_at.map(from_db),
            revoked_at: self.revoked_at.map(from_db),
            kind,
            parent: self.parent_id.map(TokenId),
            scopes: parse_scopes(self.scopes.as_deref())?,
        })
    }
}

// `None` is NULL, as its column\'s default is: the INSERT is then one text whatever
// is left out, so Diesel finds its prepared statement by type instead of building
// the SQL per insert to look it up (docs/performance.md).
#[derive(Insertable)]
#[diesel(table_name = api_tokens, treat_none_as_default_value = false)]
struct NewApiTokenRow<'a> {
    user_id: i64,
    name: &'a str,
    token_hash: &'a str,
    prefix: &'a str,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    kind: &'static str,
    parent_id: Option<i64>,
    scopes: Option<String>,
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
            kind: token.kind.as_str(),
            parent_id: token.parent.map(|parent| parent.0),
            scopes: token.scopes.map(ScopeSet::to_stored),
        }
    }
}

/// What the one-query principal lookup returns; the membership columns are NULL when
/// the handle names no organization or the user is not a member.
#[derive(Queryable)]
struct PrincipalRow {
    token_id: i64,
    user_id: i64,
    expires_at: Option<StoredTime>,
    last_used_at: Option<StoredTime>,
    scopes: Option<String>,
    service_account: Option<i64>,
    org_id: Option<i64>,
    role: Option<String>,
}

pub(crate) fn parse_role(text: &str) -> Result<Role, RepositoryError> {
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

/// Ids per `IN (...)` list, well under both backends' bind limits.
const ID_CHUNK: usize = 500;

/// Levels of a token's descendants revoked with it, at most. A token can only mint
/// while live, and a user holds at most [`TokenLimit::MAX_LIVE_PER_USER`] live tokens,
/// so a real lineage is never deeper; the bound only guards against a corrupt cycle.
const MAX_LINEAGE_DEPTH: usize = 1_000;

/// Revokes the live token `root` (of `owner`, when given) and then every token it
/// minted, level by level, inside the caller's transaction; `Ok(false)` when `root`
/// was not live. The root is updated first, so that on PostgreSQL a concurrent
/// mint, which holds a share lock on its parent, either commits before the walk
/// below (and its child is found) or sees the parent revoked.
pub(crate) fn revoke_lineage(
    conn: &mut DbConnection,
    root: TokenId,
    owner: Option<UserId>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let live_root = api_tokens::table
        .filter(api_tokens::id.eq(root.0))
        .filter(api_tokens::revoked_at.is_null());
    let revoked = match owner {
        Some(owner) => diesel::update(live_root.filter(api_tokens::user_id.eq(owner.0)))
            .set(api_tokens::revoked_at.eq(Some(at)))
            .execute(conn)?,
        None => diesel::update(live_root)
            .set(api_tokens::revoked_at.eq(Some(at)))
            .execute(conn)?,
    };
    if revoked == 0 {
        return Ok(false);
    }
    let mut frontier = vec![root.0];
    for _ in 0..MAX_LINEAGE_DEPTH {
        let mut children = Vec::new();
        for chunk in frontier.chunks(ID_CHUNK) {
            let found: Vec<i64> = api_tokens::table
                .filter(api_tokens::parent_id.eq_any(chunk.to_vec()))
                .select(api_tokens::id)
                .load(conn)?;
            children.extend(found);
        }
        if children.is_empty() {
            break;
        }
        for chunk in children.chunks(ID_CHUNK) {
            diesel::update(
                api_tokens::table
                    .filter(api_tokens::id.eq_any(chunk.to_vec()))
                    .filter(api_tokens::revoked_at.is_null()),
            )
            .set(api_tokens::revoked_at.eq(Some(at)))
            .execute(conn)?;
        }
        frontier = children;
    }
    Ok(true)
}

/// The live (not revoked, not expired at `now`) tokens of `user`.
fn live_token_count(conn: &mut DbConnection, user: UserId, now: NaiveDateTime) -> QueryResult<i64> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user.0))
        .filter(api_tokens::revoked_at.is_null())
        .filter(
            api_tokens::expires_at
                .is_null()
                .or(api_tokens::expires_at.gt(now)),
        )
        .count()
        .get_result(conn)
}

/// Inserts `token` under `limit` (see [`IdentityRepository::insert_token`]), inside
/// the caller's writer transaction.
fn insert_token_within(
    conn: &mut DbConnection,
    token: &NewApiTokenRecord,
    limit: TokenLimit,
) -> QueryResult<TokenInsert> {
    let now = to_db(token.created_at);
    // PostgreSQL: inserts of one user's tokens queue on the user's row, so that the
    // count below cannot be raced past the cap; the parent is share-locked, so that
    // a revoke of it waits for this insert (and then revokes the new child too) or
    // is seen by it. SQLite's writer transaction holds the database's write lock.
    if let DbConnection::Postgresql(inner) = conn {
        users::table
            .filter(users::id.eq(token.user_id.0))
            .select(users::id)
            .for_update()
            .first::<i64>(inner)?;
    }
    if let Some(parent) = token.parent {
        let query = api_tokens::table
            .filter(api_tokens::id.eq(parent.0))
            .filter(api_tokens::revoked_at.is_null())
            .filter(
                api_tokens::expires_at
                    .is_null()
                    .or(api_tokens::expires_at.gt(now)),
            )
            .select(api_tokens::id);
        let live = match conn {
            DbConnection::Postgresql(inner) => query.for_share().first::<i64>(inner).optional()?,
            DbConnection::Sqlite(inner) => query.first::<i64>(inner).optional()?,
        };
        if live.is_none() {
            return Ok(TokenInsert::ParentGone);
        }
    }
    let max_live = i64::from(limit.max_live);
    while live_token_count(conn, token.user_id, now)? >= max_live {
        if limit.when_full == WhenFull::Refuse {
            return Ok(TokenInsert::LimitReached);
        }
        let oldest_login: Option<i64> = api_tokens::table
            .filter(api_tokens::user_id.eq(token.user_id.0))
            .filter(api_tokens::kind.eq(TokenKind::Login.as_str()))
            .filter(api_tokens::revoked_at.is_null())
            .filter(
                api_tokens::expires_at
                    .is_null()
                    .or(api_tokens::expires_at.gt(now)),
            )
            .order((api_tokens::created_at.asc(), api_tokens::id.asc()))
            .select(api_tokens::id)
            .first(conn)
            .optional()?;
        let Some(oldest_login) = oldest_login else {
            return Ok(TokenInsert::LimitReached);
        };
        revoke_lineage(conn, TokenId(oldest_login), Some(token.user_id), now)?;
    }
    let row = insert_token_row(conn, &NewApiTokenRow::from_domain(token, token.user_id))?;
    Ok(TokenInsert::Inserted(row.into_domain().map_err(
        |error| diesel::result::Error::DeserializationError(Box::new(error)),
    )?))
}

impl IdentityRepository for DieselIdentityRepository {
    fn principal(
        &self,
        hash: &TokenHash,
        organization: Option<&DomainHandle>,
    ) -> Result<Option<Principal>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        // A deleted service account's tokens were revoked with it; the filter on
        // `deleted_at` refuses them even so.
        let live = api_tokens::token_hash
            .eq(hash.0.as_str())
            .and(api_tokens::revoked_at.is_null())
            .and(service_accounts::deleted_at.is_null());
        let Some(handle) = organization else {
            type BareRow = (
                i64,
                i64,
                Option<StoredTime>,
                Option<StoredTime>,
                Option<String>,
                Option<i64>,
            );
            let query = api_tokens::table
                .inner_join(users::table)
                .left_join(service_accounts::table.on(service_accounts::user_id.eq(users::id)))
                .filter(live)
                .select((
                    api_tokens::id,
                    users::id,
                    api_tokens::expires_at,
                    api_tokens::last_used_at,
                    api_tokens::scopes,
                    service_accounts::id.nullable(),
                ));
            // On every request: run on the inner connection (see crate::connection).
            let row: Option<BareRow> = on_backend!(conn, |inner| query.first(inner).optional())
                .map_err(repository_error)?;
            let Some((token_id, user_id, expires_at, last_used_at, scopes, service_account)) = row
            else {
                return Ok(None);
            };
            return Ok(Some(Principal {
                user_id: UserId(user_id),
                token_id: TokenId(token_id),
                token_expires_at: expires_at.map(StoredTime::utc),
                token_last_used_at: last_used_at.map(StoredTime::utc),
                token_scopes: parse_scopes(scopes.as_deref())?,
                service_account: service_account.is_some(),
                membership: None,
            }));
        };
        // One query: the token and its user, the organization named by the handle
        // (at most one row: handles are unique) and the user's membership in it.
        let query = api_tokens::table
            .inner_join(users::table)
            .left_join(service_accounts::table.on(service_accounts::user_id.eq(users::id)))
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
                api_tokens::scopes,
                service_accounts::id.nullable(),
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
            scopes,
            service_account,
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
            token_expires_at: expires_at.map(StoredTime::utc),
            token_last_used_at: last_used_at.map(StoredTime::utc),
            token_scopes: parse_scopes(scopes.as_deref())?,
            service_account: service_account.is_some(),
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

    fn insert_token(
        &self,
        token: &NewApiTokenRecord,
        limit: TokenLimit,
    ) -> Result<TokenInsert, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| insert_token_within(conn, token, limit))
            .map_err(repository_error)
    }

    fn token(&self, id: TokenId) -> Result<Option<TokenRecord>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        api_tokens::table
            .filter(api_tokens::id.eq(id.0))
            .first::<ApiTokenRow>(conn)
            .optional()
            .map_err(repository_error)?
            .map(ApiTokenRow::into_domain)
            .transpose()
    }

    fn tokens_of(&self, user: UserId) -> Result<Vec<TokenRecord>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<ApiTokenRow> = api_tokens::table
            .filter(api_tokens::user_id.eq(user.0))
            .order((api_tokens::created_at.desc(), api_tokens::id.desc()))
            .load(conn)
            .map_err(repository_error)?;
        rows.into_iter().map(ApiTokenRow::into_domain).collect()
    }

    fn revoke_token(&self, id: TokenId, at: Timestamp) -> Result<bool, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| revoke_lineage(conn, id, None, to_db(at)))
            .map_err(repository_error)
    }

    fn revoke_token_of(
        &self,
        user: UserId,
        id: TokenId,
        at: Timestamp,
    ) -> Result<bool, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| revoke_lineage(conn, id, Some(user), to_db(at)))
            .map_err(repository_error)
    }

    fn touch_token(&self, id: TokenId, at: Timestamp) -> Result<(), RepositoryError> {
        // On the path of a request (at most once a minute per token), which may run
        // on an HTTP worker: it never waits for the writer. When the writer is in
        // use, the token's next request records the use.
        let Some(mut pooled) = self.db.writer_if_free()? else {
            return Ok(());
        };
        let conn: &mut DbConnection = &mut pooled;
        diesel::update(api_tokens::table.filter(api_tokens::id.eq(id.0)))
            .set(api_tokens::last_used_at.eq(Some(to_db(at))))
            .execute(conn)
            .map_err(repository_error)?;
        Ok(())
    }

    fn password_hash(&self, user: UserId) -> Result<Option<PasswordHash>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        users::table
            .filter(users::id.eq(user.0))
            .select(users::password_hash)
            .first::<String>(conn)
            .optional()
            .map(|hash| hash.map(PasswordHash))
            .map_err(repository_error)
    }

    fn set_password(&self, user: UserId, hash: &PasswordHash) -> Result<(), RepositoryError> {
        let mut pooled = self.db.writer()?;
        let conn: &mut DbConnection = &mut pooled;
        diesel::update(users::table.filter(users::id.eq(user.0)))
            .set(users::password_hash.eq(&hash.0))
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
        // Service accounts never log in: their users are as unknown here as an
        // email nobody registered.
        users::table
            .filter(users::email.eq(email.as_str()))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                service_accounts::table.filter(service_accounts::user_id.eq(users::id)),
            )))
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
        let writer = self.db.transaction_writer()?;
        let outcome = writer.run::<(), BootstrapError, _>(|conn| {
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

    fn all_organizations(&self) -> Result<Vec<Organization>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        organizations::table
            .order((organizations::created_at.asc(), organizations::id.asc()))
            .load::<OrganizationRow>(conn)
            .map_err(repository_error)?
            .into_iter()
            .map(OrganizationRow::into_domain)
            .collect()
    }

    fn all_users(&self) -> Result<Vec<UserSummary>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<(i64, String, NaiveDateTime)> = users::table
            .order((users::created_at.asc(), users::id.asc()))
            .select((users::id, users::email, users::created_at))
            .load(conn)
            .map_err(repository_error)?;
        Ok(rows
            .into_iter()
            .map(|(id, email, created_at)| UserSummary {
                id: UserId(id),
                email,
                created_at: from_db(created_at),
            })
            .collect())
    }

    fn members_of(&self, organization: OrgId) -> Result<Vec<Member>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<(i64, String, String, NaiveDateTime)> = memberships::table
            .inner_join(users::table)
            .filter(memberships::organization_id.eq(organization.0))
            .order((memberships::created_at.asc(), memberships::id.asc()))
            .select((
                users::id,
                users::email,
                memberships::role,
                memberships::created_at,
            ))
            .load(conn)
            .map_err(repository_error)?;
        rows.into_iter()
            .map(|(user_id, email, role, since)| {
                Ok(Member {
                    user_id: UserId(user_id),
                    email,
                    role: parse_role(&role)?,
                    since: from_db(since),
                })
            })
            .collect()
    }
}
