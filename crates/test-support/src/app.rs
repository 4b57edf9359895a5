//! The real server in-process, for end-to-end tests: [`spawn_app`] wires the server
//! crate's application exactly as `main` does (settings of the test profile,
//! `config/test.toml`, with fresh random keys), over a fresh database with the
//! migrations applied as `switchboard-admin migrate` applies them, and serves it on
//! a free port of 127.0.0.1. [`TestApp`] drives it over real HTTP: one [`TestApp::call`]
//! for any request, and typed helpers for the common ones, all answering an
//! [`Answer`].
//!
//! It knows the server's settings, wiring and routes, and nothing of what a test
//! asserts.

#![expect(
    clippy::expect_used,
    reason = "a test harness: a failed setup step is a test failure"
)]

use std::fmt::Display;
use std::path::PathBuf;

use actix_web::dev::ServerHandle;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_persistence::Backend;
use switchboard_server::startup::{open_database, wire};
use switchboard_server::{Application, Profile, Services, Settings};

use crate::TestDatabase;

/// The platform API's base path.
pub const API: &str = "/api/v2/platform";
/// Provider configurations, relative to [`API`].
pub const CONFIGS: &str = "/telephony/providers-configurations/";
/// Bridges, relative to [`API`].
pub const BRIDGES: &str = "/telephony/bridges/";
/// Phone numbers, relative to [`API`].
pub const NUMBERS: &str = "/telephony/numbers/";
/// API tokens, relative to [`API`].
pub const TOKENS: &str = "/auth/tokens/";
/// The password of every user made by [`TestApp::user_in`].
pub const PASSWORD: &str = "correct horse battery";

/// A running server and what a test needs to drive it.
pub struct TestApp {
    pub base_url: String,
    pub client: reqwest::Client,
    pub services: Services,
    pub settings: Settings,
    pub database: TestDatabase,
    handle: ServerHandle,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// The settings of a test server over `database_url`: the test profile
/// (`config/test.toml` over `config/default.toml`, and `SWITCHBOARD__*` variables as
/// for any server), a free port, `data_dir`, and fresh random keys.
///
/// # Panics
/// When the test profile does not load.
#[must_use]
pub fn test_settings(database_url: &str, data_dir: PathBuf) -> Settings {
    let mut settings = Settings::load(Profile::Test)
        .expect("the test profile loads")
        .settings;
    let key = switchboard_crypto::generate_key_base64();
    settings.data_dir = data_dir;
    settings.server.port = 0;
    settings.database.url = database_url.to_owned();
    settings.crypto.keys = SecretString::from(format!("1:{}", key.expose_secret()));
    settings.crypto.primary_key_id = 1;
    settings.auth.token_hmac_key = switchboard_crypto::generate_key_base64();
    settings
}

/// Starts a server on a fresh database of `backend`.
///
/// # Panics
/// When the database or the server cannot start (a test failure).
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_on(TestDatabase::new(backend), |_| {}).await
}

/// Starts a server on `database` after `adjust` changed its [`test_settings`]. The
/// migrations are applied first, as `switchboard-admin migrate` does: the test
/// profile, like production, refuses to serve with pending migrations.
///
/// # Panics
/// When the server cannot start (a test failure).
pub async fn spawn_app_on(database: TestDatabase, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings(database.url(), std::env::temp_dir());
    adjust(&mut settings);
    let migrator = switchboard_persistence::Database::connect(&database.settings())
        .expect("test database opens");
    migrator.run_pending_migrations().expect("migrations apply");
    let db = open_database(&settings, Profile::Test).expect("database opens");
    let services = wire(&settings, db).expect("services wire");
    let app = Application::serve(&settings, services.clone(), None).expect("server binds");
    let base_url = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base_url,
        client: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("client builds"),
        services,
        settings,
        database,
        handle,
    }
}

/// A user with a token and the organization it was made a member of, as created by
/// [`TestApp::user_in`].
#[derive(Debug, Clone)]
pub struct TestUser {
    pub email: String,
    pub token: String,
    /// The handle of the organization the user was made a member of.
    pub org: String,
}

impl TestApp {
    /// An absolute URL under the platform API base.
    #[must_use]
    pub fn api(&self, path: &str) -> String {
        format!("{}{API}{path}", self.base_url)
    }

    /// An absolute URL at the server root.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Creates an organization with `handle` (name derived from it).
    ///
    /// # Panics
    /// When creation fails.
    pub fn organization(&self, handle: &str) {
        self.services
            .identity
            .create_organization(&format!("Org {handle}"), handle)
            .expect("organization created");
    }

