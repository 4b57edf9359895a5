//! The defences every console answer shares: a Content-Security-Policy without
//! `unsafe-inline` or `unsafe-eval` (scripts and styles only from the console's own
//! files), no framing, no MIME sniffing, no referrer, no caching of pages; and the
//! refusal of every cross-site write before it reaches a handler (the per-form CSRF
//! token is checked by the handlers, [`crate::session`]).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// The console's Content-Security-Policy.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// Whether a write request comes from a page of this very site, as far as the
/// browser tells: `Sec-Fetch-Site` (when sent) is `same-origin` or `none` (typed by
/// the person), and `Origin` (when sent) names the host the request was sent to.
/// Clients that send neither (not browsers) are held by the CSRF token alone.
pub(crate) fn same_site_write(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return false;
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .unwrap_or_default();
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        if origin_host != Some(host) || host.is_empty() {
            return false;
        }
    }
    true
}

/// Middleware function: refuses cross-site writes (403) and adds the security
/// headers to every answer.
///
/// # Errors
/// Whatever the inner service returns.
pub(crate) async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let write = !matches!(*req.method(), Method::GET | Method::HEAD);
    let mut response = if write && !same_site_write(&req) {
        tracing::info!("console: cross-site write refused");
        req.into_response(crate::view::forbidden_response(
            "This request did not come from a console page.",
        ))
    } else {
        next.call(req).await?.map_into_boxed_body()
    };
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // `same-origin`, not `no-referrer`: with `no-referrer` browsers send `Origin: null`
    // on form posts, and the cross-site check above needs the real origin.
    set(header::REFERRER_POLICY, "same-origin");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn request(headers: &[(&str, &str)]) -> ServiceRequest {
        let mut request = TestRequest::post().insert_header(("host", "console.example:8080"));
        for header in headers {
            request = request.insert_header(*header);
        }
        request.to_srv_request()
    }

    #[test]
    fn writes_from_the_same_site_pass() {
        assert!(same_site_write(&request(&[])));
        assert!(same_site_write(&request(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(same_site_write(&request(&[("sec-fetch-site", "none")])));
        assert!(same_site_write(&request(&[(
            "origin",
            "https://console.example:8080"
        )])));
    }

    #[test]
    fn cross_site_writes_are_refused() {
        assert!(!same_site_write(&request(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(!same_site_write(&request(&[(
            "sec-fetch-site",
            "same-site"
        )])));
        assert!(!same_site_write(&request(&[(
            "origin",
            "https://evil.example"
        )])));
        assert!(!same_site_write(&request(&[("origin", "null")])));
        assert!(!same_site_write(&request(&[(
            "origin",
            "https://console.example:8080.evil.example"
        )])));
    }

    #[test]
    fn the_policy_forbids_inline_code_and_framing() {
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
        assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
        assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self'"));
    }
}
