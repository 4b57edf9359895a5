//! The OpenAPI 3.1 document (`GET /api/v2/platform/openapi.json`) and the human API
//! reference page (`GET /docs`), both served by the binary with no external asset.
//!
//! The document is built once, at start, from the route table and the loaded
//! provider catalog ([`document`]), and served from the application state: its paths
//! are exactly the table's routes (so a route cannot exist without an operation),
//! and each operation is what its [`RouteSpec`] says (summary, tag, bodies,
//! answers, its own error statuses); the parts every route shares (security,
//! standard error answers, rate-limit and request-id headers) follow from its
//! access. The create body is a `oneOf` with one branch per provider of the catalog,
//! carrying that provider's patterns, so that the document stays true to what the
//! server accepts whatever the catalog holds.
//!
//! Schemas describe exactly what the handlers accept (the fuzz run checks both
//! directions: every body the schema accepts must be accepted, every body it rejects
//! must be refused).

use actix_web::http::header::{CONTENT_TYPE, ContentType};
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};
use switchboard_domain::telephony::ProviderCatalog;

use crate::docs::components::{component_responses, component_schemas};
use crate::docs::schema::{header, path_param, request_id_header};
use crate::spec::{Access, Idempotency, RouteSpec};
use crate::state::AppState;

const DOCS_HTML: &str = include_str!("docs.html");

/// `GET /api/v2/platform/openapi.json`: the document built at start.
pub(crate) async fn serve(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(state.openapi.clone())
}

/// `GET /docs`: a self-contained page that renders the document.
pub(crate) async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
        .body(DOCS_HTML)
}

fn rate_limit_headers() -> Value {
    json!({
        "X-RateLimit-Limit": header("Burst size of the token's bucket.", false, json!({"type": "string"})),
        "X-RateLimit-Remaining": header("Requests left in the bucket.", false, json!({"type": "string"})),
        "X-RateLimit-Reset": header("Seconds until the bucket is full again.", false, json!({"type": "string"})),
    })
}

fn success(description: &str, schema: Option<Value>, access: Access, etag: bool) -> Value {
    let mut headers = json!({"X-Request-Id": request_id_header()});
    if access != Access::Public
        && let (Value::Object(headers), Value::Object(extra)) = (&mut headers, rate_limit_headers())
    {
        headers.extend(extra);
    }
    if etag {
        headers["ETag"] = header(
            "Strong validator of the configuration's version, for `If-Match`.",
            true,
            json!({"type": "string"}),
        );
    }
    let mut response = json!({"description": description, "headers": headers});
    if let Some(schema) = schema {
        response["content"] = json!({"application/json": {"schema": schema}});
    }
    response
}

fn idempotency_param() -> Value {
    json!({"name": "Idempotency-Key", "in": "header", "required": false,
        "description": "Same key and same request within 24 h replays the first answer (`Idempotent-Replayed: true`); another request: 422.",
        "schema": {"type": "string", "pattern": "^[!-~](?:[ -~]{0,253}[!-~])?$"}})
}

fn if_match_param() -> Value {
    json!({"name": "If-Match", "in": "header", "required": false,
        "description": "The configuration's current `ETag` (or `*`); anything else is 412.",
        "schema": {"type": "string"}})
}

fn response_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

/// The standard error answers of `route`, by status.
fn error_answers(route: &RouteSpec) -> Vec<(u16, &'static str)> {
    let operation = &route.operation;
    let own = |status: u16| operation.errors.contains(&status);
    let authenticated = route.access != Access::Public;
    let org = matches!(
        route.access,
        Access::OrgRead | Access::OrgWrite | Access::OrgAdmin
    );
    let has_body = operation.body.is_some();
    let mut errors = Vec::new();
    if org || own(400) || has_body {
        errors.push((400, "BadRequest"));
    }
    if authenticated {
        errors.push((401, "Unauthorized"));
    }
    if org || own(403) {
        errors.push((403, "Forbidden"));
    }
    for (status, name) in [
        (404, "NotFound"),
        (409, "Conflict"),
        (412, "PreconditionFailed"),
    ] {
        if own(status) {
            errors.push((status, name));
        }
    }
    if has_body {
        errors.push((408, "RequestTimeout"));
        errors.push((413, "PayloadTooLarge"));
        errors.push((415, "UnsupportedMediaType"));
    }
    if own(422) {
        errors.push((422, "IdempotencyKeyReused"));
    }
    if authenticated {
        errors.push((429, "TooManyRequests"));
    }
    if operation.database {
        errors.push((500, "InternalError"));
        errors.push((503, "Unavailable"));
    }
    errors
}

