//! Entity tags of provider configurations and the `If-Match` precondition.
//!
//! A configuration's `ETag` is the strong tag `"<id>-<version>"`; the version grows
//! with every change, so a tag names one state of one configuration. `If-Match`
//! uses the strong comparison of RFC 9110: weak tags (`W/"..."`) never match, `*`
//! matches any existing configuration, and tags of another configuration or that
//! this service never issued match nothing (a 412 once the configuration is found).
//! Headers are read and written with actix's typed `ETag`/`If-Match`.

use actix_web::HttpRequest;
use actix_web::http::header::{ETag, EntityTag, Header, IF_MATCH, IfMatch};
use switchboard_domain::precondition::Precondition;
use switchboard_domain::telephony::{ProviderConfig, ProviderConfigId};

/// The strong entity tag of a configuration's current state.
#[must_use]
pub(crate) fn entity_tag(config: &ProviderConfig) -> ETag {
    ETag(EntityTag::new_strong(format!(
        "{}-{}",
        config.id.0, config.version
    )))
}

/// The precondition `req`'s `If-Match` headers state about configuration `id`
/// ([`Precondition::None`] without the header).
#[must_use]
pub(crate) fn if_match(req: &HttpRequest, id: ProviderConfigId) -> Precondition {
    if !req.headers().contains_key(IF_MATCH) {
        return Precondition::None;
    }
    match IfMatch::parse(req) {
        Ok(IfMatch::Any) => Precondition::Any,
        Ok(IfMatch::Items(tags)) => Precondition::Versions(
            tags.iter()
                .filter(|tag| !tag.weak)
                .filter_map(|tag| version_of(tag.tag(), id))
                .collect(),
        ),
        // A header that does not parse as entity tags names no tag this service
        // issued.
        Err(_) => Precondition::Versions(Vec::new()),
    }
}

/// The version a strong tag's text names for configuration `id`, if it is one of
/// ours.
fn version_of(tag: &str, id: ProviderConfigId) -> Option<i64> {
    let (tag_id, version) = tag.split_once('-')?;
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
    fn the_tag_of_a_configuration_is_strong_and_quoted() {
        let tag = ETag(EntityTag::new_strong("42-3".into()));
        assert_eq!(tag.to_string(), "\"42-3\"");
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
