//! The route table: one list of every route (method, path, handler) from which the
//! server registers its resources, and which tests and the OpenAPI document read, so
//! that a route cannot exist without being listed.
//!
//! Every route answers with and without a trailing slash (the server normalizes
//! paths by trimming it); unknown routes are 404 and known paths with another method
//! are 405, both in the contract's envelope.

use actix_web::http::Method;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};

use crate::error::ApiError;
use crate::{
    audit, bridges, catalog, health, identity, metrics, numbers, openapi, provider_configs, tokens,
    verification,
};

/// Base path of the platform API.
pub const API_BASE: &str = "/api/v2/platform";

/// The two spellings of the configuration collection: the contract's, and the
/// singular one older clients use. Both serve the same routes.
pub const CONFIG_PATHS: [&str; 2] = [
    "/telephony/providers-configurations",
    "/telephony/provider-configurations",
];

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token (health, metrics, login).
    Public,
    /// A token, no organization.
    Token,
    /// A token and `Org-Handle`; any member.
    OrgRead,
    /// A token and `Org-Handle`; owners, admins and members (viewers get 403).
    OrgWrite,
    /// A token and `Org-Handle`; owners and admins only.
    OrgAdmin,
}

/// One route.
#[derive(Clone)]
pub struct RouteSpec {
    pub method: Method,
    /// Full path template from the server root, without a trailing slash.
    pub path: String,
    pub access: Access,
    handler: fn() -> actix_web::Route,
}

impl std::fmt::Debug for RouteSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({:?})", self.method, self.path, self.access)
    }
}

fn spec(
    method: Method,
    path: String,
    access: Access,
    handler: fn() -> actix_web::Route,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
        handler,
    }
}

/// Every route the server serves.
#[must_use]
pub fn route_table() -> Vec<RouteSpec> {
    use Access::{OrgAdmin, OrgRead, OrgWrite, Public, Token};
    let api = |path: &str| format!("{API_BASE}{path}");
    let mut routes = vec![
        spec(Method::GET, "/health/live".into(), Public, || {
            web::get().to(health::live)
        }),
        spec(Method::GET, "/health/ready".into(), Public, || {
            web::get().to(health::ready)
        }),
        spec(Method::GET, "/metrics".into(), Public, || {
            web::get().to(metrics::render)
        }),
        spec(Method::GET, "/docs".into(), Public, || {
            web::get().to(openapi::docs)
        }),
        spec(Method::GET, api("/openapi.json"), Public, || {
            web::get().to(openapi::serve)
        }),
        spec(Method::GET, api("/organizations"), Token, || {
            web::get().to(identity::organizations)
        }),
        spec(Method::POST, api("/auth/login"), Public, || {
            web::post().to(tokens::login)
        }),
        spec(Method::GET, api("/auth/tokens"), Token, || {
            web::get().to(tokens::list)
        }),
        spec(Method::POST, api("/auth/tokens"), Token, || {
            web::post().to(tokens::create)
        }),
        spec(Method::DELETE, api("/auth/tokens/{id}"), Token, || {
            web::delete().to(tokens::revoke)
        }),
        spec(Method::GET, api("/telephony/providers"), Token, || {
            web::get().to(catalog::list)
        }),
    ];
    for base in CONFIG_PATHS {
        routes.extend([
            spec(Method::GET, api(base), OrgRead, || {
                web::get().to(provider_configs::list)
            }),
            spec(Method::POST, api(base), OrgWrite, || {
                web::post().to(provider_configs::create)
            }),
            spec(Method::GET, api(&format!("{base}/{{id}}")), OrgRead, || {
                web::get().to(provider_configs::get)
            }),
            spec(
                Method::PATCH,
                api(&format!("{base}/{{id}}")),
                OrgWrite,
                || web::patch().to(provider_configs::update),
            ),
            spec(
                Method::DELETE,
                api(&format!("{base}/{{id}}")),
                OrgWrite,
                || web::delete().to(provider_configs::delete),
            ),
            spec(
                Method::POST,
                api(&format!("{base}/{{id}}/verify")),
                OrgWrite,
                || web::post().to(verification::verify),
            ),
            spec(
                Method::GET,
                api(&format!("{base}/{{id}}/history")),
                OrgRead,
                || web::get().to(audit::history),
            ),
        ]);
    }
    routes.extend([
        spec(Method::GET, api("/telephony/numbers"), OrgRead, || {
            web::get().to(numbers::list)
        }),
        spec(Method::POST, api("/telephony/numbers"), OrgWrite, || {
            web::post().to(numbers::add)
        }),
        spec(
            Method::DELETE,
            api("/telephony/numbers/{id}"),
            OrgWrite,
            || web::delete().to(numbers::delete),
        ),
        spec(Method::GET, api("/telephony/bridges"), OrgRead, || {
            web::get().to(bridges::list)
        }),
        spec(Method::POST, api("/telephony/bridges"), OrgWrite, || {
            web::post().to(bridges::create)
        }),
        spec(
            Method::GET,
            api("/telephony/bridges/{slug}"),
            OrgRead,
            || web::get().to(bridges::get),
        ),
        spec(
            Method::PATCH,
            api("/telephony/bridges/{slug}"),
            OrgWrite,
            || web::patch().to(bridges::update),
        ),
        spec(
            Method::DELETE,
            api("/telephony/bridges/{slug}"),
            OrgWrite,
            || web::delete().to(bridges::delete),
        ),
        spec(
            Method::POST,
            api("/telephony/bridges/{slug}/connect-provider"),
            OrgWrite,
            || web::post().to(bridges::connect_provider),
        ),
        spec(
            Method::POST,
            api("/telephony/bridges/{slug}/disconnect-provider"),
            OrgWrite,
            || web::post().to(bridges::disconnect_provider),
        ),
        spec(Method::GET, api("/audit-events"), OrgAdmin, || {
            web::get().to(audit::list)
        }),
    ]);
    routes
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// A 405 naming the path's methods in `Allow`, as RFC 9110 asks.
fn method_not_allowed(allow: String) -> actix_web::Route {
    web::to(move || {
        let allow = allow.clone();
        async move {
            let mut response =
                actix_web::ResponseError::error_response(&ApiError::MethodNotAllowed);
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&allow) {
                response
                    .headers_mut()
                    .insert(actix_web::http::header::ALLOW, value);
            }
            response
        }
    })
}

