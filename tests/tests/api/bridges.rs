//! End-to-end tests of the bridges and numbers API (contract section 7) on SQLite and
//! PostgreSQL: every route and status, organization isolation, roles, the delete
//! guard on provider configurations, races on one number, and the credential
//! rotation walk-through of the README.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::identity::{OrgId, Role};
use switchboard_domain::telephony::ProviderConfigId;
use switchboard_test_support::{
    Answer, Backend, TestApp, on_both_backends, spawn_app, twilio_sid, twilio_token,
};

const NUMBERS: &str = "/telephony/numbers/";
const BRIDGES: &str = "/telephony/bridges/";
const CONFIGS: &str = "/telephony/providers-configurations/";
const NOT_FOUND: &str = r#"{"status_code":404,"message":"Not found.","code":"not_found"}"#;
const DENIED: &str = r#"{"status_code":403,"message":"You do not have permission to perform this action.","code":"permission_denied"}"#;

/// A caller in one organization.
struct Caller<'a> {
    app: &'a TestApp,
    token: String,
    org: &'static str,
}

impl<'a> Caller<'a> {
    fn new(app: &'a TestApp, org: &'static str, role: Role) -> Self {
        Self {
            app,
            token: app.user_in(org, role).token,
            org,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.app
            .call(
                method,
                path,
                Some(&self.token),
                Some(self.org),
                body.as_ref(),
                &[],
            )
            .await
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// Adds a number and returns its id.
    async fn number(&self, number: &str) -> i64 {
        let answer = self.post(NUMBERS, json!({ "number": number })).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["data"]["id"].as_i64().expect("id")
    }

    /// Creates a bridge and returns its slug.
    async fn bridge(&self, body: Value) -> String {
        let answer = self.post(BRIDGES, body).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["data"]["slug"]
            .as_str()
            .expect("slug")
            .to_owned()
    }

    /// Creates a Twilio configuration made unique by `n` and returns its id.
    async fn config(&self, n: u32) -> i64 {
        let answer = self
            .post(
                CONFIGS,
                json!({"provider": "twilio", "account_sid": twilio_sid(n), "auth_token": twilio_token(n)}),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        answer.body["data"]["id"].as_i64().expect("id")
    }

    /// The bridge slug of `number` in the number list (`None`: not assigned).
    async fn holder(&self, number: &str) -> Option<String> {
        let answer = self.get(&format!("{NUMBERS}?page_size=100")).await;
        assert_eq!(answer.status, 200);
        let item = answer.body["data"]
            .as_array()
            .expect("list")
            .iter()
            .find(|item| item["number"] == number)
            .cloned()
            .expect("listed");
        let assigned = item["state"] == "ASSIGNED";
        assert_eq!(assigned, item["bridge_slug"].is_string(), "{item}");
        item["bridge_slug"].as_str().map(str::to_owned)
    }
}

fn errors_of<'b>(answer: &'b Answer, field: &str) -> &'b Value {
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.body["code"], "validation_error");
    assert_eq!(answer.body["message"], "Invalid request.");
    let messages = &answer.body["errors"][field];
    assert!(messages.is_array(), "{field}: {}", answer.text);
    messages
}

fn numbers_of(answer: &Answer) -> Vec<(String, Value)> {
    answer.body["data"]["numbers"]
        .as_array()
        .expect("numbers")
        .iter()
        .map(|n| {
            (
                n["number"].as_str().expect("number").to_owned(),
                n["provider_config_id"].clone(),
            )
        })
        .collect()
}

