//! Request validation with the `validator` crate: the rules of fixed request shapes
//! (names, lengths, URLs, emails, handles, E.164 numbers, token names, scopes,
//! roles) as custom validator functions, and the one conversion of the crate's
//! errors into the domain's [`ValidationErrors`].
//!
//! Request types declare their rules with `#[derive(Validate)]` and
//! `#[validate(custom(function = ...))]`, field by field; the Rust field names are
//! the wire names, so errors are keyed by the name the client sent. Every rule here
//! returns an error carrying the contract's message (a fixed text, never the value);
//! [`errors_from`] keeps only those messages. The crate also records each value as
//! an error parameter: [`errors_from`] drops parameters, so no value reaches an
//! answer, a log or a `Debug` of the domain's errors. Checks that need the catalog
//! (a provider's credential fields) go through the catalog's one validator,
//! [`crate::telephony::Credentials::check`] (with its provider-independent
//! precheck, `CredentialInput::shape_errors`, built from the same field rules):
//! credential values are secrets, and the derive would copy each checked value
//! into its error's parameters, so they never pass through a derived validator.
//!
//! Messages of one field keep the order of the rules as declared (custom functions
//! run in declaration order), which is the order the contract's answers show.

use std::borrow::Cow;

use serde_json::{Map, Value};
use validator::ValidationErrorsKind;
pub use validator::{Validate, ValidateArgs, ValidationError};

use crate::identity::{DomainHandle, Email, Role, ScopeSet, service_account_role};
use crate::shared::{NON_FIELD_ERRORS, ValidationErrors, has_control_chars};
use crate::telephony::E164;

/// The message of a field with control characters.
pub const NO_CONTROL: &str = "must not contain control characters";
/// The message of an empty text.
pub const NOT_EMPTY: &str = "must not be empty";
/// The message of a text of spaces only.
pub const NOT_BLANK: &str = "must not be blank";
/// The message of a name (token, service account, organization) out of its rules.
pub const NAME_RULE: &str = "must be 1 to 100 characters without control characters";
/// The message of a configuration URL out of the contract's forms.
pub const CONTRACT_URL: &str =
    "must be an absolute https://, wss://, sip: or sips: URL of at most 255 characters";
/// The message of a configuration URL carrying a password.
pub const URL_PASSWORD: &str = "must not carry a password (user:password@); send secrets in auth_token, which is stored encrypted";
/// The message of an unknown scope.
pub const UNKNOWN_SCOPE: &str = "must list only known scopes: configurations:read, configurations:write, bridges:read, bridges:write, credentials:use, credentials:reveal, audit:read, webhooks:manage";
/// The message of a role a service account cannot hold.
pub const SERVICE_ACCOUNT_ROLE: &str = "must be one of admin, member, viewer";

/// Longest name of a token, service account or organization.
pub const NAME_MAX_CHARS: usize = 100;
/// Longest configuration URL.
pub const URL_MAX_CHARS: usize = 255;

/// The domain's errors from the crate's: one key per field (`__all__`, the crate's
/// key for errors of the whole body, becomes `non_field_errors`), each message as
/// the rule wrote it. Nested structs and lists report under their parent field.
/// Parameters (which hold the submitted values) are dropped.
#[must_use]
pub fn errors_from(errors: &validator::ValidationErrors) -> ValidationErrors {
    let mut out = ValidationErrors::new();
    add_errors(&mut out, None, errors);
    out
}

/// Validates `request` and converts its errors ([`errors_from`]).
///
/// # Errors
/// Every rule broken, by field.
pub fn validate(request: &impl Validate) -> Result<(), ValidationErrors> {
    request.validate().map_err(|errors| errors_from(&errors))
}

/// Validates `request` under `args` (rules that depend on settings) and converts
/// its errors ([`errors_from`]).
///
/// # Errors
/// Every rule broken, by field.
pub fn validate_with<'v, R: ValidateArgs<'v>>(
    request: &R,
    args: R::Args,
) -> Result<(), ValidationErrors> {
    request
        .validate_with_args(args)
        .map_err(|errors| errors_from(&errors))
}

fn add_errors(
    out: &mut ValidationErrors,
    parent: Option<&str>,
    errors: &validator::ValidationErrors,
) {
    // The crate keeps fields in a hash map; sort so that merged messages come out
    // in the same order on every run.
    let mut fields: Vec<(&Cow<'static, str>, &ValidationErrorsKind)> =
        errors.errors().iter().collect();
    fields.sort_by(|a, b| a.0.cmp(b.0));
    for (field, kind) in fields {
        let key = match (parent, field.as_ref()) {
            (Some(parent), _) => parent,
            (None, "__all__") => NON_FIELD_ERRORS,
            (None, field) => field,
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    out.add(key, message_of(error));
                }
            }
            ValidationErrorsKind::Struct(nested) => add_errors(out, Some(key), nested),
            ValidationErrorsKind::List(items) => {
                for nested in items.values() {
                    add_errors(out, Some(key), nested);
                }
            }
        }
    }
}