/// The resources of `routes`, one per path, in table order, each with its methods
/// and a 405 for the others; paths are given relative to `strip`.
fn resources(routes: &[RouteSpec], strip: &str) -> Vec<actix_web::Resource> {
    let mut paths: Vec<&str> = Vec::new();
    for route in routes {
        if !paths.contains(&route.path.as_str()) {
            paths.push(&route.path);
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(strip).unwrap_or(path);
            let allow = routes
                .iter()
                .filter(|route| route.path == path)
                .map(|route| route.method.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            routes
                .iter()
                .filter(|route| route.path == path)
                .fold(web::resource(relative), |resource, route| {
                    resource.route((route.handler)())
                })
                .default_service(method_not_allowed(allow))
        })
        .collect()
}

/// Registers every route of [`route_table`]. The caller registers
/// [`crate::AppState`] as app data and wraps the app with path normalization and the
/// request id middleware.
pub fn configure(config: &mut web::ServiceConfig) {
    let (api, root): (Vec<RouteSpec>, Vec<RouteSpec>) = route_table()
        .into_iter()
        .partition(|route| route.path.starts_with(API_BASE));
    for resource in resources(&root, "") {
        config.service(resource);
    }
    let mut scope =
        web::scope(API_BASE).wrap(DefaultHeaders::new().add((CACHE_CONTROL, "no-store")));
    for resource in resources(&api, API_BASE) {
        scope = scope.service(resource);
    }
    config
        .service(scope.default_service(web::to(not_found)))
        .default_service(web::to(not_found));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_each_method_and_path_once() {
        let table = route_table();
        for (index, route) in table.iter().enumerate() {
            assert!(
                !table[index + 1..]
                    .iter()
                    .any(|other| other.method == route.method && other.path == route.path),
                "{route:?} is listed twice"
            );
            assert!(!route.path.ends_with('/'), "{route:?}");
        }
    }
}