async fn numbers(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let acme = Caller::new(&app, "acme", Role::Owner);

    // Add: 201 with the number's wire form.
    let answer = acme.post(NUMBERS, json!({"number": "+14155550100"})).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["status_code"], 201);
    assert_eq!(answer.body["message"], "Number added successfully.");
    let id = answer.body["data"]["id"].as_i64().expect("id");
    assert_eq!(
        answer.body["data"],
        json!({"id": id, "number": "+14155550100", "active": true, "state": "NOT_ASSIGNED",
               "bridge_slug": null, "provider_config_id": null})
    );
    // Already there: 409.
    let answer = acme.post(NUMBERS, json!({"number": "+14155550100"})).await;
    assert_eq!(answer.status, 409);
    assert_eq!(
        answer.text,
        r#"{"status_code":409,"message":"This organization already has this number.","code":"conflict"}"#
    );
    // Strict E.164 only, and values never come back.
    for bad in [
        json!({"number": "14155550100"}),
        json!({"number": "+1 415 555 0100"}),
        json!({"number": "+1-415-555-0100"}),
        json!({"number": "+1234567"}),
        json!({"number": "+1234567890123456"}),
        json!({"number": "+04155550100"}),
        json!({"number": "+1415555SECRET"}),
        json!({"number": 14_155_550_100_i64}),
        json!({"number": null}),
        json!({}),
    ] {
        let answer = acme.post(NUMBERS, bad.clone()).await;
        errors_of(&answer, "number");
        assert!(!answer.text.contains("SECRET"), "{bad}");
    }
    let answer = acme
        .post(NUMBERS, json!({"number": "+14155550101", "colour": "red"}))
        .await;
    // An unknown field is refused without its name (it could be a pasted secret).
    assert_eq!(errors_of(&answer, "non_field_errors")[0], "Unknown field.");
    assert!(!answer.text.contains("colour"), "{}", answer.text);

    // List: newest first, with count; filter by state; paging past the end.
    acme.number("+14155550101").await;
    for path in ["/telephony/numbers", NUMBERS] {
        let answer = acme.get(path).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["message"], "Numbers fetched successfully.");
        assert_eq!(answer.body["count"], 2);
        assert_eq!(answer.body["data"][0]["number"], "+14155550101");
        assert_eq!(answer.body["data"][1]["id"], id);
    }
    let answer = acme
        .get(&format!("{NUMBERS}?state=NOT_ASSIGNED&page=1&page_size=1"))
        .await;
    assert_eq!(answer.body["count"], 2);
    assert_eq!(answer.body["data"].as_array().map(Vec::len), Some(1));
    let answer = acme.get(&format!("{NUMBERS}?state=ASSIGNED")).await;
    assert_eq!(
        (answer.body["count"].clone(), answer.body["data"].clone()),
        (json!(0), json!([]))
    );
    let answer = acme.get(&format!("{NUMBERS}?page=7")).await;
    assert_eq!(
        (answer.body["count"].clone(), answer.body["data"].clone()),
        (json!(2), json!([]))
    );
    for bad in [
        "?state=assigned",
        "?page=0",
        "?page_size=101",
        "?colour=red",
    ] {
        let answer = acme.get(&format!("{NUMBERS}{bad}")).await;
        assert_eq!(answer.status, 400, "{bad}");
    }

    // Delete: 204 and an empty body, then 404; a non-numeric id is 404 too.
    let answer = acme.delete(&format!("{NUMBERS}{id}/")).await;
    assert_eq!(answer.status, 204);
    assert!(answer.text.is_empty());
    let answer = acme.delete(&format!("{NUMBERS}{id}")).await;
    assert_eq!((answer.status, answer.text.as_str()), (404, NOT_FOUND));
    let answer = acme.delete(&format!("{NUMBERS}abc/")).await;
    assert_eq!(answer.status, 404);
    // The number can be added again once deleted.
    acme.number("+14155550100").await;

    // Methods the routes do not serve.
    for (method, path) in [
        (Method::PUT, NUMBERS.to_owned()),
        (Method::DELETE, NUMBERS.to_owned()),
        (Method::GET, format!("{NUMBERS}1/")),
        (Method::PATCH, format!("{NUMBERS}1/")),
    ] {
        let answer = app.call(method.clone(), &path, None, None, None, &[]).await;
        assert_eq!(answer.status, 405, "{method} {path}");
        assert_eq!(
            answer.text,
            r#"{"status_code":405,"message":"Method not allowed.","code":"method_not_allowed"}"#
        );
    }
    // Authentication and Org-Handle come first, as everywhere.
    let answer = app.call(Method::GET, NUMBERS, None, None, None, &[]).await;
    assert_eq!(answer.status, 401);
    let answer = app
        .call(Method::GET, NUMBERS, Some(&acme.token), None, None, &[])
        .await;
    assert_eq!(answer.body["code"], "org_handle_required");
}

