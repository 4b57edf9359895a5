//! End-to-end tests of the provider configuration API (contract sections 1-6) on
//! SQLite and PostgreSQL: the real server on a free port, driven over HTTP.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::identity::{OrgId, Role};
use switchboard_domain::telephony::ProviderConfigId;
use switchboard_test_support::{Backend, on_both_backends, spawn_app, twilio_sid, twilio_token};

const CONFIGS: &str = "/telephony/providers-configurations/";

fn twilio_body(n: u32) -> Value {
    json!({"provider": "twilio", "account_sid": twilio_sid(n), "auth_token": twilio_token(n)})
}

async fn headers_and_authentication(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    app.organization("other");
    let owner = app.user_in("acme", Role::Owner);

    // No Authorization header.
    let answer = app
        .call(Method::GET, "/organizations/", None, None, None, &[])
        .await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.header("www-authenticate"), Some("Token"));
    assert_eq!(
        answer.text,
        r#"{"status_code":401,"message":"Authentication credentials were not provided.","code":"not_authenticated"}"#
    );

    // Another scheme, a malformed token, a well-formed unknown token: one body.
    let invalid = r#"{"status_code":401,"message":"Invalid token.","code":"invalid_token"}"#;
    let unknown = switchboard_crypto::RandomTokenGenerator;
    let unknown = switchboard_domain::identity::TokenGenerator::generate(&unknown);
    for header in [
        format!("Bearer {}", owner.token),
        "Token not-a-token".to_owned(),
        format!("Token {}", unknown.expose()),
        // The last character changed (to one it is not), so the checksum fails.
        format!(
            "Token {}{}",
            &owner.token[..owner.token.len() - 1],
            if owner.token.ends_with('x') { 'y' } else { 'x' }
        ),
    ] {
        let answer = app
            .client
            .get(app.api("/organizations/"))
            .header("Authorization", header)
            .send()
            .await
            .expect("sent");
        let answer = switchboard_test_support::Answer::from(answer).await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.header("www-authenticate"), Some("Token"));
        assert_eq!(answer.text, invalid);
    }

    // The keyword is case-insensitive.
    let answer = app
        .client
        .get(app.api("/organizations"))
        .header("Authorization", format!("token {}", owner.token))
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.status(), 200);

    // Organizations: only the caller's, with the role.
    let answer = app
        .call(
            Method::GET,
            "/organizations/",
            Some(&owner.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body["message"],
        "Organizations fetched successfully."
    );
    assert_eq!(answer.body["count"], 1);
    assert_eq!(answer.body["data"][0]["domain_handle"], "acme");
    assert_eq!(answer.body["data"][0]["role"], "owner");
    assert!(
        answer.body["data"][0]["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    // Org-Handle: missing (after authentication), unknown, not a member: 400, 403, 403.
    let answer = app
        .call(Method::GET, CONFIGS, Some(&owner.token), None, None, &[])
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.text,
        r#"{"status_code":400,"message":"Org-Handle header is required.","code":"org_handle_required"}"#
    );
    let answer = app
        .call(Method::GET, CONFIGS, Some("bad"), None, None, &[])
        .await;
    assert_eq!(answer.status, 401, "authentication comes before Org-Handle");
    let forbidden = r#"{"status_code":403,"message":"You do not have access to this organization.","code":"forbidden_organization"}"#;
    for handle in ["nope-not-here", "other", "NOT A HANDLE"] {
        let answer = app
            .call(
                Method::GET,
                CONFIGS,
                Some(&owner.token),
                Some(handle),
                None,
                &[],
            )
            .await;
        assert_eq!(answer.status, 403, "{handle}");
        assert_eq!(answer.text, forbidden);
    }

    // Revoked tokens fail on their next request.
    let revoked = app.user_in("acme", Role::Member);
    let tokens = app
        .services
        .identity
        .list_tokens(&revoked.email)
        .expect("tokens");
    let answer = app.list_configs(&revoked, "").await;
    assert_eq!(answer.status, 200);
    app.services
        .identity
        .revoke_token(tokens[0].id)
        .expect("revoked");
    let answer = app.list_configs(&revoked, "").await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.text, invalid);

    // The catalog needs a token only.
    let answer = app
        .call(
            Method::GET,
            "/telephony/providers",
            Some(&owner.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body["message"],
        "Telephony providers fetched successfully."
    );
    let slugs: Vec<&str> = answer.body["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|p| p["slug"].as_str())
        .collect();
    for slug in [
        "twilio", "plivo", "vonage", "telnyx", "exotel", "livekit", "vapi", "sip",
    ] {
        assert!(slugs.contains(&slug), "{slug}");
    }
    let twilio = &answer.body["data"][0];
    assert_eq!(
        twilio["credentials"]["account_sid"]["pattern"],
        "^AC[0-9a-fA-F]{32}$"
    );
    assert_eq!(twilio["credentials"]["auth_token"]["secret"], true);
    let answer = app
        .call(Method::GET, "/telephony/providers", None, None, None, &[])
        .await;
    assert_eq!(answer.status, 401);

    // Unknown routes are 404 and known routes with another method 405, before
    // authentication; both in the envelope.
    let answer = app
        .call(Method::GET, "/nothing-here/", None, None, None, &[])
        .await;
    assert_eq!(
        answer.text,
        r#"{"status_code":404,"message":"Not found.","code":"not_found"}"#
    );
    let answer = app.call(Method::PUT, CONFIGS, None, None, None, &[]).await;
    assert_eq!(
        answer.text,
        r#"{"status_code":405,"message":"Method not allowed.","code":"method_not_allowed"}"#
    );

    // Request ids: echoed when safe, generated otherwise.
    let answer = app
        .client
        .get(app.url("/health/live"))
        .header("X-Request-Id", "trace-42")
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.headers()["x-request-id"], "trace-42");
    let answer = app
        .client
        .get(app.url("/health/live/"))
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-request-id"].len(), 36);
    assert_eq!(answer.text().await.expect("body"), r#"{"status":"ok"}"#);
    let ready = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .expect("sent");
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.expect("json");
    for (field, value) in [
        ("status", "ok"),
        ("database", "ok"),
        ("migrations", "current"),
        ("database_writes", "ok"),
        ("keys", "ok"),
    ] {
        assert_eq!(ready[field], value, "{ready}");
    }
}

async fn configuration_lifecycle(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let token = Some(owner.token.as_str());
    let org = Some("acme");

    // Create, with defaults.
    let answer = app.create_config(&owner, &twilio_body(1)).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["status_code"], 201);
    assert_eq!(
        answer.body["message"],
        "Provider configuration created successfully."
    );
    let data = &answer.body["data"];
    let id = data["id"].as_i64().expect("id");
    assert_eq!(data["provider"], "twilio");
    assert_eq!(data["provider_details"]["slug"], "twilio");
    assert_eq!(data["provider_details"]["name"], "Twilio");
    assert_eq!(data["account_sid"], twilio_sid(1));
    let sid = twilio_sid(1);
    assert_eq!(data["name"], format!("Twilio {}", &sid[sid.len() - 4..]));
    let first_token = twilio_token(1);
    assert_eq!(
        data["auth_token_last4"],
        first_token[first_token.len() - 4..]
    );
    assert_eq!(data["active"], true);
    assert_eq!(data["base_url"], Value::Null);
    assert_eq!(data["sip_url"], Value::Null);
    assert_eq!(data["meta_json"], json!({}));
    assert_eq!(data["org_handle"], "acme");
    assert!(data.get("auth_token").is_none());
    assert!(!answer.text.contains(&first_token));
    assert!(
        answer
            .header("etag")
            .is_some_and(|tag| tag.starts_with('"'))
    );
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let created_tag = answer.header("etag").map(str::to_owned);

    // Both spellings, with and without the trailing slash.
    for path in [
        format!("/telephony/providers-configurations/{id}/"),
        format!("/telephony/providers-configurations/{id}"),
        format!("/telephony/provider-configurations/{id}/"),
        format!("/telephony/provider-configurations/{id}"),
    ] {
        let answer = app.call(Method::GET, &path, token, org, None, &[]).await;
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(
            answer.body["message"],
            "Provider configuration fetched successfully."
        );
        assert_eq!(answer.body["data"]["id"], id);
    }
    let answer = app
        .call(
            Method::GET,
            "/telephony/provider-configurations",
            token,
            org,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.body["count"], 1);

    // Rotate the credential.
    let path = format!("{CONFIGS}{id}/");
    let rotated = twilio_token(99);
    let answer = app
        .call(Method::PATCH, &path, token, org, Some(&json!({"auth_token": rotated, "name": "Main line", "meta_json": {"team": "voice"}, "base_url": "https://api.twilio.com"})), &[])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.body["message"],
        "Provider configuration updated successfully."
    );
    assert_eq!(
        answer.body["data"]["auth_token_last4"],
        rotated[rotated.len() - 4..]
    );
    assert_eq!(answer.body["data"]["name"], "Main line");
    assert_eq!(answer.body["data"]["meta_json"]["team"], "voice");
    assert_eq!(answer.body["data"]["base_url"], "https://api.twilio.com");
    assert_eq!(answer.body["data"]["account_sid"], twilio_sid(1));
    assert_ne!(answer.header("etag").map(str::to_owned), created_tag);
    let revealed = app
        .services
        .provider_configs
        .reveal_credential(OrgId(1), ProviderConfigId(id))
        .expect("credential opens");
    assert_eq!(secrecy::ExposeSecret::expose_secret(&revealed), rotated);

    // Deactivate and clear the URL with null; the api_secret alias rotates too.
    let alias = twilio_token(100);
    let answer = app
        .call(
            Method::PATCH,
            &path,
            token,
            org,
            Some(&json!({"active": false, "base_url": null, "api_secret": alias})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.body["data"]["active"], false);
    assert_eq!(answer.body["data"]["base_url"], Value::Null);
    assert_eq!(
        answer.body["data"]["auth_token_last4"],
        alias[alias.len() - 4..]
    );

    // Empty PATCH, provider change, and a token breaking the stored provider's rules.
    let answer = app
        .call(Method::PATCH, &path, token, org, Some(&json!({})), &[])
        .await;
    assert_eq!(answer.status, 400);
    assert!(answer.body["errors"]["non_field_errors"].is_array());
    let answer = app
        .call(
            Method::PATCH,
            &path,
            token,
            org,
            Some(&json!({"provider": "sip"})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 400);
    assert!(answer.body["errors"]["provider"].is_array());
    let answer = app
        .call(
            Method::PATCH,
            &path,
            token,
            org,
            Some(&json!({"provider": "twilio", "name": "Same provider"})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 200, "naming the same provider is allowed");
    let answer = app
        .call(
            Method::PATCH,
            &path,
            token,
            org,
            Some(&json!({"auth_token": "not-hex-at-all-SECRET"})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.body["errors"]["auth_token"][0],
        "must look like 32 hexadecimal characters"
    );
    assert!(!answer.text.contains("SECRET"));
    let answer = app
        .call(
            Method::PATCH,
            &format!("{CONFIGS}999999/"),
            token,
            org,
            Some(&json!({"name": "x"})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 404);
    let answer = app
        .call(
            Method::PATCH,
            &format!("{CONFIGS}abc/"),
            token,
            org,
            Some(&json!({"name": "x"})),
            &[],
        )
        .await;
    assert_eq!(answer.status, 404);

    // Delete: 204 with no body, then 404.
    let answer = app.call(Method::DELETE, &path, token, org, None, &[]).await;
    assert_eq!(answer.status, 204);
    assert!(answer.text.is_empty());
    let answer = app.call(Method::GET, &path, token, org, None, &[]).await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.text,
        r#"{"status_code":404,"message":"Not found.","code":"not_found"}"#
    );
    let answer = app.call(Method::DELETE, &path, token, org, None, &[]).await;
    assert_eq!(answer.status, 404);
}

async fn bad_input(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let token = Some(owner.token.as_str());

    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"provider": "twilio", "account_sid": twilio_sid(1)}),
            "auth_token",
        ),
        (
            json!({"account_sid": twilio_sid(1), "auth_token": twilio_token(1)}),
            "provider",
        ),
        (
            json!({"provider": "nope", "account_sid": twilio_sid(1), "auth_token": twilio_token(1)}),
            "provider",
        ),
        (
            json!({"provider": 9999, "account_sid": twilio_sid(1), "auth_token": twilio_token(1)}),
            "provider",
        ),
        (
            json!({"provider": true, "account_sid": twilio_sid(1), "auth_token": twilio_token(1)}),
            "provider",
        ),
        (
            json!({"provider": "twilio", "account_sid": "ACshort", "auth_token": twilio_token(1)}),
            "account_sid",
        ),
        (
            json!({"provider": "twilio", "account_sid": 42, "auth_token": twilio_token(1)}),
            "account_sid",
        ),
        (
            json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": "zz"}),
            "auth_token",
        ),
        (
            json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1), "colour": "red"}),
            // Unknown fields are refused without their names (contract section 16).
            "non_field_errors",
        ),
        (
            json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1), "name": "a\u{0}b"}),
            "name",
        ),
        (
            json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1), "name": "n".repeat(101)}),
            "name",
        ),
        (
            json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1), "name": ""}),
            "name",
        ),
        (
            json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1), "active": "yes"}),
            "active",
        ),
        (
            json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1), "base_url": "http://plain.example"}),
            "base_url",
        ),
        (
            json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1), "sip_url": 5}),
            "sip_url",
        ),
        (
            json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1), "meta_json": "x"}),
            "meta_json",
        ),
        (
            json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1), "meta_json": {"k": "v".repeat(5000)}}),
            "meta_json",
        ),
        (
            json!({"provider": "twilio", "account_sid": twilio_sid(1), "api_key": twilio_sid(1), "auth_token": twilio_token(1)}),
            "account_sid",
        ),
        (
            json!({"provider": "sip", "account_sid": "user", "auth_token": "p\u{7}ss"}),
            "auth_token",
        ),
        (
            json!({"provider": "sip", "account_sid": "u".repeat(257), "auth_token": "pass"}),
            "account_sid",
        ),
    ];
    for (body, field) in cases {
        let answer = app.create_config(&owner, &body).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.text);
        assert_eq!(answer.body["code"], "validation_error");
        assert_eq!(answer.body["message"], "Invalid request.");
        assert!(
            answer.body["errors"][field].is_array(),
            "{field}: {}",
            answer.text
        );
    }

    // Values never come back, not even in errors.
    let secret = "SENTINEL-never-echo-0123456789";
    let answer = app
        .create_config(
            &owner,
            &json!({"provider": "twilio", "account_sid": secret, "auth_token": secret}),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert!(!answer.text.contains("SENTINEL"));

    // Raw bodies: malformed JSON, not an object, empty, wrong and missing media types,
    // oversized.
    let raw = |body: &'static str, content_type: Option<&'static str>| {
        let mut request = app
            .client
            .post(app.api(CONFIGS))
            .header("Authorization", format!("Token {}", owner.token))
            .header("Org-Handle", "acme")
            .body(body);
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        request
    };
    for (body, content_type, status, code) in [
        (
            "{\"provider\": ",
            Some("application/json"),
            400,
            "validation_error",
        ),
        ("[1, 2]", Some("application/json"), 400, "validation_error"),
        ("", Some("application/json"), 400, "validation_error"),
        ("", None, 400, "validation_error"),
        ("{}", Some("text/plain"), 415, "unsupported_media_type"),
        ("{}", None, 415, "unsupported_media_type"),
        (
            "{}",
            Some("application/json; charset=utf-8"),
            400,
            "validation_error",
        ),
    ] {
        let answer = switchboard_test_support::Answer::from(
            raw(body, content_type).send().await.expect("sent"),
        )
        .await;
        assert_eq!(
            answer.status, status,
            "{body:?} {content_type:?}: {}",
            answer.text
        );
        assert_eq!(answer.body["code"], code);
    }
    let answer = switchboard_test_support::Answer::from(
        raw("{}", Some("text/plain")).send().await.expect("sent"),
    )
    .await;
    assert_eq!(
        answer.text,
        r#"{"status_code":415,"message":"Content-Type must be application/json.","code":"unsupported_media_type"}"#
    );
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(17 * 1024));
    let answer = app
        .client
        .post(app.api(CONFIGS))
        .header("Authorization", format!("Token {}", owner.token))
        .header("Org-Handle", "acme")
        .header("Content-Type", "application/json")
        .body(big.clone())
        .send()
        .await
        .expect("sent");
    let answer = switchboard_test_support::Answer::from(answer).await;
    assert_eq!(answer.status, 413);
    assert_eq!(
        answer.text,
        r#"{"status_code":413,"message":"Request body is too large.","code":"payload_too_large"}"#
    );
    // Streamed without a length: still cut at the limit.
    let stream = futures_util::stream::iter(
        big.into_bytes()
            .chunks(1024)
            .map(|chunk| Ok::<_, std::io::Error>(chunk.to_vec()))
            .collect::<Vec<_>>(),
    );
    let answer = app
        .client
        .post(app.api(CONFIGS))
        .header("Authorization", format!("Token {}", owner.token))
        .header("Org-Handle", "acme")
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("sent");
    assert_eq!(answer.status(), 413);

    // Nothing was written by any of it.
    let answer = app.list_configs(&owner, "").await;
    assert_eq!(answer.body["count"], 0);
    assert_eq!(answer.body["data"], json!([]));

    // Provider by id, as a number and as a string; aliases.
    let providers = app
        .call(Method::GET, "/telephony/providers/", token, None, None, &[])
        .await;
    let twilio_id = providers.body["data"][0]["id"].as_i64().expect("id");
    let answer = app.create_config(&owner, &json!({"provider": twilio_id, "api_key": twilio_sid(7), "api_secret": twilio_token(7)}))
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["data"]["account_sid"], twilio_sid(7));
    let answer = app.create_config(&owner, &json!({"provider": twilio_id.to_string(), "account_sid": twilio_sid(8), "auth_token": twilio_token(8), "sip_url": "sips:trunk@example.com", "name": "Backup"}))
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["data"]["sip_url"], "sips:trunk@example.com");

    // Every provider's format is enforced and accepted.
    for (provider, sid, secret) in [
        (
            "plivo",
            "MAXXXXXXXXXXXXXXXXX1",
            "abcdefghijABCDEFGHIJ0123456789abcdefghij",
        ),
        ("vonage", "a1b2c3d4", "AbCdEf0123456789"),
        (
            "telnyx",
            "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "KEY0123456789ABCDEF_abcdefgh",
        ),
        (
            "exotel",
            "acme1",
            "0123456789abcdef0123456789abcdef01234567",
        ),
        ("livekit", "APIabcdefgh12", "any secret with spaces"),
        ("vapi", "org-123", "3fa85f64-5717-4562-b3fc-2c963f66afa6"),
        ("sip", "trunk-user", "p@ss w0rd!"),
    ] {
        let answer = app
            .create_config(
                &owner,
                &json!({"provider": provider, "account_sid": sid, "auth_token": secret}),
            )
            .await;
        assert_eq!(answer.status, 201, "{provider}: {}", answer.text);
    }
    let answer = app
        .create_config(
            &owner,
            &json!({"provider": "plivo", "account_sid": "XX123", "auth_token": "short"}),
        )
        .await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.body["errors"]["account_sid"].is_array()
            && answer.body["errors"]["auth_token"].is_array()
    );
}

