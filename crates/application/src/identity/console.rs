//! Console sessions: the web console signs people in with the same users and keeps
//! its sessions as tokens of the token table (kind `login`, name
//! [`CONSOLE_SESSION_NAME`]), so that revoking one (sign-out, `DELETE
//! /auth/tokens/{id}/`, an operator) ends it at once. A session ends after
//! [`SessionPolicy::absolute`] whatever happens, and after [`SessionPolicy::idle`]
//! without a request. The development profile's one-time sign-in link is a token
//! too (name [`CONSOLE_LINK_NAME`]), revoked when redeemed.

use chrono::Duration;
use secrecy::{ExposeSecret, SecretString};
use switchboard_domain::identity::{
    ApiToken, DomainHandle, Email, TokenKind, TokenLimit, TokenRecord, UserId,
};
use switchboard_domain::shared::RepositoryError;

use super::{
    Actor, AuthenticateError, Caller, IdentityService, IssueTokenError, IssuedToken, Lineage,
    LoginError,
};

/// Name of the tokens that carry console sessions.
pub const CONSOLE_SESSION_NAME: &str = "console session";
/// Name of the console sessions started by a sign-in link (they may set a password
/// without the current one: the development owner has none that anybody knows).
pub const CONSOLE_LINK_SESSION_NAME: &str = "console session (sign-in link)";
/// Name of the one-time console sign-in link tokens.
pub const CONSOLE_LINK_NAME: &str = "console sign-in link";
/// Lifetime of an unredeemed sign-in link.
const LINK_LIFETIME_HOURS: i64 = 24;

/// How long console sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long ends (resolution: one minute).
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub absolute: Duration,
}

/// A live console session: who it is, and their membership in the organization
/// the request named (when a member).
#[derive(Debug, Clone, PartialEq)]
pub struct ConsoleSession {
    pub caller: Caller,
    pub actor: Option<Actor>,
    /// Started by a one-time sign-in link (not by a password).
    pub from_link: bool,
}

/// Why a password could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    /// The current password is wrong (or missing where it is needed).
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("password must be 8 to 1024 characters")]
    InvalidPassword,
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

impl IdentityService {
    /// Starts a console session for a user whose password matched.
    ///
    /// # Errors
    /// [`LoginError::TokenLimit`] or a repository failure.
    pub fn start_console_session(
        &self,
        user: UserId,
        policy: SessionPolicy,
    ) -> Result<IssuedToken, LoginError> {
        self.console_session_named(user, policy, CONSOLE_SESSION_NAME)
    }

    fn console_session_named(
        &self,
        user: UserId,
        policy: SessionPolicy,
        name: &str,
    ) -> Result<IssuedToken, LoginError> {
        let now = self.clock.now();
        let lineage = Lineage {
            kind: TokenKind::Login,
            parent: None,
            limit: TokenLimit::for_login(),
            scopes: None,
        };
        self.store_token(user, name, now, Some(now + policy.absolute), lineage)
            .map_err(|error| match error {
                IssueTokenError::Repository(error) => LoginError::Repository(error),
                IssueTokenError::TokenLimit => LoginError::TokenLimit,
                other => LoginError::Repository(RepositoryError::Internal(other.to_string())),
            })
    }

    /// Resolves a session cookie: a live console session token, used within the
    /// idle timeout, and the caller's membership in `org_handle` when named. An idle
    /// session is revoked on the spot.
    ///
    /// # Errors
    /// [`AuthenticateError::InvalidToken`] for anything but a live console session.
    pub fn console_session(
        &self,
        presented: &str,
        org_handle: Option<&str>,
        policy: SessionPolicy,
    ) -> Result<ConsoleSession, AuthenticateError> {
        let handle = org_handle.and_then(|text| DomainHandle::parse(text).ok());
        let principal = self.principal(presented, handle.as_ref())?;
        let record = self
            .repository
            .token(principal.token_id)?
            .filter(is_console_session)
            .ok_or(AuthenticateError::InvalidToken)?;
        let now = self.clock.now();
        let last = record.last_used_at.unwrap_or(record.created_at);
        if now - last > policy.idle {
            self.repository.revoke_token(record.id, now)?;
            return Err(AuthenticateError::InvalidToken);
        }
        if record
            .last_used_at
            .is_none_or(|last| (now - last).num_seconds() >= super::LAST_USED_RESOLUTION_SECONDS)
            && let Err(error) = self.repository.touch_token(record.id, now)
        {
            tracing::warn!(%error, "could not record the session's last use");
        }
        let caller = Caller {
            user_id: principal.user_id,
            token_id: principal.token_id,
        };
        let actor = principal.membership.map(|membership| Actor {
            user_id: principal.user_id,
            token_id: principal.token_id,
            org_id: membership.org_id,
            org_handle: membership.handle,
            role: membership.role,
        });
        Ok(ConsoleSession {
            caller,
            actor,
            from_link: record.name == CONSOLE_LINK_SESSION_NAME,
        })
    }

