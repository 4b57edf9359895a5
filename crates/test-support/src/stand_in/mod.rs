//! A stand-in of the telephony providers' APIs: a real HTTP server on a loopback
//! port that answers the calls Switchboard makes to Twilio, Plivo, Vonage and
//! Telnyx (see `providers`), for the credentials it was told to accept.
//!
//! It can be told to answer an account (or every request) with a status of choice
//! (401, 500, ...) and to answer late, and it records every request it saw (method,
//! path, `Authorization`) for assertions. Tests start it in-process with
//! [`StandIn::start`]; walk-throughs and browser tests run the
//! `switchboard-stand-in` binary and point the server's `[verify]` base URLs at it.
//! One server serves every provider: their paths do not overlap, so one base URL
//! fits all four settings.
//!
//! It knows the providers' wire formats as Switchboard uses them, and nothing of
//! Switchboard itself.

mod providers;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};

pub use providers::Provider;

/// What the stand-in does with a request for an account (or with every request).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rule {
    /// Waits this long before answering.
    pub delay: Duration,
    /// Answers this status whatever the credentials; `None` checks them (200 with
    /// the account when accepted, 401 otherwise).
    pub status: Option<u16>,
}

/// One accepted credential.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Credential {
    provider: Provider,
    /// Twilio account SID, Plivo auth id, Vonage API key, Telnyx account (not sent
    /// by the verifier, only used to name the account in rules).
    id: String,
    /// Auth token, API secret or API key.
    secret: String,
}

/// A request as the stand-in saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// `HTTP/1.1` and so on.
    pub version: String,
    pub authorization: Option<String>,
}

impl SeenRequest {
    /// The request line: `GET /path HTTP/1.1`.
    #[must_use]
    pub fn request_line(&self) -> String {
        format!("{} {} {}", self.method, self.path, self.version)
    }
}

/// What the stand-in accepts and how it answers; shared by its workers and
/// changeable while it runs.
#[derive(Debug, Default)]
struct State {
    credentials: Vec<Credential>,
    /// Per account id.
    rules: HashMap<String, Rule>,
    /// For requests no account rule covers.
    default_rule: Rule,
    seen: Vec<SeenRequest>,
    /// The phone numbers of each account (Twilio account SID, Plivo auth id,
    /// Telnyx account), as the provider writes them.
    numbers: HashMap<String, Vec<String>>,
    /// Most numbers on one page of a listing, whatever the caller asks for.
    page_size: usize,
    /// Accounts whose number listings answer 200 with a body that is not JSON.
    garbled: Vec<String>,
}

/// Most numbers on one listing page unless told otherwise: small, so that a few
/// numbers already span several pages.
pub const DEFAULT_PAGE_SIZE: usize = 2;

impl State {
    fn rule_for(&self, account: Option<&str>) -> Rule {
        account
            .and_then(|account| self.rules.get(account))
            .copied()
            .unwrap_or(self.default_rule)
    }

    fn accepts(&self, provider: Provider, id: Option<&str>, secret: &str) -> bool {
        self.credentials.iter().any(|credential| {
            credential.provider == provider
                && id.is_none_or(|id| credential.id == id)
                && credential.secret == secret
        })
    }

