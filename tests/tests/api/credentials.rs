//! Credential fields as data (contract sections 10 and 16), end to end on SQLite and
//! PostgreSQL: every provider of the catalog is created with its real field set
//! (flat and inside `credentials`), listed, read, patched one secret at a time (the
//! other secrets stay), and deleted; the catalog route describes the fields; aliases
//! and errors follow section 16.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};
use switchboard_domain::identity::{OrgId, Role};
use switchboard_domain::telephony::ProviderConfigId;
use switchboard_test_support::{Backend, on_both_backends, spawn_app};

const CONFIGS: &str = "/telephony/providers-configurations/";

const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7Vj2sEcr3tqk1\n-----END PRIVATE KEY-----\n";

/// A full, valid field set of each provider (real formats), and a second value for
/// one of its secrets (the PATCH).
fn field_set(slug: &str) -> (Value, &'static str, &'static str) {
    match slug {
        "twilio" => (
            json!({"account_sid": "AC0123456789abcdef0123456789abcd01",
                   "auth_token": "0123456789abcdef0123456789abc001",
                   "api_key_sid": "SK0123456789abcdef0123456789abcd01",
                   "api_key_secret": "Zk3yS3cretZk3yS3cretZk3yS3cret01"}),
            "api_key_secret",
            "Zk3yS3cretZk3yS3cretZk3yS3cret02",
        ),
        "plivo" => (
            json!({"auth_id": "MAZDQ1ZJM0NJDJMZA4ZD",
                   "auth_token": "ZTAzNDA1ZjA0ZmFmYjRmNzU1ZGM3MjFiYjQ4MDAx"}),
            "auth_token",
            "ZTAzNDA1ZjA0ZmFmYjRmNzU1ZGM3MjFiYjQ4MDAy",
        ),
        "vonage" => (
            json!({"api_key": "a1b2c3d4", "api_secret": "Sec0123456789ab1",
                   "application_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
                   "private_key": PEM}),
            "private_key",
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASD\n-----END PRIVATE KEY-----\n",
        ),
        "telnyx" => (
            json!({"account_id": "123e4567-e89b-12d3-a456-426614174000",
                   "api_key": "KEY0123456789ABCDEF_abcdef01",
                   "connection_id": "1494404757140276705"}),
            "api_key",
            "KEY0123456789ABCDEF_abcdef02",
        ),
        "exotel" => (
            json!({"account_sid": "acme-telecom1", "api_key": "k3yk3yk3yk3yk3yk3yk3y1",
                   "api_token": "t0kent0kent0kent0ken01", "subdomain": "api.in.exotel.com"}),
            "api_token",
            "t0kent0kent0kent0ken02",
        ),
        "livekit" => (
            json!({"url": "wss://acme.livekit.cloud", "api_key": "APIabcdef012345",
                   "api_secret": "livekit-secret-value-0001"}),
            "api_secret",
            "livekit-secret-value-0002",
        ),
        "vapi" => (
            json!({"org_id": "org-7f1c2d", "api_key": "vapi-private-key-0001"}),
            "api_key",
            "vapi-private-key-0002",
        ),
        "sip" => (
            json!({"host": "sip.example.com", "port": 5061, "transport": "tls",
                   "username": "trunk-user-1", "password": "trunk-password-0001",
                   "realm": "example.com"}),
            "password",
            "trunk-password-0002",
        ),
        "bandwidth" => (
            json!({"account_id": "9900001", "username": "api-user",
                   "password": "bandwidth-password-01",
                   "application_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeee1"}),
            "password",
            "bandwidth-password-02",
        ),
        other => panic!("no sample field set for provider {other}: add one"),
    }
}

fn last4(secret: &str) -> String {
    if secret.chars().count() < 12 {
        "****".to_owned()
    } else {
        secret[secret.len() - 4..].to_owned()
    }
}

/// The `credentials` view the API must show for a field set.
fn expected_view(fields: &[Value], values: &Map<String, Value>) -> Value {
    let mut view = Map::new();
    for field in fields {
        let name = field["name"].as_str().expect("name");
        let value = values.get(name);
        let shown = if field["secret"] == true {
            match value.and_then(Value::as_str) {
                Some(secret) => json!({"set": true, "last4": last4(secret)}),
                None => json!({"set": false}),
            }
        } else {
            value
                .cloned()
                .or_else(|| field.get("default").cloned())
                .unwrap_or(Value::Null)
        };
        view.insert(name.to_owned(), shown);
    }
    Value::Object(view)
}