    /// Creates a user (password [`PASSWORD`]) with `role` in `handle` and issues a
    /// token.
    ///
    /// # Panics
    /// When any step fails.
    #[must_use]
    pub fn user_in(&self, handle: &str, role: Role) -> TestUser {
        let email = format!("{}@{}.test", uuid::Uuid::new_v4().simple(), handle);
        self.services
            .identity
            .create_user(&email, &SecretString::from(PASSWORD))
            .expect("user created");
        self.services
            .identity
            .add_member(handle, &email, role)
            .expect("member added");
        let issued = self
            .services
            .identity
            .issue_token(&email, "test", None)
            .expect("token issued");
        TestUser {
            email,
            token: issued.token.expose().to_owned(),
            org: handle.to_owned(),
        }
    }

    /// Sends `method` to `path` (under the API base) with the `token` and `org`
    /// headers when given, a JSON body when given, and `headers` (`Idempotency-Key`,
    /// `If-Match`, `X-Request-Id`, ...); returns status, headers and the parsed body
    /// (`Value::Null` when it is not JSON).
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        org: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.client.request(method, self.api(path));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Token {token}"));
        }
        if let Some(org) = org {
            request = request.header("Org-Handle", org);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Answer::from(request.send().await.expect("request sent")).await
    }

    /// A request as `user` in its organization.
    async fn as_user(
        &self,
        user: &TestUser,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        self.call(method, path, Some(&user.token), Some(&user.org), body, &[])
            .await
    }

    /// `POST /telephony/providers-configurations/`.
    pub async fn create_config(&self, user: &TestUser, body: &Value) -> Answer {
        self.as_user(user, Method::POST, CONFIGS, Some(body)).await
    }

    /// `GET /telephony/providers-configurations/{id}/`.
    pub async fn get_config(&self, user: &TestUser, id: impl Display) -> Answer {
        self.as_user(user, Method::GET, &format!("{CONFIGS}{id}/"), None)
            .await
    }

    /// `GET /telephony/providers-configurations/{query}` (`query` empty or `?...`).
    pub async fn list_configs(&self, user: &TestUser, query: &str) -> Answer {
        self.as_user(user, Method::GET, &format!("{CONFIGS}{query}"), None)
            .await
    }

    /// `PATCH /telephony/providers-configurations/{id}/`.
    pub async fn patch_config(&self, user: &TestUser, id: impl Display, body: &Value) -> Answer {
        self.as_user(user, Method::PATCH, &format!("{CONFIGS}{id}/"), Some(body))
            .await
    }

    /// `DELETE /telephony/providers-configurations/{id}/`.
    pub async fn delete_config(&self, user: &TestUser, id: impl Display) -> Answer {
        self.as_user(user, Method::DELETE, &format!("{CONFIGS}{id}/"), None)
            .await
    }

    /// `POST /telephony/providers-configurations/{id}/verify/`.
    pub async fn verify_config(&self, user: &TestUser, id: impl Display) -> Answer {
        self.as_user(user, Method::POST, &format!("{CONFIGS}{id}/verify/"), None)
            .await
    }

    /// `GET /telephony/providers-configurations/{id}/history/{query}`.
    pub async fn config_history(&self, user: &TestUser, id: impl Display, query: &str) -> Answer {
        self.as_user(
            user,
            Method::GET,
            &format!("{CONFIGS}{id}/history/{query}"),
            None,
        )
        .await
    }

    /// `POST /telephony/numbers/` with `{"number": number}`.
    pub async fn add_number(&self, user: &TestUser, number: &str) -> Answer {
        self.as_user(
            user,
            Method::POST,
            NUMBERS,
            Some(&json!({"number": number})),
        )
        .await
    }

    /// `GET /telephony/numbers/{query}`.
    pub async fn list_numbers(&self, user: &TestUser, query: &str) -> Answer {
        self.as_user(user, Method::GET, &format!("{NUMBERS}{query}"), None)
            .await
    }

    /// `DELETE /telephony/numbers/{id}/`.
    pub async fn delete_number(&self, user: &TestUser, id: impl Display) -> Answer {
        self.as_user(user, Method::DELETE, &format!("{NUMBERS}{id}/"), None)
            .await
    }

    /// `POST /telephony/bridges/`.
    pub async fn create_bridge(&self, user: &TestUser, body: &Value) -> Answer {
        self.as_user(user, Method::POST, BRIDGES, Some(body)).await
    }

    /// `GET /telephony/bridges/{slug}/`.
    pub async fn get_bridge(&self, user: &TestUser, slug: &str) -> Answer {
        self.as_user(user, Method::GET, &format!("{BRIDGES}{slug}/"), None)
            .await
    }

    /// `GET /telephony/bridges/{query}`.
    pub async fn list_bridges(&self, user: &TestUser, query: &str) -> Answer {
        self.as_user(user, Method::GET, &format!("{BRIDGES}{query}"), None)
            .await
    }

    /// `PATCH /telephony/bridges/{slug}/`.
    pub async fn patch_bridge(&self, user: &TestUser, slug: &str, body: &Value) -> Answer {
        self.as_user(
            user,
            Method::PATCH,
            &format!("{BRIDGES}{slug}/"),
            Some(body),
        )
        .await
    }

    /// `DELETE /telephony/bridges/{slug}/`.
    pub async fn delete_bridge(&self, user: &TestUser, slug: &str) -> Answer {
        self.as_user(user, Method::DELETE, &format!("{BRIDGES}{slug}/"), None)
            .await
    }

    /// `POST /telephony/bridges/{slug}/connect-provider/`.
    pub async fn connect_provider(&self, user: &TestUser, slug: &str, body: &Value) -> Answer {
        let path = format!("{BRIDGES}{slug}/connect-provider/");
        self.as_user(user, Method::POST, &path, Some(body)).await
    }

    /// `POST /telephony/bridges/{slug}/disconnect-provider/`.
    pub async fn disconnect_provider(&self, user: &TestUser, slug: &str, body: &Value) -> Answer {
        let path = format!("{BRIDGES}{slug}/disconnect-provider/");
        self.as_user(user, Method::POST, &path, Some(body)).await
    }

    /// `POST /auth/login/` with `email` and `password`.
    pub async fn login(&self, email: &str, password: &str) -> Answer {
        let body = json!({"email": email, "password": password});
        self.call(Method::POST, "/auth/login/", None, None, Some(&body), &[])
            .await
    }

    /// `POST /auth/tokens/`.
    pub async fn create_token(&self, user: &TestUser, body: &Value) -> Answer {
        self.call(
            Method::POST,
            TOKENS,
            Some(&user.token),
            None,
            Some(body),
            &[],
        )
        .await
    }

    /// `GET /auth/tokens/`.
    pub async fn list_tokens(&self, user: &TestUser) -> Answer {
        self.call(Method::GET, TOKENS, Some(&user.token), None, None, &[])
            .await
    }

    /// `DELETE /auth/tokens/{id}/`.
    pub async fn revoke_token(&self, user: &TestUser, id: impl Display) -> Answer {
        let path = format!("{TOKENS}{id}/");
        self.call(Method::DELETE, &path, Some(&user.token), None, None, &[])
            .await
    }

    /// `GET /organizations/`.
    pub async fn organizations(&self, user: &TestUser) -> Answer {
        self.call(
            Method::GET,
            "/organizations/",
            Some(&user.token),
            None,
            None,
            &[],
        )
        .await
    }

    /// `GET /telephony/providers/` (the catalog).
    pub async fn providers(&self, user: &TestUser) -> Answer {
        let path = "/telephony/providers/";
        self.call(Method::GET, path, Some(&user.token), None, None, &[])
            .await
    }

    /// `GET /audit-events/{query}`.
    pub async fn audit_events(&self, user: &TestUser, query: &str) -> Answer {
        self.as_user(user, Method::GET, &format!("/audit-events/{query}"), None)
            .await
    }

    /// Stops the server.
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}

/// A received answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Answer {
    /// Reads a response whole.
    ///
    /// # Panics
    /// When the body cannot be read.
    pub async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            text,
            body,
        }
    }

    /// A header as text.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// A valid Twilio account SID made unique by `n`.
#[must_use]
pub fn twilio_sid(n: u32) -> String {
    format!("AC{n:032x}")
}

/// A valid Twilio auth token made unique by `n`.
#[must_use]
pub fn twilio_token(n: u32) -> String {
    format!("{:032x}", u128::from(n) * 7919 + 0xabc)
}

/// A create body of a Twilio configuration made unique by `n`.
#[must_use]
pub fn twilio_body(n: u32) -> Value {
    json!({"provider": "twilio", "account_sid": twilio_sid(n), "auth_token": twilio_token(n)})
}