/// The error's message; a rule without one (none of this crate's) reads as a
/// generic, value-free text.
fn message_of(error: &ValidationError) -> String {
    error
        .message
        .as_deref()
        .map_or_else(|| "is not valid".to_owned(), str::to_owned)
}

/// An error with `message` under `code`.
fn fail(code: &'static str, message: impl Into<Cow<'static, str>>) -> ValidationError {
    ValidationError::new(code).with_message(message.into())
}

/// No control character (NUL, line breaks, DEL, C1 included).
///
/// # Errors
/// [`NO_CONTROL`].
pub fn no_control(value: &str) -> Result<(), ValidationError> {
    if has_control_chars(value) {
        return Err(fail("control_characters", NO_CONTROL));
    }
    Ok(())
}

/// No control character but line breaks and tabs (multi-line texts).
///
/// # Errors
/// [`NO_CONTROL`].
pub fn no_control_multiline(value: &str) -> Result<(), ValidationError> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(fail("control_characters", NO_CONTROL));
    }
    Ok(())
}

/// At least one character.
///
/// # Errors
/// [`NOT_EMPTY`].
pub fn not_empty(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() {
        return Err(fail("empty", NOT_EMPTY));
    }
    Ok(())
}

/// Not only white space (an empty text is [`not_empty`]'s to report).
///
/// # Errors
/// [`NOT_BLANK`].
pub fn not_blank(value: &str) -> Result<(), ValidationError> {
    if !value.is_empty() && value.trim().is_empty() {
        return Err(fail("blank", NOT_BLANK));
    }
    Ok(())
}

/// At most `MAX` characters (not bytes).
///
/// # Errors
/// "must be at most `MAX` characters".
pub fn max_chars<const MAX: usize>(value: &str) -> Result<(), ValidationError> {
    if value.chars().count() > MAX {
        return Err(fail("length", format!("must be at most {MAX} characters")));
    }
    Ok(())
}

/// A configuration's `base_url`/`sip_url` form (contract section 3): an absolute
/// `https://` or `wss://` URL with a host, or a `sip:`/`sips:` URI, at most 255
/// characters, no white space. (Not the crate's `url` check: that one accepts any
/// scheme.)
///
/// # Errors
/// [`CONTRACT_URL`].
pub fn contract_url(url: &str) -> Result<(), ValidationError> {
    if is_contract_url(url) {
        Ok(())
    } else {
        Err(fail("url", CONTRACT_URL))
    }
}

fn is_contract_url(url: &str) -> bool {
    if url.chars().count() > URL_MAX_CHARS || url.chars().any(char::is_whitespace) {
        return false;
    }
    let lower = url.to_ascii_lowercase();
    for scheme in ["https://", "wss://"] {
        if let Some(rest) = lower.strip_prefix(scheme) {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            return !host.is_empty() && !host.starts_with(':') && !host.starts_with('@');
        }
    }
    for scheme in ["sip:", "sips:"] {
        if let Some(rest) = lower.strip_prefix(scheme) {
            return !rest.is_empty() && !rest.starts_with('/');
        }
    }
    false
}

/// A configuration's `base_url` or `sip_url`, its rules in the contract's order of
/// precedence (one message): no control character ([`NO_CONTROL`]), then the form
/// ([`contract_url`]), then no password ([`url_without_password`]).
///
/// # Errors
/// The first rule broken.
pub fn configuration_url(url: &str) -> Result<(), ValidationError> {
    no_control(url)?;
    contract_url(url)?;
    url_without_password(url)
}

/// No password in the user part (`https://user:password@host`,
/// `sip:user:password@host`): such URLs are stored and shown in clear. A user part
/// alone (`sip:trunk@example.com`) is not a secret and passes.
///
/// # Errors
/// [`URL_PASSWORD`].
pub fn url_without_password(url: &str) -> Result<(), ValidationError> {
    if url_has_password(url) {
        return Err(fail("url_password", URL_PASSWORD));
    }
    Ok(())
}