    /// The account a Telnyx key belongs to (the verifier sends only the key).
    fn account_of_key(&self, provider: Provider, secret: &str) -> Option<String> {
        self.credentials
            .iter()
            .find(|credential| credential.provider == provider && credential.secret == secret)
            .map(|credential| credential.id.clone())
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn new(config: StandInConfig) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State {
                credentials: config.credentials,
                rules: config.rules,
                default_rule: config.default_rule,
                seen: Vec::new(),
                numbers: config.numbers,
                page_size: config.page_size.unwrap_or(DEFAULT_PAGE_SIZE).max(1),
                garbled: config.garbled,
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread cannot leave the state half-changed: every change
        // is one assignment.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a stand-in starts with (see [`StandIn::start`]).
#[derive(Debug, Clone, Default)]
pub struct StandInConfig {
    credentials: Vec<Credential>,
    rules: HashMap<String, Rule>,
    default_rule: Rule,
    numbers: HashMap<String, Vec<String>>,
    page_size: Option<usize>,
    garbled: Vec<String>,
}

impl StandInConfig {
    /// Nothing accepted yet: every credential check answers 401.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `id` with `secret` at `provider` (for Telnyx, whose check sends only
    /// the key, `id` just names the account in rules).
    #[must_use]
    pub fn accept(mut self, provider: Provider, id: &str, secret: &str) -> Self {
        self.credentials.push(Credential {
            provider,
            id: id.to_owned(),
            secret: secret.to_owned(),
        });
        self
    }

    /// Answers requests for account `id` with `status`, whatever the credentials.
    #[must_use]
    pub fn fail(mut self, id: &str, status: u16) -> Self {
        self.rules.entry(id.to_owned()).or_default().status = Some(status);
        self
    }

    /// Answers requests for account `id` only after `delay`.
    #[must_use]
    pub fn delay(mut self, id: &str, delay: Duration) -> Self {
        self.rules.entry(id.to_owned()).or_default().delay = delay;
        self
    }

    /// Gives account `id` these phone numbers (as the provider writes them: E.164
    /// for Twilio and Telnyx, digits without `+` for Plivo), served by the number
    /// listings in pages of at most [`StandInConfig::page_size`] numbers.
    #[must_use]
    pub fn numbers(mut self, id: &str, numbers: &[&str]) -> Self {
        self.numbers.insert(
            id.to_owned(),
            numbers.iter().map(|number| (*number).to_owned()).collect(),
        );
        self
    }

    /// Most numbers on one listing page ([`DEFAULT_PAGE_SIZE`] unless told).
    #[must_use]
    pub fn page_size(mut self, size: usize) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Answers account `id`'s number listings with 200 and a body that is not JSON.
    #[must_use]
    pub fn garble(mut self, id: &str) -> Self {
        self.garbled.push(id.to_owned());
        self
    }

    /// Answers every request that no account rule covers by `rule`.
    #[must_use]
    pub fn otherwise(mut self, rule: Rule) -> Self {
        self.default_rule = rule;
        self
    }

    /// Reads `provider:id:secret` (the binary's `--accept`); the secret may hold
    /// colons.
    ///
    /// # Errors
    /// A message naming what is wrong, without repeating the secret.
    pub fn accept_spec(self, spec: &str) -> Result<Self, String> {
        let mut parts = spec.splitn(3, ':');
        let (Some(slug), Some(id), Some(secret)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err("an accepted credential is written provider:id:secret".to_owned());
        };
        let Some(provider) = Provider::from_slug(slug) else {
            return Err(format!(
                "unknown provider {slug:?}: one of {}",
                Provider::ALL.map(Provider::slug).join(", ")
            ));
        };
        if id.is_empty() || secret.is_empty() {
            return Err(format!(
                "an accepted {slug} credential needs an id and a secret"
            ));
        }
        Ok(self.accept(provider, id, secret))
    }
}

/// A running stand-in; stopped when dropped.
pub struct StandIn {
    /// `http://127.0.0.1:<port>`, for every provider's base URL setting.
    pub base_url: String,
    shared: Arc<Shared>,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for StandIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StandIn")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl StandIn {
    /// Starts a stand-in on a free port of 127.0.0.1, on a thread of its own (so it
    /// serves synchronous and asynchronous tests alike).
    ///
    /// # Panics
    /// When no port can be bound.
    #[must_use]
    pub fn start(config: StandInConfig) -> Self {
        let shared = Shared::new(config);
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("stand-in".into())
                .spawn(move || {
                    actix_web::rt::System::new().block_on(async move {
                        let bound = server(shared, "127.0.0.1", 0, 1, Signals::Ignored).map(
                            |(server, port)| {
                                let handle = server.handle();
                                (server, port, handle)
                            },
                        );
                        match bound {
                            Ok((server, port, handle)) => {
                                let _ = sender.send(Ok((port, handle)));
                                let _ = server.await;
                            }
                            Err(error) => {
                                let _ = sender.send(Err(error));
                            }
                        }
                    });
                })
        };
        let started = thread
            .map_err(|error| error.to_string())
            .and_then(|thread| {
                receiver
                    .recv()
                    .map_err(|error| error.to_string())
                    .and_then(|bound| bound.map_err(|error| error.to_string()))
                    .map(|(port, handle)| (thread, port, handle))
            });
        let (thread, port, handle) = match started {
            Ok(started) => started,
            Err(error) => panic!("the provider stand-in cannot start: {error}"),
        };
        Self {
            base_url: format!("http://127.0.0.1:{port}"),
            shared,
            handle,
            thread: Some(thread),
        }
    }

    /// How many requests the stand-in received.
    #[must_use]
    pub fn calls(&self) -> usize {
        self.shared.state().seen.len()
    }

    /// Every request received so far, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.state().seen.clone()
    }

    /// Accepts one more credential (see [`StandInConfig::accept`]).
    pub fn accept(&self, provider: Provider, id: &str, secret: &str) {
        self.shared.state().credentials.push(Credential {
            provider,
            id: id.to_owned(),
            secret: secret.to_owned(),
        });
    }

    /// Sets how requests for account `id` are answered from now on.
    pub fn set_rule(&self, id: &str, rule: Rule) {
        self.shared.state().rules.insert(id.to_owned(), rule);
    }

    /// Sets how requests no account rule covers are answered from now on.
    pub fn set_default_rule(&self, rule: Rule) {
        self.shared.state().default_rule = rule;
    }

    /// Stops the stand-in (dropping it does too).
    pub async fn stop(mut self) {
        self.handle.stop(false).await;
        self.join();
    }

    fn join(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if self.thread.is_some() {
            // The stop command is sent at once; the returned future only waits.
            drop(self.handle.stop(false));
            self.join();
        }
    }
}

/// Whether the server stops itself on SIGINT and SIGTERM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signals {
    Handled,
    /// In-process: the test owns the process's signals.
    Ignored,
}

