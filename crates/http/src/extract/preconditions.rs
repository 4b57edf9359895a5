//! Entity tags of provider configurations and the `If-Match` precondition.
//!
//! A configuration's `ETag` is the strong tag `"<id>-<version>"`; the version grows
//! with every change, so a tag names one state of one configuration. `If-Match`
//! uses the strong comparison of RFC 9110: weak tags (`W/"..."`) never match, `*`
//! matches any existing configuration, and tags of another configuration or that
//! this service never issued match nothing (a 412 once the configuration is found).

use actix_web::HttpRequest;
use actix_web::http::header::IF_MATCH;
use switchboard_domain::precondition::Precondition;
use switchboard_domain::telephony::{ProviderConfig, ProviderConfigId};

/// The strong entity tag of a configuration's current state, quotes included.
#[must_use]
pub fn entity_tag(config: &ProviderConfig) -> String {
    format!("\"{}-{}\"", config.id.0, config.version)
}

/// The precondition `req`'s `If-Match` headers state about configuration `id`
/// ([`Precondition::None`] without the header).
#[must_use]
pub fn if_match(req: &HttpRequest, id: ProviderConfigId) -> Precondition {
    let mut present = false;
    let mut versions = Vec::new();
    for value in req.headers().get_all(IF_MATCH) {
        present = true;
        // A header that is not visible ASCII names no tag this service issued.
        let Ok(text) = value.to_str() else {
            continue;
        };
        for tag in split_tags(text) {
            if tag == "*" {
                return Precondition::Any;
            }
            if let Some(version) = version_of(tag, id) {
                versions.push(version);
            }
        }
    }
    if present {
        Precondition::Versions(versions)
    } else {
        Precondition::None
    }
}

/// The comma-separated members of a header value; commas inside a quoted tag do
/// not split it.
fn split_tags(text: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (index, character) in text.char_indices() {
        match character {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                tags.push(text[start..index].trim());
                start = index + 1;
            }
            _ => {}
        }
    }
    tags.push(text[start..].trim());
    tags.into_iter().filter(|tag| !tag.is_empty()).collect()
}

/// The version a strong tag names for configuration `id`, if it is one of ours.
fn version_of(tag: &str, id: ProviderConfigId) -> Option<i64> {
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    let (tag_id, version) = inner.split_once('-')?;
    if tag_id.parse::<i64>().ok()? != id.0 {
        return None;
    }
    version.parse::<i64>().ok().filter(|version| *version > 0)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn precondition(values: &[&'static str]) -> Precondition {
        let mut request = TestRequest::default();
        for value in values {
            request = request.append_header((IF_MATCH, *value));
        }
        if_match(&request.to_http_request(), ProviderConfigId(42))
    }

    #[test]
    fn strong_tags_of_this_configuration_name_versions() {
        assert_eq!(precondition(&[]), Precondition::None);
        assert_eq!(precondition(&["\"42-3\""]), Precondition::Versions(vec![3]));
        assert_eq!(
            precondition(&["\"42-3\", \"42-4\"", "\"42-9\""]),
            Precondition::Versions(vec![3, 4, 9])
        );
        assert_eq!(precondition(&["*"]), Precondition::Any);
    }

    #[test]
    fn weak_foreign_and_malformed_tags_match_nothing() {
        for value in [
            "W/\"42-3\"",
            "\"41-3\"",
            "42-3",
            "\"42-x\"",
            "\"42-0\"",
            "\"\"",
            ",",
            "\"42,3\"",
        ] {
            assert_eq!(
                precondition(&[value]),
                Precondition::Versions(Vec::new()),
                "{value}"
            );
        }
    }
}
