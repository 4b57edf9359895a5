//! The one reader of JSON request bodies: a [`FieldTable`] lists the fields a body
//! may hold (name, an optional alias, JSON type, required, nullable), and
//! [`FieldTable::read`] checks a parsed object against it in one pass.
//!
//! The rules, the same for every body (contract sections 3 and 16):
//! - every field's JSON type is checked; a wrong type is 400 under the field's name;
//! - a field and its alias are one field: sending both is 400;
//! - a required field that is missing is 400 under its name;
//! - an unknown field is 400 under `non_field_errors`, without its name (a secret
//!   pasted as a key must not come back);
//! - messages are fixed texts: no value is ever repeated.
//!
//! Duplicate keys never reach a table: the body parser refuses them
//! ([`super::json`]). Tables may be built at run time (field names are owned or
//! static), so that a field list decided by data (a provider's credential fields)
//! reads exactly like the fixed ones. Beyond JSON types, every rule is the
//! domain's.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};
use switchboard_domain::shared::{NON_FIELD_ERRORS, ValidationErrors};

use crate::wire::error::ApiError;

/// The message of an unknown field (one per body, whatever the count).
pub(crate) const UNKNOWN_FIELD: &str = "Unknown field.";
/// The message of a required field that is missing.
pub(crate) const REQUIRED: &str = "This field is required.";

/// What JSON a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string.
    Text,
    /// `true` or `false`.
    Flag,
    /// A JSON object, kept as it is.
    Object,
    /// An integer (`3` and `3.0` alike, as JSON Schema reads them) in a range.
    Integer { min: i64, max: i64 },
    /// A list of integers.
    IntegerList,
    /// A list of strings.
    TextList,
    /// A slug (a string) or an integer id.
    SlugOrId,
    /// An integer id, or a string of 1 to 19 digits.
    IdOrDigits,
}

impl Kind {
    fn default_message(self, nullable: bool) -> &'static str {
        match (self, nullable) {
            (Self::Text, false) => "must be a string",
            (Self::Text, true) => "must be a string or null",
            (Self::Flag, _) => "must be a boolean",
            (Self::Object, _) => "must be a JSON object",
            (Self::Integer { .. }, _) => "must be an integer",
            (Self::IntegerList, _) => "must be a list of integer ids",
            (Self::TextList, _) => "must be a list of strings",
            (Self::SlugOrId, _) => "must be a provider slug or an integer id",
            (Self::IdOrDigits, _) => "must be an integer id",
        }
    }

    /// The value of `value` when it has this kind's JSON type.
    fn read(self, value: Value) -> Option<FieldValue> {
        match (self, value) {
            (Self::Text, Value::String(text)) => Some(FieldValue::Text(text)),
            (Self::Flag, Value::Bool(flag)) => Some(FieldValue::Flag(flag)),
            (Self::Object, Value::Object(map)) => Some(FieldValue::Object(map)),
            (Self::Integer { min, max }, value) => json_integer(&value)
                .filter(|integer| (min..=max).contains(integer))
                .map(FieldValue::Integer),
            (Self::IntegerList, Value::Array(items)) => items
                .iter()
                .map(json_integer)
                .collect::<Option<Vec<i64>>>()
                .map(FieldValue::Integers),
            (Self::TextList, Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(text) => Some(text),
                    _ => None,
                })
                .collect::<Option<Vec<String>>>()
                .map(FieldValue::Texts),
            (Self::SlugOrId, Value::String(slug)) => Some(FieldValue::Text(slug)),
            (Self::SlugOrId, value @ Value::Number(_)) => {
                json_integer(&value).map(FieldValue::Integer)
            }
            (Self::IdOrDigits, value @ Value::Number(_)) => {
                json_integer(&value).map(FieldValue::Integer)
            }
            (Self::IdOrDigits, Value::String(text)) => digits(&text).map(FieldValue::Integer),
            _ => None,
        }
    }
}

/// A string of 1 to 19 ASCII digits as an `i64`.
fn digits(text: &str) -> Option<i64> {
    (!text.is_empty() && text.len() <= 19 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse::<i64>().ok())
        .flatten()
}

/// A JSON number without a fractional part as an `i64`: `3` and `3.0` alike, as JSON
/// Schema's `integer` (and so the OpenAPI document) reads them. `None` for anything
/// else, fractions and numbers out of range included.
#[must_use]
pub(crate) fn json_integer(value: &Value) -> Option<i64> {
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

/// A field's value, its JSON type checked.
#[derive(Clone, PartialEq)]
pub(crate) enum FieldValue {
    /// `null`, sent to a nullable field.
    Null,
    Text(String),
    Flag(bool),
    Object(Map<String, Value>),
    Integer(i64),
    Integers(Vec<i64>),
    Texts(Vec<String>),
}

impl std::fmt::Debug for FieldValue {
    /// The kind only: values may be secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Null => "Null",
            Self::Text(_) => "Text",
            Self::Flag(_) => "Flag",
            Self::Object(_) => "Object",
            Self::Integer(_) => "Integer",
            Self::Integers(_) => "Integers",
            Self::Texts(_) => "Texts",
        })
    }
}

