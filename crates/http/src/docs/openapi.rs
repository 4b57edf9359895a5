//! The OpenAPI 3.1 document (`GET /api/v2/platform/openapi.json`) and the human API
//! reference page (`GET /docs`: a vendored Redoc rendering the document, served at
//! `GET /docs/redoc.standalone.js`), all served by the binary with no external asset.
//!
//! The document is built once, at start, from the route table and the loaded
//! provider catalog ([`document`]), and served from the application state: its paths
//! are exactly the table's routes (so a route cannot exist without an operation),
//! and each operation is what its [`RouteSpec`] says (summary, tag, bodies,
//! answers, its own error statuses); the parts every route shares (security,
//! standard error answers, rate-limit and request-id headers) follow from its
//! access. The create body is a `oneOf` with two branches per provider of the
//! catalog (fields flat, or inside `credentials`), carrying that provider's patterns, so that the document stays true to what the
//! server accepts whatever the catalog holds.
//!
//! Schemas describe exactly what the handlers accept (the fuzz run checks both
//! directions: every body the schema accepts must be accepted, every body it rejects
//! must be refused).

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, ContentType};
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};
use switchboard_domain::telephony::ProviderCatalog;

use crate::docs::components::{component_responses, component_schemas};
use crate::docs::examples;
use crate::docs::schema::{header, path_param, request_id_header};
use crate::spec::{Access, Idempotency, RouteSpec};
use crate::state::AppState;

const DOCS_HTML: &str = include_str!("docs.html");

/// Redoc's standalone bundle, vendored and pinned (`vendor/redoc/README.md`: version,
/// licence, checksum): the page's only script.
const REDOC_JS: &[u8] = include_bytes!("vendor/redoc/redoc.standalone.js");

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

/// `GET /docs/redoc.standalone.js`: the vendored renderer. It changes only with the
/// binary, so caches may keep it for a day.
pub(crate) async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(REDOC_JS)
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
    }
    if own(502) {
        errors.push((502, "BadGateway"));
    }
    if operation.database {
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
    } else if let (Some(content), Some(example)) = (
        ok.get_mut("content")
            .and_then(|content| content.get_mut("application/json")),
        examples::answer(&spec.operation_id),
    ) {
        content["example"] = example;
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
        let mut media = json!({"schema": schema(catalog)});
        if let Some(example) = examples::request(&spec.operation_id) {
            media["example"] = example;
        }
        operation["requestBody"] = json!({"required": required,
            "content": {"application/json": media}});
    }
    if spec.deprecated {
        operation["deprecated"] = json!(true);
    }
    if let Some(description) = spec.description {
        operation["description"] = json!(description);
    }
    operation
}

const DESCRIPTION: &str = "Telephony provider configurations, bridges and numbers \
(Unpod Platform API v2 compatible).

- **Authentication**: `Authorization: Token <token>`; routes of an organization also take \
`Org-Handle: <domain_handle>` (see `GET /organizations`). The first token of a development \
server is printed at its first start; `switchboard-admin token create` issues more.
- **Envelope**: answers are `{status_code, message, data}` (collections add `count`); errors \
are `{status_code, message, code, errors?, data?}` with a stable `code` and messages by field \
in `errors`. Every answer carries `X-Request-Id`.
- **Safe writes**: `Idempotency-Key` on POSTs replays the first answer; `ETag`/`If-Match` on \
configuration updates and deletes.
- **Paths**: every route also answers with a trailing slash, and the configuration routes \
also under the singular spelling `/telephony/provider-configurations` (older clients; \
described once, under `/telephony/providers-configurations`).";

/// The path items of `routes`: one operation per route, except for other spellings
/// of a path ([`crate::spec::Operation::alias_of`]), which the canonical path item
/// names in its description instead of repeating its operations.
fn paths(routes: &[RouteSpec], catalog: &ProviderCatalog) -> Map<String, Value> {
    let mut paths = Map::new();
    for route in routes
        .iter()
        .filter(|route| route.operation.alias_of.is_none())
    {
        let item = paths.entry(route.path.clone()).or_insert_with(|| json!({}));
        item[route.method.as_str().to_ascii_lowercase()] = operation(route, catalog);
    }
    for route in routes {
        if let Some(item) = route
            .operation
            .alias_of
            .as_ref()
            .and_then(|canonical| paths.get_mut(canonical))
        {
            item["description"] = json!(format!(
                "Also served at `{}` (the singular spelling older clients use): the same operations.",
                route.path
            ));
        }
    }
    paths
}