async fn pagination_and_filters(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let token = Some(owner.token.as_str());
    let org = Some("acme");
    let mut ids = Vec::new();
    for n in 0..5 {
        let answer = app.create_config(&owner, &twilio_body(n)).await;
        assert_eq!(answer.status, 201);
        ids.push(answer.body["data"]["id"].as_i64().expect("id"));
    }
    for n in 0..2 {
        let answer = app.create_config(&owner, &json!({"provider": "sip", "account_sid": format!("user{n}"), "auth_token": "secret-password", "active": false}))
            .await;
        assert_eq!(answer.status, 201);
        ids.push(answer.body["data"]["id"].as_i64().expect("id"));
    }
    let newest_first: Vec<i64> = ids.iter().rev().copied().collect();

    let mut seen = Vec::new();
    for page in 1..=4 {
        let answer = app
            .list_configs(&owner, &format!("?page={page}&page_size=2"))
            .await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body["count"], 7);
        seen.extend(
            answer.body["data"]
                .as_array()
                .expect("list")
                .iter()
                .filter_map(|c| c["id"].as_i64()),
        );
    }
    assert_eq!(seen, newest_first);
    let answer = app.list_configs(&owner, "?page=9").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["count"], 7);
    assert_eq!(answer.body["data"], json!([]));

    let answer = app.list_configs(&owner, "?provider=sip").await;
    assert_eq!(answer.body["count"], 2);
    assert!(
        answer.body["data"]
            .as_array()
            .expect("list")
            .iter()
            .all(|c| c["provider"] == "sip")
    );
    let answer = app.list_configs(&owner, "?active=true").await;
    assert_eq!(answer.body["count"], 5);
    let answer = app
        .list_configs(&owner, "?active=false&provider=twilio")
        .await;
    assert_eq!(answer.body["count"], 0);
    assert_eq!(answer.body["data"], json!([]));
    for bad in [
        "?provider=nope",
        "?page_size=101",
        "?page=0",
        "?active=maybe",
        "?unknown=1",
    ] {
        let answer = app
            .call(
                Method::GET,
                &format!("{CONFIGS}{bad}"),
                token,
                org,
                None,
                &[],
            )
            .await;
        assert_eq!(answer.status, 400, "{bad}");
        assert_eq!(answer.body["code"], "validation_error");
    }
    let answer = app.list_configs(&owner, "?page_size=100").await;
    assert_eq!(answer.status, 200);
}