/// One field of a table.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    name: Cow<'static, str>,
    alias: Option<Cow<'static, str>>,
    kind: Kind,
    required: bool,
    nullable: bool,
    message: Option<&'static str>,
}

impl Field {
    /// An optional, non-nullable field.
    pub(crate) fn new(name: impl Into<Cow<'static, str>>, kind: Kind) -> Self {
        Self {
            name: name.into(),
            alias: None,
            kind,
            required: false,
            nullable: false,
            message: None,
        }
    }

    /// Also accepted under `alias` (one of the two, not both). No fixed body has an
    /// alias since the configuration's credential fields became data (the domain
    /// resolves those); kept for bodies that will.
    #[must_use]
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "no fixed body has an alias at the moment")
    )]
    pub(crate) fn alias(mut self, alias: impl Into<Cow<'static, str>>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// Missing is 400.
    #[must_use]
    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// `null` is a value of its own ([`FieldValue::Null`]).
    #[must_use]
    pub(crate) fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    /// What a value of the wrong type answers, instead of the kind's default.
    #[must_use]
    pub(crate) fn message(mut self, message: &'static str) -> Self {
        self.message = Some(message);
        self
    }

    fn type_message(&self) -> &'static str {
        self.message
            .unwrap_or_else(|| self.kind.default_message(self.nullable))
    }
}

/// The fields a body may hold.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldTable {
    fields: Vec<Field>,
}

impl FieldTable {
    pub(crate) fn new(fields: Vec<Field>) -> Self {
        Self { fields }
    }

    /// Whether `key` is one of the table's fields or aliases.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.field_of(key).is_some()
    }

    fn field_of(&self, key: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|field| field.name == key || field.alias.as_deref() == Some(key))
    }

    /// Checks `body` against the table.
    ///
    /// # Errors
    /// 400 `validation_error` with every problem found (types, aliases sent twice,
    /// missing required fields, unknown fields).
    pub(crate) fn read(&self, body: &Map<String, Value>) -> Result<Fields, ApiError> {
        let mut errors = ValidationErrors::new();
        let mut values = BTreeMap::new();
        let mut unknown = false;
        for (key, value) in body {
            let Some(field) = self.field_of(key) else {
                unknown = true;
                continue;
            };
            let name = field.name.as_ref();
            if values.contains_key(name) || errors.has(name) {
                let alias = field.alias.as_deref().unwrap_or(name);
                errors.add(name, format!("send {name} or {alias}, not both"));
                continue;
            }
            let read = match value {
                Value::Null if field.nullable => Some(FieldValue::Null),
                value => field.kind.read(value.clone()),
            };
            match read {
                Some(read) => {
                    values.insert(name.to_owned(), read);
                }
                None => errors.add(name, field.type_message()),
            }
        }
        for field in &self.fields {
            if field.required
                && !values.contains_key(field.name.as_ref())
                && !errors.has(&field.name)
            {
                errors.add(&field.name, REQUIRED);
            }
        }
        if unknown {
            errors.add(NON_FIELD_ERRORS, UNKNOWN_FIELD);
        }
        errors.into_result().map_err(ApiError::Validation)?;
        Ok(Fields { values })
    }
}

/// The fields a body held, by their names (never their aliases), types checked.
pub(crate) struct Fields {
    values: BTreeMap<String, FieldValue>,
}

impl std::fmt::Debug for Fields {
    /// Names only: values may be secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

impl Fields {
    /// The value of `name`, if sent.
    pub(crate) fn take(&mut self, name: &str) -> Option<FieldValue> {
        self.values.remove(name)
    }

    /// A text field.
    pub(crate) fn text(&mut self, name: &str) -> Option<String> {
        match self.take(name)? {
            FieldValue::Text(text) => Some(text),
            _ => None,
        }
    }

    /// A nullable text field: `Some(None)` when `null` was sent.
    pub(crate) fn nullable_text(&mut self, name: &str) -> Option<Option<String>> {
        match self.take(name)? {
            FieldValue::Text(text) => Some(Some(text)),
            FieldValue::Null => Some(None),
            _ => None,
        }
    }

    /// A flag.
    pub(crate) fn flag(&mut self, name: &str) -> Option<bool> {
        match self.take(name)? {
            FieldValue::Flag(flag) => Some(flag),
            _ => None,
        }
    }

    /// An object.
    pub(crate) fn object(&mut self, name: &str) -> Option<Map<String, Value>> {
        match self.take(name)? {
            FieldValue::Object(map) => Some(map),
            _ => None,
        }
    }

    /// An integer (`None` also for `null`).
    pub(crate) fn integer(&mut self, name: &str) -> Option<i64> {
        match self.take(name)? {
            FieldValue::Integer(integer) => Some(integer),
            _ => None,
        }
    }

    /// A list of strings.
    pub(crate) fn texts(&mut self, name: &str) -> Option<Vec<String>> {
        match self.take(name)? {
            FieldValue::Texts(texts) => Some(texts),
            _ => None,
        }
    }

