//! End-to-end tests of the console's service-account and webhook pages (contract
//! sections 11, 13 and 15) on SQLite and PostgreSQL, over real HTTP like a browser
//! without JavaScript: a service account made through the forms, its token shown
//! once with the scopes ticked and nothing more, revoked at once; a webhook
//! endpoint whose secret is shown once, its test event received and verified by a
//! loopback receiver, listed as a delivery and retried under the same id; the
//! service's messages next to the fields; members and viewers see no such page and
//! their forged forms are refused. And staged rotation on the configuration page
//! (section 12): started with a write-only input, verified against the provider
//! stand-in, promoted with an overlap, the overlap ended, another cancelled. And the
//! numbers page's import from a configuration's provider account (section 11).

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::LOCATION;
use serde_json::json;
use switchboard_domain::identity::Role;
use switchboard_test_support::stand_in::{Provider, StandIn, StandInConfig};
use switchboard_test_support::{
    Backend, TestApp, TestDatabase, on_both_backends, spawn_app, spawn_app_on, twilio_sid,
    twilio_token,
};

use crate::console::{Browser, Page, assert_defences, signed_in};
use crate::webhooks::Receiver;

/// The value of the read-only input `id` (a token or secret shown once).
fn shown_once(page: &Page, id: &str) -> String {
    let marker = format!("id=\"{id}\" class=\"token\" type=\"text\" readonly value=\"");
    let start = page.html.find(&marker).expect("shown once") + marker.len();
    let end = page.html[start..].find('"').expect("value closes");
    page.html[start..start + end].to_owned()
}

/// The path a `303` answer sends to.
fn location(page: &Page) -> String {
    assert_eq!(page.status, 303, "{}", page.html);
    page.header(LOCATION.as_str()).to_owned()
}

async fn api_status(app: &TestApp, token: &str, path: &str) -> u16 {
    app.call(Method::GET, path, Some(token), Some("acme"), None, &[])
        .await
        .status
}

