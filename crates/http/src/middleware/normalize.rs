//! Path normalization before routing: repeated slashes become one and trailing
//! slashes go, so `/api/v2/platform/telephony/providers-configurations/7/` (the
//! contract's form) and `.../7` reach the same route.
//!
//! It does what actix-web's `NormalizePath::trim()` does, answer for answer (the
//! tests hold the two side by side), without its regular expression: that
//! middleware runs a regex replacement over every request's path, about 5% of the
//! server's CPU on a read of one configuration (docs/performance.md). Here a path is
//! scanned once and copied only when it changes.

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::http::uri::PathAndQuery;
use actix_web::middleware::Next;

/// The normalized form of `path`, or `None` when it is already normal (or empty: a
/// URI without a valid path is left alone).
#[must_use]
pub(crate) fn normalized(path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    let trimmed = path.trim_end_matches('/');
    if !trimmed.contains("//") {
        let normal = if trimmed.is_empty() { "/" } else { trimmed };
        return (normal != path).then(|| normal.to_owned());
    }
    let mut normal = String::with_capacity(trimmed.len());
    let mut previous_slash = false;
    for c in trimmed.chars() {
        let slash = c == '/';
        if !(slash && previous_slash) {
            normal.push(c);
        }
        previous_slash = slash;
    }
    Some(normal)
}

/// Middleware function (use with `actix_web::middleware::from_fn`).
///
/// # Errors
/// Whatever the inner service returns.
pub async fn normalize_path(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    if let Some(path) = normalized(req.path()) {
        let mut parts = req.uri().clone().into_parts();
        let path_and_query = match parts.path_and_query.as_ref().and_then(PathAndQuery::query) {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        // The normalized text came from a valid path: it is one too. Should it not
        // be, the request goes on as it came, and routing answers it.
        if let Ok(path_and_query) = PathAndQuery::try_from(path_and_query) {
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = Uri::from_parts(parts) {
                req.match_info_mut().get_mut().update(&uri);
                req.head_mut().uri = uri;
            }
        }
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::{NormalizePath, from_fn};
    use actix_web::{App, HttpRequest, HttpResponse, test as actix_test, web};

    use super::*;

    async fn echo(req: HttpRequest) -> HttpResponse {
        HttpResponse::Ok().body(format!(
            "{}|{}|{}",
            req.path(),
            req.query_string(),
            req.match_info().get("id").unwrap_or("-")
        ))
    }

    const PATHS: &[&str] = &[
        "/",
        "//",
        "///",
        "/health/live",
        "/health/live/",
        "/health//live//",
        "/api/v2/platform/telephony/providers-configurations/",
        "/api/v2/platform/telephony/providers-configurations/7/",
        "/api/v2/platform/telephony/providers-configurations/7",
        "//api//v2/platform/telephony//providers-configurations/7///",
        "/api/v2/platform/telephony/providers-configurations/7/?page=2&x=/a//b/",
        "/api/v2/platform/telephony/providers-configurations/%2F/",
        "/a/b//c/%20d/",
    ];

    #[actix_web::test]
    async fn answers_exactly_as_actix_normalize_path_trim_does() {
        let ours = actix_test::init_service(
            App::new()
                .route(
                    "/api/v2/platform/telephony/providers-configurations/{id}",
                    web::to(echo),
                )
                .default_service(web::to(echo))
                .wrap(from_fn(normalize_path)),
        )
        .await;
        let actix = actix_test::init_service(
            App::new()
                .route(
                    "/api/v2/platform/telephony/providers-configurations/{id}",
                    web::to(echo),
                )
                .default_service(web::to(echo))
                .wrap(NormalizePath::trim()),
        )
        .await;
        for path in PATHS {
            let mine = actix_test::call_and_read_body(
                &ours,
                actix_test::TestRequest::get().uri(path).to_request(),
            )
            .await;
            let theirs = actix_test::call_and_read_body(
                &actix,
                actix_test::TestRequest::get().uri(path).to_request(),
            )
            .await;
            assert_eq!(mine, theirs, "{path}");
        }
    }

    #[test]
    fn normal_paths_are_not_copied() {
        assert_eq!(normalized("/"), None);
        assert_eq!(normalized("/health/live"), None);
        assert_eq!(normalized(""), None);
        assert_eq!(normalized("/a/").as_deref(), Some("/a"));
        assert_eq!(normalized("//").as_deref(), Some("/"));
        assert_eq!(normalized("/a//b///").as_deref(), Some("/a/b"));
    }
}