    /// A list of integers.
    pub(crate) fn integers(&mut self, name: &str) -> Option<Vec<i64>> {
        match self.take(name)? {
            FieldValue::Integers(integers) => Some(integers),
            _ => None,
        }
    }
}

/// Parses an `{id}` path segment: anything but a positive integer names nothing.
pub(crate) fn positive_id(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}

/// Formats a timestamp as RFC 3339 UTC with a `Z` suffix.
#[must_use]
pub(crate) fn rfc3339(timestamp: &switchboard_domain::shared::Timestamp) -> String {
    timestamp.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
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

    fn errors_of(result: Result<Fields, ApiError>) -> ValidationErrors {
        match result {
            Err(ApiError::Validation(errors)) => errors,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn table() -> FieldTable {
        FieldTable::new(vec![
            Field::new("name", Kind::Text).required(),
            Field::new("account_sid", Kind::Text).alias("api_key"),
            Field::new("note", Kind::Text).nullable(),
            Field::new("days", Kind::Integer { min: 1, max: 10 }).message("must be 1 to 10"),
            Field::new("ids", Kind::IntegerList),
            Field::new("provider", Kind::SlugOrId),
            Field::new("config", Kind::IdOrDigits),
            Field::new("meta", Kind::Object),
            Field::new("on", Kind::Flag),
        ])
    }

    #[test]
    fn values_are_read_under_their_names() {
        let mut fields = table()
            .read(&object(json!({
                "name": "n", "api_key": "AC1", "note": null, "days": 3.0, "ids": [1, 2.0],
                "provider": "twilio", "config": "0042", "meta": {"a": 1}, "on": false
            })))
            .expect("valid");
        assert_eq!(fields.text("name").as_deref(), Some("n"));
        assert_eq!(fields.text("account_sid").as_deref(), Some("AC1"));
        assert_eq!(fields.nullable_text("note"), Some(None));
        assert_eq!(fields.integer("days"), Some(3));
        assert_eq!(fields.integers("ids"), Some(vec![1, 2]));
        assert_eq!(
            fields.take("provider"),
            Some(FieldValue::Text("twilio".into()))
        );
        assert_eq!(fields.integer("config"), Some(42));
        assert!(fields.object("meta").is_some());
        assert_eq!(fields.flag("on"), Some(false));
        assert_eq!(format!("{fields:?}"), "{}");
    }

    #[test]
    fn types_aliases_and_required_fields_are_checked() {
        let errors = errors_of(table().read(&object(json!({
            "account_sid": "a", "api_key": "b", "note": 5, "days": 11, "ids": [1.5],
            "provider": true, "config": "-4", "meta": [], "on": "yes"
        }))));
        assert_eq!(errors.fields()["name"], vec![REQUIRED]);
        assert_eq!(
            errors.fields()["account_sid"],
            vec!["send account_sid or api_key, not both"]
        );
        assert_eq!(errors.fields()["note"], vec!["must be a string or null"]);
        assert_eq!(errors.fields()["days"], vec!["must be 1 to 10"]);
        for field in ["ids", "provider", "config", "meta", "on"] {
            assert!(errors.has(field), "{field}");
        }
        assert!(!errors.has(NON_FIELD_ERRORS));
    }

    #[test]
    fn unknown_fields_are_refused_without_their_names() {
        let secret = "5e7e5e7e5e7e5e7e5e7e5e7e5e7e5e7e";
        let mut body = object(json!({"name": "n", "colour": 1}));
        body.insert(secret.into(), json!(1));
        let errors = errors_of(table().read(&body));
        assert_eq!(errors.fields().len(), 1);
        assert_eq!(errors.fields()[NON_FIELD_ERRORS], vec![UNKNOWN_FIELD]);
        let text = format!("{errors:?}");
        assert!(!text.contains(secret) && !text.contains("colour"), "{text}");
    }

    #[test]
    fn a_table_built_at_run_time_reads_like_a_fixed_one() {
        // As a provider catalog read from data would describe its credential fields.
        let catalog_fields = ["auth_id".to_owned(), "auth_secret".to_owned()];
        let table = FieldTable::new(
            catalog_fields
                .iter()
                .map(|name| Field::new(name.clone(), Kind::Text).required())
                .collect(),
        );
        let mut fields = table
            .read(&object(json!({"auth_id": "x", "auth_secret": "y"})))
            .expect("valid");
        assert_eq!(fields.text("auth_secret").as_deref(), Some("y"));
        let errors = errors_of(table.read(&object(json!({"auth_id": 1, "account_sid": "z"}))));
        assert_eq!(errors.fields()["auth_id"], vec!["must be a string"]);
        assert_eq!(errors.fields()["auth_secret"], vec![REQUIRED]);
        assert_eq!(errors.fields()[NON_FIELD_ERRORS], vec![UNKNOWN_FIELD]);
    }

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
        assert_eq!(digits("0042"), Some(42));
        for bad in ["", "4x", "-4", "99999999999999999999"] {
            assert_eq!(digits(bad), None, "{bad}");
        }
    }
}