/// Whether a URL carries a password in its user part (see [`url_without_password`]).
#[must_use]
pub fn url_has_password(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let userinfo = if let Some(rest) = ["https://", "wss://"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
    {
        // The authority ends at the path, query or fragment; the host follows the
        // last `@` of it.
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        authority.rsplit_once('@').map(|(userinfo, _)| userinfo)
    } else if let Some(rest) = ["sip:", "sips:"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
    {
        // RFC 3261: `sip:user:password@host:port;params?headers`; the user part
        // cannot hold an unescaped `@`.
        rest.split_once('@').map(|(userinfo, _)| userinfo)
    } else {
        None
    };
    userinfo.is_some_and(|userinfo| userinfo.contains(':'))
}

/// No control character in any key or string of a JSON object, at any depth.
///
/// # Errors
/// "must not contain control characters in its strings".
pub fn json_without_control(map: &Map<String, Value>) -> Result<(), ValidationError> {
    if map_has_control_chars(map) {
        return Err(fail(
            "control_characters",
            "must not contain control characters in its strings",
        ));
    }
    Ok(())
}

/// A JSON object of at most `MAX` bytes once serialized.
///
/// # Errors
/// "must be at most `MAX` bytes when serialized".
pub fn json_max_bytes<const MAX: usize>(map: &Map<String, Value>) -> Result<(), ValidationError> {
    let size = serde_json::to_vec(map).map_or(usize::MAX, |bytes| bytes.len());
    if size > MAX {
        return Err(fail(
            "length",
            format!("must be at most {MAX} bytes when serialized"),
        ));
    }
    Ok(())
}

fn map_has_control_chars(map: &Map<String, Value>) -> bool {
    map.iter()
        .any(|(key, value)| has_control_chars(key) || value_has_control_chars(value))
}

fn value_has_control_chars(value: &Value) -> bool {
    match value {
        Value::String(text) => has_control_chars(text),
        Value::Array(items) => items.iter().any(value_has_control_chars),
        Value::Object(map) => map_has_control_chars(map),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A strict E.164 number ([`E164::parse`]).
///
/// # Errors
/// The rule broken, as [`crate::telephony::E164Error`] words it.
pub fn e164(value: &str) -> Result<(), ValidationError> {
    E164::parse(value)
        .map(|_| ())
        .map_err(|error| fail("e164", error.to_string()))
}

/// An email address ([`Email::parse`]: trimmed and lowercased, one `@`, at most 254
/// characters).
///
/// # Errors
/// The address rule, as [`crate::identity::EmailError`] words it.
pub fn email_address(value: &str) -> Result<(), ValidationError> {
    Email::parse(value)
        .map(|_| ())
        .map_err(|error| fail("email", error.to_string()))
}

/// At most 254 characters once trimmed and lowercased (what a login looks up and
/// throttles on; the address form itself is not checked, so that a login with a
/// malformed address answers like one with a wrong password).
///
/// # Errors
/// "must be at most 254 characters".
pub fn login_email(value: &str) -> Result<(), ValidationError> {
    if value.trim().to_lowercase().chars().count() > Email::MAX_LEN {
        return Err(fail("length", "must be at most 254 characters"));
    }
    Ok(())
}

/// An organization handle ([`DomainHandle::parse`]).
///
/// # Errors
/// The first rule broken, as [`crate::identity::DomainHandleError`] words it.
pub fn org_handle(value: &str) -> Result<(), ValidationError> {
    DomainHandle::parse(value)
        .map(|_| ())
        .map_err(|error| fail("handle", error.to_string()))
}

/// A name of a token, service account or organization: 1 to 100 characters once
/// trimmed, no control character.
///
/// # Errors
/// [`NAME_RULE`].
pub fn display_name(value: &str) -> Result<(), ValidationError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > NAME_MAX_CHARS || has_control_chars(value) {
        return Err(fail("name", NAME_RULE));
    }
    Ok(())
}

/// The message of an access-token text out of its rule.
pub const GRANT_TEXT: &str = "must be 1 to 256 characters without control characters";

/// An access token's identity, room or display name: 1 to 256 characters, not
/// only spaces, no control character.
///
/// # Errors
/// [`GRANT_TEXT`].
pub fn grant_text(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() || value.chars().count() > 256 || has_control_chars(value) {
        return Err(fail("text", GRANT_TEXT));
    }
    Ok(())
}

/// Scope names, each a known scope (repeats allowed).
///
/// # Errors
/// [`UNKNOWN_SCOPE`] (the unknown name is not repeated).
pub fn scope_names(names: &[String]) -> Result<(), ValidationError> {
    ScopeSet::parse_names(names.iter().map(String::as_str))
        .map(|_| ())
        .map_err(|_| fail("scopes", UNKNOWN_SCOPE))
}

/// A role a service account may hold: `admin`, `member` or `viewer`.
///
/// # Errors
/// [`SERVICE_ACCOUNT_ROLE`].
pub fn service_account_role_name(value: &str) -> Result<(), ValidationError> {
    match value.parse::<Role>() {
        Ok(role) if service_account_role(role) => Ok(()),
        _ => Err(fail("role", SERVICE_ACCOUNT_ROLE)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request of every rule, as request types declare them.
    #[derive(Debug, Validate)]
    struct Sample {
        #[validate(custom(function = "no_control"), custom(function = "max_chars::<5>"))]
        name: Option<String>,
        #[validate(custom(function = "configuration_url"))]
        base_url: Option<Option<String>>,
        #[validate(custom(function = "e164"))]
        phone_number: String,
    }

    #[test]
    fn errors_are_keyed_by_field_with_the_rules_messages_in_order() {
        let sample = Sample {
            name: Some("a\u{0}bcdef".into()),
            base_url: Some(Some("https://u:p4ssw0rd@example.com".into())),
            phone_number: "+0123456789".into(),
        };
        let errors = validate(&sample).expect_err("invalid");
        assert_eq!(
            errors.fields()["name"],
            vec![NO_CONTROL, "must be at most 5 characters"]
        );
        assert_eq!(errors.fields()["base_url"], vec![URL_PASSWORD]);
        assert_eq!(
            errors.fields()["phone_number"],
            vec!["must not start with a country code of 0"]
        );
        let shown = format!("{errors:?}");
        assert!(
            !shown.contains("p4ssw0rd") && !shown.contains("bcdef"),
            "{shown}"
        );
        let fine = Sample {
            name: None,
            base_url: Some(None),
            phone_number: "+14155550100".into(),
        };
        assert!(validate(&fine).is_ok());
    }

    #[test]
    fn body_level_errors_are_non_field_errors() {
        fn at_least_one(request: &Body) -> Result<(), ValidationError> {
            if request.a.is_none() {
                return Err(fail("empty", "Provide at least one field to update."));
            }
            Ok(())
        }
        #[derive(Debug, Validate)]
        #[validate(schema(function = "at_least_one"))]
        struct Body {
            a: Option<String>,
        }
        let errors = validate(&Body { a: None }).expect_err("empty");
        assert_eq!(
            errors.fields()[NON_FIELD_ERRORS],
            vec!["Provide at least one field to update."]
        );
    }

    #[test]
    fn configuration_urls_follow_the_contract_not_the_crates_url_check() {
        for good in [
            "https://api.example.com",
            "wss://media.example.com/stream",
            "sip:trunk@example.com",
            "sips:example.com",
        ] {
            assert!(contract_url(good).is_ok(), "{good}");
            assert!(url_without_password(good).is_ok(), "{good}");
        }
        // The crate's own check accepts all of these.
        for bad in [
            "http://example.com",
            "ftp://example.com",
            "https://",
            "sip:/x",
        ] {
            assert!(contract_url(bad).is_err(), "{bad}");
        }
        assert!(contract_url(&format!("https://{}", "a".repeat(250))).is_err());
        for bad in ["https://u:p@example.com", "sip:u:p@example.com"] {
            assert!(url_without_password(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identity_rules_keep_their_messages() {
        assert!(email_address("Owner@LocalHost").is_ok());
        assert_eq!(
            email_address("nobody").map_err(|e| e.message),
            Err(Some(
                "must be an email address such as name@example.com, at most 254 characters".into()
            ))
        );
        assert!(login_email(&"a".repeat(255)).is_err());
        assert!(login_email("not an address").is_ok());
        assert!(org_handle("acme-1").is_ok());
        assert!(org_handle("ab").is_err());
        assert!(org_handle("Acme").is_err());
        assert!(display_name(" laptop ").is_ok());
        for bad in ["", "   ", "a\tb"] {
            assert!(display_name(bad).is_err(), "{bad:?}");
        }
        assert!(display_name(&"n".repeat(101)).is_err());
        assert!(scope_names(&["configurations:read".into(), "configurations:read".into()]).is_ok());
        assert!(scope_names(&["root".into()]).is_err());
        for role in ["admin", "member", "viewer"] {
            assert!(service_account_role_name(role).is_ok(), "{role}");
        }
        for role in ["owner", "god", ""] {
            assert!(service_account_role_name(role).is_err(), "{role}");
        }
        assert!(e164("+14155550100").is_ok());
        assert!(e164("14155550100").is_err());
    }
}
