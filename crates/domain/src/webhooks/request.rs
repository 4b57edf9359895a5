//! The request shape of a webhook endpoint (create and PATCH), its rules declared
//! with `validator` (see [`crate::validation`]). The target's address checks that
//! need the network (the host resolves, to no private address) are the
//! application's, run only once the shape holds.

use std::borrow::Cow;

use crate::validation::{self as rules, ValidationError};

use super::EventType;

/// Longest target URL.
pub const MAX_URL_LEN: usize = 2048;

/// What the target rules depend on: the setting that allows private targets also
/// allows `http://`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetRules {
    pub allow_http: bool,
}

/// An endpoint's fields as sent (absent: `None`).
#[derive(Debug, rules::Validate)]
#[validate(context = TargetRules)]
pub struct EndpointRequest<'a> {
    #[validate(custom(function = "target_url", use_context))]
    pub url: Option<&'a str>,
    #[validate(
        custom(function = "rules::max_chars::<500>"),
        custom(function = "rules::no_control")
    )]
    pub description: Option<&'a str>,
    #[validate(custom(function = "known_event_types"))]
    pub event_types: Option<&'a [String]>,
}

fn fail(code: &'static str, message: &'static str) -> ValidationError {
    ValidationError::new(code).with_message(Cow::Borrowed(message))
}

/// The target URL's form, one message, the first rule broken: at most 2048
/// characters without control characters, an absolute URL, `https://` (or `http://`
/// when allowed), no user or password, a host.
fn target_url(url: &str, rules: &TargetRules) -> Result<(), ValidationError> {
    if url.len() > MAX_URL_LEN || url.chars().any(char::is_control) {
        return Err(fail(
            "url",
            "must be an absolute https:// URL of at most 2048 characters",
        ));
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return Err(fail("url", "must be an absolute https:// URL"));
    };
    if !(parsed.scheme() == "https" || (rules.allow_http && parsed.scheme() == "http")) {
        return Err(fail("url", "must be an https:// URL"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(fail("url", "must not carry credentials"));
    }
    if parsed.host().is_none() {
        return Err(fail("url", "must name a host"));
    }
    Ok(())
}

/// Known event types a client may subscribe to (not `webhook.test`).
fn known_event_types(names: &[String]) -> Result<(), ValidationError> {
    let known = names.iter().all(|name| {
        name.parse::<EventType>()
            .is_ok_and(|kind| kind != EventType::WebhookTest)
    });
    if known {
        Ok(())
    } else {
        Err(fail("event_types", "must list known event types"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::{ValidateArgs, errors_from};

    fn errors(request: &EndpointRequest<'_>, allow_http: bool) -> crate::shared::ValidationErrors {
        request
            .validate_with_args(&TargetRules { allow_http })
            .map_err(|errors| errors_from(&errors))
            .err()
            .unwrap_or_default()
    }

    #[test]
    fn endpoint_fields_carry_their_rules() {
        let types = vec!["webhook.test".to_owned()];
        let long = "d".repeat(501);
        let found = errors(
            &EndpointRequest {
                url: Some("https://hook:s3cret@example.com/in"),
                description: Some(&long),
                event_types: Some(&types),
            },
            false,
        );
        assert_eq!(found.fields()["url"], vec!["must not carry credentials"]);
        assert_eq!(
            found.fields()["description"],
            vec!["must be at most 500 characters"]
        );
        assert_eq!(
            found.fields()["event_types"],
            vec!["must list known event types"]
        );
        assert!(!format!("{found:?}").contains("s3cret"));
        let plain = EndpointRequest {
            url: Some("http://127.0.0.1:9/in"),
            description: None,
            event_types: None,
        };
        assert_eq!(
            errors(&plain, false).fields()["url"],
            vec!["must be an https:// URL"]
        );
        assert!(errors(&plain, true).is_empty());
        for (url, message) in [
            ("not a url", "must be an absolute https:// URL"),
            (
                "https://a\u{0}b",
                "must be an absolute https:// URL of at most 2048 characters",
            ),
        ] {
            let request = EndpointRequest {
                url: Some(url),
                description: None,
                event_types: None,
            };
            assert_eq!(errors(&request, false).fields()["url"], vec![message]);
        }
    }
}
