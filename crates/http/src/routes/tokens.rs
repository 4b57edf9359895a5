//! Login and the caller's API tokens (contract section 8): `POST /auth/login/`,
//! `GET`/`POST /auth/tokens/`, `DELETE /auth/tokens/{id}/`.
//!
//! Login runs on a thread of its own (see [`crate::own_thread`]) behind a semaphore
//! (at most one hash per core at a time), Argon2id itself on the low-priority hashing
//! pool, and is throttled per email and per client address on failures.
//! A new token's secret appears in exactly one answer; listings show its prefix.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Map, Value};
use switchboard_application::identity::{
    IssueTokenError, IssuedToken, LoginError, RevokeTokenError,
};
use switchboard_domain::identity::{TokenId, TokenRecord};
use switchboard_domain::shared::{NON_FIELD_ERRORS, ValidationErrors};

use crate::auth::Authenticated;
use crate::body::{json_integer, read_json_object};
use crate::envelope::{respond, respond_list};
use crate::error::{ApiError, blocking};
use crate::own_thread::on_own_thread;
use crate::{AppState, rfc3339};

#[derive(Debug, Serialize)]
struct LoginView {
    id: i64,
    token: String,
    expires_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct TokenView {
    id: i64,
    name: String,
    prefix: String,
    created_at: String,
    last_used_at: Option<String>,
    expires_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct CreatedTokenView {
    id: i64,
    name: String,
    token: String,
    prefix: String,
    created_at: String,
    expires_at: Option<String>,
}

impl From<TokenRecord> for TokenView {
    fn from(record: TokenRecord) -> Self {
        Self {
            id: record.id.0,
            name: record.name,
            prefix: record.prefix,
            created_at: rfc3339(&record.created_at),
            last_used_at: record.last_used_at.as_ref().map(rfc3339),
            expires_at: record.expires_at.as_ref().map(rfc3339),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::InvalidCredentials => Self::InvalidCredentials,
            LoginError::Hashing(cause) => Self::internal(&cause),
            LoginError::Repository(error) => error.into(),
        }
    }
}

impl From<IssueTokenError> for ApiError {
    fn from(error: IssueTokenError) -> Self {
        match error {
            IssueTokenError::InvalidName => Self::invalid(
                "name",
                "must be 1 to 100 characters without control characters",
            ),
            IssueTokenError::InvalidExpiry => {
                Self::invalid("expires_in_days", "must be an integer from 1 to 3650")
            }
            IssueTokenError::UnknownUser => Self::InvalidToken,
            IssueTokenError::Repository(error) => error.into(),
        }
    }
}

impl From<RevokeTokenError> for ApiError {
    fn from(error: RevokeTokenError) -> Self {
        match error {
            RevokeTokenError::NotFound => Self::NotFound,
            RevokeTokenError::Repository(error) => error.into(),
        }
    }
}

fn string_field(
    body: &mut Map<String, Value>,
    field: &str,
    errors: &mut ValidationErrors,
    required: bool,
) -> Option<String> {
    match body.remove(field) {
        Some(Value::String(text)) => Some(text),
        Some(_) => {
            errors.add(field, "must be a string");
            None
        }
        None => {
            if required {
                errors.add(field, "This field is required.");
            }
            None
        }
    }
}

fn refuse_unknown_fields(body: &Map<String, Value>, errors: &mut ValidationErrors) {
    for key in body.keys() {
        if !key.is_empty()
            && key.len() <= 64
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            errors.add(key, "Unknown field.");
        } else {
            errors.add(
                NON_FIELD_ERRORS,
                "The body holds a field that is not accepted.",
            );
        }
    }
}

pub(crate) async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let mut body = read_json_object(&req, payload, state.body_limit_bytes).await?;
    let mut errors = ValidationErrors::new();
    let email = string_field(&mut body, "email", &mut errors, true);
    let password = string_field(&mut body, "password", &mut errors, true).map(SecretString::from);
    refuse_unknown_fields(&body, &mut errors);
    errors.into_result().map_err(ApiError::Validation)?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::invalid(
            NON_FIELD_ERRORS,
            "email and password are required",
        ));
    };
    let address = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |address| address.ip().to_string());
    if let Some(retry_after_seconds) = state.login_throttle.blocked(&email, &address) {
        crate::metrics::count_rate_limited("login");
        return Err(ApiError::RateLimited {
            retry_after_seconds,
        });
    }
    let _permit = state
        .password_hash_permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|error| ApiError::internal(&error))?;
    let identity = state.identity.clone();
    let ttl = state.login_token_ttl_days;
    let attempt_email = email.clone();
    let outcome = on_own_thread("login", move || {
        identity.login(&attempt_email, &password, ttl)
    })
    .await;
    match outcome {
        Ok(IssuedToken { token, record }) => Ok(respond(
            StatusCode::OK,
            "Logged in successfully.",
            LoginView {
                id: record.id.0,
                token: token.expose().to_owned(),
                expires_at: record.expires_at.as_ref().map(rfc3339),
            },
        )),
        Err(ApiError::InvalidCredentials) => {
            state.login_throttle.record_failure(&email, &address);
            Err(ApiError::InvalidCredentials)
        }
        Err(other) => Err(other),
    }
}

pub(crate) async fn list(
    Authenticated(caller): Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let identity = state.identity.clone();
    let records = blocking(move || identity.tokens_of_caller(caller)).await?;
    let items: Vec<TokenView> = records
        .into_iter()
        .filter(|record| record.revoked_at.is_none())
        .map(TokenView::from)
        .collect();
    let total = items.len() as u64;
    Ok(respond_list("Tokens fetched successfully.", total, items))
}

pub(crate) async fn create(
    Authenticated(caller): Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let mut body = read_json_object(&req, payload, state.body_limit_bytes).await?;
    let mut errors = ValidationErrors::new();
    let name = string_field(&mut body, "name", &mut errors, true);
    let expires_in_days = match body.remove("expires_in_days") {
        None | Some(Value::Null) => None,
        Some(value @ Value::Number(_)) => {
            match json_integer(&value).and_then(|n| u32::try_from(n).ok()) {
                Some(days) => Some(days),
                None => {
                    errors.add("expires_in_days", "must be an integer from 1 to 3650");
                    None
                }
            }
        }
        Some(_) => {
            errors.add("expires_in_days", "must be an integer from 1 to 3650");
            None
        }
    };
    refuse_unknown_fields(&body, &mut errors);
    errors.into_result().map_err(ApiError::Validation)?;
    let Some(name) = name else {
        return Err(ApiError::invalid("name", "This field is required."));
    };
    let identity = state.identity.clone();
    let issued = blocking(move || identity.issue_token_for(caller, &name, expires_in_days)).await?;
    Ok(respond(
        StatusCode::CREATED,
        "Token created successfully.",
        CreatedTokenView {
            id: issued.record.id.0,
            name: issued.record.name.clone(),
            token: issued.token.expose().to_owned(),
            prefix: issued.record.prefix.clone(),
            created_at: rfc3339(&issued.record.created_at),
            expires_at: issued.record.expires_at.as_ref().map(rfc3339),
        },
    ))
}

pub(crate) async fn revoke(
    Authenticated(caller): Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(TokenId)
        .ok_or(ApiError::NotFound)?;
    let identity = state.identity.clone();
    blocking(move || identity.revoke_token_of_caller(caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
