//! The web console: server-rendered pages under `/console/` for the people who
//! manage an organization's telephony (contract section 15).
//!
//! It is an adapter beside the HTTP API, over the same application services (never
//! over persistence), in rooms that depend on each other one way only:
//!
//! - `assets`: the stylesheet and the vendored htmx, served from the binary under
//!   content-hashed names with a year-long cache;
//! - `security`: the headers of every answer (CSP, framing, sniffing, referrer) and
//!   the cross-site check of every POST (`Origin`, `Sec-Fetch-Site`);
//! - `session`: the session cookie, console sessions (tokens of the token table, so
//!   revocation ends them at once), CSRF tokens;
//! - `view`: what every page shows (navigation, organization switcher, pagination)
//!   and the error pages;
//! - `pages`: one module per screen, each a handful of handlers and their
//!   templates (askama: checked at compile time, escaped by default).
//!
//! Every write goes through the application service that the API uses, so the
//! console enforces exactly the API's rules (roles, formats, conflicts); a viewer
//! sees no write control and a forged write gets the service's refusal (403).

mod assets;
mod pages;
mod security;
mod session;
mod view;

use actix_web::middleware::from_fn;
use actix_web::web;
pub use switchboard_application::identity::SessionPolicy;

/// Where the console is mounted.
pub const CONSOLE_BASE: &str = "/console";

/// How the console runs.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleConfig {
    /// `Secure` cookies with the `__Host-` prefix (every profile but development).
    pub secure_cookies: bool,
    /// Idle and absolute session timeouts.
    pub sessions: SessionPolicy,
}

impl ConsoleConfig {
    /// A configuration from settings: cookies, idle minutes, session hours (each
    /// at least 1).
    #[must_use]
    pub fn new(secure_cookies: bool, idle_minutes: u32, session_hours: u32) -> Self {
        Self {
            secure_cookies,
            sessions: SessionPolicy {
                idle: chrono::Duration::minutes(i64::from(idle_minutes.max(1))),
                absolute: chrono::Duration::hours(i64::from(session_hours.max(1))),
            },
        }
    }
}

/// Registers the console's routes (the caller registers `switchboard_http::AppState`
/// as app data). Use with `App::configure`.
pub fn configure(config: ConsoleConfig) -> impl FnOnce(&mut web::ServiceConfig) {
    move |service_config| {
        let scope = web::scope(CONSOLE_BASE)
            .app_data(web::Data::new(config))
            .app_data(web::FormConfig::default().limit(64 * 1024))
            .service(assets::resource());
        service_config.service(
            pages::register(scope)
                .default_service(web::to(view::not_found))
                .wrap(from_fn(security::guard)),
        );
    }
}

/// The path of the one-time sign-in link for `token` (relative to the server root).
#[must_use]
pub fn sign_in_link_path(token: &str) -> String {
    format!("{CONSOLE_BASE}/link?token={token}")
}
