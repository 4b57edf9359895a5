//! `Idempotency-Key` on POST routes: [`idempotent`] wraps a handler's work so that a
//! retry with the same key and the same request replays the first answer (status,
//! body, `Content-Type`, `ETag`, `Location`, plus `Idempotent-Replayed: true`)
//! without running the work again.
//!
//! Only routes whose table entry says their answers may be stored (the route table
//! gives their resources [`StoredAnswers`]) use the key; elsewhere it is ignored, so
//! an answer carrying a secret or a token is never stored (contract section 16).
//!
//! Handlers call it after checking authentication, content type, size and the
//! shapes of the body and query, and before anything that depends on the role or on
//! stored data, which is the contract's order (400 before 422 before 403). Keys are
//! scoped to the organization and the token. The fingerprint is the SHA-256 of the
//! method, path, query and canonical JSON body (keys sorted, whitespace dropped:
//! `serde_json::to_string` of the parsed object, whose maps are sorted because the
//! crate's `preserve_order` feature is off), so the same object sent with other
//! spacing or key order is the same request.
//!
//! Answers below 500 are stored; on a 5xx the key is released so that a retry runs.
//! The work runs in a task of its own, so a client that hangs up does not leave the
//! key claimed forever: the answer is stored (or the key released) anyway.

use std::future::Future;

use actix_web::body::{BoxBody, to_bytes};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use switchboard_application::{Actor, IdempotencyService};
use switchboard_domain::idempotency::{
    IdempotencyClaim, IdempotencyKey, IdempotencyScope, InvalidIdempotencyKey, StoredResponse,
};
use switchboard_domain::shared::NON_FIELD_ERRORS;

use crate::state::AppState;
use crate::wire::error::{ApiError, block_in_span, blocking};

/// Name of the request header.
const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Name of the header marking a replayed answer.
const REPLAYED_HEADER: &str = "idempotent-replayed";

/// Headers stored with an answer and replayed with it.
const REPLAYED_HEADERS: [&str; 3] = ["content-type", "etag", "location"];

/// Whether `Idempotency-Key` may store the answers of a resource's POST: app data
/// the route table gives each resource from its routes' metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StoredAnswers(pub(crate) bool);

const IN_FLIGHT: &str = "A request with this Idempotency-Key is still being processed.";

/// Runs `work` under the request's `Idempotency-Key`, if it has one and the route
/// may store its answers (otherwise `work` simply runs). `body` is the parsed JSON
/// body (`None` for a body-less POST).
///
/// # Errors
/// 400 for a malformed key; 422 `idempotency_key_reused` when the key was used
/// for another request; 409 while the key's first request is still running; else
/// whatever `work` returns.
pub(crate) async fn idempotent<F>(
    req: &HttpRequest,
    state: &AppState,
    actor: &Actor,
    body: Option<&Map<String, Value>>,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: Future<Output = Result<HttpResponse, ApiError>> + 'static,
{
    let stored = req
        .app_data::<StoredAnswers>()
        .is_some_and(|stored| stored.0);
    if !stored {
        return work.await;
    }
    let Some(key) = key_of(req)? else {
        return work.await;
    };
    let scope = IdempotencyScope {
        org_id: actor.org_id,
        token_id: actor.token_id,
    };
    let hash = fingerprint(req.method().as_str(), req.path(), req.query_string(), body);
    let service = state.idempotency.clone();
    let claim = {
        let (service, key) = (service.clone(), key.clone());
        blocking(move || service.claim(scope, &key, &hash)).await?
    };
    match claim {
        IdempotencyClaim::Replay(stored) => Ok(replay(&stored)),
        IdempotencyClaim::InFlight => Err(ApiError::Conflict(IN_FLIGHT)),
        IdempotencyClaim::Mismatch => Err(ApiError::IdempotencyKeyReused),
        IdempotencyClaim::Claimed => {
            let task = actix_web::rt::spawn(async move {
                let response = match work.await {
                    Ok(response) => response,
                    Err(error) => error.error_response(),
                };
                settle(service, scope, key, response).await
            });
            task.await.map_err(|error| ApiError::internal(&error))
        }
    }
}

/// The request's key: `None` without the header.
fn key_of(req: &HttpRequest) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = req.headers().get_all(IDEMPOTENCY_KEY_HEADER);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let malformed = || ApiError::invalid(NON_FIELD_ERRORS, &InvalidIdempotencyKey.to_string());
    if values.next().is_some() {
        return Err(ApiError::invalid(
            NON_FIELD_ERRORS,
            "Send one Idempotency-Key header, not several.",
        ));
    }
    let text = value.to_str().map_err(|_| malformed())?;
    IdempotencyKey::parse(text)
        .map(Some)
        .map_err(|_| malformed())
}