async fn duplicates_and_races(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    app.organization("other");
    let owner = app.user_in("acme", Role::Owner);
    let other = app.user_in("other", Role::Owner);
    let token = Some(owner.token.as_str());
    let org = Some("acme");

    let answer = app.create_config(&owner, &twilio_body(1)).await;
    assert_eq!(answer.status, 201);
    // The same SID in another letter case is a duplicate.
    let upper = format!("AC{}", twilio_sid(1)[2..].to_uppercase());
    let answer = app
        .call(
            Method::POST,
            CONFIGS,
            token,
            org,
            Some(
                &json!({"provider": "twilio", "account_sid": upper, "auth_token": twilio_token(2)}),
            ),
            &[],
        )
        .await;
    assert_eq!(answer.status, 409, "{}", answer.text);
    assert_eq!(answer.body["code"], "conflict");
    // Another organization may hold the same account.
    let answer = app.create_config(&other, &twilio_body(1)).await;
    assert_eq!(answer.status, 201);
    // A PATCH onto an existing SID is a conflict too.
    let answer = app.create_config(&owner, &twilio_body(3)).await;
    let third = answer.body["data"]["id"].as_i64().expect("id");
    let answer = app
        .patch_config(&owner, third, &json!({"account_sid": twilio_sid(1)}))
        .await;
    assert_eq!(answer.status, 409);

    // Twenty identical creates at once: exactly one wins.
    let body = twilio_body(50);
    let requests = (0..20).map(|_| app.create_config(&owner, &body));
    let answers = futures_util::future::join_all(requests).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    let conflicts = answers.iter().filter(|a| a.status == 409).count();
    assert_eq!(
        (created, conflicts),
        (1, 19),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    let answer = app.list_configs(&owner, "").await;
    assert_eq!(answer.body["count"], 3);
}

async fn organization_isolation(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("org-a");
    app.organization("org-b");
    let a = app.user_in("org-a", Role::Owner);
    let b = app.user_in("org-b", Role::Owner);
    let answer = app.create_config(&b, &twilio_body(9)).await;
    let b_id = answer.body["data"]["id"].as_i64().expect("id");
    let path = format!("{CONFIGS}{b_id}/");
    let not_found = r#"{"status_code":404,"message":"Not found.","code":"not_found"}"#;
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"name": "stolen"}))),
        (Method::DELETE, None),
    ] {
        let answer = app
            .call(
                method.clone(),
                &path,
                Some(&a.token),
                Some("org-a"),
                body.as_ref(),
                &[],
            )
            .await;
        assert_eq!(answer.status, 404, "{method}");
        assert_eq!(answer.text, not_found);
    }
    // A's token with B's handle is refused outright.
    let answer = app
        .call(Method::GET, &path, Some(&a.token), Some("org-b"), None, &[])
        .await;
    assert_eq!(answer.status, 403);
    let answer = app.list_configs(&a, "").await;
    assert_eq!(answer.body["count"], 0);
    // B's configuration is untouched.
    let answer = app
        .call(Method::GET, &path, Some(&b.token), Some("org-b"), None, &[])
        .await;
    assert_eq!(answer.status, 200);
    assert_ne!(answer.body["data"]["name"], "stolen");
}

