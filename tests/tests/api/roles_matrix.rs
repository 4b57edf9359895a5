//! The routes × roles × organizations matrix: every route of the server, called by
//! an owner, an admin, a member and a viewer of organization A, by a member of
//! organization B (with A's `Org-Handle`), and with no token. Each cell's expected
//! status is in [`expected`]; the test fails when the server has a route the table
//! does not list (the route table is the one the server registers from), or the
//! table lists a route the server does not have.
//!
//! The scopes dimension: [`expected_scope`] names the scope each route needs; the
//! test fails when the route table names another (or a route is missing), and on
//! both backends the owner calls every scoped route with a token holding every scope
//! but that one (403) and with a token holding only that one (the owner's status).

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_http::routes::{API_BASE, Access, CONFIG_PATHS, route_table};
use switchboard_test_support::{Answer, Backend, TestApp, on_both_backends, spawn_app};

/// The callers, in the order of each row's statuses.
const CALLERS: [&str; 6] = [
    "owner",
    "admin",
    "member",
    "viewer",
    "outsider",
    "anonymous",
];

/// Expected statuses by caller, for each route (method, path template from the
/// server root).
fn expected() -> Vec<(Method, String, [u16; 6])> {
    let api = |path: &str| format!("{API_BASE}{path}");
    let everyone = [200, 200, 200, 200, 200, 200];
    let token = [200, 200, 200, 200, 200, 401];
    let read = [200, 200, 200, 200, 403, 401];
    let write = [200, 200, 200, 403, 403, 401];
    let create = [201, 201, 201, 403, 403, 401];
    let delete = [204, 204, 204, 403, 403, 401];
    let mut rows = vec![
        (Method::GET, "/health/live".to_owned(), everyone),
        (Method::GET, "/health/ready".to_owned(), everyone),
        (Method::GET, "/metrics".to_owned(), everyone),
        (Method::GET, "/docs".to_owned(), everyone),
        (
            Method::GET,
            "/docs/redoc.standalone.js".to_owned(),
            everyone,
        ),
        (Method::GET, api("/openapi.json"), everyone),
        (Method::GET, api("/organizations"), token),
        // Login needs no token: each caller logs in with its own password; the
        // anonymous caller has none (401).
        (Method::POST, api("/auth/login"), token),
        (Method::GET, api("/auth/tokens"), token),
        (
            Method::POST,
            api("/auth/tokens"),
            [201, 201, 201, 201, 201, 401],
        ),
        (
            Method::DELETE,
            api("/auth/tokens/{id}"),
            [204, 204, 204, 204, 204, 401],
        ),
        (Method::GET, api("/telephony/providers"), token),
    ];
    for base in CONFIG_PATHS {
        rows.extend([
            (Method::GET, api(base), read),
            (Method::POST, api(base), create),
            (Method::GET, api(&format!("{base}/{{id}}")), read),
            (Method::PATCH, api(&format!("{base}/{{id}}")), write),
            (Method::DELETE, api(&format!("{base}/{{id}}")), delete),
            (Method::POST, api(&format!("{base}/{{id}}/verify")), write),
            (Method::GET, api(&format!("{base}/{{id}}/history")), read),
            // Tokens issued without scopes lack credentials:reveal.
            (
                Method::POST,
                api(&format!("{base}/{{id}}/reveal")),
                [403, 403, 403, 403, 403, 401],
            ),
            (
                Method::POST,
                api(&format!("{base}/{{id}}/signature-checks")),
                write,
            ),
            (
                Method::POST,
                api(&format!("{base}/{{id}}/access-tokens")),
                create,
            ),
            // Staged rotation.
            (
                Method::POST,
                api(&format!("{base}/{{id}}/rotations")),
                create,
            ),
            (Method::GET, api(&format!("{base}/{{id}}/rotations")), read),
            (
                Method::POST,
                api(&format!("{base}/{{id}}/rotations/{{rid}}/verify")),
                write,
            ),
            (
                Method::POST,
                api(&format!("{base}/{{id}}/rotations/{{rid}}/promote")),
                write,
            ),
            (
                Method::DELETE,
                api(&format!("{base}/{{id}}/rotations/{{rid}}")),
                delete,
            ),
            (
                Method::DELETE,
                api(&format!("{base}/{{id}}/credentials/previous")),
                delete,
            ),
        ]);
    }
    rows.extend([
        (Method::GET, api("/telephony/numbers"), read),
        (Method::POST, api("/telephony/numbers"), create),
        (Method::DELETE, api("/telephony/numbers/{id}"), delete),
        // The test profile points the providers at a closed port: a writer passes
        // role and scope and reaches the provider, which fails (502).
        (
            Method::POST,
            api("/telephony/numbers/import"),
            [502, 502, 502, 403, 403, 401],
        ),
        (Method::GET, api("/telephony/bridges"), read),
        (Method::POST, api("/telephony/bridges"), create),
        (Method::GET, api("/telephony/bridges/{slug}"), read),
        (Method::PATCH, api("/telephony/bridges/{slug}"), write),
        (Method::DELETE, api("/telephony/bridges/{slug}"), delete),
        (
            Method::POST,
            api("/telephony/bridges/{slug}/connect-provider"),
            write,
        ),
        (
            Method::POST,
            api("/telephony/bridges/{slug}/disconnect-provider"),
            write,
        ),
        (
            Method::GET,
            api("/audit-events"),
            [200, 200, 403, 403, 403, 401],
        ),
        (
            Method::GET,
            api("/service-accounts"),
            [200, 200, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            api("/service-accounts"),
            [201, 201, 403, 403, 403, 401],
        ),
        (
            Method::DELETE,
            api("/service-accounts/{id}"),
            [204, 204, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            api("/service-accounts/{id}/tokens"),
            [201, 201, 403, 403, 403, 401],
        ),
        (
            Method::DELETE,
            api("/service-accounts/{id}/tokens/{token_id}"),
            [204, 204, 403, 403, 403, 401],
        ),
    ]);
    // Webhooks and events: owners and admins only.
    let manage = [200, 200, 403, 403, 403, 401];
    let accepted = [202, 202, 403, 403, 403, 401];
    rows.extend([
        (
            Method::POST,
            api("/webhooks/endpoints"),
            [201, 201, 403, 403, 403, 401],
        ),
        (Method::GET, api("/webhooks/endpoints"), manage),
        (Method::GET, api("/webhooks/endpoints/{id}"), manage),
        (Method::PATCH, api("/webhooks/endpoints/{id}"), manage),
        (
            Method::DELETE,
            api("/webhooks/endpoints/{id}"),
            [204, 204, 403, 403, 403, 401],
        ),
        (
            Method::POST,
            api("/webhooks/endpoints/{id}/rotate-secret"),
            manage,
        ),
        (Method::POST, api("/webhooks/endpoints/{id}/test"), accepted),
        (
            Method::GET,
            api("/webhooks/endpoints/{id}/deliveries"),
            manage,
        ),
        (
            Method::POST,
            api("/webhooks/deliveries/{id}/retry"),
            accepted,
        ),
        (Method::GET, api("/events"), manage),
    ]);
    rows
}

/// The scope each route needs (`None`: none; the role decides alone).
fn expected_scope(method: &Method, template: &str) -> Option<&'static str> {
    let relative = template.strip_prefix(API_BASE)?;
    let read = *method == Method::GET;
    if relative.ends_with("/reveal") {
        return Some("credentials:reveal");
    }
    if relative.ends_with("/signature-checks") || relative.ends_with("/access-tokens") {
        return Some("credentials:use");
    }
    if CONFIG_PATHS.iter().any(|base| relative.starts_with(base)) {
        return Some(
            if read || relative.ends_with("/verify") || relative.ends_with("/history") {
                "configurations:read"
            } else {
                "configurations:write"
            },
        );
    }
    if relative.starts_with("/telephony/numbers") || relative.starts_with("/telephony/bridges") {
        return Some(if read {
            "bridges:read"
        } else {
            "bridges:write"
        });
    }
    if relative.starts_with("/audit-events") {
        return Some("audit:read");
    }
    if relative.starts_with("/webhooks") || relative.starts_with("/events") {
        return Some("webhooks:manage");
    }
    None
}

#[test]
fn the_matrix_names_the_scope_of_every_route() {
    let table = route_table();
    for (method, path, _) in expected() {
        let route = table
            .iter()
            .find(|route| route.method.as_str() == method.as_str() && route.path == path)
            .unwrap_or_else(|| panic!("{method} {path} is not served"));
        assert_eq!(
            route.scope.map(|scope| scope.as_str()),
            expected_scope(&method, &path),
            "{method} {path}: the scope differs from the matrix"
        );
    }
}

#[test]
fn the_matrix_lists_exactly_the_server_routes() {
    let served: Vec<(String, String)> = route_table()
        .into_iter()
        .map(|route| (route.method.as_str().to_owned(), route.path))
        .collect();
    let listed: Vec<(String, String)> = expected()
        .into_iter()
        .map(|(method, path, _)| (method.as_str().to_owned(), path))
        .collect();
    for route in &served {
        assert!(
            listed.contains(route),
            "route {} {} is missing from the roles matrix",
            route.0,
            route.1
        );
    }
    for route in &listed {
        assert!(
            served.contains(route),
            "the roles matrix lists {} {}, which the server does not serve",
            route.0,
            route.1
        );
    }
}

/// Whether the route acts in an organization (so the caller sends `Org-Handle`).
fn needs_org(method: &Method, template: &str) -> bool {
    route_table().iter().any(|route| {
        route.method.as_str() == method.as_str()
            && route.path == template
            && matches!(
                route.access,
                Access::OrgRead | Access::OrgWrite | Access::OrgAdmin
            )
    })
}

struct Caller {
    email: Option<String>,
    token: Option<String>,
}

struct Fixture {
    app: TestApp,
    owner: String,
    callers: Vec<Caller>,
    counter: std::sync::atomic::AtomicU32,
}

const PASSWORD: &str = "correct horse battery";

impl Fixture {
    fn next(&self) -> u32 {
        self.counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    async fn owner_post(&self, path: &str, body: Value) -> Value {
        let answer = self
            .app
            .call(
                Method::POST,
                path,
                Some(&self.owner),
                Some("org-a"),
                Some(&body),
                &[],
            )
            .await;
        assert!(
            answer.status == 201 || answer.status == 200,
            "fixture {path}: {}",
            answer.text
        );
        answer.body["data"].clone()
    }

    async fn config(&self) -> i64 {
        let n = self.next() + 1000;
        self.owner_post(
            CONFIG_PATHS[0],
            json!({"provider": "twilio", "account_sid": format!("AC{n:032x}"), "auth_token": format!("{n:032x}")}),
        )
        .await["id"]
            .as_i64()
            .expect("config id")
    }

    async fn number(&self) -> (i64, String) {
        let number = format!("+1415555{:04}", self.next());
        let data = self
            .owner_post("/telephony/numbers", json!({"number": number}))
            .await;
        (data["id"].as_i64().expect("number id"), number)
    }

    async fn service_account(&self) -> i64 {
        let name = format!("robot {}", self.next());
        self.owner_post("/service-accounts", json!({"name": name, "role": "member"}))
            .await["id"]
            .as_i64()
            .expect("service account id")
    }

    async fn bridge(&self, number_ids: &[i64]) -> String {
        let name = format!("bridge {}", self.next());
        self.owner_post(
            "/telephony/bridges",
            json!({"name": name, "number_ids": number_ids}),
        )
        .await["slug"]
            .as_str()
            .expect("slug")
            .to_owned()
    }

    /// A webhook endpoint of organization A (pointing at a closed loopback port).
    async fn endpoint(&self) -> i64 {
        self.owner_post(
            "/webhooks/endpoints",
            json!({"url": "http://127.0.0.1:9/matrix"}),
        )
        .await["id"]
            .as_i64()
            .expect("endpoint id")
    }

    /// A delivery of organization A (a test event to a fresh endpoint).
    async fn delivery(&self) -> i64 {
        let endpoint = self.endpoint().await;
        let answer = self
            .app
            .call(
                Method::POST,
                &format!("/webhooks/endpoints/{endpoint}/test"),
                Some(&self.owner),
                Some("org-a"),
                None,
                &[],
            )
            .await;
        assert_eq!(answer.status, 202, "{}", answer.text);
        let listed = self
            .app
            .call(
                Method::GET,
                &format!("/webhooks/endpoints/{endpoint}/deliveries"),
                Some(&self.owner),
                Some("org-a"),
                None,
                &[],
            )
            .await;
        listed.body["data"][0]["id"].as_i64().expect("delivery id")
    }

    /// The concrete request of one cell: path relative to the API base (or the
    /// server root for routes outside it) and body.
    async fn request(
        &self,
        method: &Method,
        template: &str,
        caller: usize,
    ) -> (String, Option<Value>) {
        let relative = template
            .strip_prefix(API_BASE)
            .unwrap_or(template)
            .to_owned();
        let config_base = CONFIG_PATHS
            .iter()
            .find(|base| relative.starts_with(*base))
            .copied();
        let n = self.next();
        match (method.as_str(), relative.as_str()) {
            ("POST", "/auth/login") => {
                let email = self.callers[caller]
                    .email
                    .clone()
                    .unwrap_or_else(|| "nobody@example.test".to_owned());
                (
                    relative,
                    Some(json!({"email": email, "password": PASSWORD})),
                )
            }
            ("POST", "/auth/tokens") => (relative, Some(json!({"name": format!("matrix {n}")}))),
            ("DELETE", "/auth/tokens/{id}") => {
                // A fresh token of this caller, revoked by this caller.
                let id = match &self.callers[caller].token {
                    Some(token) => {
                        let answer = self
                            .app
                            .call(
                                Method::POST,
                                "/auth/tokens/",
                                Some(token),
                                None,
                                Some(&json!({"name": "to revoke"})),
                                &[],
                            )
                            .await;
                        answer.body["data"]["id"].as_i64().expect("token id")
                    }
                    None => 1,
                };
                (format!("/auth/tokens/{id}"), None)
            }
            ("POST", path) if Some(path) == config_base => {
                let n = n + 5000;
                (
                    relative,
                    Some(
                        json!({"provider": "twilio", "account_sid": format!("AC{n:032x}"), "auth_token": format!("{n:032x}")}),
                    ),
                )
            }
            (_, path) if config_base.is_some() && path.ends_with("/access-tokens") => {
                let n = self.next() + 1000;
                let id = self
                    .owner_post(
                        CONFIG_PATHS[0],
                        json!({"provider": "livekit", "account_sid": format!("API{n:08}"), "auth_token": format!("secret-{n}")}),
                    )
                    .await["id"]
                    .as_i64()
                    .expect("config id");
                (
                    path.replace("{id}", &id.to_string()),
                    Some(json!({"identity": "agent", "room": "room-1"})),
                )
            }
            (_, path) if config_base.is_some() && path.contains("{rid}") => {
                // A configuration of organization A with a pending rotation.
                let id = self.config().await;
                let n = self.next() + 7000;
                let rid = self
                    .owner_post(
                        &format!("{}/{id}/rotations", CONFIG_PATHS[0]),
                        json!({"auth_token": format!("{n:032x}")}),
                    )
                    .await["id"]
                    .as_i64()
                    .expect("rotation id");
                (
                    path.replace("{id}", &id.to_string())
                        .replace("{rid}", &rid.to_string()),
                    None,
                )
            }
            ("POST", path) if config_base.is_some() && path.ends_with("/rotations") => {
                let id = self.config().await;
                let n = self.next() + 7000;
                (
                    path.replace("{id}", &id.to_string()),
                    Some(json!({"auth_token": format!("{n:032x}")})),
                )
            }
            (_, path) if config_base.is_some() && path.contains("{id}") => {
                let id = self.config().await;
                let concrete = path.replace("{id}", &id.to_string());
                let body = match method.as_str() {
                    "PATCH" => Some(json!({"name": format!("renamed {n}")})),
                    _ if path.ends_with("/signature-checks") => Some(
                        json!({"url": "https://hooks.example.test/", "params": {}, "signature": "AAAA"}),
                    ),
                    _ => None,
                };
                (concrete, body)
            }
            ("POST", "/telephony/numbers") => (
                relative,
                Some(json!({"number": format!("+1415666{:04}", n)})),
            ),
            ("POST", "/telephony/numbers/import") => {
                let id = self.config().await;
                (relative, Some(json!({"provider_config_id": id})))
            }
            ("DELETE", "/telephony/numbers/{id}") => {
                let (id, _) = self.number().await;
                (format!("/telephony/numbers/{id}"), None)
            }
            ("POST", "/telephony/bridges") => (
                relative,
                Some(json!({"name": format!("matrix bridge {n}")})),
            ),
            ("POST", "/telephony/bridges/{slug}/connect-provider") => {
                let (number_id, number) = self.number().await;
                let slug = self.bridge(&[number_id]).await;
                let config = self.config().await;
                (
                    format!("/telephony/bridges/{slug}/connect-provider"),
                    Some(json!({"provider_config_id": config, "phone_number": number})),
                )
            }
            ("POST", "/telephony/bridges/{slug}/disconnect-provider") => {
                let (number_id, number) = self.number().await;
                let slug = self.bridge(&[number_id]).await;
                let config = self.config().await;
                self.owner_post(
                    &format!("/telephony/bridges/{slug}/connect-provider"),
                    json!({"provider_config_id": config, "phone_number": number}),
                )
                .await;
                (
                    format!("/telephony/bridges/{slug}/disconnect-provider"),
                    Some(json!({"phone_number": number})),
                )
            }
            ("POST", "/service-accounts") => (
                relative,
                Some(json!({"name": format!("matrix robot {n}"), "role": "viewer"})),
            ),
            ("DELETE", "/service-accounts/{id}") => {
                let id = self.service_account().await;
                (format!("/service-accounts/{id}"), None)
            }
            ("POST", "/service-accounts/{id}/tokens") => {
                let id = self.service_account().await;
                (
                    format!("/service-accounts/{id}/tokens"),
                    Some(json!({"name": "robot token", "scopes": ["configurations:read"]})),
                )
            }
            ("DELETE", "/service-accounts/{id}/tokens/{token_id}") => {
                let id = self.service_account().await;
                let token = self
                    .owner_post(
                        &format!("/service-accounts/{id}/tokens"),
                        json!({"name": "robot token", "scopes": ["bridges:read"]}),
                    )
                    .await["id"]
                    .as_i64()
                    .expect("token id");
                (format!("/service-accounts/{id}/tokens/{token}"), None)
            }
            (_, path) if path.contains("{slug}") => {
                let slug = self.bridge(&[]).await;
                let body =
                    (method == Method::PATCH).then(|| json!({"name": format!("renamed {n}")}));
                (path.replace("{slug}", &slug), body)
            }
            ("POST", "/webhooks/endpoints") => (
                relative,
                Some(json!({"url": format!("http://127.0.0.1:9/matrix/{n}")})),
            ),
            ("POST", "/webhooks/deliveries/{id}/retry") => {
                let id = self.delivery().await;
                (format!("/webhooks/deliveries/{id}/retry"), None)
            }
            (_, path) if path.starts_with("/webhooks/endpoints/{id}") => {
                let id = self.endpoint().await;
                let body = (method == Method::PATCH)
                    .then(|| json!({"description": format!("renamed {n}")}));
                (path.replace("{id}", &id.to_string()), body)
            }
            _ => (relative, None),
        }
    }
}

async fn every_route_for_every_role(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("org-a");
    app.organization("org-b");
    let mut callers = Vec::new();
    for (handle, role) in [
        ("org-a", Role::Owner),
        ("org-a", Role::Admin),
        ("org-a", Role::Member),
        ("org-a", Role::Viewer),
        ("org-b", Role::Member),
    ] {
        let email = format!("{}-{handle}@matrix.test", role.as_str());
        app.services
            .identity
            .create_user(&email, &secrecy::SecretString::from(PASSWORD))
            .expect("user");
        app.services
            .identity
            .add_member(handle, &email, role)
            .expect("member");
        let token = app
            .services
            .identity
            .issue_token(&email, "matrix", None)
            .expect("token");
        callers.push(Caller {
            email: Some(email),
            token: Some(token.token.expose().to_owned()),
        });
    }
    callers.push(Caller {
        email: None,
        token: None,
    });
    let owner = callers[0].token.clone().expect("owner token");
    let fixture = Fixture {
        app,
        owner,
        callers,
        counter: std::sync::atomic::AtomicU32::new(0),
    };

    let mut failures = Vec::new();
    for (method, template, statuses) in expected() {
        for (caller, expected_status) in statuses.iter().enumerate() {
            let (path, body) = fixture.request(&method, &template, caller).await;
            let token = fixture.callers[caller].token.as_deref();
            let org = needs_org(&method, &template).then_some("org-a");
            let answer: Answer = if template.starts_with(API_BASE) {
                fixture
                    .app
                    .call(method.clone(), &path, token, org, body.as_ref(), &[])
                    .await
            } else {
                let response = fixture
                    .app
                    .client
                    .request(method.clone(), fixture.app.url(&path))
                    .send()
                    .await
                    .expect("sent");
                Answer::from(response).await
            };
            if answer.status != *expected_status {
                failures.push(format!(
                    "{method} {template} as {}: expected {expected_status}, got {} {}",
                    CALLERS[caller], answer.status, answer.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every scoped route, called by the owner with a token lacking only its scope (403
/// `permission_denied`), and with a token holding only its scope (the owner's
/// status).
async fn every_route_needs_its_scope(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("org-a");
    let owner = app.user_in("org-a", Role::Owner);
    let fixture = Fixture {
        app,
        owner: owner.token.clone(),
        callers: vec![Caller {
            email: Some(owner.email.clone()),
            token: Some(owner.token.clone()),
        }],
        counter: std::sync::atomic::AtomicU32::new(0),
    };
    let everything = [
        "configurations:read",
        "configurations:write",
        "bridges:read",
        "bridges:write",
        "credentials:use",
        "credentials:reveal",
        "audit:read",
        "webhooks:manage",
    ];
    let mut failures = Vec::new();
    for (method, template, statuses) in expected() {
        let Some(scope) = expected_scope(&method, &template) else {
            continue;
        };
        let without: Vec<&str> = everything
            .iter()
            .copied()
            .filter(|name| *name != scope)
            .collect();
        // With its scope the owner may reveal, which no unscoped token may.
        let with_scope = if scope == "credentials:reveal" {
            200
        } else {
            statuses[0]
        };
        for (scopes, want) in [(without, 403), (vec![scope], with_scope)] {
            let token = fixture
                .app
                .call(
                    Method::POST,
                    "/auth/tokens/",
                    Some(&owner.token),
                    None,
                    Some(&json!({"name": "scoped", "scopes": scopes})),
                    &[],
                )
                .await;
            assert_eq!(token.status, 201, "{}", token.text);
            let token = token.body["data"]["token"]
                .as_str()
                .expect("token")
                .to_owned();
            let (path, body) = fixture.request(&method, &template, 0).await;
            let answer = fixture
                .app
                .call(
                    method.clone(),
                    &path,
                    Some(&token),
                    Some("org-a"),
                    body.as_ref(),
                    &[],
                )
                .await;
            let code_ok = want != 403 || answer.body["code"] == "permission_denied";
            if answer.status != want || !code_ok {
                failures.push(format!(
                    "{method} {template} with {scopes:?}: expected {want}, got {} {}",
                    answer.status, answer.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

on_both_backends!(every_route_for_every_role, every_route_needs_its_scope);