async fn service_accounts_through_the_console(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let mut browser = signed_in(&app, &owner).await;

    let list = browser.get("/console/o/acme/service-accounts").await;
    assert_eq!(list.status, 200);
    assert_defences(&list);
    assert!(list.html.contains("No service account yet."));
    let csrf = list.hidden("csrf");

    // The service's message next to the name.
    let refused = browser
        .post(
            "/console/o/acme/service-accounts",
            &[("csrf", &csrf), ("name", "   "), ("role", "member")],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.html.contains(
            "id=\"e-name\"><li>must be 1 to 100 characters without control characters</li>"
        ),
        "{}",
        refused.html
    );
    // Owner is not a role a service account may hold.
    let owner_role = browser
        .post(
            "/console/o/acme/service-accounts",
            &[("csrf", &csrf), ("name", "root"), ("role", "owner")],
        )
        .await;
    assert_eq!(owner_role.status, 400);
    assert!(owner_role.html.contains("id=\"e-role\""));

    let created = browser
        .post(
            "/console/o/acme/service-accounts",
            &[
                ("csrf", &csrf),
                ("name", "call runtime"),
                ("role", "member"),
            ],
        )
        .await;
    let page = location(&created);
    assert!(page.ends_with("?done=created"), "{page}");
    let account_path = page.trim_end_matches("?done=created").to_owned();
    let account = browser.get(&account_path).await;
    assert_eq!(account.status, 200);
    assert_defences(&account);
    // The scopes a member service account could use, and only those.
    for scope in ["bridges:read", "credentials:use", "credentials:reveal"] {
        assert!(
            account.html.contains(&format!("value=\"{scope}\"")),
            "{scope} offered"
        );
    }
    for scope in ["audit:read", "webhooks:manage"] {
        assert!(
            !account.html.contains(&format!("value=\"{scope}\"")),
            "{scope} is beyond a member"
        );
    }

    // No scope ticked, and an unknown one: refused next to the scopes.
    let tokens_path = format!("{account_path}/tokens");
    let none = browser
        .post(&tokens_path, &[("csrf", &csrf), ("name", "runtime")])
        .await;
    assert_eq!(none.status, 400);
    assert!(none.html.contains("id=\"e-scopes\""), "{}", none.html);
    let unknown = browser
        .post(
            &tokens_path,
            &[
                ("csrf", &csrf),
                ("name", "runtime"),
                ("scopes", "everything"),
            ],
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.html.contains("id=\"e-scopes\""));
    let beyond = browser
        .post(
            &tokens_path,
            &[
                ("csrf", &csrf),
                ("name", "runtime"),
                ("scopes", "audit:read"),
            ],
        )
        .await;
    assert_eq!(beyond.status, 403);
    assert!(beyond.html.contains("id=\"e-scopes\""));

    let issued = browser
        .post(
            &tokens_path,
            &[
                ("csrf", &csrf),
                ("name", "runtime"),
                ("scopes", "bridges:read"),
                ("scopes", "credentials:use"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.html);
    let token = shown_once(&issued, "new-token");
    assert!(token.starts_with("sbt_"));
    // Its rights are the ticked scopes: numbers yes, configurations no.
    assert_eq!(api_status(&app, &token, "/telephony/numbers/").await, 200);
    assert_eq!(
        api_status(&app, &token, "/telephony/providers-configurations/").await,
        403
    );
    // Listed, never shown again (and the address of the answer, opened again,
    // leads to the account's page).
    let reopened = browser.get(&tokens_path).await;
    assert_eq!(location(&reopened), account_path);
    let again = browser.get(&account_path).await;
    assert!(again.html.contains("runtime"));
    assert!(again.html.contains("credentials:use"));
    assert!(!again.html.contains(&token));
    let list = browser.get("/console/o/acme/service-accounts").await;
    assert!(list.html.contains("call runtime") && !list.html.contains(&token));

    // Revoked from the page: it stops working at once.
    let id = app
        .call(
            Method::GET,
            "/service-accounts/",
            Some(&owner.token),
            Some("acme"),
            None,
            &[],
        )
        .await
        .body["data"][0]["tokens"][0]["id"]
        .as_i64()
        .expect("the token is listed");
    let revoked = browser
        .post(&format!("{tokens_path}/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert!(location(&revoked).ends_with("?done=revoked"));
    assert_eq!(api_status(&app, &token, "/telephony/numbers/").await, 401);

    // A member and a viewer: no link, no page, forged forms refused.
    for role in [Role::Member, Role::Viewer] {
        let person = app.user_in("acme", role);
        let mut other = signed_in(&app, &person).await;
        let home = other.get("/console/o/acme/configurations").await;
        assert!(!home.html.contains("Service accounts"), "{role:?}");
        assert!(!home.html.contains("/webhooks\""), "{role:?}");
        let their_csrf = home.hidden("csrf");
        assert_eq!(
            other.get("/console/o/acme/service-accounts").await.status,
            403
        );
        assert_eq!(other.get(&account_path).await.status, 403);
        let forged = other
            .post(
                "/console/o/acme/service-accounts",
                &[("csrf", &their_csrf), ("name", "mine"), ("role", "viewer")],
            )
            .await;
        assert_eq!(forged.status, 403, "{role:?}");
        let forged = other
            .post(
                &tokens_path,
                &[
                    ("csrf", &their_csrf),
                    ("name", "stolen"),
                    ("scopes", "bridges:read"),
                ],
            )
            .await;
        assert_eq!(forged.status, 403, "{role:?}");
        let forged = other
            .post(&format!("{account_path}/delete"), &[("csrf", &their_csrf)])
            .await;
        assert_eq!(forged.status, 403, "{role:?}");
    }

    // Without the CSRF token, nothing happens.
    let no_csrf = browser
        .post(&format!("{account_path}/delete"), &[("confirm", "yes")])
        .await;
    assert_eq!(no_csrf.status, 403);
    let deleted = browser
        .post(
            &format!("{account_path}/delete"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert!(location(&deleted).ends_with("/service-accounts?done=deleted"));
    assert_eq!(browser.get(&account_path).await.status, 404);
}

/// Reloads the endpoint page until `check` holds (a test failure after 30 s).
async fn page_until(browser: &mut Browser, path: &str, check: impl Fn(&str) -> bool) -> Page {
    let start = Instant::now();
    loop {
        let page = browser.get(path).await;
        if check(&page.html) {
            return page;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the page never showed what was expected: {}",
            page.html
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn webhooks_through_the_console(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let receiver = Receiver::start(&[]).await;
    let mut browser = signed_in(&app, &owner).await;

    let list = browser.get("/console/o/acme/webhooks").await;
    assert_eq!(list.status, 200);
    assert_defences(&list);
    // Every subscribable type is offered, not the test event.
    assert!(list.html.contains("value=\"number.created\""));
    assert!(!list.html.contains("value=\"webhook.test\""));
    let csrf = list.hidden("csrf");

    // The service's messages next to the fields, what was typed kept.
    let refused = browser
        .post(
            "/console/o/acme/webhooks",
            &[
                ("csrf", &csrf),
                ("url", "ftp://hooks.example.com/x"),
                ("event_types", "number.created"),
                ("enabled", "yes"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
    assert!(
        refused
            .html
            .contains("id=\"e-url\"><li>must be an https:// URL</li>"),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("value=\"ftp://hooks.example.com/x\""));
    assert!(refused.html.contains("value=\"number.created\" checked"));
    let unknown = browser
        .post(
            "/console/o/acme/webhooks",
            &[
                ("csrf", &csrf),
                ("url", &receiver.url),
                ("event_types", "everything.happened"),
            ],
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.html.contains("id=\"e-types\""));

    let created = browser
        .post(
            "/console/o/acme/webhooks",
            &[
                ("csrf", &csrf),
                ("url", &receiver.url),
                ("description", "ops alerts"),
                ("event_types", "number.created"),
                ("enabled", "yes"),
            ],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.html);
    let secret = shown_once(&created, "new-secret");
    assert!(secret.starts_with("whsec_"));
    let id = app
        .call(
            Method::GET,
            "/webhooks/endpoints/",
            Some(&owner.token),
            Some("acme"),
            None,
            &[],
        )
        .await
        .body["data"][0]["id"]
        .as_i64()
        .expect("the endpoint is listed");
    let path = format!("/console/o/acme/webhooks/{id}");
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    assert_defences(&page);
    assert!(page.html.contains("ops alerts") && page.html.contains("number.created"));
    assert!(!page.html.contains(&secret), "the secret is shown once");
    assert!(page.html.contains("No delivery yet."));

    // A test event: received, signed with the secret, listed, retried.
    let sent = browser
        .post(&format!("{path}/test"), &[("csrf", &csrf)])
        .await;
    assert!(location(&sent).ends_with("?done=test-sent"));
    let first = receiver.wait_for(1).await;
    assert!(first[0].verifies_with(&secret));
    let page = page_until(&mut browser, &path, |html| html.contains("badge-succeeded")).await;
    assert!(page.html.contains("webhook.test"));
    assert!(page.html.contains(&first[0].id()));
    let start = page.html.find("/deliveries/").expect("a Retry button") + "/deliveries/".len();
    let delivery = &page.html[start..start + page.html[start..].find('/').expect("id ends")];
    let retried = browser
        .post(
            &format!("{path}/deliveries/{delivery}/retry"),
            &[("csrf", &csrf)],
        )
        .await;
    assert!(location(&retried).ends_with("?done=retried"));
    let both = receiver.wait_for(2).await;
    assert_eq!(both[1].id(), first[0].id(), "a retry keeps the event id");

    // Edit: the message next to the field, then a change that holds.
    let bad = browser
        .post(
            &path,
            &[("csrf", &csrf), ("url", "not a url"), ("enabled", "yes")],
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.html.contains("id=\"e-url\""));
    let saved = browser
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("url", &receiver.url),
                ("description", "night shift"),
                ("enabled", "yes"),
            ],
        )
        .await;
    assert!(location(&saved).ends_with("?done=saved"));
    let page = browser.get(&path).await;
    assert!(page.html.contains("night shift") && page.html.contains("every event type"));

    // Disable, enable.
    let off = browser
        .post(&format!("{path}/disable"), &[("csrf", &csrf)])
        .await;
    assert!(location(&off).ends_with("?done=disabled"));
    assert!(browser.get(&path).await.html.contains(">Enable</button>"));
    let on = browser
        .post(&format!("{path}/enable"), &[("csrf", &csrf)])
        .await;
    assert!(location(&on).ends_with("?done=enabled"));

    // Rotate: a new secret, once.
    let rotated = browser
        .post(&format!("{path}/rotate-secret"), &[("csrf", &csrf)])
        .await;
    assert_eq!(rotated.status, 200);
    let new_secret = shown_once(&rotated, "new-secret");
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    let reopened = browser.get(&format!("{path}/rotate-secret")).await;
    assert_eq!(location(&reopened), path);
    let page = browser.get(&path).await;
    assert!(!page.html.contains(&new_secret) && !page.html.contains(&secret));
    assert!(page.html.contains("the previous one also signs until"));

    // The events feed: every change in order, the object as the API shows it.
    let added = browser
        .post(
            "/console/o/acme/numbers",
            &[("csrf", &csrf), ("number", "+14155550100")],
        )
        .await;
    assert_eq!(added.status, 303);
    // The feed shows an event once every earlier transaction has committed (on
    // PostgreSQL a moment later), so the page is read until it is there.
    let feed = page_until(&mut browser, "/console/o/acme/events", |html| {
        html.contains("number.created") && html.contains("+14155550100")
    })
    .await;
    assert_eq!(feed.status, 200);
    assert_defences(&feed);
    assert!(!feed.html.contains(&secret) && !feed.html.contains(&new_secret));
    assert_eq!(
        browser
            .get("/console/o/acme/events?after=evt_nope")
            .await
            .status,
        404
    );

    // A viewer and a member: no page, forged buttons refused.
    for role in [Role::Member, Role::Viewer] {
        let person = app.user_in("acme", role);
        let mut other = signed_in(&app, &person).await;
        let their_csrf = other
            .get("/console/o/acme/configurations")
            .await
            .hidden("csrf");
        assert_eq!(other.get("/console/o/acme/webhooks").await.status, 403);
        assert_eq!(other.get("/console/o/acme/events").await.status, 403);
        assert_eq!(other.get(&path).await.status, 403);
        for action in ["test", "rotate-secret", "disable", "delete"] {
            let forged = other
                .post(&format!("{path}/{action}"), &[("csrf", &their_csrf)])
                .await;
            assert_eq!(forged.status, 403, "{role:?} {action}");
        }
    }

    let deleted = browser
        .post(
            &format!("{path}/delete"),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert!(location(&deleted).ends_with("/webhooks?done=deleted"));
    assert_eq!(browser.get(&path).await.status, 404);
    receiver.stop().await;
}

/// The count of secret uses of `kind` in `/metrics` (0 before the first).
async fn secret_uses(app: &TestApp, kind: &str) -> f64 {
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let prefix = format!("switchboard_credential_uses_total{{kind=\"{kind}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn staged_rotation_through_the_console(backend: Backend) {
    let (old, new, newer) = (twilio_token(1), twilio_token(101), twilio_token(102));
    let stand_in = StandIn::start(
        StandInConfig::new()
            .accept(Provider::Twilio, &twilio_sid(1), &old)
            .accept(Provider::Twilio, &twilio_sid(1), &new),
    );
    let base_url = stand_in.base_url.clone();
    let app = spawn_app_on(TestDatabase::new(backend), move |settings| {
        settings.verify.twilio_base_url = base_url;
    })
    .await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let viewer = app.user_in("acme", Role::Viewer);
    let created = app
        .create_config(
            &owner,
            &json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": old}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["data"]["id"].as_i64().expect("id");
    let path = format!("/console/o/acme/configurations/{id}");
    let mut browser = signed_in(&app, &owner).await;
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Start a rotation"));
    assert!(page.html.contains(
        "id=\"r-auth_token\" name=\"auth_token\" type=\"password\" autocomplete=\"new-password\""
    ));
    let csrf = page.hidden("csrf");
    let rotations = format!("{path}/rotations");

    // Nothing typed, then a malformed secret: the service's messages, no echo.
    let empty = browser
        .post(&rotations, &[("csrf", &csrf), ("auth_token", "")])
        .await;
    assert_eq!(empty.status, 400, "{}", empty.html);
    assert!(empty.html.contains("role=\"alert\""));
    let malformed = browser
        .post(
            &rotations,
            &[("csrf", &csrf), ("auth_token", "not-hex-at-all")],
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert!(
        malformed.html.contains("id=\"re-auth_token\""),
        "{}",
        malformed.html
    );
    assert!(!malformed.html.contains("not-hex-at-all"));

    let started = browser
        .post(&rotations, &[("csrf", &csrf), ("auth_token", &new)])
        .await;
    assert!(location(&started).contains("done=rotation-started"));
    let page = browser.get(&path).await;
    assert!(page.html.contains("id=\"pending-rotation\""));
    assert!(
        page.html
            .contains(&format!("••••{}", &new[new.len() - 4..]))
    );
    assert!(!page.html.contains(&new) && !page.html.contains(&old));
    let rotation = app
        .call(
            Method::GET,
            &format!("/telephony/providers-configurations/{id}/rotations/"),
            Some(&owner.token),
            Some("acme"),
            None,
            &[],
        )
        .await
        .body["data"][0]["id"]
        .as_i64()
        .expect("the rotation is listed");
    let again = browser
        .post(&rotations, &[("csrf", &csrf), ("auth_token", &newer)])
        .await;
    assert_eq!(again.status, 409);
    assert!(again.html.contains("already pending"));
    let pending = format!("{rotations}/{rotation}");

    // Promotion that requires a verdict the pending secret does not have yet.
    let early = browser
        .post(
            &format!("{pending}/promote"),
            &[
                ("csrf", &csrf),
                ("keep_previous_for_seconds", "3600"),
                ("require_verified", "yes"),
            ],
        )
        .await;
    assert_eq!(early.status, 409);
    assert!(early.html.contains("not verified"));
    let uses = secret_uses(&app, "verify").await;
    let verified = browser
        .post(&format!("{pending}/verify"), &[("csrf", &csrf)])
        .await;
    assert!(location(&verified).contains("done=rotation-verified"));
    // A use of the pending secret, counted as the API's are.
    assert!(secret_uses(&app, "verify").await >= uses + 1.0);
    assert_eq!(
        stand_in.calls(),
        1,
        "the pending secret went to the provider"
    );
    assert!(browser.get(&path).await.html.contains("badge badge-valid"));
    let bad_window = browser
        .post(
            &format!("{pending}/promote"),
            &[("csrf", &csrf), ("keep_previous_for_seconds", "a week")],
        )
        .await;
    assert_eq!(bad_window.status, 400);
    assert!(
        bad_window
            .html
            .contains("id=\"e-keep\"><li>must be an integer from 0 to 604800")
    );
    let promoted = browser
        .post(
            &format!("{pending}/promote"),
            &[
                ("csrf", &csrf),
                ("keep_previous_for_seconds", "3600"),
                ("require_verified", "yes"),
            ],
        )
        .await;
    assert!(location(&promoted).contains("done=rotation-promoted"));
    let stored = app.get_config(&owner, id).await;
    assert_eq!(
        stored.body["data"]["auth_token_last4"],
        new[new.len() - 4..]
    );
    let page = browser.get(&path).await;
    assert!(page.html.contains("id=\"overlap\""));
    assert!(page.html.contains("End the overlap now"));
    assert!(page.html.contains("Start a rotation"));

    // A viewer sees the rotations, no control, and a forged form is refused.
    let mut other = signed_in(&app, &viewer).await;
    let seen = other.get(&path).await;
    assert_eq!(seen.status, 200);
    assert!(seen.html.contains("id=\"rotations\""));
    for control in [
        "Start a rotation",
        "End the overlap now",
        "Promote the pending",
    ] {
        assert!(!seen.html.contains(control), "{control} shown to a viewer");
    }
    let their_csrf = seen.hidden("csrf");
    let forged = other
        .post(&rotations, &[("csrf", &their_csrf), ("auth_token", &newer)])
        .await;
    assert_eq!(forged.status, 403);
    let forged = other
        .post(&format!("{path}/previous/end"), &[("csrf", &their_csrf)])
        .await;
    assert_eq!(forged.status, 403);

    let ended = browser
        .post(&format!("{path}/previous/end"), &[("csrf", &csrf)])
        .await;
    assert!(location(&ended).contains("done=overlap-ended"));
    assert!(!browser.get(&path).await.html.contains("id=\"overlap\""));

    // Another rotation, cancelled.
    let started = browser
        .post(&rotations, &[("csrf", &csrf), ("auth_token", &newer)])
        .await;
    assert!(location(&started).contains("done=rotation-started"));
    let latest = app
        .call(
            Method::GET,
            &format!("/telephony/providers-configurations/{id}/rotations/"),
            Some(&owner.token),
            Some("acme"),
            None,
            &[],
        )
        .await
        .body["data"][0]["id"]
        .as_i64()
        .expect("listed");
    let cancelled = browser
        .post(&format!("{rotations}/{latest}/cancel"), &[("csrf", &csrf)])
        .await;
    assert!(location(&cancelled).contains("done=rotation-cancelled"));
    let page = browser.get(&path).await;
    assert!(page.html.contains(">cancelled<") && page.html.contains(">promoted<"));
    assert!(!page.html.contains("id=\"pending-rotation\""));
    assert!(!page.html.contains(&newer));
}

async fn numbers_imported_through_the_console(backend: Backend) {
    let stand_in = StandIn::start(
        StandInConfig::new()
            .accept(Provider::Twilio, &twilio_sid(1), &twilio_token(1))
            .numbers(&twilio_sid(1), &["+14155550101", "+14155550102", "12345"])
            .fail(&twilio_sid(2), 500),
    );
    let base_url = stand_in.base_url.clone();
    let app = spawn_app_on(TestDatabase::new(backend), move |settings| {
        settings.verify.twilio_base_url = base_url;
    })
    .await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let viewer = app.user_in("acme", Role::Viewer);
    let mut ids = Vec::new();
    for n in [1, 2] {
        let created = app
            .create_config(
                &owner,
                &json!({"provider": "twilio", "name": format!("Twilio {n}"),
                        "account_sid": twilio_sid(n), "auth_token": twilio_token(n)}),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        ids.push(created.body["data"]["id"].as_i64().expect("id").to_string());
    }
    let mut browser = signed_in(&app, &owner).await;
    let page = browser.get("/console/o/acme/numbers").await;
    assert_eq!(page.status, 200);
    assert!(
        page.html
            .contains(&format!("<option value=\"{}\">Twilio 1</option>", ids[0]))
    );
    let csrf = page.hidden("csrf");

    let none = browser
        .post("/console/o/acme/numbers/import", &[("csrf", &csrf)])
        .await;
    assert_eq!(none.status, 400);
    assert!(none.html.contains("id=\"e-import\""));
    let uses = secret_uses(&app, "import").await;
    let imported = browser
        .post(
            "/console/o/acme/numbers/import",
            &[("csrf", &csrf), ("provider_config_id", &ids[0])],
        )
        .await;
    assert_eq!(imported.status, 200, "{}", imported.html);
    assert!(imported.html.contains(
        "Imported 2 new numbers; 0 the organization had already. Skipped 1 listed number not in E.164 form (short codes)."
    ), "{}", imported.html);
    assert!(imported.html.contains("+14155550101") && imported.html.contains("+14155550102"));
    assert!(imported.html.contains(&format!(
        "<a href=\"/console/o/acme/configurations/{}\">Twilio 1</a>",
        ids[0]
    )));
    assert!(!imported.html.contains(&twilio_token(1)));
    assert!(secret_uses(&app, "import").await >= uses + 1.0);
    let again = browser
        .post(
            "/console/o/acme/numbers/import",
            &[("csrf", &csrf), ("provider_config_id", &ids[0])],
        )
        .await;
    assert!(
        again
            .html
            .contains("Imported 0 new numbers; 2 the organization had already.")
    );
    let reopened = browser.get("/console/o/acme/numbers/import").await;
    assert_eq!(location(&reopened), "/console/o/acme/numbers");

    // The provider fails: its message, nothing added, no secret.
    let failed = browser
        .post(
            "/console/o/acme/numbers/import",
            &[("csrf", &csrf), ("provider_config_id", &ids[1])],
        )
        .await;
    assert_eq!(failed.status, 502);
    assert!(failed.html.contains("nothing was changed"));
    assert!(!failed.html.contains(&twilio_token(2)));
    assert_eq!(app.list_numbers(&owner, "").await.body["count"], 2);

    // A viewer: no import form; a forged one is refused.
    let mut other = signed_in(&app, &viewer).await;
    let seen = other.get("/console/o/acme/numbers").await;
    assert!(!seen.html.contains("Import numbers"));
    let forged = other
        .post(
            "/console/o/acme/numbers/import",
            &[
                ("csrf", &seen.hidden("csrf")),
                ("provider_config_id", &ids[0]),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
}

on_both_backends!(
    service_accounts_through_the_console,
    webhooks_through_the_console,
    staged_rotation_through_the_console,
    numbers_imported_through_the_console,
);
