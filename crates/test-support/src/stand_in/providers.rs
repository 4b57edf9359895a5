//! The providers' endpoints the stand-in serves, one handler per call Switchboard
//! makes (`crates/verify`), answering like the provider does:
//!
//! | provider | call | authentication |
//! |---|---|---|
//! | twilio | `GET /2010-04-01/Accounts/{AccountSid}.json` | basic, account SID and auth token |
//! | plivo | `GET /v1/Account/{AuthId}/` | basic, auth id and auth token |
//! | vonage | `GET /account/get-balance` | basic, API key and API secret |
//! | telnyx | `GET /v2/balance` | bearer, the API key |
//!
//! A new endpoint (a paged number listing, say) is one more handler and one more
//! line in [`routes`]; [`answer`] applies the stand-in's rules to it.

use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{SeenRequest, Shared};

/// The providers the stand-in knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Twilio,
    Plivo,
    Vonage,
    Telnyx,
}

impl Provider {
    /// Every provider, in catalog order.
    pub const ALL: [Self; 4] = [Self::Twilio, Self::Plivo, Self::Vonage, Self::Telnyx];

    /// The provider with this catalog slug.
    #[must_use]
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|provider| provider.slug() == slug)
    }

    /// The catalog slug.
    #[must_use]
    pub fn slug(self) -> &'static str {
        match self {
            Self::Twilio => "twilio",
            Self::Plivo => "plivo",
            Self::Vonage => "vonage",
            Self::Telnyx => "telnyx",
        }
    }

    /// The body of an error answer with `status`, shaped like the provider's.
    fn error_body(self, status: StatusCode) -> Value {
        let code = status.as_u16();
        let message = status.canonical_reason().unwrap_or("Error");
        match self {
            Self::Twilio => json!({
                "code": if code == 401 { 20003 } else { 20000 + u32::from(code) },
                "message": if code == 401 { "Authenticate" } else { message },
                "more_info": "https://www.twilio.com/docs/errors/20003",
                "status": code,
            }),
            Self::Plivo => json!({"api_id": "stand-in", "error": message}),
            Self::Vonage => json!({
                "type": "https://developer.nexmo.com/api-errors",
                "title": message,
                "status": code,
            }),
            Self::Telnyx => json!({"errors": [{"code": code.to_string(), "title": message}]}),
        }
    }
}

/// Registers every endpoint.
pub(super) fn routes(config: &mut web::ServiceConfig) {
    config
        .route(
            "/2010-04-01/Accounts/{sid}.json",
            web::get().to(twilio_account),
        )
        .route("/v1/Account/{auth_id}/", web::get().to(plivo_account))
        .route("/account/get-balance", web::get().to(vonage_balance))
        .route("/v2/balance", web::get().to(telnyx_balance));
}

/// Records the request, then applies the stand-in's rule for `account`: a delay,
/// then either the rule's status or, when the rule checks credentials, `found` for
/// an `authorized` request and the provider's 401 otherwise.
async fn answer(
    shared: &Shared,
    req: &HttpRequest,
    provider: Provider,
    account: Option<&str>,
    authorized: impl FnOnce(&super::State) -> bool,
    found: Value,
) -> HttpResponse {
    let (rule, authorized) = {
        let mut state = shared.state();
        state.seen.push(seen(req));
        (state.rule_for(account), authorized(&state))
    };
    if !rule.delay.is_zero() {
        actix_web::rt::time::sleep(rule.delay).await;
    }
    match rule.status {
        Some(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            HttpResponse::build(status).json(provider.error_body(status))
        }
        None if authorized => HttpResponse::Ok().json(found),
        None => HttpResponse::Unauthorized().json(provider.error_body(StatusCode::UNAUTHORIZED)),
    }
}

fn seen(req: &HttpRequest) -> SeenRequest {
    SeenRequest {
        method: req.method().to_string(),
        path: req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_owned(), ToString::to_string),
        version: format!("{:?}", req.version()),
        authorization: req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    }
}

/// The user and password of a basic `Authorization` header.
fn basic(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The token of a bearer `Authorization` header.
fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_owned)
}

/// Basic authentication of the account named in the path.
fn path_account_matches(
    state: &super::State,
    provider: Provider,
    account: &str,
    credentials: Option<&(String, String)>,
) -> bool {
    credentials.is_some_and(|(user, password)| {
        user == account && state.accepts(provider, Some(account), password)
    })
}

async fn twilio_account(
    req: HttpRequest,
    sid: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let credentials = basic(&req);
    let found = json!({"sid": *sid, "friendly_name": "Stand-in account", "status": "active"});
    answer(
        &shared,
        &req,
        Provider::Twilio,
        Some(&sid),
        |state| path_account_matches(state, Provider::Twilio, &sid, credentials.as_ref()),
        found,
    )
    .await
}

async fn plivo_account(
    req: HttpRequest,
    auth_id: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let credentials = basic(&req);
    let found = json!({
        "account_type": "standard",
        "auth_id": *auth_id,
        "name": "Stand-in account",
        "resource_uri": format!("/v1/Account/{auth_id}/"),
    });
    answer(
        &shared,
        &req,
        Provider::Plivo,
        Some(&auth_id),
        |state| path_account_matches(state, Provider::Plivo, &auth_id, credentials.as_ref()),
        found,
    )
    .await
}

async fn vonage_balance(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    let credentials = basic(&req);
    let key = credentials.as_ref().map(|(key, _)| key.clone());
    answer(
        &shared,
        &req,
        Provider::Vonage,
        key.as_deref(),
        |state| {
            credentials
                .as_ref()
                .is_some_and(|(key, secret)| state.accepts(Provider::Vonage, Some(key), secret))
        },
        json!({"value": 10.5, "autoReload": false}),
    )
    .await
}

async fn telnyx_balance(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    let key = bearer(&req);
    let account = key
        .as_deref()
        .and_then(|key| shared.state().account_of_key(Provider::Telnyx, key));
    answer(
        &shared,
        &req,
        Provider::Telnyx,
        account.as_deref(),
        |state| {
            key.as_deref()
                .is_some_and(|key| state.accepts(Provider::Telnyx, None, key))
        },
        json!({"data": {"record_type": "balance", "balance": "10.00", "currency": "USD"}}),
    )
    .await
}

/// Any other request: recorded, then 404.
pub(super) async fn unknown(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    shared.state().seen.push(seen(&req));
    HttpResponse::NotFound().json(json!({"status": 404, "message": "no such endpoint"}))
}
