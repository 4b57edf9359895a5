//! The served OpenAPI document (`GET /api/v2/platform/openapi.json`) and API page
//! (`GET /docs`): the document is OpenAPI 3.1 JSON, needs no token, lists the
//! contract's routes (a list kept here by hand, not read from the code), documents
//! only routes the running server serves, describes the singular alias spelling once
//! and the create body with one branch per provider of the catalog; the page is
//! self-contained HTML whose only script (Redoc, vendored) the binary serves.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use switchboard_test_support::{Backend, on_both_backends, spawn_app};

/// The routes of the contract (`/work/shared/contract/api.md` sections 4 to 9, and
/// the audit routes), as the document names them: method and path template without
/// the trailing slash. Kept by hand on purpose: a route the document forgets fails
/// here, whatever the code generating it does.
const CONTRACT_ROUTES: &[(&str, &str)] = &[
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/metrics"),
    ("get", "/docs"),
    ("get", "/api/v2/platform/openapi.json"),
    ("get", "/api/v2/platform/organizations"),
    ("post", "/api/v2/platform/auth/login"),
    ("get", "/api/v2/platform/auth/tokens"),
    ("post", "/api/v2/platform/auth/tokens"),
    ("delete", "/api/v2/platform/auth/tokens/{id}"),
    ("get", "/api/v2/platform/telephony/providers"),
    ("get", "/api/v2/platform/telephony/providers-configurations"),
    (
        "post",
        "/api/v2/platform/telephony/providers-configurations",
    ),
    (
        "get",
        "/api/v2/platform/telephony/providers-configurations/{id}",
    ),
    (
        "patch",
        "/api/v2/platform/telephony/providers-configurations/{id}",
    ),
    (
        "delete",
        "/api/v2/platform/telephony/providers-configurations/{id}",
    ),
    (
        "post",
        "/api/v2/platform/telephony/providers-configurations/{id}/verify",
    ),
    (
        "get",
        "/api/v2/platform/telephony/providers-configurations/{id}/history",
    ),
    ("get", "/api/v2/platform/telephony/numbers"),
    ("post", "/api/v2/platform/telephony/numbers"),
    ("delete", "/api/v2/platform/telephony/numbers/{id}"),
    ("get", "/api/v2/platform/telephony/bridges"),
    ("post", "/api/v2/platform/telephony/bridges"),
    ("get", "/api/v2/platform/telephony/bridges/{slug}"),
    ("patch", "/api/v2/platform/telephony/bridges/{slug}"),
    ("delete", "/api/v2/platform/telephony/bridges/{slug}"),
    (
        "post",
        "/api/v2/platform/telephony/bridges/{slug}/connect-provider",
    ),
    (
        "post",
        "/api/v2/platform/telephony/bridges/{slug}/disconnect-provider",
    ),
    ("get", "/api/v2/platform/audit-events"),
];