/// Stores a final answer (or releases the key on a 5xx) and hands the answer on.
async fn settle(
    service: std::sync::Arc<IdempotencyService>,
    scope: IdempotencyScope,
    key: IdempotencyKey,
    response: HttpResponse,
) -> HttpResponse {
    let status = response.status();
    let (head, body) = response.into_parts();
    let bytes = match to_bytes(body).await {
        Ok(bytes) => bytes,
        Err(_) => {
            release(service, scope, key).await;
            return ApiError::internal(&"a response body could not be read").error_response();
        }
    };
    let stored = match std::str::from_utf8(&bytes) {
        Ok(text) if !status.is_server_error() => Some(StoredResponse {
            status: status.as_u16(),
            headers: REPLAYED_HEADERS
                .iter()
                .filter_map(|name| {
                    head.headers()
                        .get(*name)
                        .and_then(|value| value.to_str().ok())
                        .map(|value| ((*name).to_owned(), value.to_owned()))
                })
                .collect(),
            body: text.to_owned(),
        }),
        _ => None,
    };
    match stored {
        Some(stored) => {
            let outcome = block_in_span(move || service.complete(scope, &key, &stored)).await;
            if !matches!(outcome, Ok(Ok(()))) {
                // The work is done; the client gets its answer. A retry within the
                // in-flight timeout is told the key is busy, later it runs again.
                tracing::warn!("the answer of an idempotent request could not be stored");
            }
        }
        None => release(service, scope, key).await,
    }
    head.set_body(BoxBody::new(bytes))
}

async fn release(
    service: std::sync::Arc<IdempotencyService>,
    scope: IdempotencyScope,
    key: IdempotencyKey,
) {
    let outcome = block_in_span(move || service.release(scope, &key)).await;
    if !matches!(outcome, Ok(Ok(()))) {
        tracing::warn!("an idempotency key could not be released after a failed request");
    }
}

/// A stored answer, marked as replayed.
fn replay(stored: &StoredResponse) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in &stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((
        HeaderName::from_static(REPLAYED_HEADER),
        HeaderValue::from_static("true"),
    ));
    response.body(stored.body.clone())
}

/// SHA-256 (hex) of method, path, query and canonical body.
fn fingerprint(method: &str, path: &str, query: &str, body: Option<&Map<String, Value>>) -> String {
    let mut hasher = Sha256::new();
    for part in [method, path, query] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    if let Some(body) = body {
        hasher.update(canonical(body).as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `body` as compact JSON with every object's keys sorted (serde_json's maps are
/// sorted without its `preserve_order` feature; a test pins it).
fn canonical(body: &Map<String, Value>) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn fingerprints_ignore_key_order_and_spacing_only() {
        let a = object(json!({"b": [1, {"y": 2, "x": 1}], "a": "t"}));
        let b: Map<String, Value> =
            serde_json::from_str(r#"{ "a" : "t", "b" : [1, {"x":1,"y":2}] }"#).expect("json");
        let c = object(json!({"a": "t"}));
        let hash = |body| fingerprint("POST", "/p", "", Some(body));
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(hash(&a), hash(&c));
        assert_ne!(
            fingerprint("POST", "/p", "verify=true", Some(&a)),
            fingerprint("POST", "/p", "", Some(&a))
        );
        assert_ne!(
            fingerprint("POST", "/p/1", "", None),
            fingerprint("POST", "/p/2", "", None)
        );
        assert_eq!(hash(&a).len(), 64);
    }

    #[test]
    fn canonical_json_is_compact_and_sorted() {
        let body = object(json!({"z": null, "a": ["\"q\"", 1.5, true, {"y": 1, "b": 2}]}));
        assert_eq!(
            canonical(&body),
            r#"{"a":["\"q\"",1.5,true,{"b":2,"y":1}],"z":null}"#
        );
    }

    #[test]
    fn replays_carry_the_stored_answer_and_the_marker() {
        let response = replay(&StoredResponse {
            status: 201,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("etag".into(), "\"1-1\"".into()),
            ],
            body: "{}".into(),
        });
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(
            response
                .headers()
                .get(REPLAYED_HEADER)
                .map(HeaderValue::as_bytes),
            Some(&b"true"[..])
        );
        assert_eq!(
            response.headers().get("etag").map(HeaderValue::as_bytes),
            Some(&b"\"1-1\""[..])
        );
    }
}
