//! Reading JSON request bodies in the contract's order of checks: content type (415),
//! size (413), then JSON syntax and shape (400), all within the body time limit
//! (408). Messages never repeat the body.
//!
//! The time limit covers the whole body, from the moment the handler starts reading
//! it: a client that trickles bytes (one a second) holds its connection and its
//! buffer only until then, is answered 408 `request_timeout`, and the connection is
//! closed. The size limit bounds what a body may need in that time, so no separate
//! minimum rate is enforced.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use actix_web::web::{BytesMut, Payload};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use switchboard_domain::shared::NON_FIELD_ERRORS;

use crate::state::AppState;
use crate::wire::error::ApiError;
use crate::wire::json::{JsonError, parse_strict};

/// The limits a body is read under.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    /// Largest accepted body in bytes (larger is 413).
    pub(crate) max_bytes: usize,
    /// Time the whole body may take to arrive (longer is 408).
    pub(crate) timeout: Duration,
}

impl BodyLimits {
    /// The limits `state`'s settings give.
    pub(crate) fn of(state: &AppState) -> Self {
        Self {
            max_bytes: state.body_limit_bytes,
            timeout: state.body_timeout,
        }
    }
}

/// Whether the request carries a body at all.
pub(crate) fn has_body(req: &HttpRequest) -> bool {
    req.headers().contains_key(TRANSFER_ENCODING) || declared_length(req).is_some_and(|n| n > 0)
}

fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
}

/// Reads a JSON object body within `limits`.
///
/// # Errors
/// 415 for a body with another media type, 413 past the size limit, 408 past the
/// time limit, 400 for anything that is not one JSON object (a key named twice
/// included).
pub(crate) async fn read_json_object(
    req: &HttpRequest,
    payload: Payload,
    limits: BodyLimits,
) -> Result<Map<String, Value>, ApiError> {
    if (has_body(req) || req.headers().contains_key(CONTENT_TYPE)) && !is_json(req) {
        return Err(ApiError::UnsupportedMediaType);
    }
    if declared_length(req).is_some_and(|length| length > limits.max_bytes as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let body = actix_web::rt::time::timeout(limits.timeout, read_bytes(payload, limits.max_bytes))
        .await
        .map_err(|_| ApiError::RequestTimeout)??;
    if body.is_empty() {
        return Err(not_an_object());
    }
    match parse_strict(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(not_an_object()),
        Err(JsonError::Malformed) => Err(malformed()),
        Err(JsonError::DuplicateKey) => Err(ApiError::invalid(
            NON_FIELD_ERRORS,
            "The body names a key more than once.",
        )),
    }
}

async fn read_bytes(mut payload: Payload, max_bytes: usize) -> Result<BytesMut, ApiError> {
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| malformed())?;
        if body.len() + chunk.len() > max_bytes {
            return Err(ApiError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn not_an_object() -> ApiError {
    ApiError::invalid(NON_FIELD_ERRORS, "Request body must be a JSON object.")
}

fn malformed() -> ApiError {
    ApiError::invalid(NON_FIELD_ERRORS, "Malformed JSON.")
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use actix_web::FromRequest;
    use actix_web::error::PayloadError;
    use actix_web::test::TestRequest;
    use actix_web::web::Bytes;
    use futures_util::stream;

    use super::*;

    type Chunks = std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, PayloadError>>>>;

    const LIMITS: BodyLimits = BodyLimits {
        max_bytes: 64,
        timeout: Duration::from_millis(200),
    };

    async fn read_from(
        request: TestRequest,
        body: actix_web::dev::Payload,
    ) -> Result<Map<String, Value>, ApiError> {
        let req = request
            .insert_header((CONTENT_TYPE, "application/json"))
            .to_http_request();
        let mut body = body;
        let payload = Payload::from_request(&req, &mut body)
            .await
            .expect("a payload");
        read_json_object(&req, payload, LIMITS).await
    }

    async fn read(body: &'static [u8]) -> Result<Map<String, Value>, ApiError> {
        let chunks = stream::iter([Ok::<_, PayloadError>(Bytes::from_static(body))]);
        let payload: actix_web::dev::Payload =
            actix_web::dev::Payload::from(Box::pin(chunks) as Chunks);
        read_from(TestRequest::post(), payload).await
    }

    fn message_of(error: ApiError) -> String {
        match error {
            ApiError::Validation(errors) => errors.fields()[NON_FIELD_ERRORS][0].clone(),
            other => panic!("{other:?}"),
        }
    }

    #[actix_web::test]
    async fn objects_are_read_and_everything_else_refused() {
        assert_eq!(read(br#"{"a": 1}"#).await.expect("object").len(), 1);
        assert_eq!(
            message_of(read(b"[1]").await.expect_err("array")),
            "Request body must be a JSON object."
        );
        assert_eq!(
            message_of(read(b"{").await.expect_err("syntax")),
            "Malformed JSON."
        );
        assert_eq!(
            message_of(read(br#"{"a": 1, "a": 2}"#).await.expect_err("duplicate")),
            "The body names a key more than once."
        );
        assert_eq!(
            read(&[b' '; 65]).await.expect_err("too large"),
            ApiError::PayloadTooLarge
        );
    }

    #[actix_web::test]
    async fn a_body_that_does_not_arrive_in_time_is_a_timeout() {
        // One byte, then nothing more, ever.
        let chunks = stream::iter([Ok::<_, PayloadError>(Bytes::from_static(b"{"))])
            .chain(stream::pending());
        let payload = actix_web::dev::Payload::from(Box::pin(chunks) as Chunks);
        let started = std::time::Instant::now();
        let outcome = read_from(
            TestRequest::post().insert_header((CONTENT_LENGTH, "10")),
            payload,
        )
        .await;
        assert_eq!(outcome, Err(ApiError::RequestTimeout));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
