//! Harness of the end-to-end tests: starts the real server (the server crate's
//! application, wired exactly as `main` wires it) on a free TCP port over a fresh
//! SQLite file or a fresh PostgreSQL database, and offers an HTTP client and helpers
//! to create organizations, users and tokens through the application services.
//!
//! PostgreSQL comes from `SWITCHBOARD_TEST_POSTGRES_URL`; without it the PostgreSQL
//! cases print that they were skipped, unless `SWITCHBOARD_TEST_REQUIRE_POSTGRES=1`.

#![expect(
    clippy::expect_used,
    reason = "a test harness: a failed setup step is a test failure"
)]

use std::path::PathBuf;

use actix_web::dev::ServerHandle;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use switchboard_domain::identity::Role;
use switchboard_persistence::testing::TestDatabase;
use switchboard_server::settings::{
    AuthSettings, CryptoSettings, DatabaseConfig, LogFormat, LogSettings, RateLimitSettings,
    ServerSettings, Settings, VerifySettings,
};
use switchboard_server::startup::{open_database, wire};
use switchboard_server::{Application, Profile, Services};

pub mod stand_in;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

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

/// Settings for a test server over `database_url`, with fresh random keys.
#[must_use]
pub fn test_settings(database_url: &str, data_dir: PathBuf) -> Settings {
    let key = switchboard_crypto::generate_key_base64();
    let hmac = switchboard_crypto::generate_key_base64();
    Settings {
        data_dir,
        server: ServerSettings {
            host: "127.0.0.1".to_owned(),
            port: 0,
            body_limit_bytes: 16 * 1024,
            body_timeout_ms: 10_000,
            request_timeout_ms: 5000,
            shutdown_timeout_s: 5,
            workers: 2,
            trusted_proxies: Vec::new(),
        },
        database: DatabaseConfig {
            url: database_url.to_owned(),
            pool_size: 8,
            connect_timeout_ms: 3000,
            statement_timeout_ms: 5000,
        },
        crypto: CryptoSettings {
            keys: SecretString::from(format!("1:{}", key.expose_secret())),
            primary_key_id: 1,
        },
        auth: AuthSettings {
            token_hmac_key: hmac,
            login_token_ttl_days: 30,
            login_email_failures_per_minute: 10,
            login_address_failures_per_minute: 1000,
        },
        rate_limit: RateLimitSettings {
            // Generous: the suites send bursts (a 20-request race); the rate-limit
            // test lowers it.
            per_second: 1000,
            burst: 1000,
            per_user_per_second: 1000,
            per_user_burst: 1000,
        },
        log: LogSettings {
            level: "info".to_owned(),
            format: LogFormat::Pretty,
        },
        // Nothing listens on port 9 of loopback: a test that verifies credentials
        // points these at its own stand-in of the provider.
        verify: VerifySettings {
            twilio_base_url: "http://127.0.0.1:9".to_owned(),
            plivo_base_url: "http://127.0.0.1:9".to_owned(),
            vonage_base_url: "http://127.0.0.1:9".to_owned(),
            telnyx_base_url: "http://127.0.0.1:9".to_owned(),
            timeout_ms: 1000,
        },
    }
}

/// The test database of `backend`; `None` when PostgreSQL is not configured (and
/// not required).
#[must_use]
pub fn test_database(backend: Backend) -> Option<TestDatabase> {
    match backend {
        Backend::Sqlite => Some(TestDatabase::sqlite()),
        Backend::Postgres => TestDatabase::postgres(),
    }
}

/// Starts a server on `backend`, after applying the migrations the way
/// `switchboard-admin migrate` does (the test profile, like production, refuses to
/// serve with pending migrations).
///
/// # Panics
/// When the server cannot start (a test failure).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let database = test_database(backend)?;
    Some(spawn_app_on(database, |_| {}).await)
}

/// Starts a server on an existing test database, letting the test adjust settings.
///
/// # Panics
/// When the server cannot start (a test failure).
pub async fn spawn_app_on(database: TestDatabase, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = std::env::temp_dir();
    let mut settings = test_settings(database.url(), data_dir);
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

/// A user with a token, as created by [`TestApp::user_in`].
#[derive(Debug, Clone)]
pub struct TestUser {
    pub email: String,
    pub token: String,
}

impl TestApp {
    /// An absolute URL under the platform API base.
    #[must_use]
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v2/platform{path}", self.base_url)
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

    /// Creates a user with `role` in `handle` and issues a token.
    ///
    /// # Panics
    /// When any step fails.
    #[must_use]
    pub fn user_in(&self, handle: &str, role: Role) -> TestUser {
        let email = format!("{}@{}.test", uuid::Uuid::new_v4().simple(), handle);
        self.services
            .identity
            .create_user(&email, &SecretString::from("correct horse battery"))
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
        }
    }

    /// Sends a request with `token` and `org` headers and a JSON body, returning
    /// status, headers and the parsed body (`Value::Null` when empty).
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        org: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self.client.request(method, self.api(path));
        if let Some(token) = token {
            request = request.header("Authorization", format!("Token {token}"));
        }
        if let Some(org) = org {
            request = request.header("Org-Handle", org);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Answer::from(request.send().await.expect("request sent")).await
    }

    /// Like [`TestApp::call`], with extra request headers (`Idempotency-Key`,
    /// `If-Match`, `X-Request-Id`, ...).
    ///
    /// # Panics
    /// When the request cannot be sent.
    pub async fn call_with(
        &self,
        method: reqwest::Method,
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

/// Generates one `#[tokio::test]` per backend for an async scenario taking a
/// [`Backend`].
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::Backend::Postgres).await;
                }
            )*
        }
    };
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
