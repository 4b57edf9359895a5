//! The served OpenAPI document (`GET /api/v2/platform/openapi.json`) and API page
//! (`GET /docs`): the document is OpenAPI 3.1 JSON, needs no token, names every
//! route of the route table with its method, and describes the create body with one
//! branch per provider of the catalog; the page is self-contained HTML.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use switchboard_e2e::{Backend, on_both_backends, spawn_app};
use switchboard_http::routes::route_table;

async fn the_document_covers_every_route(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let answer = app
        .call(Method::GET, "/openapi.json/", None, None, None)
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
    // Every route, health, metrics, /docs and the document itself included.
    for route in route_table() {
        let operation = &document["paths"][&route.path][route.method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{route:?} is missing from the OpenAPI document"
        );
        assert!(operation["responses"].is_object(), "{route:?}");
    }
    // The create body has one branch per catalog provider, with its patterns.
    let create = &document["paths"]["/api/v2/platform/telephony/providers-configurations"]["post"]
        ["requestBody"]["content"]["application/json"]["schema"]["oneOf"];
    let branches = create.as_array().expect("one branch per provider");
    let catalog = app.services.provider_configs.catalog();
    assert_eq!(branches.len(), catalog.all().len());
    for (branch, provider) in branches.iter().zip(catalog.all()) {
        assert_eq!(
            branch["properties"]["account_sid"]["pattern"],
            provider.account_sid.pattern.as_str()
        );
        assert_eq!(
            branch["properties"]["auth_token"]["pattern"],
            provider.auth_token.pattern.as_str()
        );
        assert_eq!(branch["additionalProperties"], false);
    }
    assert_eq!(
        document["components"]["securitySchemes"]["token"]["name"],
        "Authorization"
    );
    app.stop().await;
}

async fn the_docs_page_is_served_offline(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
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
    app.stop().await;
}

async fn a_wrong_method_names_the_allowed_ones(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let answer = app
        .call(
            Method::PUT,
            "/telephony/bridges/some-slug/",
            None,
            None,
            None,
        )
        .await;
    assert_eq!(answer.status, 405);
    assert_eq!(answer.header("allow"), Some("GET, PATCH, DELETE"));
    app.stop().await;
}

on_both_backends!(
    the_document_covers_every_route,
    the_docs_page_is_served_offline,
    a_wrong_method_names_the_allowed_ones,
);