async fn bridges(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    app.organization("other");
    let acme = Caller::new(&app, "acme", Role::Admin);
    let other = Caller::new(&app, "other", Role::Owner);
    let first = acme.number("+14155550100").await;
    let second = acme.number("+14155550101").await;
    let third = acme.number("+14155550102").await;
    let theirs = other.number("+14155550199").await;

    // Create: slug from the name, made unique; defaults.
    let answer = acme.post(BRIDGES, json!({"name": "Main Line"})).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["message"], "Bridge created successfully.");
    let data = &answer.body["data"];
    assert_eq!(data["slug"], "main-line");
    assert_eq!(data["name"], "Main Line");
    assert_eq!(data["status"], "ACTIVE");
    assert_eq!(data["region"], Value::Null);
    assert_eq!(data["description"], Value::Null);
    assert_eq!(data["numbers"], json!([]));
    assert!(
        data["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(data["id"].is_i64());
    assert_eq!(
        acme.bridge(json!({"name": "main line!"})).await,
        "main-line-2"
    );
    assert_eq!(
        acme.bridge(json!({"name": "MAIN  LINE"})).await,
        "main-line-3"
    );
    // A given slug that exists is 409; a malformed one is 400.
    let answer = acme
        .post(BRIDGES, json!({"name": "Again", "slug": "main-line"}))
        .await;
    assert_eq!(answer.status, 409);
    assert_eq!(
        answer.text,
        r#"{"status_code":409,"message":"A bridge with this slug already exists in this organization.","code":"conflict"}"#
    );
    for (body, field) in [
        (json!({"name": "x", "slug": "Not A Slug"}), "slug"),
        (json!({"name": "x", "slug": "a--b"}), "slug"),
        (json!({"slug": "ok"}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(101)}), "name"),
        (json!({"name": "a\u{0}b"}), "name"),
        (json!({"name": "x", "region": "MARS"}), "region"),
        (json!({"name": "x", "region": "us"}), "region"),
        (json!({"name": "x", "status": "LIVE"}), "status"),
        (json!({"name": "x", "number_ids": "1"}), "number_ids"),
        (json!({"name": "x", "number_ids": [0]}), "number_ids"),
        (json!({"name": "x", "number_ids": [999_999]}), "number_ids"),
        (json!({"name": "x", "number_ids": [theirs]}), "number_ids"),
        (json!({"name": "x", "description": 3}), "description"),
        (json!({"name": "x", "colour": "red"}), "non_field_errors"),
    ] {
        let answer = acme.post(BRIDGES, body.clone()).await;
        errors_of(&answer, field);
    }

    // Create with everything, numbers included.
    let answer = acme
        .post(
            BRIDGES,
            json!({"name": "Support", "slug": "support", "description": "Tier 1\nand 2",
                   "region": "EU", "number_ids": [second, first, first]}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let data = &answer.body["data"];
    assert_eq!(data["region"], "EU");
    assert_eq!(data["description"], "Tier 1\nand 2");
    assert_eq!(
        data["numbers"],
        json!([
            {"id": first, "number_id": first, "number": "+14155550100", "provider_config_id": null, "status": "NOT_CONNECTED"},
            {"id": second, "number_id": second, "number": "+14155550101", "provider_config_id": null, "status": "NOT_CONNECTED"}
        ])
    );
    assert_eq!(
        acme.holder("+14155550100").await.as_deref(),
        Some("support")
    );
    assert_eq!(acme.holder("+14155550102").await, None);
    // A number already on a bridge cannot go on a new one: nothing is created.
    let answer = acme
        .post(
            BRIDGES,
            json!({"name": "Sales", "number_ids": [third, first]}),
        )
        .await;
    errors_of(&answer, "number_ids");
    assert_eq!(acme.get(&format!("{BRIDGES}sales/")).await.status, 404);
    assert_eq!(acme.holder("+14155550102").await, None);

    // Get, with and without the trailing slash.
    for path in [format!("{BRIDGES}support/"), format!("{BRIDGES}support")] {
        let answer = acme.get(&path).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.body["message"], "Bridge fetched successfully.");
        assert_eq!(answer.body["data"]["slug"], "support");
        assert_eq!(
            answer.body["data"]["numbers"].as_array().map(Vec::len),
            Some(2)
        );
    }
    let answer = acme.get(&format!("{BRIDGES}nope/")).await;
    assert_eq!((answer.status, answer.text.as_str()), (404, NOT_FOUND));

    // List: paginated like configurations, newest first, items without numbers.
    let answer = acme.get(&format!("{BRIDGES}?page=1&page_size=2")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["message"], "Bridges fetched successfully.");
    assert_eq!(answer.body["count"], 4);
    let item = &answer.body["data"][0];
    assert_eq!(item["slug"], "support");
    let mut keys: Vec<&str> = item
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "description",
            "id",
            "name",
            "region",
            "slug",
            "status"
        ]
    );
    let answer = acme.get(&format!("{BRIDGES}?page=3&page_size=2")).await;
    assert_eq!(
        (answer.body["count"].clone(), answer.body["data"].clone()),
        (json!(4), json!([]))
    );
    for bad in ["?page=0", "?page_size=500", "?sort=name"] {
        assert_eq!(
            acme.get(&format!("{BRIDGES}{bad}")).await.status,
            400,
            "{bad}"
        );
    }

    // Update fields.
    let path = format!("{BRIDGES}support/");
    let answer = acme
        .patch(
            &path,
            json!({"name": "Support desk", "description": null, "status": "DRAFT", "region": "UAE"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["message"], "Bridge updated successfully.");
    let data = &answer.body["data"];
    assert_eq!(
        (
            &data["name"],
            &data["description"],
            &data["status"],
            &data["region"],
            &data["slug"]
        ),
        (
            &json!("Support desk"),
            &Value::Null,
            &json!("DRAFT"),
            &json!("UAE"),
            &json!("support")
        )
    );
    for (body, field) in [
        (json!({}), "non_field_errors"),
        (json!({"slug": "renamed"}), "slug"),
        (json!({"status": "active"}), "status"),
        (json!({"name": null}), "name"),
        (json!({"number_ids": [theirs]}), "number_ids"),
        (json!({"number_ids": [first, 999_999]}), "number_ids"),
    ] {
        let answer = acme.patch(&path, body.clone()).await;
        errors_of(&answer, field);
    }
    let answer = acme
        .patch(&format!("{BRIDGES}nope/"), json!({"name": "x"}))
        .await;
    assert_eq!(answer.status, 404);

    // number_ids replaces the set; a refused replacement changes nothing at all.
    let answer = acme
        .patch(&path, json!({"number_ids": [third, second]}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        numbers_of(&answer),
        [
            ("+14155550101".to_owned(), Value::Null),
            ("+14155550102".to_owned(), Value::Null)
        ]
    );
    assert_eq!(acme.holder("+14155550100").await, None);
    let main = format!("{BRIDGES}main-line/");
    let answer = acme.patch(&main, json!({"number_ids": [first]})).await;
    assert_eq!(answer.status, 200);
    let answer = acme
        .patch(
            &path,
            json!({"name": "Never", "number_ids": [first, second]}),
        )
        .await;
    assert_eq!(
        errors_of(&answer, "number_ids")[0],
        "holds a number that is on another bridge; remove it from that bridge first"
    );
    let answer = acme.get(&path).await;
    assert_eq!(answer.body["data"]["name"], "Support desk");
    assert_eq!(numbers_of(&answer).len(), 2);
    assert_eq!(
        acme.holder("+14155550100").await.as_deref(),
        Some("main-line")
    );

    // A number on a bridge cannot be deleted.
    let answer = acme.delete(&format!("{NUMBERS}{second}/")).await;
    assert_eq!(answer.status, 409);
    assert_eq!(
        answer.text,
        r#"{"status_code":409,"message":"This number is on a bridge; remove it from the bridge first.","code":"conflict"}"#
    );

    // Delete the bridge: 204, its numbers go back to NOT_ASSIGNED.
    let answer = acme.delete(&path).await;
    assert_eq!(answer.status, 204);
    assert!(answer.text.is_empty());
    assert_eq!(acme.holder("+14155550101").await, None);
    assert_eq!(acme.holder("+14155550102").await, None);
    assert_eq!(acme.get(&path).await.status, 404);
    assert_eq!(acme.delete(&path).await.status, 404);
    assert_eq!(
        acme.delete(&format!("{NUMBERS}{second}/")).await.status,
        204
    );
    // The slug is free again.
    assert_eq!(acme.bridge(json!({"name": "Support"})).await, "support");

    // Methods the routes do not serve.
    for (method, path) in [
        (Method::PUT, BRIDGES.to_owned()),
        (Method::PUT, format!("{BRIDGES}support/")),
        (Method::POST, format!("{BRIDGES}support/")),
        (Method::GET, format!("{BRIDGES}support/connect-provider/")),
        (
            Method::DELETE,
            format!("{BRIDGES}support/disconnect-provider/"),
        ),
    ] {
        let answer = app.call(method.clone(), &path, None, None, None, &[]).await;
        assert_eq!(answer.status, 405, "{method} {path}");
    }
    let answer = app
        .call(
            Method::GET,
            &format!("{BRIDGES}support/numbers/"),
            None,
            None,
            None,
            &[],
        )
        .await;
    assert_eq!((answer.status, answer.text.as_str()), (404, NOT_FOUND));

    // Content type and size come before the body's shape.
    let answer = app
        .client
        .post(app.api(BRIDGES))
        .header("Authorization", format!("Token {}", acme.token))
        .header("Org-Handle", "acme")
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.status(), 415);
    let big = json!({"name": "x", "description": "d".repeat(20 * 1024)});
    assert_eq!(acme.post(BRIDGES, big).await.status, 413);
    let answer = app
        .client
        .post(app.api(BRIDGES))
        .header("Authorization", format!("Token {}", acme.token))
        .header("Org-Handle", "acme")
        .header("Content-Type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .expect("sent");
    let answer = Answer::from(answer).await;
    errors_of(&answer, "non_field_errors");
}

async fn connections_and_the_delete_guard(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    app.organization("other");
    let acme = Caller::new(&app, "acme", Role::Member);
    let other = Caller::new(&app, "other", Role::Owner);
    let on_bridge = acme.number("+14155550100").await;
    let second = acme.number("+14155550101").await;
    acme.number("+14155550102").await;
    let config = acme.config(1).await;
    let inactive = acme.config(2).await;
    let theirs = other.config(3).await;
    let answer = acme
        .patch(&format!("{CONFIGS}{inactive}/"), json!({"active": false}))
        .await;
    assert_eq!(answer.status, 200);
    acme.bridge(json!({"name": "Main", "number_ids": [on_bridge, second]}))
        .await;
    acme.bridge(json!({"name": "Backup"})).await;
    let connect = format!("{BRIDGES}main/connect-provider/");
    let disconnect = format!("{BRIDGES}main/disconnect-provider/");

    // Connect: 200 with the bridge; the number shows its configuration.
    let answer = acme
        .post(
            &connect,
            json!({"provider_config_id": config, "phone_number": "+14155550100"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["status_code"], 200);
    assert_eq!(
        answer.body["message"],
        "Provider connected to bridge successfully."
    );
    assert_eq!(answer.body["data"]["slug"], "main");
    assert_eq!(
        answer.body["data"]["numbers"][0],
        json!({"id": on_bridge, "number_id": on_bridge, "number": "+14155550100", "provider_config_id": config, "status": "CONNECTED"})
    );
    // The id may come as a string of digits; the same number on a second bridge
    // number works too.
    let answer = acme
        .post(
            &connect,
            json!({"provider_config_id": config.to_string(), "phone_number": "+14155550101"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);

    // Refusals: the bridge is 404; the body's references are 400.
    let answer = acme
        .post(
            &format!("{BRIDGES}nope/connect-provider/"),
            json!({"provider_config_id": config, "phone_number": "+14155550100"}),
        )
        .await;
    assert_eq!((answer.status, answer.text.as_str()), (404, NOT_FOUND));
    for (body, field) in [
        (
            json!({"provider_config_id": theirs, "phone_number": "+14155550100"}),
            "provider_config_id",
        ),
        (
            json!({"provider_config_id": 999_999, "phone_number": "+14155550100"}),
            "provider_config_id",
        ),
        (
            json!({"provider_config_id": inactive, "phone_number": "+14155550100"}),
            "provider_config_id",
        ),
        (
            json!({"provider_config_id": config, "phone_number": "+14155550102"}),
            "phone_number",
        ),
        (
            json!({"provider_config_id": config, "phone_number": "+19999999999"}),
            "phone_number",
        ),
        (
            json!({"provider_config_id": config, "phone_number": "4155550100"}),
            "phone_number",
        ),
        (json!({"provider_config_id": config}), "phone_number"),
        (
            json!({"phone_number": "+14155550100"}),
            "provider_config_id",
        ),
        (
            json!({"provider_config_id": "x1", "phone_number": "+14155550100"}),
            "provider_config_id",
        ),
        (
            json!({"provider_config_id": config, "phone_number": "+14155550100", "extra": 1}),
            "non_field_errors",
        ),
    ] {
        let answer = acme.post(&connect, body.clone()).await;
        errors_of(&answer, field);
    }
    let answer = acme
        .post(
            &format!("{BRIDGES}backup/connect-provider/"),
            json!({"provider_config_id": config, "phone_number": "+14155550100"}),
        )
        .await;
    errors_of(&answer, "phone_number");

    // The delete guard: 409 listing what to disconnect, then disconnect, then 204.
    let config_path = format!("{CONFIGS}{config}/");
    let answer = acme.delete(&config_path).await;
    assert_eq!(answer.status, 409, "{}", answer.text);
    assert_eq!(
        answer.text,
        r#"{"status_code":409,"message":"This provider configuration is connected to bridge numbers; disconnect them first.","code":"conflict","data":{"connections":[{"bridge_slug":"main","number":"+14155550100"},{"bridge_slug":"main","number":"+14155550101"}]}}"#
    );
    assert_eq!(acme.get(&config_path).await.status, 200, "still there");

    let answer = acme
        .post(&disconnect, json!({"phone_number": "+14155550100"}))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.body["message"],
        "Provider disconnected from bridge successfully."
    );
    assert_eq!(
        numbers_of(&answer),
        [
            ("+14155550100".to_owned(), Value::Null),
            ("+14155550101".to_owned(), json!(config))
        ]
    );
    assert_eq!(answer.body["data"]["numbers"][0]["status"], "NOT_CONNECTED");
    // Nothing connected any more: 400.
    let answer = acme
        .post(&disconnect, json!({"phone_number": "+14155550100"}))
        .await;
    errors_of(&answer, "phone_number");
    for (body, field) in [
        (json!({}), "phone_number"),
        (json!({"phone_number": "+14155550102"}), "phone_number"),
        (json!({"phone_number": "+1 415"}), "phone_number"),
        (
            json!({"phone_number": "+14155550101", "provider_config_id": config}),
            "provider_config_id",
        ),
    ] {
        let answer = acme.post(&disconnect, body.clone()).await;
        errors_of(&answer, field);
    }
    let answer = acme
        .post(
            &format!("{BRIDGES}nope/disconnect-provider/"),
            json!({"phone_number": "+14155550101"}),
        )
        .await;
    assert_eq!(answer.status, 404);

    // Still one connection left (on the second number): still 409, listing it.
    let answer = acme.delete(&config_path).await;
    assert_eq!(answer.status, 409);
    assert_eq!(
        answer.body["data"]["connections"],
        json!([{"bridge_slug": "main", "number": "+14155550101"}])
    );
    // Taking the number off the bridge removes its connection too.
    let answer = acme
        .patch(
            &format!("{BRIDGES}main/"),
            json!({"number_ids": [on_bridge]}),
        )
        .await;
    assert_eq!(answer.status, 200);
    let answer = acme.delete(&config_path).await;
    assert_eq!(answer.status, 204, "{}", answer.text);
    assert_eq!(acme.get(&config_path).await.status, 404);

    // A bridge delete removes connections with the bridge.
    let answer = acme
        .post(
            &connect,
            json!({"provider_config_id": inactive, "phone_number": "+14155550100"}),
        )
        .await;
    errors_of(&answer, "provider_config_id");
    acme.patch(&format!("{CONFIGS}{inactive}/"), json!({"active": true}))
        .await;
    let answer = acme
        .post(
            &connect,
            json!({"provider_config_id": inactive, "phone_number": "+14155550100"}),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        acme.delete(&format!("{CONFIGS}{inactive}/")).await.status,
        409
    );
    assert_eq!(acme.delete(&format!("{BRIDGES}main/")).await.status, 204);
    assert_eq!(
        acme.delete(&format!("{CONFIGS}{inactive}/")).await.status,
        204
    );
}

/// The README's walk-through: a bridge with a number, a configuration connected to
/// it, the configuration's token rotated; the bridge still points to it.
async fn rotation_keeps_the_bridge_pointing_to_the_configuration(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let acme = Caller::new(&app, "acme", Role::Owner);
    let number = acme.number("+14155550100").await;
    let slug = acme
        .bridge(json!({"name": "Front desk", "region": "US", "number_ids": [number]}))
        .await;
    assert_eq!(slug, "front-desk");
    let config = acme.config(1).await;
    let answer = acme
        .post(
            &format!("{BRIDGES}{slug}/connect-provider/"),
            json!({"provider_config_id": config, "phone_number": "+14155550100"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);

    let rotated = twilio_token(42);
    let answer = acme
        .patch(
            &format!("{CONFIGS}{config}/"),
            json!({"auth_token": rotated}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.body["data"]["auth_token_last4"],
        rotated[rotated.len() - 4..]
    );

    let answer = acme.get(&format!("{BRIDGES}{slug}/")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        numbers_of(&answer),
        [("+14155550100".to_owned(), json!(config))]
    );
    assert!(!answer.text.contains(&rotated));
    let revealed = app
        .services
        .provider_configs
        .reveal_credential(OrgId(1), ProviderConfigId(config))
        .expect("credential opens");
    assert_eq!(secrecy::ExposeSecret::expose_secret(&revealed), rotated);
}

async fn organization_isolation(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("org-a");
    app.organization("org-b");
    let a = Caller::new(&app, "org-a", Role::Owner);
    let b = Caller::new(&app, "org-b", Role::Owner);
    // The same number and slug may exist in both organizations.
    let a_number = a.number("+14155550100").await;
    let b_number = b.number("+14155550100").await;
    let b_other = b.number("+14155550101").await;
    let b_config = b.config(1).await;
    let a_config = a.config(1).await;
    assert_eq!(a.bridge(json!({"name": "Main"})).await, "main");
    assert_eq!(
        b.bridge(json!({"name": "Main", "number_ids": [b_number]}))
            .await,
        "main"
    );
    b.bridge(json!({"name": "Private", "number_ids": [b_other]}))
        .await;
    let answer = b
        .post(
            &format!("{BRIDGES}main/connect-provider/"),
            json!({"provider_config_id": b_config, "phone_number": "+14155550100"}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);

    // B's slug, id or number: 404 in a path, 400 in a body field; never a change.
    for (method, path, body) in [
        (Method::GET, format!("{BRIDGES}private/"), None),
        (
            Method::PATCH,
            format!("{BRIDGES}private/"),
            Some(json!({"name": "stolen"})),
        ),
        (Method::DELETE, format!("{BRIDGES}private/"), None),
        (
            Method::POST,
            format!("{BRIDGES}private/connect-provider/"),
            Some(json!({"provider_config_id": a_config, "phone_number": "+14155550101"})),
        ),
        (
            Method::POST,
            format!("{BRIDGES}private/disconnect-provider/"),
            Some(json!({"phone_number": "+14155550101"})),
        ),
        (Method::DELETE, format!("{NUMBERS}{b_other}/"), None),
    ] {
        let answer = a.call(method.clone(), &path, body).await;
        assert_eq!(
            (answer.status, answer.text.as_str()),
            (404, NOT_FOUND),
            "{method} {path}"
        );
    }
    let answer = a
        .patch(
            &format!("{BRIDGES}main/"),
            json!({"number_ids": [a_number, b_other]}),
        )
        .await;
    errors_of(&answer, "number_ids");
    let answer = a
        .post(BRIDGES, json!({"name": "Grab", "number_ids": [b_other]}))
        .await;
    errors_of(&answer, "number_ids");
    a.patch(
        &format!("{BRIDGES}main/"),
        json!({"number_ids": [a_number]}),
    )
    .await;
    let answer = a
        .post(
            &format!("{BRIDGES}main/connect-provider/"),
            json!({"provider_config_id": b_config, "phone_number": "+14155550100"}),
        )
        .await;
    errors_of(&answer, "provider_config_id");
    // A's delete of its own configuration does not see B's connections, and B's
    // configuration is out of A's reach.
    assert_eq!(a.delete(&format!("{CONFIGS}{b_config}/")).await.status, 404);
    assert_eq!(a.delete(&format!("{CONFIGS}{a_config}/")).await.status, 204);
    // A's token with B's handle is refused outright.
    let answer = app
        .call(
            Method::GET,
            BRIDGES,
            Some(&a.token),
            Some("org-b"),
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 403);

    // Lists show only one's own.
    assert_eq!(a.get(BRIDGES).await.body["count"], 1);
    assert_eq!(a.get(NUMBERS).await.body["count"], 1);
    // B is untouched.
    let answer = b.get(&format!("{BRIDGES}private/")).await;
    assert_eq!(answer.body["data"]["name"], "Private");
    assert_eq!(
        numbers_of(&answer),
        [("+14155550101".to_owned(), Value::Null)]
    );
    let answer = b.get(&format!("{BRIDGES}main/")).await;
    assert_eq!(
        numbers_of(&answer),
        [("+14155550100".to_owned(), json!(b_config))]
    );
    assert_eq!(b.get(BRIDGES).await.body["count"], 2);
    assert_eq!(b.get(NUMBERS).await.body["count"], 2);
}

async fn roles(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = Caller::new(&app, "acme", Role::Owner);
    let viewer = Caller::new(&app, "acme", Role::Viewer);
    let number = owner.number("+14155550100").await;
    let config = owner.config(1).await;
    owner
        .bridge(json!({"name": "Main", "number_ids": [number]}))
        .await;

    // Viewers read.
    assert_eq!(viewer.get(NUMBERS).await.status, 200);
    assert_eq!(viewer.get(BRIDGES).await.status, 200);
    assert_eq!(viewer.get(&format!("{BRIDGES}main/")).await.status, 200);
    // Viewers do not write.
    for (method, path, body) in [
        (
            Method::POST,
            NUMBERS.to_owned(),
            Some(json!({"number": "+14155550101"})),
        ),
        (Method::DELETE, format!("{NUMBERS}{number}/"), None),
        (
            Method::POST,
            BRIDGES.to_owned(),
            Some(json!({"name": "Mine"})),
        ),
        (
            Method::PATCH,
            format!("{BRIDGES}main/"),
            Some(json!({"name": "Mine"})),
        ),
        (Method::DELETE, format!("{BRIDGES}main/"), None),
        (
            Method::POST,
            format!("{BRIDGES}main/connect-provider/"),
            Some(json!({"provider_config_id": config, "phone_number": "+14155550100"})),
        ),
        (
            Method::POST,
            format!("{BRIDGES}main/disconnect-provider/"),
            Some(json!({"phone_number": "+14155550100"})),
        ),
        // The role comes before existence.
        (Method::DELETE, format!("{BRIDGES}nope/"), None),
        (Method::DELETE, format!("{NUMBERS}424242/"), None),
        (
            Method::PATCH,
            format!("{BRIDGES}nope/"),
            Some(json!({"name": "x"})),
        ),
    ] {
        let answer = viewer.call(method.clone(), &path, body).await;
        assert_eq!(
            (answer.status, answer.text.as_str()),
            (403, DENIED),
            "{method} {path}"
        );
    }
    // Shapes come before the role.
    let answer = viewer.post(BRIDGES, json!({"colour": 1})).await;
    assert_eq!(answer.status, 400);
    let answer = viewer.post(NUMBERS, json!({"number": "nope"})).await;
    assert_eq!(answer.status, 400);
    // Nothing changed.
    let answer = owner.get(&format!("{BRIDGES}main/")).await;
    assert_eq!(answer.body["data"]["name"], "Main");
    assert_eq!(owner.get(BRIDGES).await.body["count"], 1);
}

async fn races_on_one_number(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let acme = Caller::new(&app, "acme", Role::Owner);
    for round in 0..6 {
        let number = format!("+1415555{round:04}");
        let id = acme.number(&number).await;
        let (left, right) = (format!("left-{round}"), format!("right-{round}"));
        acme.bridge(json!({"name": left.clone()})).await;
        let race_create = round % 2 == 1;
        if !race_create {
            acme.bridge(json!({"name": right.clone()})).await;
        }
        // Two requests put the same number on two bridges at once.
        let left_path = format!("{BRIDGES}{left}/");
        let put_left = acme.patch(&left_path, json!({"number_ids": [id]}));
        let put_right = async {
            if race_create {
                acme.post(BRIDGES, json!({"name": right.clone(), "number_ids": [id]}))
                    .await
            } else {
                acme.patch(&format!("{BRIDGES}{right}/"), json!({"number_ids": [id]}))
                    .await
            }
        };
        let (left_answer, right_answer) = tokio::join!(put_left, put_right);
        let statuses = [left_answer.status, right_answer.status];
        let won = statuses.iter().filter(|s| **s == 200 || **s == 201).count();
        let refused = statuses.iter().filter(|s| **s == 400).count();
        assert_eq!((won, refused), (1, 1), "round {round}: {statuses:?}");
        let loser = if left_answer.status == 400 {
            &left_answer
        } else {
            &right_answer
        };
        errors_of(loser, "number_ids");

        // The number ends on exactly one bridge.
        let holder = acme.holder(&number).await.expect("assigned");
        let on_left = numbers_of(&acme.get(&format!("{BRIDGES}{left}/")).await).len();
        let right_bridge = acme.get(&format!("{BRIDGES}{right}/")).await;
        let on_right = if right_bridge.status == 200 {
            numbers_of(&right_bridge).len()
        } else {
            assert!(race_create && right_answer.status == 400, "round {round}");
            0
        };
        assert_eq!(on_left + on_right, 1, "round {round}");
        assert_eq!(
            holder,
            if on_left == 1 { left } else { right },
            "round {round}"
        );
    }

    // Concurrent creates of one name get distinct generated slugs.
    let creates = (0..5).map(|_| acme.post(BRIDGES, json!({"name": "Rush"})));
    let answers = futures_util::future::join_all(creates).await;
    let mut slugs: Vec<String> = answers
        .iter()
        .map(|answer| {
            assert_eq!(answer.status, 201, "{}", answer.text);
            answer.body["data"]["slug"]
                .as_str()
                .expect("slug")
                .to_owned()
        })
        .collect();
    slugs.sort();
    assert_eq!(slugs, ["rush", "rush-2", "rush-3", "rush-4", "rush-5"]);
}

on_both_backends!(
    numbers,
    bridges,
    connections_and_the_delete_guard,
    rotation_keeps_the_bridge_pointing_to_the_configuration,
    organization_isolation,
    roles,
    races_on_one_number,
);
