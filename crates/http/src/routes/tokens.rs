//! Login and the caller's API tokens (contract section 8): `POST /auth/login/`,
//! `GET`/`POST /auth/tokens/`, `DELETE /auth/tokens/{id}/`.
//!
//! A login reads its body, normalizes the email (longer than 254 characters is 400
//! before anything else), then in one blocking trip counts the attempt against the
//! login throttle (before the password is checked, so parallel guesses are limited
//! as sequential ones) and looks the user up; it then awaits the password hasher's
//! answer (Argon2id runs on the hashing pool, no thread waits for it), and a correct
//! password gives the attempt's cells back and issues the token.
//! A new token's secret appears in exactly one answer, which `Idempotency-Key` never
//! stores; listings show its prefix.

use std::sync::LazyLock;

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Value, json};
use switchboard_application::identity::{IssuedToken, LoginError};
use switchboard_application::limits::LoginThrottleError;
use switchboard_domain::identity::{LoginRequest, TokenId, TokenRecord};
use switchboard_domain::shared::NON_FIELD_ERRORS;
use switchboard_domain::validation;

use crate::docs::schema::{
    envelope, header, list_envelope, object, request_id_header, schema_ref, text,
};
use crate::extract::auth::Authenticated;
use crate::extract::body::{BodyLimits, read_json_object};
use crate::extract::client_address::client_address;
use crate::middleware::metrics::count_rate_limited;
use crate::spec::{Access, Idempotency, Operation, RouteSpec, api};
use crate::state::AppState;
use crate::wire::envelope::{respond, respond_list};
use crate::wire::error::{ApiError, blocking};
use crate::wire::fields::{Field, FieldTable, Kind, positive_id, rfc3339};
use crate::wire::scopes::{scope_names, scopes_field};

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
    scopes: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct CreatedTokenView {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) token: String,
    pub(crate) prefix: String,
    pub(crate) created_at: String,
    pub(crate) expires_at: Option<String>,
    pub(crate) scopes: Vec<&'static str>,
}

impl From<IssuedToken> for CreatedTokenView {
    fn from(issued: IssuedToken) -> Self {
        Self {
            id: issued.record.id.0,
            name: issued.record.name.clone(),
            token: issued.token.expose().to_owned(),
            prefix: issued.record.prefix.clone(),
            created_at: rfc3339(&issued.record.created_at),
            expires_at: issued.record.expires_at.as_ref().map(rfc3339),
            scopes: scope_names(issued.record.scopes),
        }
    }
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
            scopes: scope_names(record.scopes),
        }
    }
}

static LOGIN_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new("email", Kind::Text).required(),
        Field::new("password", Kind::Text).required(),
    ])
});

static TOKEN_FIELDS: LazyLock<FieldTable> = LazyLock::new(|| {
    FieldTable::new(vec![
        Field::new("name", Kind::Text).required(),
        Field::new(
            "expires_in_days",
            Kind::Integer {
                min: 0,
                max: i64::from(u32::MAX),
            },
        )
        .nullable()
        .message("must be an integer from 1 to 3650"),
        Field::new("scopes", Kind::TextList),
    ])
});

/// The email as the throttle and the lookup see it: trimmed and lowercased.
///
/// # Errors
/// 400 past 254 characters: nothing longer is an address, and nothing longer may
/// become a throttle key.
fn normalized_email(email: &str) -> Result<String, ApiError> {
    validation::validate(&LoginRequest { email }).map_err(ApiError::Validation)?;
    Ok(email.trim().to_lowercase())
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let mut fields = LOGIN_FIELDS.read(&body)?;
    let (Some(email), Some(password)) = (fields.text("email"), fields.text("password")) else {
        return Err(ApiError::invalid(
            NON_FIELD_ERRORS,
            "email and password are required",
        ));
    };
    let email = normalized_email(&email)?;
    let password = SecretString::from(password);
    let address = client_address(&req, &state.trusted_proxies);
    let (reservation, candidate) = {
        let state = state.clone();
        blocking(move || {
            let reservation =
                state
                    .login_throttle
                    .reserve(&email, &address)
                    .inspect_err(|error| {
                        if matches!(error, LoginThrottleError::Throttled(_)) {
                            count_rate_limited("login");
                        }
                    })?;
            match state.identity.login_candidate(&email) {
                Ok(candidate) => Ok((reservation, candidate)),
                Err(error) => {
                    state.login_throttle.release(reservation)?;
                    Err(ApiError::from(error))
                }
            }
        })
        .await?
    };
    let user = match state.identity.check_password(candidate, &password).await {
        Ok(user) => user,
        // The attempt keeps its cells: it failed.
        Err(LoginError::InvalidCredentials) => {
            drop(reservation);
            return Err(ApiError::InvalidCredentials);
        }
        Err(other) => {
            let throttle = state.login_throttle.clone();
            blocking(move || throttle.release(reservation)).await?;
            return Err(other.into());
        }
    };
    let ttl = state.login_token_ttl_days;
    let issued = {
        let state = state.clone();
        blocking(move || {
            state.login_throttle.release(reservation)?;
            state
                .identity
                .finish_login(user, ttl)
                .map_err(ApiError::from)
        })
        .await?
    };
    Ok(respond(
        StatusCode::OK,
        "Logged in successfully.",
        LoginView {
            id: issued.record.id.0,
            token: issued.token.expose().to_owned(),
            expires_at: issued.record.expires_at.as_ref().map(rfc3339),
        },
    ))
}

