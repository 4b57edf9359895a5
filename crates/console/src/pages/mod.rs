//! The console's screens, one module per resource, each registering its own
//! routes. Handlers resolve the session (and the organization of the path), call
//! the application services on the blocking pool, and render a template; every
//! form that changes something carries the session's CSRF token and answers with a
//! redirect (or the form again with its errors next to the fields).

mod audit;
mod auth;
mod bridges;
mod configurations;
mod credential_form;
mod numbers;
mod rotations;
mod service_accounts;
mod tokens;
mod webhooks;

use actix_web::{HttpRequest, Scope, web};
use serde::Deserialize;

use crate::session::{self, Session};
use crate::view::PageError;

/// Registers every screen on the console's scope.
pub(crate) fn register(scope: Scope) -> Scope {
    let scope = auth::register(scope);
    let scope = configurations::register(scope);
    let scope = rotations::register(scope);
    let scope = bridges::register(scope);
    let scope = numbers::register(scope);
    let scope = tokens::register(scope);
    let scope = service_accounts::register(scope);
    let scope = webhooks::register(scope);
    audit::register(scope)
}

/// The session of a page of organization `org` (the person must be a member).
pub(crate) async fn org_session(req: &HttpRequest, org: &str) -> Result<Session, PageError> {
    let session = session::require(req, Some(org)).await?;
    session.actor()?;
    Ok(session)
}

/// [`org_session`] for a submitted form: its CSRF token checked as well (every
/// form of an organization's pages posts through here).
pub(crate) async fn org_form_session(
    req: &HttpRequest,
    org: &str,
    form: &FormFields,
) -> Result<Session, PageError> {
    let session = org_session(req, org).await?;
    session.check_csrf(field(form, "csrf"))?;
    Ok(session)
}

/// The query of a paginated list: the page, and the notice after a redirect.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    pub(crate) page: Option<String>,
    pub(crate) done: Option<String>,
}

/// A form as submitted: its fields in order (field names can come from the
/// catalog, so no fixed struct).
pub(crate) type FormFields = web::Form<Vec<(String, String)>>;

/// The value of `name` in a submitted form.
pub(crate) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// The value of `name`, trimmed, `None` when empty.
pub(crate) fn filled<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    field(form, name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// Every value of `name` in a submitted form (a group of checkboxes).
pub(crate) fn every<'a>(form: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    form.iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> Vec<(String, String)> {
        [
            ("name", " x "),
            ("scopes", "a"),
            ("scopes", "b"),
            ("empty", "  "),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn fields_are_read_by_name() {
        let form = form();
        assert_eq!(field(&form, "name"), Some(" x "));
        assert_eq!(filled(&form, "name"), Some("x"));
        assert_eq!(filled(&form, "empty"), None);
        assert_eq!(every(&form, "scopes"), vec!["a", "b"]);
        assert!(every(&form, "missing").is_empty());
    }
}
