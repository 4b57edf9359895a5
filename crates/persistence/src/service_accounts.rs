//! Diesel implementation of the service-account port, over the identity tables: a
//! service account is a user (that never logs in) with one membership, and a row of
//! `service_accounts` naming it. Deleting one marks the row, removes the membership
//! and revokes the user's tokens in one writer transaction, so its tokens fail on
//! their very next request.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use switchboard_domain::identity::{
    NewServiceAccount, OrgId, ServiceAccount, ServiceAccountId, ServiceAccountRepository, TokenId,
    UserId,
};
use switchboard_domain::shared::{RepositoryError, Timestamp};

use crate::connection::DbConnection;
use crate::error::repository_error;
use crate::identity::{
    DieselIdentityRepository, NewMembershipRow, NewUserRow, parse_role, revoke_lineage,
};
use crate::schema::{api_tokens, memberships, service_accounts, users};
use crate::time::{from_db, to_db};

#[derive(Insertable)]
#[diesel(table_name = service_accounts)]
struct NewServiceAccountRow<'a> {
    organization_id: i64,
    user_id: i64,
    name: &'a str,
    created_at: NaiveDateTime,
}

type AccountRow = (i64, i64, i64, String, NaiveDateTime, String);

fn into_domain(row: AccountRow) -> Result<ServiceAccount, RepositoryError> {
    let (id, organization_id, user_id, name, created_at, role) = row;
    Ok(ServiceAccount {
        id: ServiceAccountId(id),
        org_id: OrgId(organization_id),
        user_id: UserId(user_id),
        name,
        role: parse_role(&role)?,
        created_at: from_db(created_at),
    })
}

/// The live service accounts of `org`, with their role (from the membership), as
/// [`AccountRow`]s.
macro_rules! live_of {
    ($org:expr) => {
        service_accounts::table
            .inner_join(
                memberships::table.on(memberships::user_id
                    .eq(service_accounts::user_id)
                    .and(memberships::organization_id.eq(service_accounts::organization_id))),
            )
            .filter(service_accounts::organization_id.eq($org.0))
            .filter(service_accounts::deleted_at.is_null())
            .select((
                service_accounts::id,
                service_accounts::organization_id,
                service_accounts::user_id,
                service_accounts::name,
                service_accounts::created_at,
                memberships::role,
            ))
    };
}

fn find(
    conn: &mut DbConnection,
    org: OrgId,
    id: ServiceAccountId,
) -> QueryResult<Option<AccountRow>> {
    live_of!(org)
        .filter(service_accounts::id.eq(id.0))
        .first(conn)
        .optional()
}

impl ServiceAccountRepository for DieselIdentityRepository {
    fn insert_service_account(
        &self,
        account: &NewServiceAccount,
    ) -> Result<ServiceAccount, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        let created_at = to_db(account.user.created_at);
        let id = writer
            .run(|conn| {
                let user_id = diesel::insert_into(users::table)
                    .values(NewUserRow::from_domain(&account.user))
                    .returning(users::id)
                    .get_result::<i64>(conn)?;
                diesel::insert_into(memberships::table)
                    .values(NewMembershipRow {
                        organization_id: account.org_id.0,
                        user_id,
                        role: account.role.as_str(),
                        created_at,
                    })
                    .execute(conn)?;
                diesel::insert_into(service_accounts::table)
                    .values(NewServiceAccountRow {
                        organization_id: account.org_id.0,
                        user_id,
                        name: &account.name,
                        created_at,
                    })
                    .returning(service_accounts::id)
                    .get_result::<i64>(conn)
            })
            .map_err(repository_error)?;
        // Committed when `run` returns: a reader sees it.
        find(
            &mut *self.db.reader()?,
            account.org_id,
            ServiceAccountId(id),
        )
        .map_err(repository_error)?
        .ok_or_else(|| RepositoryError::Internal("a new service account vanished".into()))
        .and_then(into_domain)
    }

    fn service_accounts_of(&self, org: OrgId) -> Result<Vec<ServiceAccount>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        let conn: &mut DbConnection = &mut pooled;
        let rows: Vec<AccountRow> = live_of!(org)
            .order(service_accounts::id.asc())
            .load(conn)
            .map_err(repository_error)?;
        rows.into_iter().map(into_domain).collect()
    }

    fn service_account(
        &self,
        org: OrgId,
        id: ServiceAccountId,
    ) -> Result<Option<ServiceAccount>, RepositoryError> {
        let mut pooled = self.db.reader()?;
        find(&mut pooled, org, id)
            .map_err(repository_error)?
            .map(into_domain)
            .transpose()
    }

    fn delete_service_account(
        &self,
        org: OrgId,
        id: ServiceAccountId,
        at: Timestamp,
    ) -> Result<bool, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        let at = to_db(at);
        writer
            .run(|conn| {
                let Some((_, _, user_id, ..)) = find(conn, org, id)? else {
                    return Ok(false);
                };
                diesel::update(service_accounts::table.filter(service_accounts::id.eq(id.0)))
                    .set(service_accounts::deleted_at.eq(Some(at)))
                    .execute(conn)?;
                diesel::delete(memberships::table.filter(memberships::user_id.eq(user_id)))
                    .execute(conn)?;
                diesel::update(
                    api_tokens::table
                        .filter(api_tokens::user_id.eq(user_id))
                        .filter(api_tokens::revoked_at.is_null()),
                )
                .set(api_tokens::revoked_at.eq(Some(at)))
                .execute(conn)?;
                Ok(true)
            })
            .map_err(repository_error)
    }

    fn revoke_service_account_token(
        &self,
        org: OrgId,
        id: ServiceAccountId,
        token: TokenId,
        at: Timestamp,
    ) -> Result<bool, RepositoryError> {
        let writer = self.db.transaction_writer()?;
        writer
            .run(|conn| {
                let Some((_, _, user_id, ..)) = find(conn, org, id)? else {
                    return Ok(false);
                };
                revoke_lineage(conn, token, Some(UserId(user_id)), to_db(at))
            })
            .map_err(repository_error)
    }
}