/// The whole OpenAPI 3.1 document of `routes` for `catalog`.
#[must_use]
pub(crate) fn document(routes: &[RouteSpec], catalog: &ProviderCatalog) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "Credential service for telephony providers.",
            "description": DESCRIPTION,
            "license": {"name": "Apache 2.0", "identifier": "Apache-2.0"},
            "contact": {"name": "Switchboard maintainers: CONTRIBUTING.md, and SECURITY.md for vulnerabilities, in the repository"},
        },
        "servers": [{"url": "/", "description": "The server this document is served by."}],
        "paths": paths(routes, catalog),
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
            {"name": "provider configurations", "description": "Credentials of the organization's telephony providers: created, listed, read, rotated, verified, deleted; the secret is write-only."},
            {"name": "bridges and numbers", "description": "The organization's phone numbers (E.164) and the bridges that connect them to provider configurations."},
            {"name": "telephony", "description": "The provider catalog: which providers exist and the format of their credentials."},
            {"name": "identity", "description": "Organizations of the caller, login and API tokens."},
            {"name": "audit", "description": "Who changed what: the organization's audit trail."},
            {"name": "operations", "description": "Health, metrics and this documentation; no token needed."},
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
        let mut aliases = 0;
        for route in &routes {
            if let Some(canonical) = &route.operation.alias_of {
                // Another spelling: described once, under the canonical path.
                aliases += 1;
                assert!(!document["paths"][&route.path].is_object(), "{route:?}");
                assert!(documented(&document, &route.method, canonical), "{route:?}");
                assert!(
                    document["paths"][canonical]["description"]
                        .as_str()
                        .is_some_and(|text| text.contains(&route.path)),
                    "{route:?}: the canonical path names this spelling"
                );
                continue;
            }
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
                .map(|item| {
                    item.as_object().map_or(0, |item| {
                        item.keys().filter(|key| *key != "description").count()
                    })
                })
                .sum::<usize>()
        });
        assert_eq!(
            paths,
            routes.len() - aliases,
            "no operation without a route"
        );
    }

    #[test]
    fn the_document_names_its_server_licence_and_contact() {
        let document = document(&route_table(), &ProviderCatalog::default());
        assert_eq!(document["servers"][0]["url"], "/");
        assert_eq!(document["info"]["license"]["identifier"], "Apache-2.0");
        assert!(document["info"]["contact"]["name"].is_string());
        for tag in document["tags"].as_array().into_iter().flatten() {
            assert!(tag["description"].is_string(), "{tag}");
        }
    }

    /// Operation ids are what generated clients call their functions: readable,
    /// lowerCamelCase, starting with a verb, never derived from the path.
    #[test]
    fn operation_ids_are_readable() {
        for route in route_table() {
            let id = &route.operation.operation_id;
            assert!(
                id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{id}"
            );
            // One-segment paths (`/metrics`) spell a readable id by themselves.
            assert!(
                *id != crate::spec::operation_id(&route.method, &route.path)
                    || route.path.matches('/').count() == 1,
                "{route:?}: {id} is spelled from the path; give it `.id(...)`"
            );
        }
    }

    /// Every JSON request body and JSON answer carries an example (the client tests
    /// check each against its schema).
    #[test]
    fn every_body_and_answer_has_an_example() {
        let document = document(&route_table(), &ProviderCatalog::default());
        let mut checked = 0;
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                if method == "description" {
                    continue;
                }
                let id = operation["operationId"].as_str().unwrap_or_default();
                let body = &operation["requestBody"]["content"]["application/json"];
                assert!(
                    body.is_null() || body["example"].is_object(),
                    "{method} {path} ({id}): add a request example in docs/examples.rs"
                );
                for (status, answer) in operation["responses"].as_object().into_iter().flatten() {
                    let json = &answer["content"]["application/json"];
                    assert!(
                        json.is_null() || !json["example"].is_null(),
                        "{method} {path} ({id}) {status}: add an example in docs/examples.rs"
                    );
                    checked += 1;
                }
            }
        }
        for (name, answer) in document["components"]["responses"]
            .as_object()
            .into_iter()
            .flatten()
        {
            assert!(
                answer["content"]["application/json"]["example"]["code"].is_string(),
                "{name}"
            );
        }
        assert!(checked > 50);
    }
}
