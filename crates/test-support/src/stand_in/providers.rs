//! The providers' endpoints the stand-in serves, one handler per call Switchboard
//! makes (`crates/verify`), answering like the provider does:
//!
//! | provider | call | authentication |
//! |---|---|---|
//! | twilio | `GET /2010-04-01/Accounts/{AccountSid}.json` | basic, account SID and auth token |
//! | plivo | `GET /v1/Account/{AuthId}/` | basic, auth id and auth token |
//! | vonage | `GET /account/get-balance` | basic, API key and API secret |
//! | telnyx | `GET /v2/balance` | bearer, the API key |
//! | twilio | `GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json` (`PageSize`, `Page`; `next_page_uri`) | basic |
//! | telnyx | `GET /v2/phone_numbers` (`page[number]`, `page[size]`; `meta.total_pages`) | bearer |
//! | plivo | `GET /v1/Account/{AuthId}/Number/` (`limit`, `offset`; `meta.next`) | basic |
//!
//! Number listings serve the numbers the stand-in was given for the account, in
//! pages of at most its page size (whatever the caller asks for), so that a few
//! numbers already span several pages.
//!
//! A new endpoint (a paged number listing, say) is one more handler and one more
//! line in [`routes`]; [`answer`] applies the stand-in's rules to it.

use std::collections::HashMap;

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
        .route("/v2/balance", web::get().to(telnyx_balance))
        .route(
            "/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json",
            web::get().to(twilio_numbers),
        )
        .route("/v2/phone_numbers", web::get().to(telnyx_numbers))
        .route(
            "/v1/Account/{auth_id}/Number/",
            web::get().to(plivo_numbers),
        );
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

/// The query parameters of `req` (decoded; a malformed query reads as empty).
fn query(req: &HttpRequest) -> HashMap<String, String> {
    web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

fn number_parameter(query: &HashMap<String, String>, name: &str) -> Option<usize> {
    query.get(name).and_then(|value| value.parse().ok())
}

/// The numbers of `account` and the page size to use for a caller asking `asked`.
fn numbers_of(
    shared: &Shared,
    account: Option<&str>,
    asked: Option<usize>,
) -> (Vec<String>, usize) {
    let state = shared.state();
    let numbers = account
        .and_then(|account| state.numbers.get(account))
        .cloned()
        .unwrap_or_default();
    let size = asked.unwrap_or(state.page_size).clamp(1, state.page_size);
    (numbers, size)
}

/// A number listing: garbled (200, not JSON) for the accounts told so, otherwise
/// as [`answer`].
async fn listing(
    shared: &Shared,
    req: &HttpRequest,
    provider: Provider,
    account: Option<&str>,
    authorized: impl FnOnce(&super::State) -> bool,
    page: Value,
) -> HttpResponse {
    let garbled = account.is_some_and(|account| {
        shared
            .state()
            .garbled
            .iter()
            .any(|garbled| garbled == account)
    });
    if garbled {
        shared.state().seen.push(seen(req));
        return HttpResponse::Ok()
            .content_type("text/html")
            .body("<html><body>stand-in: this is not JSON</body></html>");
    }
    answer(shared, req, provider, account, authorized, page).await
}

async fn twilio_numbers(
    req: HttpRequest,
    sid: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let credentials = basic(&req);
    let query = query(&req);
    let (numbers, size) = numbers_of(&shared, Some(&sid), number_parameter(&query, "PageSize"));
    let page = number_parameter(&query, "Page").unwrap_or(0);
    let listing_path = format!("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json");
    let start = page.saturating_mul(size);
    let items: Vec<Value> = numbers
        .iter()
        .enumerate()
        .skip(start)
        .take(size)
        .map(|(index, number)| {
            json!({"sid": format!("PN{index:032x}"), "account_sid": *sid,
                   "phone_number": number, "friendly_name": number,
                   "capabilities": {"voice": true, "sms": true, "mms": false}})
        })
        .collect();
    let next = (start + size < numbers.len()).then(|| {
        format!(
            "{listing_path}?PageSize={size}&Page={}&PageToken=PA{}",
            page + 1,
            page + 1
        )
    });
    let found = json!({
        "incoming_phone_numbers": items,
        "page": page, "page_size": size, "start": start,
        "end": start + size.min(numbers.len().saturating_sub(start)),
        "uri": format!("{listing_path}?PageSize={size}&Page={page}"),
        "first_page_uri": format!("{listing_path}?PageSize={size}&Page=0"),
        "previous_page_uri": Value::Null,
        "next_page_uri": next,
    });
    listing(
        &shared,
        &req,
        Provider::Twilio,
        Some(&sid),
        |state| path_account_matches(state, Provider::Twilio, &sid, credentials.as_ref()),
        found,
    )
    .await
}

async fn telnyx_numbers(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    let key = bearer(&req);
    let account = key
        .as_deref()
        .and_then(|key| shared.state().account_of_key(Provider::Telnyx, key));
    let query = query(&req);
    let (numbers, size) = numbers_of(
        &shared,
        account.as_deref(),
        number_parameter(&query, "page[size]"),
    );
    let page = number_parameter(&query, "page[number]").unwrap_or(1).max(1);
    let total_pages = numbers.len().div_ceil(size).max(1);
    let items: Vec<Value> = numbers
        .iter()
        .enumerate()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|(index, number)| {
            json!({"id": format!("{}", 1_293_384_261_075_731_499_u64 + index as u64),
                   "record_type": "phone_number", "phone_number": number, "status": "active"})
        })
        .collect();
    let found = json!({
        "data": items,
        "meta": {"total_pages": total_pages, "total_results": numbers.len(),
                 "page_number": page, "page_size": size},
    });
    listing(
        &shared,
        &req,
        Provider::Telnyx,
        account.as_deref(),
        |state| {
            key.as_deref()
                .is_some_and(|key| state.accepts(Provider::Telnyx, None, key))
        },
        found,
    )
    .await
}

async fn plivo_numbers(
    req: HttpRequest,
    auth_id: web::Path<String>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let credentials = basic(&req);
    let query = query(&req);
    let (numbers, size) = numbers_of(&shared, Some(&auth_id), number_parameter(&query, "limit"));
    let offset = number_parameter(&query, "offset").unwrap_or(0);
    let listing_path = format!("/v1/Account/{auth_id}/Number/");
    let items: Vec<Value> = numbers
        .iter()
        .skip(offset)
        .take(size)
        .map(|number| {
            json!({"number": number, "number_type": "local",
                   "resource_uri": format!("{listing_path}{number}/")})
        })
        .collect();
    let next = (offset + size < numbers.len())
        .then(|| format!("{listing_path}?limit={size}&offset={}", offset + size));
    let found = json!({
        "api_id": "stand-in",
        "meta": {"limit": size, "offset": offset, "total_count": numbers.len(),
                 "previous": Value::Null, "next": next},
        "objects": items,
    });
    listing(
        &shared,
        &req,
        Provider::Plivo,
        Some(&auth_id),
        |state| path_account_matches(state, Provider::Plivo, &auth_id, credentials.as_ref()),
        found,
    )
    .await
}

/// Any other request: recorded, then 404.
pub(super) async fn unknown(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    shared.state().seen.push(seen(&req));
    HttpResponse::NotFound().json(json!({"status": 404, "message": "no such endpoint"}))
}
