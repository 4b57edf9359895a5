//! End-to-end tests of the web console (contract section 15) on SQLite and
//! PostgreSQL, over real HTTP like a browser without JavaScript: sign-in and the
//! session cookie's attributes, the security headers of every page, CSRF tokens
//! and cross-site refusal, a viewer's pages and forged writes, sign-out and token
//! revocation ending a session, the one-time sign-in link, and no secret in any
//! page. (The browser tests of scripts/browser/console.sh drive the same pages in
//! Chromium.)

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::json;
use switchboard_domain::identity::Role;
use switchboard_test_support::{
    Backend, PASSWORD, TestApp, TestUser, on_both_backends, spawn_app, twilio_sid, twilio_token,
};

pub(crate) const SESSION: &str = "__Host-sb_session";
const LOGIN: &str = "__Host-sb_login";

/// A cookie-keeping client that does not follow redirects.
pub(crate) struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

/// An answer as the browser saw it.
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) html: String,
}

impl Page {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok().map(str::to_owned))
            .collect()
    }

    /// The value of hidden input `name` (the first one).
    pub(crate) fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.html.find(&marker).expect("hidden input present") + marker.len();
        let end = self.html[start..].find('"').expect("value closes");
        self.html[start..start + end].to_owned()
    }
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client builds"),
            base: app.base_url.clone(),
            cookies: Vec::new(),
        }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    }

    pub(crate) async fn send(
        &mut self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
        headers: &[(&str, &str)],
    ) -> Page {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header("cookie", jar.join("; "));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await.expect("request sent");
        let page = Page {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            html: response.text().await.expect("body read"),
        };
        for cookie in page.set_cookies() {
            let pair = cookie.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(key, _)| key != name);
                if !value.is_empty() && !cookie.contains("Max-Age=0") {
                    self.cookies.push((name.to_owned(), value.to_owned()));
                }
            }
        }
        page
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None, &[]).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form), &[]).await
    }

    /// Signs in through the form; answers the form's answer.
    async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/console/login").await;
        let csrf = form.hidden("csrf");
        self.post(
            "/console/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }
}

pub(crate) fn assert_defences(page: &Page) {
    let csp = page.header("content-security-policy");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    assert_eq!(page.header("referrer-policy"), "same-origin");
    assert_eq!(page.header("cache-control"), "no-store");
}

pub(crate) async fn signed_in(app: &TestApp, user: &TestUser) -> Browser {
    signed_in_with(app, &user.email, PASSWORD).await
}

async fn signed_in_with(app: &TestApp, email: &str, password: &str) -> Browser {
    let mut browser = Browser::new(app);
    let answer = browser.sign_in(email, password).await;
    assert_eq!(answer.status, 303, "{}", answer.html);
    browser
}

async fn sign_in_and_the_session_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let mut browser = Browser::new(&app);

    let form = browser.get("/console/login").await;
    assert_eq!(form.status, 200);
    assert!(form.header("content-type").starts_with("text/html"));
    assert_defences(&form);
    assert!(!form.html.contains("http://") && !form.html.contains("https://"));
    assert!(browser.cookie(LOGIN).is_some(), "{:?}", form.set_cookies());

    // The stylesheet is served from the binary under a hashed name, cached long.
    let start = form
        .html
        .find("/console/assets/console.")
        .expect("stylesheet linked");
    let end = form.html[start..].find('"').expect("href closes");
    let css = browser.get(&form.html[start..start + end]).await;
    assert_eq!(css.status, 200);
    assert_eq!(
        css.header("cache-control"),
        "public, max-age=31536000, immutable"
    );

    // A wrong password: the form again, with the message; no session.
    let wrong = browser.sign_in(&owner.email, "not the password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.html.contains("Invalid email or password."));
    assert!(browser.cookie(SESSION).is_none());

    let answer = browser.sign_in(&owner.email, PASSWORD).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.header(LOCATION.as_str()), "/console");
    let cookie = answer
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(SESSION))
        .expect("session cookie set");
    for attribute in ["Path=/", "HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }

    // One organization: straight to its configurations.
    let home = browser.get("/console").await;
    assert_eq!(home.status, 303);
    assert_eq!(
        home.header(LOCATION.as_str()),
        "/console/o/acme/configurations"
    );
    let list = browser.get("/console/o/acme/configurations").await;
    assert_eq!(list.status, 200);
    assert_defences(&list);
    assert!(list.html.contains("Provider configurations"));
    assert!(list.html.contains("New configuration"));

    // Without a cookie: to the sign-in page.
    let anonymous = Browser::new(&app)
        .get("/console/o/acme/configurations")
        .await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.header(LOCATION.as_str()), "/console/login");
    // Another organization's pages: refused.
    app.organization("other");
    let foreign = browser.get("/console/o/other/configurations").await;
    assert_eq!(foreign.status, 403);
}

