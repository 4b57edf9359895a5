//! Staged rotation (contract section 12) end to end, on SQLite and PostgreSQL, with
//! a stand-in of Twilio's API on loopback for verification: start, verify, promote
//! with a 3-second overlap in which reveal shows both versions and a Twilio
//! signature made with either token matches (`current` / `previous`); after it the
//! sweeper (1 s in the test profile) has deleted the previous version's row (read
//! from the table itself), reveal shows `previous: null` and the old signature no
//! longer matches. Then the refusals and the other ways out: `rotation_pending`,
//! `rotation_not_verified`, cancel, a PATCH that cancels a pending rotation and ends
//! an overlap, ending the overlap by hand, body rules, roles and organizations.
//! Expected signatures are computed with `openssl`, not with the service's code.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_test_support::stand_in::{Provider, StandIn, StandInConfig};
use switchboard_test_support::{
    Answer, Backend, TestApp, TestDatabase, TestUser, on_both_backends, spawn_app_on, twilio_sid,
    twilio_token,
};

use crate::reveal::{reveal, scoped};
use crate::service_accounts::{robot, service_account};
use crate::signatures::check;

const CONFIGS: &str = "/telephony/providers-configurations/";
const HOOK: &str = "https://voice.example.test/twilio/incoming";

/// `X-Twilio-Signature` of a POST to [`HOOK`] with `params` (sorted by name),
/// keyed by `token`: base64 of HMAC-SHA1 over the URL and each name and value, as
/// Twilio documents it, computed by openssl.
fn twilio_signature(token: &str, params: &[(&str, &str)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort_unstable();
    let mut payload = HOOK.to_owned();
    for (name, value) in sorted {
        payload.push_str(name);
        payload.push_str(value);
    }
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha1", "-hmac", token, "-binary"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(payload.as_bytes())
        .expect("payload written");
    let output = child.wait_with_output().expect("openssl ends");
    assert!(output.status.success());
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(output.stdout)
}

fn signed(token: &str) -> Value {
    let params = [
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("From", "+14155550100"),
    ];
    json!({"url": HOOK, "params": {"CallSid": params[0].1, "From": params[1].1},
           "signature": twilio_signature(token, &params)})
}

async fn post(app: &TestApp, user: &TestUser, path: &str, body: Option<&Value>) -> Answer {
    app.call(
        Method::POST,
        path,
        Some(&user.token),
        Some(&user.org),
        body,
        &[],
    )
    .await
}

async fn delete(app: &TestApp, user: &TestUser, path: &str) -> Answer {
    app.call(
        Method::DELETE,
        path,
        Some(&user.token),
        Some(&user.org),
        None,
        &[],
    )
    .await
}

async fn get(app: &TestApp, user: &TestUser, path: &str) -> Answer {
    app.call(
        Method::GET,
        path,
        Some(&user.token),
        Some(&user.org),
        None,
        &[],
    )
    .await
}

async fn start(app: &TestApp, user: &TestUser, id: i64, body: &Value) -> Answer {
    post(app, user, &format!("{CONFIGS}{id}/rotations/"), Some(body)).await
}

fn rotation_id(answer: &Answer) -> i64 {
    answer.body["data"]["id"].as_i64().expect("rotation id")
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Rows of `credential_versions` of configuration `id`, read from the table.
fn version_rows(app: &TestApp, backend: Backend, id: i64) -> i64 {
    let sql =
        format!("SELECT COUNT(*) AS n FROM credential_versions WHERE provider_config_id = {id}");
    let rows: Vec<Count> = match backend {
        Backend::Sqlite => {
            let mut connection =
                SqliteConnection::establish(app.database.url().trim_start_matches("sqlite://"))
                    .expect("sqlite");
            connection
                .batch_execute("PRAGMA busy_timeout = 5000;")
                .expect("pragma");
            diesel::sql_query(sql).load(&mut connection).expect("count")
        }
        Backend::Postgres => {
            let mut connection = PgConnection::establish(app.database.url()).expect("pg");
            diesel::sql_query(sql).load(&mut connection).expect("count")
        }
    };
    rows.first().map_or(0, |row| row.n)
}

async fn app_with(backend: Backend, stand_in: &StandIn) -> TestApp {
    let base_url = stand_in.base_url.clone();
    spawn_app_on(TestDatabase::new(backend), move |settings| {
        settings.verify.twilio_base_url = base_url;
    })
    .await
}

async fn a_promoted_rotation_overlaps_then_the_previous_version_is_erased(backend: Backend) {
    let (old, new) = (twilio_token(1), twilio_token(101));
    let stand_in = StandIn::start(
        StandInConfig::new()
            .accept(Provider::Twilio, &twilio_sid(1), &old)
            .accept(Provider::Twilio, &twilio_sid(1), &new),
    );
    let app = app_with(backend, &stand_in).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let created = app
        .create_config(
            &owner,
            &json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": old}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["data"]["id"].as_i64().expect("id");
    let first_tag = created.header("etag").map(str::to_owned);
    let account = service_account(&app, &owner, "member").await;
    let runtime = robot(&app, &owner, account, &["credentials:use"]).await;
    let revealer = scoped(&app, &owner, &["credentials:reveal"]).await;

    // Start: the new token is pending; the configuration still shows the old one.
    let started = start(&app, &owner, id, &json!({"auth_token": new})).await;
    assert_eq!(started.status, 201, "{}", started.text);
    assert_eq!(started.body["data"]["status"], "pending");
    assert_eq!(started.body["data"]["version"], 2);
    assert_eq!(
        started.body["data"]["credentials"]["auth_token"],
        json!({"set": true, "last4": &new[28..]})
    );
    assert!(!started.text.contains(&new) && !started.text.contains(&old));
    let rid = rotation_id(&started);
    let config = app.get_config(&owner, id).await;
    assert_eq!(config.body["data"]["auth_token_last4"], &old[28..]);
    assert_eq!(version_rows(&app, backend, id), 1, "the pending version");
    // One pending rotation at a time.
    let again = start(&app, &owner, id, &json!({"auth_token": twilio_token(102)})).await;
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(again.body["code"], "rotation_pending");
    // Not verified yet: a promotion that requires it is refused.
    let promote = format!("{CONFIGS}{id}/rotations/{rid}/promote/");
    let refused = post(
        &app,
        &owner,
        &promote,
        Some(&json!({"require_verified": true})),
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert_eq!(refused.body["code"], "rotation_not_verified");

    // Verify the pending token with the provider.
    let calls = stand_in.calls();
    let verified = post(
        &app,
        &owner,
        &format!("{CONFIGS}{id}/rotations/{rid}/verify/"),
        None,
    )
    .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.body["data"]["verification"]["status"], "valid");
    assert_eq!(stand_in.calls(), calls + 1);
    assert!(!verified.text.contains(&new));

    // Promote with a 3-second overlap.
    let promoted = post(
        &app,
        &owner,
        &promote,
        Some(&json!({"keep_previous_for_seconds": 3, "require_verified": true})),
    )
    .await;
    let promoted_at = Instant::now();
    assert_eq!(promoted.status, 200, "{}", promoted.text);
    assert_eq!(promoted.body["data"]["auth_token_last4"], &new[28..]);
    assert_eq!(promoted.body["data"]["verification"]["status"], "valid");
    assert_ne!(promoted.header("etag").map(str::to_owned), first_tag);
    assert!(!promoted.text.contains(&new) && !promoted.text.contains(&old));
    let listed = get(&app, &owner, &format!("{CONFIGS}{id}/rotations/")).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["data"][0]["status"], "promoted");
    assert!(listed.body["data"][0]["previous_expires_at"].is_string());
    assert_eq!(version_rows(&app, backend, id), 1, "the previous version");

    // During the overlap: reveal shows both, both signatures match.
    let revealed = reveal(&app, &revealer, id).await;
    assert_eq!(revealed.status, 200, "{}", revealed.text);
    assert_eq!(revealed.body["data"]["version"], 2);
    assert_eq!(revealed.body["data"]["credentials"]["auth_token"], new);
    assert_eq!(
        revealed.body["data"]["previous"]["credentials"]["auth_token"],
        old
    );
    assert_eq!(revealed.body["data"]["previous"]["version"], 1);
    assert!(revealed.body["data"]["previous"]["expires_at"].is_string());
    let current = check(&app, &runtime, id, &signed(&new)).await;
    assert_eq!(
        current.body["data"],
        json!({"valid": true, "matched": "current"}),
        "{}",
        current.text
    );
    let previous = check(&app, &runtime, id, &signed(&old)).await;
    assert_eq!(
        previous.body["data"],
        json!({"valid": true, "matched": "previous"}),
        "{}",
        previous.text
    );
    let other = check(&app, &runtime, id, &signed(&twilio_token(9))).await;
    assert_eq!(other.body["data"], json!({"valid": false, "matched": null}));
    assert!(
        promoted_at.elapsed() < Duration::from_secs(3),
        "the checks ran inside the window"
    );

    // After the window and a sweep: the row is gone from the table.
    let deadline = Instant::now() + Duration::from_secs(15);
    while version_rows(&app, backend, id) > 0 {
        assert!(Instant::now() < deadline, "the sweeper erased nothing");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(promoted_at.elapsed() >= Duration::from_secs(3));
    let revealed = reveal(&app, &revealer, id).await;
    assert_eq!(
        revealed.body["data"]["previous"],
        Value::Null,
        "{}",
        revealed.text
    );
    assert_eq!(revealed.body["data"]["credentials"]["auth_token"], new);
    let previous = check(&app, &runtime, id, &signed(&old)).await;
    assert_eq!(
        previous.body["data"],
        json!({"valid": false, "matched": null})
    );
    let current = check(&app, &runtime, id, &signed(&new)).await;
    assert_eq!(current.body["data"]["matched"], "current");

    // Every step was an event, in order, and an audit entry; none holds a token.
    // (The feed shows an event once every transaction older than it has ended.)
    let expected = [
        "provider_configuration.rotation.started",
        "provider_configuration.rotation.promoted",
        "provider_configuration.rotation.previous_expired",
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    let events = loop {
        let events = get(&app, &owner, "/events/?limit=100").await;
        assert_eq!(events.status, 200, "{}", events.text);
        let types: Vec<String> = events.body["data"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|event| event["type"].as_str())
            .filter(|kind| kind.contains(".rotation."))
            .map(str::to_owned)
            .collect();
        if types == expected || Instant::now() > deadline {
            assert_eq!(types, expected);
            break events;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(!events.text.contains(&new) && !events.text.contains(&old));
    let history = get(&app, &owner, &format!("{CONFIGS}{id}/history/")).await;
    for action in [
        "rotation_started",
        "rotation_verified",
        "rotation_promoted",
        "previous_expired",
    ] {
        assert!(history.text.contains(action), "{action}: {}", history.text);
    }
    assert!(!history.text.contains(&new) && !history.text.contains(&old));
    stand_in.stop().await;
}

async fn cancel_patch_and_refusals(backend: Backend) {
    let stand_in = StandIn::start(StandInConfig::new());
    let app = app_with(backend, &stand_in).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let revealer = scoped(&app, &owner, &["credentials:reveal"]).await;
    let created = app
        .create_config(
            &owner,
            &json!({"provider": "twilio", "account_sid": twilio_sid(2), "auth_token": twilio_token(2)}),
        )
        .await;
    let id = created.body["data"]["id"].as_i64().expect("id");

    // Bodies: secrets only, at least one, by the rules of PATCH.
    for (body, field) in [
        (json!({"name": "x", "auth_token": twilio_token(3)}), "name"),
        (json!({"account_sid": twilio_sid(3)}), "account_sid"),
        (json!({"auth_token": "not hex"}), "auth_token"),
        (json!({"colour": "red"}), "non_field_errors"),
    ] {
        let answer = start(&app, &owner, id, &body).await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.text);
        assert!(
            answer.body["errors"][field].is_array(),
            "{body}: {}",
            answer.text
        );
    }
    // Roles and organizations.
    let viewer = app.user_in("acme", Role::Viewer);
    let answer = start(&app, &viewer, id, &json!({"auth_token": twilio_token(3)})).await;
    assert_eq!(answer.status, 403);
    assert_eq!(
        get(&app, &viewer, &format!("{CONFIGS}{id}/rotations/"))
            .await
            .status,
        200
    );
    app.organization("beta");
    let stranger = app.user_in("beta", Role::Owner);
    let answer = start(&app, &stranger, id, &json!({"auth_token": twilio_token(3)})).await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        get(&app, &stranger, &format!("{CONFIGS}{id}/rotations/"))
            .await
            .status,
        404
    );

    // Cancel: the pending version's row is erased; a second cancel is refused.
    let started = start(&app, &owner, id, &json!({"auth_token": twilio_token(3)})).await;
    assert_eq!(started.status, 201, "{}", started.text);
    let rid = rotation_id(&started);
    assert_eq!(version_rows(&app, backend, id), 1);
    let one = format!("{CONFIGS}{id}/rotations/{rid}/");
    assert_eq!(delete(&app, &stranger, &one).await.status, 404);
    assert_eq!(delete(&app, &owner, &one).await.status, 204);
    assert_eq!(version_rows(&app, backend, id), 0);
    let again = delete(&app, &owner, &one).await;
    assert_eq!(
        (again.status, again.body["code"].as_str()),
        (409, Some("rotation_not_pending"))
    );
    let promote = post(&app, &owner, &format!("{one}promote/"), None).await;
    assert_eq!(
        promote.body["code"], "rotation_not_pending",
        "{}",
        promote.text
    );
    assert_eq!(
        delete(&app, &owner, &format!("{CONFIGS}{id}/rotations/999999/"))
            .await
            .status,
        404
    );

    // A PATCH with a secret cancels a pending rotation (and still rotates at once).
    let started = start(&app, &owner, id, &json!({"auth_token": twilio_token(4)})).await;
    assert_eq!(started.status, 201, "{}", started.text);
    let patched = app
        .patch_config(&owner, id, &json!({"auth_token": twilio_token(5)}))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let listed = get(&app, &owner, &format!("{CONFIGS}{id}/rotations/")).await;
    let statuses: Vec<&str> = listed.body["data"]
        .as_array()
        .expect("rotations")
        .iter()
        .filter_map(|rotation| rotation["status"].as_str())
        .collect();
    assert_eq!(statuses, ["cancelled", "cancelled"], "newest first");
    assert_eq!(version_rows(&app, backend, id), 0);
    let revealed = reveal(&app, &revealer, id).await;
    assert_eq!(
        revealed.body["data"]["credentials"]["auth_token"],
        twilio_token(5)
    );
    assert_eq!(revealed.body["data"]["version"], 2);

    // Promote without an overlap: nothing previous.
    let started = start(&app, &owner, id, &json!({"auth_token": twilio_token(6)})).await;
    let rid = rotation_id(&started);
    let promote = format!("{CONFIGS}{id}/rotations/{rid}/promote/");
    for bad in [
        json!({"keep_previous_for_seconds": -1}),
        json!({"keep_previous_for_seconds": 604_801}),
    ] {
        let answer = post(&app, &owner, &promote, Some(&bad)).await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.text);
        assert!(answer.body["errors"]["keep_previous_for_seconds"].is_array());
    }
    let answer = post(
        &app,
        &owner,
        &promote,
        Some(&json!({"keep_previous_for_seconds": 0})),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(version_rows(&app, backend, id), 0);
    assert_eq!(
        reveal(&app, &revealer, id).await.body["data"]["previous"],
        Value::Null
    );

    // Two promotions of one rotation at once: one wins, the other is refused.
    let started = start(&app, &owner, id, &json!({"auth_token": twilio_token(10)})).await;
    let rid = rotation_id(&started);
    let promote = format!("{CONFIGS}{id}/rotations/{rid}/promote/");
    let body = json!({"keep_previous_for_seconds": 0});
    let (first, second) = tokio::join!(
        post(&app, &owner, &promote, Some(&body)),
        post(&app, &owner, &promote, Some(&body))
    );
    let mut statuses = [first.status, second.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} {}", first.text, second.text);
    assert_eq!(
        reveal(&app, &revealer, id).await.body["data"]["credentials"]["auth_token"],
        twilio_token(10)
    );

    // An overlap ended by hand, and one ended by a PATCH.
    for end_by_patch in [false, true] {
        let token = twilio_token(if end_by_patch { 8 } else { 7 });
        let started = start(&app, &owner, id, &json!({"auth_token": token})).await;
        let rid = rotation_id(&started);
        let answer = post(
            &app,
            &owner,
            &format!("{CONFIGS}{id}/rotations/{rid}/promote/"),
            Some(&json!({"keep_previous_for_seconds": 600})),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        assert!(reveal(&app, &revealer, id).await.body["data"]["previous"].is_object());
        if end_by_patch {
            let patched = app
                .patch_config(&owner, id, &json!({"auth_token": twilio_token(9)}))
                .await;
            assert_eq!(patched.status, 200);
        } else {
            let ended = delete(
                &app,
                &owner,
                &format!("{CONFIGS}{id}/credentials/previous/"),
            )
            .await;
            assert_eq!(ended.status, 204, "{}", ended.text);
        }
        assert_eq!(version_rows(&app, backend, id), 0, "patch: {end_by_patch}");
        assert_eq!(
            reveal(&app, &revealer, id).await.body["data"]["previous"],
            Value::Null
        );
    }
    // Nothing to end: still 204; another organization: 404.
    let path = format!("{CONFIGS}{id}/credentials/previous/");
    assert_eq!(delete(&app, &owner, &path).await.status, 204);
    assert_eq!(delete(&app, &stranger, &path).await.status, 404);
    assert_eq!(delete(&app, &viewer, &path).await.status, 403);
    stand_in.stop().await;
}

on_both_backends!(
    a_promoted_rotation_overlaps_then_the_previous_version_is_erased,
    cancel_patch_and_refusals,
);
