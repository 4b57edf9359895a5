//! Parsing JSON request bodies strictly: the same values serde_json reads, except that
//! an object naming a key twice (at any depth, `meta_json` included) is refused
//! rather than silently keeping the last value, so that what a proxy or a log sees
//! and what the server acts on cannot differ.
//!
//! Parsing goes through serde_json's own deserializer (its syntax, its recursion
//! limit), with a visitor that builds the value and checks each object's keys as
//! they arrive. Errors never carry the body.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a body is not one JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// Not JSON (syntax, encoding, depth).
    Malformed,
    /// An object names a key more than once.
    DuplicateKey,
}

/// Parses `bytes` as one JSON value, refusing duplicate keys.
pub(crate) fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    serde_json::from_slice::<Strict>(bytes)
        .map(|strict| strict.0)
        .map_err(|error| {
            // The visitor's only own error is the duplicate key; the rest is syntax.
            if error.is_data() {
                JsonError::DuplicateKey
            } else {
                JsonError::Malformed
            }
        })
}

/// A value parsed by [`StrictVisitor`].
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // JSON text cannot spell a non-finite number, so this is always `Some`.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom("duplicate key"));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"a": [1, -2, 3.5, 1e300, 18446744073709551615, true, null, "x\u00e9"], "b": {}}"#,
            "[]",
            "\"s\"",
            " 7 ",
        ] {
            let ours = parse_strict(text.as_bytes()).expect("valid");
            let theirs: Value = serde_json::from_str(text).expect("valid");
            assert_eq!(ours, theirs, "{text}");
        }
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        for text in [
            r#"{"a": 1, "a": 2}"#,
            r#"{"meta_json": {"k": 1, "k": 1}}"#,
            r#"[{"x": {"y": [{"z": 1, "z": 2}]}}]"#,
        ] {
            assert_eq!(
                parse_strict(text.as_bytes()),
                Err(JsonError::DuplicateKey),
                "{text}"
            );
        }
        assert_eq!(
            parse_strict(br#"{"a": {"k": 1}, "b": {"k": 1}}"#),
            Ok(json!({"a": {"k": 1}, "b": {"k": 1}})),
            "equal keys in different objects are fine"
        );
    }

    #[test]
    fn syntax_errors_are_malformed() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        for text in [
            &b"{"[..],
            b"{\"a\" 1}",
            b"\xff",
            b"{} {}",
            b"\"\\ud800\"",
            deep.as_bytes(),
        ] {
            assert_eq!(parse_strict(text), Err(JsonError::Malformed));
        }
    }
}