async fn forms_need_the_csrf_token_and_the_same_site(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let mut browser = signed_in(&app, &owner).await;
    let form = browser
        .get("/console/o/acme/configurations/new?provider=twilio")
        .await;
    assert_eq!(form.status, 200);
    let csrf = form.hidden("csrf");
    let sid = twilio_sid(1);
    let token = twilio_token(1);
    let path = "/console/o/acme/configurations";

    // No token, a wrong token, a cross-site origin, a cross-site fetch: 403.
    let without = [
        ("provider", "twilio"),
        ("account_sid", sid.as_str()),
        ("auth_token", token.as_str()),
    ];
    assert_eq!(browser.post(path, &without).await.status, 403);
    let wrong = [
        ("csrf", "0000"),
        ("provider", "twilio"),
        ("account_sid", sid.as_str()),
        ("auth_token", token.as_str()),
    ];
    assert_eq!(browser.post(path, &wrong).await.status, 403);
    let mut good: Vec<(&str, &str)> = vec![
        ("csrf", csrf.as_str()),
        ("provider", "twilio"),
        ("active", "true"),
        ("account_sid", sid.as_str()),
        ("auth_token", token.as_str()),
    ];
    let cross = browser
        .send(
            Method::POST,
            path,
            Some(&good),
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(cross.status, 403);
    assert_defences(&cross);
    let fetch = browser
        .send(
            Method::POST,
            path,
            Some(&good),
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(fetch.status, 403);
    let listed = app.list_configs(&owner, "").await;
    assert_eq!(listed.body["count"], 0, "nothing was created");

    // A bad identifier: the form again, the message next to its field, and the
    // secret not echoed.
    good[3] = ("account_sid", "AC-not-a-sid");
    let invalid = browser.post(path, &good).await;
    assert_eq!(invalid.status, 400);
    let field_start = invalid
        .html
        .find("id=\"f-account_sid\"")
        .expect("field shown");
    let errors = invalid.html[field_start..]
        .find("id=\"e-account_sid\"")
        .expect("error next to the field");
    assert!(errors < 2000);
    assert!(!invalid.html.contains(&token));

    // The same request from the page itself: created, and the pages never show
    // the secret.
    good[3] = ("account_sid", sid.as_str());
    let host = app.base_url.trim_start_matches("http://").to_owned();
    let origin = format!("http://{host}");
    let created = browser
        .send(
            Method::POST,
            path,
            Some(&good),
            &[("origin", &origin), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.html);
    let location = created.header(LOCATION.as_str()).to_owned();
    let detail = browser.get(&location).await;
    assert_eq!(detail.status, 200);
    assert!(detail.html.contains(&sid));
    assert!(!detail.html.contains(&token));
    assert!(
        detail.html.contains(&token[token.len() - 4..]),
        "last four shown"
    );
    let list = browser.get(path).await;
    assert!(!list.html.contains(&token));
}

async fn viewers_see_no_write_controls_and_forged_writes_fail(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let viewer = app.user_in("acme", Role::Viewer);
    let created = app
        .create_config(
            &owner,
            &json!({
                "provider": "twilio", "account_sid": twilio_sid(2), "auth_token": twilio_token(2)
            }),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["data"]["id"].as_i64().expect("id");

    let mut browser = signed_in(&app, &viewer).await;
    let list = browser.get("/console/o/acme/configurations").await;
    assert_eq!(list.status, 200);
    assert!(!list.html.contains("New configuration"));
    assert!(list.html.contains("Read-only"));
    let detail = browser
        .get(&format!("/console/o/acme/configurations/{id}"))
        .await;
    assert_eq!(detail.status, 200);
    for control in [
        "Delete",
        "Deactivate",
        "Save changes",
        "Verify with the provider",
    ] {
        assert!(
            !detail.html.contains(control),
            "{control} shown to a viewer"
        );
    }
    let numbers = browser.get("/console/o/acme/numbers").await;
    assert!(!numbers.html.contains("Add number"));

    // A forged delete with the viewer's own valid CSRF token: refused by the
    // service, nothing deleted.
    let csrf = detail.hidden("csrf");
    let forged = browser
        .post(
            &format!("/console/o/acme/configurations/{id}/delete"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let forged = browser
        .post(
            "/console/o/acme/numbers",
            &[("csrf", &csrf), ("number", "+14155550100")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(app.get_config(&owner, id).await.status, 200);
    assert_eq!(app.list_numbers(&viewer, "").await.body["count"], 0);
}

async fn sign_out_and_revocation_end_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);

    // Sign-out: the cookie goes, and the old cookie no longer works.
    let mut browser = signed_in(&app, &owner).await;
    let session = browser.cookie(SESSION).expect("session");
    let page = browser.get("/console/o/acme/tokens").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("console session"));
    assert!(
        !page.html.contains(&session),
        "the session token is never shown"
    );
    let csrf = page.hidden("csrf");
    let out = browser.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(browser.cookie(SESSION).is_none());
    browser.cookies.push((SESSION.to_owned(), session.clone()));
    let after = browser.get("/console/o/acme/configurations").await;
    assert_eq!(after.status, 303);
    assert_eq!(after.header(LOCATION.as_str()), "/console/login");
    // Nor as an API token.
    let api = app
        .call(
            Method::GET,
            "/organizations/",
            Some(&session),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(api.status, 401);

    // Revoking the session's token through the API ends it at once.
    let mut browser = signed_in(&app, &owner).await;
    assert_eq!(browser.get("/console/o/acme/numbers").await.status, 200);
    let tokens = app.list_tokens(&owner).await;
    let session_id = tokens.body["data"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|token| token["name"] == "console session")
        .and_then(|token| token["id"].as_i64())
        .expect("the session is listed");
    assert_eq!(app.revoke_token(&owner, session_id).await.status, 204);
    assert_eq!(browser.get("/console/o/acme/numbers").await.status, 303);
}

async fn tokens_are_shown_once_and_revoked(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let mut browser = signed_in(&app, &owner).await;
    let page = browser.get("/console/o/acme/tokens").await;
    let csrf = page.hidden("csrf");
    let created = browser
        .post(
            "/console/o/acme/tokens",
            &[
                ("csrf", &csrf),
                ("name", "ci deploy"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(created.status, 201);
    let marker = "id=\"new-token\" class=\"token\" type=\"text\" readonly value=\"";
    let start = created.html.find(marker).expect("token shown") + marker.len();
    let token =
        created.html[start..start + created.html[start..].find('"').expect("closes")].to_owned();
    assert!(token.starts_with("sbt_"));
    // The token works in the API, and the list never shows it again.
    let api = app
        .call(
            Method::GET,
            "/organizations/",
            Some(&token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(api.status, 200);
    let again = browser.get("/console/o/acme/tokens").await;
    assert!(again.html.contains("ci deploy"));
    assert!(!again.html.contains(&token));
    // Signing out does not revoke it (it was made by the person, not the session).
    let id = app.list_tokens(&owner).await.body["data"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["name"] == "ci deploy")
        .and_then(|t| t["id"].as_i64())
        .expect("listed");
    let revoked = browser
        .post(
            &format!("/console/o/acme/tokens/{id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.status, 303);
    let api = app
        .call(
            Method::GET,
            "/organizations/",
            Some(&token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(api.status, 401);
}

async fn the_sign_in_link_works_once(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let link = app
        .services
        .identity
        .issue_console_link(&owner.email)
        .expect("link issued");
    let path = switchboard_console_path(link.expose());
    let mut browser = Browser::new(&app);
    let first = browser.get(&path).await;
    assert_eq!(first.status, 303);
    assert!(browser.cookie(SESSION).is_some());
    assert_eq!(
        browser.get("/console/o/acme/configurations").await.status,
        200
    );
    assert_eq!(
        first.header(LOCATION.as_str()),
        "/console/account?done=link"
    );
    // A link session sets a password without the current one; a password session
    // must give it.
    let account = browser.get("/console/account").await;
    assert_eq!(account.status, 200);
    assert!(!account.html.contains("Current password"));
    let csrf = account.hidden("csrf");
    let set = browser
        .post(
            "/console/account/password",
            &[
                ("csrf", &csrf),
                ("new", "a new password"),
                ("confirm", "a new password"),
            ],
        )
        .await;
    assert_eq!(set.status, 303, "{}", set.html);
    let mut again = signed_in_with(&app, &owner.email, "a new password").await;
    let account = again.get("/console/account").await;
    assert!(account.html.contains("Current password"));
    let csrf = account.hidden("csrf");
    let refused = again
        .post(
            "/console/account/password",
            &[
                ("csrf", &csrf),
                ("current", "wrong one"),
                ("new", "another one!"),
                ("confirm", "another one!"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused.html.contains("id=\"e-current\""));

    let mut other = Browser::new(&app);
    let second = other.get(&path).await;
    assert_eq!(second.status, 403);
    assert!(other.cookie(SESSION).is_none());
    // An API token is not a sign-in link.
    let api_token = other.get(&switchboard_console_path(&owner.token)).await;
    assert_eq!(api_token.status, 403);
}

/// Moves the times of every console session of the database (SQL on the test's own
/// database, as a clock that moved on would see them).
fn age_sessions(app: &TestApp, backend: Backend, column: &str, minutes_ago: i64) {
    use diesel::prelude::*;
    let at = (chrono::Utc::now() - chrono::Duration::minutes(minutes_ago)).naive_utc();
    let sql = match column {
        "expires_at" => "UPDATE api_tokens SET expires_at = $1 WHERE name = 'console session'",
        _ => {
            "UPDATE api_tokens SET created_at = $1, last_used_at = $1 \
             WHERE name = 'console session'"
        }
    };
    let query = diesel::sql_query(sql).bind::<diesel::sql_types::Timestamp, _>(at);
    let changed = match backend {
        Backend::Sqlite => {
            let path = app
                .database
                .url()
                .trim_start_matches("sqlite://")
                .to_owned();
            let mut connection = diesel::SqliteConnection::establish(&path).expect("sqlite opens");
            query.execute(&mut connection)
        }
        Backend::Postgres => {
            let mut connection =
                diesel::PgConnection::establish(app.database.url()).expect("pg opens");
            query.execute(&mut connection)
        }
    };
    assert!(changed.expect("sessions aged") >= 1);
}

async fn idle_and_old_sessions_end(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    // Unused past the idle timeout (30 minutes by default): signed out.
    let mut browser = signed_in(&app, &owner).await;
    assert_eq!(browser.get("/console/o/acme/numbers").await.status, 200);
    age_sessions(&app, backend, "last_used_at", 45);
    let idle = browser.get("/console/o/acme/numbers").await;
    assert_eq!(idle.status, 303);
    assert_eq!(idle.header(LOCATION.as_str()), "/console/login");
    // Past its absolute lifetime: signed out, however recently used.
    let mut browser = signed_in(&app, &owner).await;
    assert_eq!(browser.get("/console/o/acme/numbers").await.status, 200);
    age_sessions(&app, backend, "expires_at", 1);
    assert_eq!(browser.get("/console/o/acme/numbers").await.status, 303);
}

fn switchboard_console_path(token: &str) -> String {
    format!("/console/link?token={token}")
}

/// A provider with more fields than two (the SIP trunk: host, integer port, enum
/// transport, username, secret password, realm): the form comes from the catalog's
/// `fields`, create and edit send them, and the pages show public fields and the
/// secret's last four only.
async fn configuration_forms_follow_the_catalog_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let mut browser = signed_in(&app, &owner).await;
    let form = browser
        .get("/console/o/acme/configurations/new?provider=sip")
        .await;
    assert_eq!(form.status, 200);
    for input in [
        "id=\"f-host\"",
        "id=\"f-port\"",
        "id=\"f-username\"",
        "id=\"f-password\"",
        "id=\"f-realm\"",
    ] {
        assert!(form.html.contains(input), "{input} missing");
    }
    assert!(form.html.contains("<select id=\"f-transport\""));
    assert!(form.html.contains("<option value=\"tls\">tls</option>"));
    let port_at = form.html.find("id=\"f-port\"").expect("port input");
    assert!(form.html[port_at..port_at + 200].contains("type=\"number\""));
    let password_at = form.html.find("id=\"f-password\"").expect("password input");
    assert!(form.html[password_at..password_at + 200].contains("type=\"password\""));
    let csrf = form.hidden("csrf");
    let password = "trunk-password-9k2L";
    let path = "/console/o/acme/configurations";

    // Out of range: refused, the message next to the port, the secret not echoed.
    let mut fields: Vec<(&str, &str)> = vec![
        ("csrf", csrf.as_str()),
        ("provider", "sip"),
        ("active", "true"),
        ("host", "sip.example.com"),
        ("port", "70000"),
        ("transport", "tls"),
        ("username", "trunk-user"),
        ("password", password),
        ("realm", ""),
    ];
    let refused = browser.post(path, &fields).await;
    assert_eq!(refused.status, 400, "{}", refused.html);
    assert!(refused.html.contains("id=\"e-port\""));
    assert!(!refused.html.contains(password));
    assert_eq!(app.list_configs(&owner, "").await.body["count"], 0);

    fields[4] = ("port", "5061");
    let created = browser.post(path, &fields).await;
    assert_eq!(created.status, 303, "{}", created.html);
    let location = created.header(LOCATION.as_str()).to_owned();
    let id: i64 = location
        .rsplit('/')
        .next()
        .and_then(|tail| tail.split('?').next())
        .and_then(|id| id.parse().ok())
        .expect("id in the location");
    let stored = app.get_config(&owner, id).await;
    let credentials = &stored.body["data"]["credentials"];
    assert_eq!(credentials["host"], "sip.example.com");
    assert_eq!(credentials["port"], 5061);
    assert_eq!(credentials["transport"], "tls");
    assert_eq!(credentials["username"], "trunk-user");
    assert_eq!(credentials["password"]["set"], true);
    assert_eq!(credentials["password"]["last4"], "9k2L");

    let detail = browser.get(&location).await;
    assert_eq!(detail.status, 200);
    for shown in ["sip.example.com", "5061", "trunk-user", "••••9k2L"] {
        assert!(detail.html.contains(shown), "{shown} not shown");
    }
    assert!(!detail.html.contains(password));
    assert!(detail.html.contains("<option value=\"tls\" selected>"));
    let list = browser.get(path).await;
    assert!(list.html.contains("trunk-user"));
    assert!(list.html.contains("••••9k2L"));
    assert!(!list.html.contains(password));

    // Edit: a new port, the password left empty (kept).
    let csrf = detail.hidden("csrf");
    let edit = [
        ("csrf", csrf.as_str()),
        ("name", ""),
        ("host", "sip.example.com"),
        ("port", "5062"),
        ("transport", "tls"),
        ("username", "trunk-user"),
        ("password", ""),
        ("realm", ""),
    ];
    let saved = browser
        .post(&format!("/console/o/acme/configurations/{id}"), &edit)
        .await;
    assert_eq!(saved.status, 303, "{}", saved.html);
    let stored = app.get_config(&owner, id).await;
    let credentials = &stored.body["data"]["credentials"];
    assert_eq!(credentials["port"], 5062);
    assert_eq!(credentials["password"]["last4"], "9k2L");
    assert_eq!(credentials["username"], "trunk-user");
}

on_both_backends!(
    sign_in_and_the_session_cookie,
    forms_need_the_csrf_token_and_the_same_site,
    viewers_see_no_write_controls_and_forged_writes_fail,
    sign_out_and_revocation_end_the_session,
    tokens_are_shown_once_and_revoked,
    the_sign_in_link_works_once,
    idle_and_old_sessions_end,
    configuration_forms_follow_the_catalog_fields,
);