async fn roles(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let answer = app.create_config(&owner, &twilio_body(1)).await;
    let id = answer.body["data"]["id"].as_i64().expect("id");
    let path = format!("{CONFIGS}{id}/");
    let denied = r#"{"status_code":403,"message":"You do not have permission to perform this action.","code":"permission_denied"}"#;

    let viewer = app.user_in("acme", Role::Viewer);
    let token = Some(viewer.token.as_str());
    assert_eq!(app.list_configs(&viewer, "").await.status, 200);
    assert_eq!(
        app.call(Method::GET, &path, token, Some("acme"), None, &[])
            .await
            .status,
        200
    );
    let answer = app.create_config(&viewer, &twilio_body(2)).await;
    assert_eq!((answer.status, answer.text.as_str()), (403, denied));
    let answer = app
        .call(
            Method::PATCH,
            &path,
            token,
            Some("acme"),
            Some(&json!({"name": "x"})),
            &[],
        )
        .await;
    assert_eq!((answer.status, answer.text.as_str()), (403, denied));
    let answer = app
        .call(Method::DELETE, &path, token, Some("acme"), None, &[])
        .await;
    assert_eq!((answer.status, answer.text.as_str()), (403, denied));
    // Shape errors come before the role; the role before existence.
    let answer = app.create_config(&viewer, &json!({"colour": 1})).await;
    assert_eq!(answer.status, 400);
    let answer = app
        .call(
            Method::DELETE,
            &format!("{CONFIGS}424242/"),
            token,
            Some("acme"),
            None,
            &[],
        )
        .await;
    assert_eq!(answer.status, 403);

    for role in [Role::Admin, Role::Member] {
        let user = app.user_in("acme", role);
        let answer = app
            .call(
                Method::PATCH,
                &path,
                Some(&user.token),
                Some("acme"),
                Some(&json!({"name": format!("by {role}")})),
                &[],
            )
            .await;
        assert_eq!(answer.status, 200, "{role}");
    }
    let answer = app
        .call(
            Method::GET,
            "/organizations/",
            Some(&viewer.token),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(answer.body["data"][0]["role"], "viewer");
}

on_both_backends!(
    headers_and_authentication,
    configuration_lifecycle,
    bad_input,
    pagination_and_filters,
    duplicates_and_races,
    organization_isolation,
    roles,
);
