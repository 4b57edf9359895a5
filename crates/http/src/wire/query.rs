//! The one reader of query strings, with the rules of the body reader
//! ([`super::fields`]): a route lists the parameters it takes; an unknown parameter
//! is 400 under `non_field_errors` without its name, a parameter sent twice is 400,
//! and a value that fails its rule is 400 under the parameter's name (names come
//! from the route's fixed list, never from the request). Messages never repeat a
//! value.

use std::collections::BTreeMap;

use actix_web::web;
use switchboard_domain::shared::{NON_FIELD_ERRORS, PageRequest, ValidationErrors};

use crate::wire::error::ApiError;

/// The message of an unknown parameter (one per query, whatever the count).
pub(crate) const UNKNOWN_PARAMETER: &str = "Unknown query parameter.";
const REPEATED_PARAMETER: &str = "The query names a parameter more than once.";

/// The parameters `page` and `page_size` of every list.
pub(crate) const PAGE_PARAMETERS: [&str; 2] = ["page", "page_size"];

/// A query string checked against the parameters a route takes; values are read
/// with its methods, then [`Query::finish`] reports every problem at once.
#[derive(Debug)]
pub(crate) struct Query {
    values: BTreeMap<String, String>,
    errors: ValidationErrors,
}

impl Query {
    /// Reads `query_string`, which may name only `accepted` parameters (each once).
    ///
    /// # Errors
    /// 400 for a query string that cannot be decoded (at once; other problems wait
    /// for [`Query::finish`]).
    pub(crate) fn read(query_string: &str, accepted: &[&str]) -> Result<Self, ApiError> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(query_string)
            .map_err(|_| ApiError::invalid(NON_FIELD_ERRORS, "Malformed query string."))?
            .into_inner();
        let mut values = BTreeMap::new();
        let mut errors = ValidationErrors::new();
        let (mut unknown, mut repeated) = (false, false);
        for (name, value) in pairs {
            if !accepted.contains(&name.as_str()) {
                unknown = true;
            } else if values.insert(name, value).is_some() {
                repeated = true;
            }
        }
        if unknown {
            errors.add(NON_FIELD_ERRORS, UNKNOWN_PARAMETER);
        }
        if repeated {
            errors.add(NON_FIELD_ERRORS, REPEATED_PARAMETER);
        }
        Ok(Self { values, errors })
    }

    /// The text of `name`, if sent.
    pub(crate) fn text(&mut self, name: &str) -> Option<String> {
        self.values.remove(name)
    }

    /// The value of `name` through `parse`; a value it refuses is reported with
    /// `message`.
    pub(crate) fn parsed<T>(
        &mut self,
        name: &str,
        message: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let text = self.values.remove(name)?;
        let parsed = parse(&text);
        if parsed.is_none() {
            self.errors.add(name, message);
        }
        parsed
    }

    /// `true` or `false`.
    pub(crate) fn flag(&mut self, name: &str) -> Option<bool> {
        self.parsed(name, "must be true or false", |text| match text {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
    }

    /// `page` (from 1) and `page_size` (1 to 100), or their defaults.
    pub(crate) fn page(&mut self) -> PageRequest {
        let mut page = PageRequest::default();
        if let Some(number) = self.parsed("page", "must be an integer of at least 1", |text| {
            text.parse::<u32>().ok().filter(|number| *number >= 1)
        }) {
            page.page = number;
        }
        if let Some(size) = self.parsed("page_size", "must be an integer from 1 to 100", |text| {
            text.parse::<u32>()
                .ok()
                .filter(|size| (1..=PageRequest::MAX_PAGE_SIZE).contains(size))
        }) {
            page.page_size = size;
        }
        page
    }

    /// Adds a problem found across parameters.
    pub(crate) fn refuse(&mut self, name: &str, message: &'static str) {
        self.errors.add(name, message);
    }

    /// Every problem found.
    ///
    /// # Errors
    /// 400 `validation_error`.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        self.errors.into_result().map_err(ApiError::Validation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(result: Result<(), ApiError>) -> ValidationErrors {
        match result {
            Err(ApiError::Validation(errors)) => errors,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn accepted_parameters_are_read() {
        let mut query = Query::read(
            "page=2&page_size=100&verify=true&name=a%20b",
            &["page", "page_size", "verify", "name"],
        )
        .expect("decoded");
        let page = query.page();
        assert_eq!((page.page, page.page_size), (2, 100));
        assert_eq!(query.flag("verify"), Some(true));
        assert_eq!(query.text("name").as_deref(), Some("a b"));
        assert_eq!(query.finish(), Ok(()));
    }

    #[test]
    fn unknown_repeated_and_bad_parameters_are_refused_without_echo() {
        let secret = "5e7e5e7e5e7e5e7e5e7e5e7e5e7e5e7e";
        let mut query = Query::read(
            &format!("{secret}=1&page=0&page=1&verify=yes"),
            &["page", "verify"],
        )
        .expect("decoded");
        let _ = query.page();
        let _ = query.flag("verify");
        let errors = errors_of(query.finish());
        assert_eq!(
            errors.fields()[NON_FIELD_ERRORS],
            vec![UNKNOWN_PARAMETER, REPEATED_PARAMETER]
        );
        assert!(errors.has("verify"));
        assert!(!format!("{errors:?}").contains(secret));
        assert!(Query::read("%zz", &[]).and_then(Query::finish).is_err());
    }
}
