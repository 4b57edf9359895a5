//! A stand-in of Twilio's account API on loopback, for the credential verification
//! tests: `GET /2010-04-01/Accounts/{AccountSid}.json` with basic authentication,
//! answering like Twilio for a valid pair (200 with the account), a wrong token or
//! an unknown account (401), and, for accounts set up so, slowly or with a 500.

#![expect(
    clippy::expect_used,
    reason = "a test harness: a failed setup step is a test failure"
)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

/// How the stand-in treats one account.
#[derive(Debug, Clone)]
pub enum Account {
    /// Answers 200 for this token and 401 for any other.
    Valid { token: String },
    /// Answers 200, but only after this long.
    Slow(Duration),
    /// Answers 500.
    Broken,
}

#[derive(Debug, Default)]
struct Shared {
    accounts: HashMap<String, Account>,
    calls: AtomicUsize,
}

/// A running stand-in.
pub struct StandInProvider {
    pub base_url: String,
    shared: Arc<Shared>,
    handle: ServerHandle,
}

impl std::fmt::Debug for StandInProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandInProvider")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl StandInProvider {
    /// Starts a stand-in knowing `accounts` (account SID, behaviour) on a free port
    /// of 127.0.0.1.
    ///
    /// # Panics
    /// When the port cannot be bound.
    pub fn start(accounts: Vec<(String, Account)>) -> Self {
        let shared = Arc::new(Shared {
            accounts: accounts.into_iter().collect(),
            calls: AtomicUsize::new(0),
        });
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(account))
        })
        .workers(1)
        .shutdown_timeout(0)
        .bind(("127.0.0.1", 0))
        .expect("stand-in binds");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            base_url: format!("http://127.0.0.1:{port}"),
            shared,
            handle,
        }
    }

    /// How many requests the stand-in received.
    #[must_use]
    pub fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }

    /// Stops the stand-in.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

/// The account SID and the password of a basic `Authorization` header.
fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401
    }))
}

async fn account(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    shared.calls.fetch_add(1, Ordering::SeqCst);
    let Some(sid) = req
        .path()
        .strip_prefix("/2010-04-01/Accounts/")
        .and_then(|rest| rest.strip_suffix(".json"))
        .map(str::to_owned)
    else {
        return HttpResponse::NotFound().json(json!({"code": 20404, "status": 404}));
    };
    let Some((user, password)) = basic_credentials(&req) else {
        return unauthorized();
    };
    if user != sid {
        return unauthorized();
    }
    let found = json!({"sid": sid, "friendly_name": "Stand-in account", "status": "active"});
    match shared.accounts.get(&sid) {
        Some(Account::Valid { token }) if *token == password => HttpResponse::Ok().json(found),
        Some(Account::Slow(delay)) => {
            tokio::time::sleep(*delay).await;
            HttpResponse::Ok().json(found)
        }
        Some(Account::Broken) => HttpResponse::InternalServerError()
            .json(json!({"code": 20500, "message": "Internal Server Error", "status": 500})),
        Some(Account::Valid { .. }) | None => unauthorized(),
    }
}
