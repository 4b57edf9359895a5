//! CORS for browser clients, from the `[cors]` settings: off unless origins are
//! listed. When on, preflight `OPTIONS` requests from a listed origin are answered
//! (methods, the API's request headers, `max_age_s`) and answers to that origin carry
//! `Access-Control-Allow-Origin` and expose the headers a client reads (`ETag`,
//! `X-Request-Id`, `Retry-After`, the rate-limit headers, ...). Credentials
//! (cookies) are never allowed: the API authenticates with the `Authorization`
//! header.
//!
//! Origins are checked at start, so a malformed one stops the start with the entry's
//! position (never its text, as every configuration error).

use actix_cors::Cors;
use actix_web::http::header::HeaderName;

use crate::settings::CorsSettings;

/// Request headers a browser client may send.
const REQUEST_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "accept",
    "if-match",
    "org-handle",
    "idempotency-key",
    "x-request-id",
];

/// Answer headers a browser client may read.
const EXPOSED_HEADERS: &[&str] = &[
    "etag",
    "location",
    "retry-after",
    "x-request-id",
    "idempotent-replayed",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "ratelimit",
    "ratelimit-policy",
];

/// A malformed entry of `cors.allowed_origins` (1-based position).
#[derive(Debug, thiserror::Error)]
#[error(
    "cors.allowed_origins (SWITCHBOARD__CORS__ALLOWED_ORIGINS): entry {0} is not an origin \
     such as https://console.example.com (scheme, host and optional port; no path), nor *"
)]
pub struct InvalidOrigin(pub usize);

/// The checked policy: cheap to clone into every worker, which builds its
/// middleware from it.
#[derive(Debug, Clone, Default)]
pub struct CorsPolicy {
    origins: Vec<String>,
    any_origin: bool,
    max_age_s: usize,
}

impl CorsPolicy {
    /// Checks the settings.
    ///
    /// # Errors
    /// [`InvalidOrigin`] for the first malformed entry.
    pub fn from_settings(settings: &CorsSettings) -> Result<Self, InvalidOrigin> {
        let mut policy = Self {
            max_age_s: settings.max_age_s,
            ..Self::default()
        };
        for (at, origin) in settings.allowed_origins.iter().enumerate() {
            let origin = origin.trim();
            if origin.is_empty() {
                continue;
            }
            if origin == "*" {
                policy.any_origin = true;
            } else if is_origin(origin) {
                policy.origins.push(origin.to_ascii_lowercase());
            } else {
                return Err(InvalidOrigin(at + 1));
            }
        }
        Ok(policy)
    }

    /// Whether CORS is on.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.any_origin || !self.origins.is_empty()
    }

    /// The middleware of one worker (use under `Condition::new(policy.enabled(), ..)`).
    pub fn middleware(&self) -> Cors {
        let mut cors = Cors::default()
            .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
            .allowed_headers(
                REQUEST_HEADERS
                    .iter()
                    .map(|name| HeaderName::from_static(name)),
            )
            .expose_headers(
                EXPOSED_HEADERS
                    .iter()
                    .map(|name| HeaderName::from_static(name)),
            )
            .max_age(self.max_age_s);
        if self.any_origin {
            cors = cors.allow_any_origin().send_wildcard();
        } else {
            for origin in &self.origins {
                cors = cors.allowed_origin(origin);
            }
        }
        cors
    }
}

/// `scheme://host[:port]` with scheme http or https, a host of letters, digits,
/// dots and hyphens (or a bracketed IPv6 address), and a port of digits.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return false;
    }
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        match v6.split_once(']') {
            Some((address, after)) if address.parse::<std::net::Ipv6Addr>().is_ok() => {
                (address, after.strip_prefix(':'))
            }
            _ => return false,
        }
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    let host_ok = rest.starts_with('[')
        || (!host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
    let port_ok = port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
    });
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(origins: &[&str]) -> Result<CorsPolicy, InvalidOrigin> {
        CorsPolicy::from_settings(&CorsSettings {
            allowed_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
            max_age_s: 600,
        })
    }

    #[test]
    fn off_unless_origins_are_listed() {
        assert!(!policy(&[]).map(|p| p.enabled()).unwrap_or(true));
        assert!(!policy(&[""]).map(|p| p.enabled()).unwrap_or(true));
        assert!(policy(&["*"]).map(|p| p.enabled()).unwrap_or(false));
    }

    #[test]
    fn origins_are_checked() {
        for good in [
            "https://console.example.com",
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "https://[::1]:8443",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "console.example.com",
            "https://console.example.com/",
            "https://console.example.com/app",
            "ftp://example.com",
            "https://",
            "https://exa mple.com",
            "https://example.com:80a",
            "https://[nonsense]",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
        let error = policy(&["https://ok.example.com", "sk_live_not_an_origin"])
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(error.contains("entry 2"), "{error}");
        assert!(!error.contains("sk_live"), "{error}");
    }
}