async fn every_provider_round_trips_its_real_field_set(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let (token, org) = (Some(owner.token.as_str()), Some("acme"));

    let catalog = app
        .call(Method::GET, "/telephony/providers/", token, None, None, &[])
        .await;
    assert_eq!(catalog.status, 200);
    let providers = catalog.body["data"].as_array().expect("providers").clone();
    let slugs: Vec<&str> = providers
        .iter()
        .filter_map(|p| p["slug"].as_str())
        .collect();
    for slug in [
        "twilio",
        "plivo",
        "vonage",
        "telnyx",
        "exotel",
        "livekit",
        "vapi",
        "sip",
        "bandwidth",
    ] {
        assert!(slugs.contains(&slug), "{slug} is in the catalog");
    }

    for (index, provider) in providers.iter().enumerate() {
        let slug = provider["slug"].as_str().expect("slug");
        let fields = provider["fields"].as_array().expect("fields").clone();
        let identifier = fields
            .iter()
            .find(|f| f["identifier"] == true)
            .and_then(|f| f["name"].as_str())
            .expect("an identifier");
        let primary = fields
            .iter()
            .find(|f| f["primary_secret"] == true)
            .and_then(|f| f["name"].as_str())
            .expect("a primary secret");
        // The older clients' view of the same two fields.
        assert_eq!(
            provider["credentials"]["auth_token"]["secret"], true,
            "{slug}"
        );
        let (values, patched, new_secret) = field_set(slug);
        let values = values.as_object().expect("object").clone();

        // Even providers are created with the fields inside `credentials`, odd ones flat.
        let body = if index % 2 == 0 {
            json!({"provider": slug, "credentials": values})
        } else {
            let mut flat = values.clone();
            flat.insert("provider".into(), json!(slug));
            Value::Object(flat)
        };
        let created = app.create_config(&owner, &body).await;
        assert_eq!(created.status, 201, "{slug}: {}", created.text);
        let data = &created.body["data"];
        let id = data["id"].as_i64().expect("id");
        let view = expected_view(&fields, &values);
        assert_eq!(data["credentials"], view, "{slug}");
        assert_eq!(data["account_sid"], values[identifier], "{slug}");
        assert_eq!(
            data["auth_token_last4"],
            json!(last4(values[primary].as_str().expect("text"))),
            "{slug}"
        );
        for field in &fields {
            if field["secret"] == true
                && let Some(secret) = values.get(field["name"].as_str().expect("name"))
            {
                assert!(
                    !created.text.contains(secret.as_str().expect("text")),
                    "{slug}"
                );
            }
        }

        let path = format!("{CONFIGS}{id}/");
        let read = app.call(Method::GET, &path, token, org, None, &[]).await;
        assert_eq!(read.status, 200);
        assert_eq!(read.body["data"]["credentials"], view, "{slug}");
        let list = app
            .call(
                Method::GET,
                &format!("{CONFIGS}?provider={slug}"),
                token,
                org,
                None,
                &[],
            )
            .await;
        assert_eq!(list.status, 200);
        assert_eq!(list.body["count"], 1, "{slug}");
        assert_eq!(list.body["data"][0]["credentials"], view, "{slug}");

        // One secret at a time: the others stay as they were.
        let before = app
            .services
            .provider_configs
            .reveal_secrets(OrgId(1), ProviderConfigId(id))
            .expect("opens");
        let patch = app
            .call(
                Method::PATCH,
                &path,
                token,
                org,
                Some(&json!({patched: new_secret})),
                &[],
            )
            .await;
        assert_eq!(patch.status, 200, "{slug}: {}", patch.text);
        assert_eq!(
            patch.body["data"]["credentials"][patched],
            json!({"set": true, "last4": last4(new_secret)}),
            "{slug}"
        );
        let after = app
            .services
            .provider_configs
            .reveal_secrets(OrgId(1), ProviderConfigId(id))
            .expect("opens");
        assert_eq!(after.len(), before.len(), "{slug}");
        for (name, secret) in &after {
            let expected = if name == patched {
                new_secret.to_owned()
            } else {
                before[name].expose_secret().to_owned()
            };
            assert_eq!(secret.expose_secret(), expected, "{slug}.{name}");
        }
        if patched != primary {
            assert_eq!(
                patch.body["data"]["auth_token_last4"], data["auth_token_last4"],
                "{slug}"
            );
        }

        let deleted = app.call(Method::DELETE, &path, token, org, None, &[]).await;
        assert_eq!(deleted.status, 204, "{slug}");
        let gone = app.call(Method::GET, &path, token, org, None, &[]).await;
        assert_eq!(gone.status, 404, "{slug}");
    }
    app.stop().await;
}

