//! Reading JSON request bodies in the contract's order of checks: content type (415),
//! size (413), then JSON syntax and shape (400). Messages never repeat the body.

use actix_web::HttpRequest;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use actix_web::web::{BytesMut, Payload};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use switchboard_domain::shared::NON_FIELD_ERRORS;

use crate::error::ApiError;

/// Reads a JSON object body of at most `limit` bytes.
///
/// # Errors
/// 415 for a body with another media type, 413 past the limit, 400 for anything that
/// is not one JSON object.
pub async fn read_json_object(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> Result<Map<String, Value>, ApiError> {
    let declared_length = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let chunked = req.headers().contains_key(TRANSFER_ENCODING);
    let has_body = chunked || declared_length.is_some_and(|length| length > 0);
    if (has_body || req.headers().contains_key(CONTENT_TYPE)) && !is_json(req) {
        return Err(ApiError::UnsupportedMediaType);
    }
    if declared_length.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| malformed())?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    if body.is_empty() {
        return Err(ApiError::invalid(
            NON_FIELD_ERRORS,
            "Request body must be a JSON object.",
        ));
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid(
            NON_FIELD_ERRORS,
            "Request body must be a JSON object.",
        )),
        Err(_) => Err(malformed()),
    }
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

/// A JSON number without a fractional part as an `i64`: `3` and `3.0` alike, as JSON
/// Schema's `integer` (and so the OpenAPI document) reads them. `None` for anything
/// else, fractions and numbers out of range included.
#[must_use]
pub fn json_integer(value: &Value) -> Option<i64> {
    let Value::Number(number) = value else {
        return None;
    };
    if let Some(integer) = number.as_i64() {
        return Some(integer);
    }
    // 2^63: the first float past `i64::MAX`.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    number
        .as_f64()
        .filter(|float| float.fract() == 0.0 && *float >= -LIMIT && *float < LIMIT)
        .map(|float| float as i64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::json_integer;

    #[test]
    fn integers_may_be_written_as_floats_without_a_fraction() {
        assert_eq!(json_integer(&json!(3)), Some(3));
        assert_eq!(json_integer(&json!(3.0)), Some(3));
        assert_eq!(json_integer(&json!(-2.0)), Some(-2));
        for bad in [
            json!(3.5),
            json!("3"),
            json!(1e300),
            json!(u64::MAX),
            json!(null),
        ] {
            assert_eq!(json_integer(&bad), None, "{bad}");
        }
    }
}