async fn list(
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

async fn create(
    Authenticated(caller): Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_json_object(&req, payload, BodyLimits::of(&state)).await?;
    let mut fields = TOKEN_FIELDS.read(&body)?;
    let Some(name) = fields.text("name") else {
        return Err(ApiError::invalid("name", "This field is required."));
    };
    // The table bounds the number to u32.
    let expires_in_days = fields
        .integer("expires_in_days")
        .and_then(|days| u32::try_from(days).ok());
    let scopes = scopes_field(&mut fields)?;
    let identity = state.identity.clone();
    let issued =
        blocking(move || identity.issue_scoped_token_for(caller, &name, expires_in_days, scopes))
            .await?;
    Ok(respond(
        StatusCode::CREATED,
        "Token created successfully.",
        CreatedTokenView::from(issued),
    ))
}

async fn revoke(
    Authenticated(caller): Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = positive_id(&path).map(TokenId).ok_or(ApiError::NotFound)?;
    let identity = state.identity.clone();
    blocking(move || identity.revoke_token_of_caller(caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

fn login_body(_: &switchboard_domain::telephony::ProviderCatalog) -> Value {
    object(
        json!({"email": {"type": "string"}, "password": {"type": "string"}}),
        &["email", "password"],
    )
}

fn login_answer() -> Value {
    envelope(schema_ref("Login"))
}

fn login_answers() -> Vec<(u16, Value)> {
    vec![
        (
            401,
            json!({"description": "`invalid_credentials`: unknown email or wrong password (one answer for both).",
                   "headers": {"X-Request-Id": request_id_header()},
                   "content": {"application/json": {"schema": schema_ref("Error"),
                       "example": {"status_code": 401, "message": "Invalid email or password.",
                                   "code": "invalid_credentials"}}}}),
        ),
        (
            429,
            json!({"description": "`rate_limited`: too many failed logins for this email or client address.",
                   "headers": {"X-Request-Id": request_id_header(),
                               "Retry-After": header("Seconds to wait.", true, json!({"type": "string"}))},
                   "content": {"application/json": {"schema": schema_ref("Error"),
                       "example": {"status_code": 429, "message": "Too many requests.",
                                   "code": "rate_limited"}}}}),
        ),
    ]
}

fn tokens_answer() -> Value {
    list_envelope(schema_ref("Token"))
}

fn token_body(_: &switchboard_domain::telephony::ProviderCatalog) -> Value {
    object(
        json!({"name": text(1, 100),
               "expires_in_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650},
               "scopes": scopes_schema()}),
        &["name"],
    )
}

/// The schema of a list of scopes.
pub(crate) fn scopes_schema() -> Value {
    let names: Vec<&str> = switchboard_domain::identity::Scope::ALL
        .iter()
        .map(|scope| scope.as_str())
        .collect();
    json!({"type": "array", "items": {"enum": names},
           "description": "The token's scopes (a scope named twice counts once); without it, the creating token's. Rights are the role's narrowed to these."})
}

fn created_token_answer() -> Value {
    envelope(schema_ref("CreatedToken"))
}

/// The login and token routes.
pub(crate) fn routes() -> Vec<RouteSpec> {
    let identity = |summary| Operation::new("identity", summary);
    vec![
        RouteSpec::new(
            Method::POST,
            api("/auth/login"),
            Access::Public,
            || web::post().to(login),
            identity("Log in with email and password; answers a new token")
                .id("login")
                .body(login_body, true)
                .answer(login_answer)
                .errors(&[400])
                .responses(login_answers)
                .idempotency(Idempotency::NeverStored),
        ),
        RouteSpec::new(
            Method::GET,
            api("/auth/tokens"),
            Access::Token,
            || web::get().to(list),
            identity("The caller's live tokens (never the secret)")
                .id("listTokens")
                .answer(tokens_answer),
        ),
        RouteSpec::new(
            Method::POST,
            api("/auth/tokens"),
            Access::Token,
            || web::post().to(create),
            identity("Issue a token for the caller (shown this once)")
                .id("createToken")
                .body(token_body, true)
                .status(201)
                .answer(created_token_answer)
                .errors(&[400, 403])
                .idempotency(Idempotency::NeverStored),
        ),
        RouteSpec::new(
            Method::DELETE,
            api("/auth/tokens/{id}"),
            Access::Token,
            || web::delete().to(revoke),
            identity("Revoke one of the caller's tokens")
                .id("revokeToken")
                .status(204)
                .errors(&[404]),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use switchboard_domain::identity::Email;

    use super::*;

    #[test]
    fn emails_are_normalized_and_bounded_before_anything() {
        assert_eq!(
            normalized_email("  Ops@Acme.Test "),
            Ok("ops@acme.test".to_owned())
        );
        let longest = format!("{}@x.io", "a".repeat(Email::MAX_LEN - 5));
        assert_eq!(normalized_email(&longest).map(|e| e.len()), Ok(254));
        let longer = format!("a{longest}");
        assert!(matches!(
            normalized_email(&longer),
            Err(ApiError::Validation(errors)) if errors.has("email")
        ));
    }
}