async fn names_aliases_and_errors_follow_section_16(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let (token, org) = (Some(owner.token.as_str()), Some("acme"));

    // account_sid/auth_token name the identifier and primary secret of every provider.
    let answer = app
        .create_config(
            &owner,
            &json!({"provider": "bandwidth", "account_sid": "9900002", "username": "u",
                    "auth_token": "bandwidth-password-03"}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["data"]["credentials"]["account_id"], "9900002");
    assert_eq!(
        answer.body["data"]["credentials"]["password"]["last4"],
        "d-03"
    );
    // The same account, another case: a duplicate (identifier compared without case).
    let answer = app
        .create_config(
            &owner,
            &json!({"provider": "exotel", "account_sid": "dup-account", "auth_token": "t0kent0kent0kent0ken03"}),
        )
        .await;
    assert_eq!(answer.status, 201);
    let answer = app
        .create_config(
            &owner,
            &json!({"provider": "exotel", "credentials": {"account_sid": "dup-account", "api_token": "t0kent0kent0kent0ken04"}}),
        )
        .await;
    assert_eq!(answer.status, 409, "{}", answer.text);

    // Telnyx has a field named api_key: it is the secret, not the identifier.
    let answer = app
        .create_config(
            &owner,
            &json!({"provider": "telnyx", "account_id": "123e4567-e89b-12d3-a456-426614174001",
                    "api_key": "KEY0123456789ABCDEF_abcdef03"}),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["data"]["auth_token_last4"], "ef03");

    // Errors are keyed by the name the client sent, and never echo a value.
    let sentinel = "SENTINEL-never-echo-0123456789";
    for (body, key) in [
        (
            json!({"provider": "sip", "username": "u", "password": "p", "port": 70000}),
            "port",
        ),
        (
            json!({"provider": "sip", "username": "u", "password": "p", "transport": sentinel}),
            "transport",
        ),
        (
            json!({"provider": "plivo", "auth_id": sentinel, "auth_token": "x"}),
            "auth_id",
        ),
        (
            json!({"provider": "plivo", "account_sid": sentinel, "auth_token": "x"}),
            "account_sid",
        ),
        (
            json!({"provider": "bandwidth", "credentials": {"account_id": "9900003", "password": "bandwidth-password-03"}}),
            "username",
        ),
        (
            json!({"provider": "livekit", "api_key": "APIabcdef012345", "api_secret": "s", "url": "http://insecure.example"}),
            "url",
        ),
        (
            json!({"provider": "sip", "username": "u", "credentials": {"password": "p"}}),
            "credentials",
        ),
        (
            json!({"provider": "vonage", "api_key": "a1b2c3d4", "api_secret": "Sec0123456789ab1", "private_key": sentinel}),
            "private_key",
        ),
    ] {
        let answer = app.create_config(&owner, &body).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.text);
        assert!(
            answer.body["errors"][key].is_array(),
            "{key}: {}",
            answer.text
        );
        assert!(!answer.text.contains(sentinel), "{}", answer.text);
    }

    // A PATCH names only the stored provider's fields.
    let sip = app
        .create_config(
            &owner,
            &json!({"provider": "sip", "username": "trunk-9", "password": "trunk-password-0009"}),
        )
        .await;
    let path = format!("{CONFIGS}{}/", sip.body["data"]["id"]);
    let answer = app
        .call(
            Method::PATCH,
            &path,
            token,
            org,
            Some(&json!({"api_key_sid": "SK0123456789abcdef0123456789abcd01"})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert!(answer.body["errors"]["non_field_errors"].is_array());
    let answer = app
        .call(
            Method::PATCH,
            &path,
            token,
            org,
            Some(&json!({"credentials": {"port": 5080, "realm": "example.org"}})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["data"]["credentials"]["port"], 5080);
    assert_eq!(answer.body["data"]["credentials"]["realm"], "example.org");
    assert_eq!(answer.body["data"]["credentials"]["username"], "trunk-9");
    app.stop().await;
}

on_both_backends!(
    every_provider_round_trips_its_real_field_set,
    names_aliases_and_errors_follow_section_16,
);
