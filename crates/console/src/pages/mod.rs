//! The console's screens, one module per resource, each registering its own
//! routes. Handlers resolve the session (and the organization of the path), call
//! the application services on the blocking pool, and render a template; every
//! form that changes something carries the session's CSRF token and answers with a
//! redirect (or the form again with its errors next to the fields).

mod audit;
mod auth;
mod bridges;
mod configurations;
mod numbers;
mod tokens;

use actix_web::{Scope, web};

/// Registers every screen on the console's scope.
pub(crate) fn register(scope: Scope) -> Scope {
    let scope = auth::register(scope);
    let scope = configurations::register(scope);
    let scope = bridges::register(scope);
    let scope = numbers::register(scope);
    let scope = tokens::register(scope);
    audit::register(scope)
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
