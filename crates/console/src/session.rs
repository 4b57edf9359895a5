//! Console sessions in the browser: the session cookie (`HttpOnly`,
//! `SameSite=Strict`, and `Secure` with the `__Host-` prefix outside development),
//! its resolution through the identity service on every request, and the CSRF
//! token of every form.
//!
//! The CSRF token of a session is a hash of the session's own token under a label:
//! a page can carry it (it tells nothing of the token), a forged form from another
//! site cannot know it, and it needs no storage. The sign-in form, before any
//! session, uses a random value held in a cookie of its own (double submit).

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web;
use sha2::{Digest, Sha256};
use switchboard_application::Actor;
use switchboard_application::identity::{AuthenticateError, Caller, ConsoleSession};
use switchboard_http::AppState;

use crate::ConsoleConfig;
use crate::view::PageError;

/// The session cookie's name.
pub(crate) fn session_cookie_name(config: &ConsoleConfig) -> &'static str {
    if config.secure_cookies {
        "__Host-sb_session"
    } else {
        "sb_session"
    }
}

/// The sign-in form's CSRF cookie name.
pub(crate) fn login_cookie_name(config: &ConsoleConfig) -> &'static str {
    if config.secure_cookies {
        "__Host-sb_login"
    } else {
        "sb_login"
    }
}

/// A `Set-Cookie` value: `value` for `max_age` seconds (0 clears it).
pub(crate) fn cookie(config: &ConsoleConfig, name: &str, value: &str, max_age: i64) -> String {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

/// The value of cookie `name` in `req`.
pub(crate) fn read_cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The CSRF token of the session whose token is `token`.
pub(crate) fn csrf_of(token: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"switchboard console csrf\0")
        .chain_update(token.as_bytes())
        .finalize();
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Compares two texts in time independent of where they differ.
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A signed-in person on one request.
pub(crate) struct Session {
    pub(crate) caller: Caller,
    /// The membership in the organization of the page, when the page has one.
    pub(crate) actor: Option<Actor>,
    /// The CSRF token forms of this session carry.
    pub(crate) csrf: String,
    /// Started by a one-time sign-in link.
    pub(crate) from_link: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Refuses a form whose CSRF token is not this session's.
    pub(crate) fn check_csrf(&self, submitted: Option<&str>) -> Result<(), PageError> {
        match submitted {
            Some(submitted) if same_text(submitted, &self.csrf) => Ok(()),
            _ => Err(PageError::Forbidden(
                "The form has expired or did not come from this console. Reload the page and try again.",
            )),
        }
    }

    /// The membership in the page's organization (present for organization pages).
    pub(crate) fn actor(&self) -> Result<&Actor, PageError> {
        self.actor.as_ref().ok_or(PageError::NoOrganization)
    }
}

/// The session of `req` (and the membership in `org` when given); no session, or
/// an ended one, sends the person to the sign-in page.
pub(crate) async fn require(req: &HttpRequest, org: Option<&str>) -> Result<Session, PageError> {
    let (state, config) = context(req)?;
    let Some(token) = read_cookie(req, session_cookie_name(&config)) else {
        return Err(PageError::SignIn);
    };
    let org = org.map(str::to_owned);
    let csrf = csrf_of(&token);
    let resolved = web::block(move || {
        state
            .identity
            .console_session(&token, org.as_deref(), config.sessions)
    })
    .await
    .map_err(|_| PageError::Internal)?;
    match resolved {
        Ok(ConsoleSession {
            caller,
            actor,
            from_link,
        }) => Ok(Session {
            caller,
            actor,
            csrf,
            from_link,
        }),
        Err(AuthenticateError::InvalidToken | AuthenticateError::ForbiddenOrganization) => {
            Err(PageError::SignIn)
        }
        Err(AuthenticateError::Repository(error)) => Err(PageError::from(error)),
    }
}

/// The API's state and the console's configuration.
pub(crate) fn context(
    req: &HttpRequest,
) -> Result<(web::Data<AppState>, ConsoleConfig), PageError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or(PageError::Internal)?;
    let config = req
        .app_data::<web::Data<ConsoleConfig>>()
        .map(|config| *config.get_ref())
        .ok_or(PageError::Internal)?;
    Ok((state, config))
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn config(secure_cookies: bool) -> ConsoleConfig {
        ConsoleConfig::new(secure_cookies, 30, 12)
    }

    #[test]
    fn cookies_are_strict_and_http_only_and_secure_outside_development() {
        let secure = cookie(&config(true), session_cookie_name(&config(true)), "v", 60);
        assert_eq!(
            secure,
            "__Host-sb_session=v; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        let plain = cookie(&config(false), session_cookie_name(&config(false)), "v", 0);
        assert_eq!(
            plain,
            "sb_session=v; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
        );
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let req = TestRequest::default()
            .insert_header(("cookie", "a_sb_session=x; sb_session=right; other=1"))
            .to_http_request();
        assert_eq!(read_cookie(&req, "sb_session").as_deref(), Some("right"));
        assert_eq!(read_cookie(&req, "missing"), None);
    }

    #[test]
    fn csrf_tokens_differ_per_session_and_reveal_nothing_of_it() {
        let one = csrf_of("sbt_one");
        assert_eq!(one, csrf_of("sbt_one"));
        assert_ne!(one, csrf_of("sbt_two"));
        assert_eq!(one.len(), 64);
        assert!(!one.contains("sbt_one"));
        assert!(same_text(&one, &csrf_of("sbt_one")));
        assert!(!same_text(&one, &one[..63]));
    }
}