    /// Sets the password of the session's user (Argon2id, as `create_user`;
    /// blocking: run it on a blocking pool). The
    /// current password is checked, unless the session was started by a sign-in
    /// link (then `current` is ignored).
    ///
    /// # Errors
    /// [`ChangePasswordError`].
    pub fn change_password(
        &self,
        session: &ConsoleSession,
        current: &SecretString,
        new: &SecretString,
    ) -> Result<(), ChangePasswordError> {
        let length = new.expose_secret().chars().count();
        if !(8..=1024).contains(&length) {
            return Err(ChangePasswordError::InvalidPassword);
        }
        if !session.from_link {
            let stored = self
                .repository
                .password_hash(session.caller.user_id)?
                .ok_or(ChangePasswordError::WrongPassword)?;
            if !self.password_hasher.verify(current, &stored) {
                return Err(ChangePasswordError::WrongPassword);
            }
        }
        let hash = self
            .password_hasher
            .hash(new)
            .map_err(ChangePasswordError::Hashing)?;
        self.repository
            .set_password(session.caller.user_id, &hash)?;
        Ok(())
    }

    /// Ends a console session (sign-out). Ending one already ended is no error.
    ///
    /// # Errors
    /// A repository failure.
    pub fn end_console_session(&self, caller: Caller) -> Result<(), RepositoryError> {
        self.repository
            .revoke_token_of(caller.user_id, caller.token_id, self.clock.now())?;
        Ok(())
    }

    /// Issues an API token to a person signed in to the console. The person made it
    /// (with their password, through the session), not the session's token: it has
    /// no parent, so signing out does not revoke it, and it lives as asked.
    ///
    /// # Errors
    /// [`IssueTokenError`] for a bad name or expiry, or a user at the token limit.
    pub fn issue_token_from_console(
        &self,
        caller: Caller,
        name: &str,
        expires_in_days: Option<u32>,
    ) -> Result<IssuedToken, IssueTokenError> {
        super::check_token_request(name, expires_in_days)?;
        let now = self.clock.now();
        let expires_at = expires_in_days.map(|days| now + Duration::days(i64::from(days)));
        let lineage = Lineage {
            kind: TokenKind::Api,
            parent: None,
            limit: TokenLimit::refuse(),
            scopes: None,
        };
        self.store_token(caller.user_id, name, now, expires_at, lineage)
    }

    /// Issues a one-time console sign-in link for the user with `email` (the
    /// development profile's first start prints it): valid for a day, once.
    ///
    /// # Errors
    /// [`IssueTokenError::UnknownUser`] or a repository failure.
    pub fn issue_console_link(&self, email: &str) -> Result<ApiToken, IssueTokenError> {
        let user = Email::parse(email)
            .ok()
            .map(|email| self.repository.user_id_by_email(&email))
            .transpose()?
            .flatten()
            .ok_or(IssueTokenError::UnknownUser)?;
        let now = self.clock.now();
        let lineage = Lineage {
            kind: TokenKind::Admin,
            parent: None,
            limit: TokenLimit::refuse(),
            scopes: None,
        };
        let expires = now + Duration::hours(LINK_LIFETIME_HOURS);
        self.store_token(user, CONSOLE_LINK_NAME, now, Some(expires), lineage)
            .map(|issued| issued.token)
    }

    /// Redeems a sign-in link: revokes it (of two concurrent redemptions, one wins)
    /// and starts a session for its user.
    ///
    /// # Errors
    /// [`AuthenticateError::InvalidToken`] for anything but a live, unused link.
    pub fn redeem_console_link(
        &self,
        presented: &str,
        policy: SessionPolicy,
    ) -> Result<IssuedToken, AuthenticateError> {
        let principal = self.principal(presented, None)?;
        let record = self
            .repository
            .token(principal.token_id)?
            .filter(|record| {
                record.revoked_at.is_none()
                    && record.kind == TokenKind::Admin
                    && record.name == CONSOLE_LINK_NAME
            })
            .ok_or(AuthenticateError::InvalidToken)?;
        if !self.repository.revoke_token(record.id, self.clock.now())? {
            return Err(AuthenticateError::InvalidToken);
        }
        self.console_session_named(principal.user_id, policy, CONSOLE_LINK_SESSION_NAME)
            .map_err(|error| match error {
                LoginError::Repository(error) => AuthenticateError::Repository(error),
                other => {
                    AuthenticateError::Repository(RepositoryError::Internal(other.to_string()))
                }
            })
    }
}

fn is_console_session(record: &TokenRecord) -> bool {
    record.revoked_at.is_none()
        && record.kind == TokenKind::Login
        && (record.name == CONSOLE_SESSION_NAME || record.name == CONSOLE_LINK_SESSION_NAME)
}
