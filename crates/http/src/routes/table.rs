//! The route table: one list of every route, gathered from the resource modules in
//! registration order, from which the server registers its resources and the
//! OpenAPI document is built, so that a route cannot exist without being listed and
//! documented.
//!
//! Every route answers with and without a trailing slash (the server normalizes
//! paths by trimming it); unknown routes are 404 and known paths with another method
//! are 405, both in the contract's envelope.

use actix_web::http::Method;
use actix_web::http::header::{ALLOW, CACHE_CONTROL, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, ResponseError, web};

use crate::extract::auth::RouteScopes;
use crate::middleware::idempotency::StoredAnswers;
use crate::routes::{
    audit, bridges, catalog, credential_use, health, identity, number_import, numbers,
    provider_configs, rotations, service_accounts, tokens, verification, webhooks,
};
use crate::spec::{API_BASE, Access, CONFIG_PATHS, Idempotency, RouteSpec};
use crate::wire::error::ApiError;
use switchboard_domain::identity::Scope;

/// Every route the server serves.
#[must_use]
pub fn route_table() -> Vec<RouteSpec> {
    let mut routes = health::routes();
    routes.extend(identity::routes());
    routes.extend(tokens::routes());
    routes.extend(catalog::routes());
    for (index, base) in CONFIG_PATHS.into_iter().enumerate() {
        let mut spelling = provider_configs::routes(base);
        spelling.extend(verification::routes(base));
        spelling.extend(audit::history_routes(base));
        spelling.extend(credential_use::routes(base));
        spelling.extend(rotations::routes(base));
        if index > 0 {
            // Served for older clients, documented once: under the contract's
            // spelling, whose path item names this one.
            for route in &mut spelling {
                route.operation.alias_of = Some(route.path.replacen(base, CONFIG_PATHS[0], 1));
            }
        }
        routes.extend(spelling);
    }
    // Literal segments before templates: `/telephony/numbers/import` is registered
    // before `/telephony/numbers/{id}`, which would otherwise take it.
    routes.extend(number_import::routes());
    routes.extend(numbers::routes());
    routes.extend(bridges::routes());
    routes.extend(audit::routes());
    routes.extend(service_accounts::routes());
    routes.extend(webhooks::routes());
    name_scopes(&mut routes);
    routes
}

/// Gives every organization route that names no scope itself the scope of its
/// resource (contract section 11 and 16): configurations and their verification and
/// history `configurations:read` (`:write` to change them), numbers and bridges
/// `bridges:read`/`:write`, the audit trail `audit:read`, webhooks and events
/// `webhooks:manage`. Service-account management names none: only owners and admins
/// reach it, and a token they create never carries a scope theirs lacks.
fn name_scopes(routes: &mut [RouteSpec]) {
    for route in routes.iter_mut() {
        let org = matches!(
            route.access,
            Access::OrgRead | Access::OrgWrite | Access::OrgAdmin
        );
        if route.scope.is_some() || !org {
            continue;
        }
        let path = route.path.strip_prefix(API_BASE).unwrap_or(&route.path);
        let read = route.method == Method::GET;
        route.scope = if CONFIG_PATHS.iter().any(|base| path.starts_with(base)) {
            let reads = read || path.ends_with("/verify") || path.ends_with("/history");
            Some(if reads {
                Scope::ConfigurationsRead
            } else {
                Scope::ConfigurationsWrite
            })
        } else if path.starts_with("/telephony/numbers") || path.starts_with("/telephony/bridges") {
            Some(if read {
                Scope::BridgesRead
            } else {
                Scope::BridgesWrite
            })
        } else if path.starts_with("/audit-events") {
            Some(Scope::AuditRead)
        } else if path.starts_with("/webhooks") || path.starts_with("/events") {
            Some(Scope::WebhooksManage)
        } else {
            None
        };
    }
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// A 405 naming the path's methods in `Allow`, as RFC 9110 asks.
fn method_not_allowed(allow: String) -> actix_web::Route {
    web::to(move || {
        let allow = allow.clone();
        async move {
            let mut response = ApiError::MethodNotAllowed.error_response();
            if let Ok(value) = HeaderValue::from_str(&allow) {
                response.headers_mut().insert(ALLOW, value);
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
            let of_path = || routes.iter().filter(move |route| route.path == path);
            let allow = of_path()
                .map(|route| route.method.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let stored = of_path().any(|route| {
                route.method == Method::POST && route.idempotency() == Idempotency::Replayed
            });
            let scopes = RouteScopes(
                of_path()
                    .filter_map(|route| route.scope.map(|scope| (route.method.clone(), scope)))
                    .collect(),
            );
            of_path()
                .fold(web::resource(relative), |resource, route| {
                    resource.route((route.handler)())
                })
                .app_data(StoredAnswers(stored))
                .app_data(scopes)
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
    fn every_organization_route_names_its_scope() {
        for route in route_table() {
            let org = matches!(
                route.access,
                Access::OrgRead | Access::OrgWrite | Access::OrgAdmin
            );
            let role_only = route.path.contains("/service-accounts");
            assert_eq!(
                route.scope.is_some(),
                org && !role_only,
                "{route:?} must name a scope exactly when it acts in an organization"
            );
        }
    }

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

    #[test]
    fn answers_carrying_a_token_are_never_stored() {
        for route in route_table() {
            let carries_token =
                route.path.ends_with("/auth/login") || route.path.ends_with("/auth/tokens");
            if carries_token && route.method == Method::POST {
                assert_eq!(route.idempotency(), Idempotency::NeverStored, "{route:?}");
            }
            if route.method != Method::POST {
                assert_eq!(route.idempotency(), Idempotency::NotOffered, "{route:?}");
            }
            if route.access == Access::Public {
                assert_ne!(route.idempotency(), Idempotency::Replayed, "{route:?}");
            }
        }
    }
}