/// The OpenAPI operation of one route.
fn operation(route: &RouteSpec, catalog: &ProviderCatalog) -> Value {
    let spec = &route.operation;
    let mut parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(path_param)
        .collect();
    if let Some(query) = spec.query {
        parameters.extend(query(catalog));
    }
    if spec.if_match {
        parameters.push(if_match_param());
    }
    if spec.idempotency == Idempotency::Replayed {
        parameters.push(idempotency_param());
    }
    let mut responses = Map::new();
    let description = match spec.status {
        201 => "Created.",
        204 => "Done; no body.",
        _ => "OK.",
    };
    let mut ok = success(
        description,
        spec.answer.map(|answer| answer()),
        route.access,
        spec.etag,
    );
    if let Some(media) = spec.answer_media {
        ok["content"] = json!({media: {"schema": {"type": "string"}}});
    }
    responses.insert(spec.status.to_string(), ok);
    for (status, name) in error_answers(route) {
        responses.insert(status.to_string(), response_ref(name));
    }
    for (status, answer) in spec.responses.map(|own| own()).unwrap_or_default() {
        responses.insert(status.to_string(), answer);
    }
    let mut operation = json!({
        "operationId": spec.operation_id,
        "summary": spec.summary,
        "tags": [spec.tag],
        "parameters": parameters,
        "responses": responses,
    });
    operation["security"] = match route.access {
        Access::Public => json!([]),
        Access::Token => json!([{"token": []}]),
        _ => json!([{"token": [], "org_handle": []}]),
    };
    let access = match route.access {
        Access::OrgWrite => Some("Owners, admins and members (viewers: 403)."),
        Access::OrgAdmin => Some("Owners and admins only."),
        _ => None,
    };
    let scope = route
        .scope
        .map(|scope| format!("Token scope `{scope}` (else 403)."));
    let description: Vec<String> = access.map(str::to_owned).into_iter().chain(scope).collect();
    if !description.is_empty() {
        operation["description"] = json!(description.join(" "));
    }
    if let Some((schema, required)) = spec.body {
        operation["requestBody"] = json!({"required": required,
            "content": {"application/json": {"schema": schema(catalog)}}});
    }
    if spec.deprecated {
        operation["deprecated"] = json!(true);
    }
    if let Some(description) = spec.description {
        operation["description"] = json!(description);
    }
    operation
}

/// The whole OpenAPI 3.1 document of `routes` for `catalog`.
#[must_use]
pub(crate) fn document(routes: &[RouteSpec], catalog: &ProviderCatalog) -> Value {
    let mut paths = Map::new();
    for route in routes {
        let item = paths.entry(route.path.clone()).or_insert_with(|| json!({}));
        item[route.method.as_str().to_ascii_lowercase()] = operation(route, catalog);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Telephony provider configurations, bridges and numbers (Unpod Platform API v2 compatible). Every route also answers with a trailing slash. Errors use one envelope: `{status_code, message, code, errors?, data?}`; every answer carries `X-Request-Id`.",
        },
        "paths": paths,
        "components": {
            "schemas": component_schemas(),
            "responses": component_responses(),
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "`Token <token>` (the keyword is case-insensitive)."},
                "org_handle": {"type": "apiKey", "in": "header", "name": "Org-Handle",
                    "description": "The `domain_handle` of the organization the request acts in; the caller must be a member."},
            },
        },
        "tags": [
            {"name": "provider configurations"}, {"name": "bridges and numbers"},
            {"name": "telephony"}, {"name": "identity"}, {"name": "audit"}, {"name": "operations"},
        ],
    })
}

/// Whether `method` is one an OpenAPI path item names.
#[cfg(test)]
fn documented(document: &Value, method: &actix_web::http::Method, path: &str) -> bool {
    document["paths"][path][method.as_str().to_ascii_lowercase()].is_object()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::route_table;

    #[test]
    fn every_route_is_an_operation_of_an_openapi_3_1_document() {
        let routes = route_table();
        let document = document(&routes, &ProviderCatalog::default());
        assert_eq!(document["openapi"], "3.1.0");
        let mut ids: Vec<&str> = Vec::new();
        for route in &routes {
            assert!(
                documented(&document, &route.method, &route.path),
                "{route:?} is missing from the OpenAPI document"
            );
            let operation = &document["paths"][&route.path][route.method.as_str().to_lowercase()];
            let id = operation["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty() && !ids.contains(&id), "{id}");
            ids.push(id);
            assert!(
                !operation["summary"].as_str().unwrap_or_default().is_empty(),
                "{id}"
            );
            let takes_key = operation["parameters"]
                .as_array()
                .is_some_and(|parameters| {
                    parameters.iter().any(|p| p["name"] == "Idempotency-Key")
                });
            assert_eq!(
                takes_key,
                route.idempotency() == Idempotency::Replayed,
                "{route:?}: the document offers Idempotency-Key exactly where answers are stored"
            );
        }
        let paths = document["paths"].as_object().map_or(0, |paths| {
            paths
                .values()
                .map(|item| item.as_object().map_or(0, Map::len))
                .sum::<usize>()
        });
        assert_eq!(paths, routes.len(), "no operation without a route");
    }
}