/// The stand-in's HTTP server on `host:port` (0: a free port) with `workers`
/// workers, and the port it bound.
///
/// # Errors
/// The bind error.
fn server(
    shared: Arc<Shared>,
    host: &str,
    port: u16,
    workers: usize,
    signals: Signals,
) -> std::io::Result<(Server, u16)> {
    let data = web::Data::from(shared);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .configure(providers::routes)
            .default_service(web::to(providers::unknown))
    })
    .workers(workers)
    .shutdown_timeout(0);
    if signals == Signals::Ignored {
        server = server.disable_signals();
    }
    let server = server.bind((host, port))?;
    let port = server
        .addrs()
        .first()
        .map_or(port, |address| address.port());
    Ok((server.run(), port))
}

/// Serves `config` on `host:port` (0: a free port) until SIGINT or SIGTERM, calling
/// `announce` with the bound port first (the binary). Must run inside an actix
/// system (`#[actix_web::main]`).
///
/// # Errors
/// The bind or I/O error.
pub async fn serve_until_stopped(
    config: StandInConfig,
    host: &str,
    port: u16,
    announce: impl FnOnce(u16),
) -> std::io::Result<()> {
    let (server, port) = server(Shared::new(config), host, port, 1, Signals::Handled)?;
    announce(port);
    server.await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_specs_are_read_without_repeating_secrets() {
        let config = StandInConfig::new()
            .accept_spec("twilio:AC1:tok:with:colons")
            .expect("valid");
        assert_eq!(
            config.credentials,
            [Credential {
                provider: Provider::Twilio,
                id: "AC1".into(),
                secret: "tok:with:colons".into(),
            }]
        );
        for bad in ["twilio", "twilio:AC1", "nope:a:b", "twilio::b", "twilio:a:"] {
            let error = StandInConfig::new().accept_spec(bad).expect_err(bad);
            assert!(!error.contains("tok"), "{error}");
        }
    }
}