/// The singular spelling older clients use: served, and described once, under the
/// contract's spelling (whose path item names it), so that generated clients get one
/// function per operation.
const ALIAS_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v2/platform/telephony/provider-configurations"),
    ("post", "/api/v2/platform/telephony/provider-configurations"),
    (
        "get",
        "/api/v2/platform/telephony/provider-configurations/{id}",
    ),
    (
        "patch",
        "/api/v2/platform/telephony/provider-configurations/{id}",
    ),
    (
        "delete",
        "/api/v2/platform/telephony/provider-configurations/{id}",
    ),
];

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// A concrete path for a path template: each `{parameter}` becomes a sample value.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') && segment.ends_with('}') {
                if segment == "{slug}" {
                    "some-slug"
                } else {
                    "1"
                }
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn the_document_covers_every_route(backend: Backend) {
    let app = spawn_app(backend).await;
    let answer = app
        .call(Method::GET, "/openapi.json/", None, None, None, &[])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(
        answer
            .header("content-type")
            .is_some_and(|value| value.starts_with("application/json"))
    );
    let document = &answer.body;
    let version = document["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3.1."), "{version}");
    let paths = document["paths"].as_object().expect("paths");
    // The contract's routes are all documented.
    for (method, path) in CONTRACT_ROUTES {
        let operation = &document["paths"][*path][*method];
        assert!(
            operation.is_object(),
            "{method} {path} is missing from the OpenAPI document"
        );
        assert!(operation["responses"].is_object(), "{method} {path}");
    }
    // Every documented operation is served: without a token, a route the server has
    // answers 401 (or, for public routes, its own answer), never 404 or 405, which
    // only unknown paths and methods get.
    let mut operations = 0;
    for (path, item) in paths {
        for method in METHODS.iter().filter(|method| item.get(**method).is_some()) {
            operations += 1;
            let method_name = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let response = app
                .client
                .request(method_name, app.url(&concrete(path)))
                .send()
                .await
                .expect("sent");
            let status = response.status().as_u16();
            assert!(
                status != 404 && status != 405,
                "{method} {path} is documented but answers {status}"
            );
        }
    }
    assert!(operations >= CONTRACT_ROUTES.len());
    // The singular spelling: served, not listed again, named by the canonical path.
    for (method, path) in ALIAS_ROUTES {
        assert!(document["paths"][*path].is_null(), "{path} is listed twice");
        let canonical = path.replace("/provider-configurations", "/providers-configurations");
        assert!(
            document["paths"][&canonical][*method].is_object(),
            "{canonical}"
        );
        let description = document["paths"][&canonical]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(description.contains(*path), "{canonical} names {path}");
        let method_name = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let response = app
            .client
            .request(method_name, app.url(&concrete(path)))
            .send()
            .await
            .expect("sent");
        let status = response.status().as_u16();
        assert!(
            status != 404 && status != 405,
            "{method} {path} answers {status}"
        );
    }
    // What generators and readers need: a server, licence, contact, readable ids.
    assert_eq!(document["servers"][0]["url"], "/");
    assert_eq!(document["info"]["license"]["identifier"], "Apache-2.0");
    assert_eq!(
        document["paths"]["/api/v2/platform/telephony/providers-configurations"]["post"]["operationId"],
        "createProviderConfiguration"
    );
    // Nothing documented twice under two spellings of one path.
    assert!(paths.keys().all(|path| !path.ends_with('/')));
    // The create body has two branches per catalog provider (fields flat, or inside
    // `credentials`), each closed, the flat one with the provider's patterns.
    let create = &document["paths"]["/api/v2/platform/telephony/providers-configurations"]["post"]
        ["requestBody"]["content"]["application/json"]["schema"]["oneOf"];
    let branches = create.as_array().expect("two branches per provider");
    let catalog = app.services.provider_configs.catalog();
    assert_eq!(branches.len(), 2 * catalog.all().len());
    for (pair, provider) in branches.chunks(2).zip(catalog.all()) {
        let (flat, nested) = (&pair[0], &pair[1]);
        assert_eq!(
            flat["properties"]["account_sid"]["pattern"],
            provider.account_sid.pattern.as_str()
        );
        assert_eq!(
            flat["properties"]["auth_token"]["pattern"],
            provider.auth_token.pattern.as_str()
        );
        assert!(flat["properties"]["credentials"].is_null());
        assert_eq!(
            nested["required"],
            serde_json::json!(["provider", "credentials"])
        );
        assert!(nested["properties"]["auth_token"].is_null());
        for branch in pair {
            assert_eq!(branch["additionalProperties"], false);
        }
    }
    assert_eq!(
        document["components"]["securitySchemes"]["token"]["name"],
        "Authorization"
    );
    app.stop().await;
}

/// Needs no database: runs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_is_served_offline() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/docs/"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/html"))
    );
    let page = response.text().await.expect("a body");
    assert!(page.contains("/api/v2/platform/openapi.json"));
    assert!(page.contains("/docs/redoc.standalone.js"));
    // Nothing fetched from elsewhere: no absolute URL in src or href attributes.
    for needle in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "@import",
    ] {
        assert!(!page.contains(needle), "{needle}");
    }
    // The renderer comes from the binary too.
    let script = app
        .client
        .get(app.url("/docs/redoc.standalone.js"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(script.status(), 200);
    assert!(
        script
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/javascript"))
    );
    let script = script.text().await.expect("a body");
    assert!(script.contains("Redoc") && script.len() > 500_000);
    app.stop().await;
}

/// Needs no database: runs once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_method_names_the_allowed_ones() {
    let app = spawn_app(Backend::Sqlite).await;
    let answer = app
        .call(
            Method::PUT,
            "/telephony/bridges/some-slug/",
            None,
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow"), Some("GET, PATCH, DELETE"));
    app.stop().await;
}

on_both_backends!(the_document_covers_every_route);
