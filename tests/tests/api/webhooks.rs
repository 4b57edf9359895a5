//! End-to-end tests of change events and webhooks (contract section 13) on SQLite
//! and PostgreSQL: a real receiver on a loopback port verifies every delivery with
//! the Standard Webhooks reference implementation (the `standardwebhooks` crate),
//! sees each event once per endpoint in commit order, the same `webhook-id` on the
//! retries after two 500s, both signatures after a secret rotation, and never a
//! secret in a body; the `/events/` feed pages in commit order and records nothing
//! for a refused change; a 410 disables the endpoint; targets in private ranges are
//! refused without the setting, literal or by name.

#![expect(
    clippy::expect_used,
    reason = "test scenarios: a failed step is a test failure"
)]

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use reqwest::Method;
use serde_json::{Value, json};
use switchboard_domain::identity::Role;
use switchboard_test_support::{
    Answer, Backend, TestApp, TestDatabase, TestUser, on_both_backends, spawn_app, spawn_app_on,
    twilio_sid, twilio_token,
};

const CONFIGS: &str = "/telephony/providers-configurations/";
const ENDPOINTS: &str = "/webhooks/endpoints/";

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Received {
    pub(crate) fn id(&self) -> String {
        self.headers
            .get("webhook-id")
            .and_then(|value| value.to_str().ok())
            .expect("webhook-id")
            .to_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub(crate) fn verifies_with(&self, secret: &str) -> bool {
        standardwebhooks::Webhook::new(secret)
            .expect("a Standard Webhooks secret")
            .verify(&self.body, &self.headers)
            .is_ok()
    }
}

#[derive(Default)]
struct ReceiverState {
    received: Mutex<Vec<Received>>,
    /// Statuses to answer first, in order; then 200.
    script: Mutex<VecDeque<u16>>,
}

/// A webhook receiver on a free loopback port.
pub(crate) struct Receiver {
    pub(crate) url: String,
    state: Arc<ReceiverState>,
    handle: actix_web::dev::ServerHandle,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ReceiverState>,
) -> HttpResponse {
    let mut headers = http::HeaderMap::new();
    for (name, value) in req.headers() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    state
        .received
        .lock()
        .expect("receiver lock")
        .push(Received {
            headers,
            body: body.to_vec(),
        });
    let status = state
        .script
        .lock()
        .expect("receiver lock")
        .pop_front()
        .unwrap_or(200);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a status")).finish()
}

impl Receiver {
    pub(crate) async fn start(script: &[u16]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("address").port();
        let state = Arc::new(ReceiverState {
            received: Mutex::new(Vec::new()),
            script: Mutex::new(script.iter().copied().collect()),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .expect("receiver listens")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            state,
            handle,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("receiver lock").clone()
    }

    /// Waits until `count` requests arrived (a test failure after 60 s).
    pub(crate) async fn wait_for(&self, count: usize) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{} of {count} deliveries arrived within 60 s",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn stop(self) {
        self.handle.stop(true).await;
    }
}

async fn call(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Answer {
    app.call(
        method,
        path,
        Some(&user.token),
        Some(&user.org),
        body.as_ref(),
        &[],
    )
    .await
}

async fn create_endpoint(app: &TestApp, owner: &TestUser, body: Value) -> (i64, String) {
    let created = call(app, owner, Method::POST, ENDPOINTS, Some(body)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["data"]["id"].as_i64().expect("endpoint id");
    let secret = created.body["data"]["secret"]
        .as_str()
        .expect("the secret, shown once")
        .to_owned();
    assert!(secret.starts_with("whsec_"), "secret form");
    (id, secret)
}

async fn create_config(app: &TestApp, owner: &TestUser, n: u32) -> (i64, String) {
    let token = twilio_token(n);
    let created = call(
        app,
        owner,
        Method::POST,
        CONFIGS,
        Some(json!({"provider": "twilio", "account_sid": twilio_sid(n), "auth_token": token})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    (
        created.body["data"]["id"].as_i64().expect("config id"),
        token,
    )
}

async fn feed(app: &TestApp, owner: &TestUser, query: &str) -> Answer {
    let answer = call(app, owner, Method::GET, &format!("/events/{query}"), None).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer
}

/// The feed once it shows `count` events. On PostgreSQL an event becomes visible
/// when every older transaction of the server has ended (the feed never passes an
/// event a slower transaction may still commit), so a test sharing the server with
/// other suites may wait a moment.
async fn feed_with(app: &TestApp, owner: &TestUser, query: &str, count: usize) -> Answer {
    let start = Instant::now();
    loop {
        let answer = feed(app, owner, query).await;
        let seen = answer.body["data"].as_array().map_or(0, Vec::len);
        if seen >= count {
            return answer;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{seen} of {count} events: {}",
            answer.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ids_of(answer: &Answer) -> Vec<String> {
    answer.body["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|event| event["id"].as_str().expect("event id").to_owned())
        .collect()
}

async fn signed_ordered_and_secret_free(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let receiver = Receiver::start(&[]).await;
    let second = Receiver::start(&[]).await;
    let (_, secret) = create_endpoint(&app, &owner, json!({"url": receiver.url})).await;
    let (_, second_secret) = create_endpoint(
        &app,
        &owner,
        json!({"url": second.url, "event_types": ["provider_configuration.deleted"],
               "description": "deletions only"}),
    )
    .await;

    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for n in 1..=3 {
        let (id, token) = create_config(&app, &owner, n).await;
        ids.push(id);
        tokens.push(token);
    }
    let renamed = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("{CONFIGS}{}/", ids[0]),
        Some(json!({"name": "renamed", "auth_token": twilio_token(9)})),
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    tokens.push(twilio_token(9));
    let deleted = call(
        &app,
        &owner,
        Method::DELETE,
        &format!("{CONFIGS}{}/", ids[1]),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);

    let received = receiver.wait_for(5).await;
    let deletions = second.wait_for(1).await;
    // Nothing more arrives: each event once per endpoint.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let received_after = receiver.received();
    assert_eq!(received_after.len(), 5, "each event exactly once");
    assert_eq!(second.received().len(), 1, "only the subscribed type");

    // Every delivery verifies with the reference implementation, and never with
    // another endpoint's secret.
    for delivery in received.iter() {
        assert!(delivery.verifies_with(&secret), "signature verifies");
        assert!(!delivery.verifies_with(&second_secret));
        let text = String::from_utf8(delivery.body.clone()).expect("UTF-8");
        for token in &tokens {
            assert!(!text.contains(token.as_str()), "a secret in a body");
        }
        assert!(!text.contains(&secret) && !text.contains("whsec_"));
    }
    assert!(deletions[0].verifies_with(&second_secret));
    assert_eq!(
        deletions[0].json()["type"],
        "provider_configuration.deleted"
    );

    // Commit order, as the feed shows it.
    let types: Vec<String> = received
        .iter()
        .map(|delivery| delivery.json()["type"].as_str().expect("type").to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "provider_configuration.created",
            "provider_configuration.created",
            "provider_configuration.created",
            "provider_configuration.updated",
            "provider_configuration.deleted",
        ]
    );
    let all = feed_with(&app, &owner, "", 5).await;
    let delivered_ids: Vec<String> = received.iter().map(Received::id).collect();
    assert_eq!(
        ids_of(&all),
        delivered_ids,
        "deliveries follow the feed's order"
    );
    let first = received[0].json();
    assert_eq!(first["organization"], "acme");
    assert_eq!(first["data"]["id"], ids[0]);
    assert_eq!(first["data"]["auth_token_last4"], tokens[0][28..]);
    assert!(first["data"].get("auth_token").is_none());
    assert_eq!(
        first["data"]["credentials"]["auth_token"]["last4"],
        tokens[0][28..]
    );
    assert_eq!(first["data"]["credentials"]["account_sid"], twilio_sid(1));
    assert_eq!(received[3].json()["data"]["name"], "renamed");

    // Paging with next_after.
    let page = feed(&app, &owner, "?limit=2").await;
    assert_eq!(ids_of(&page), delivered_ids[..2]);
    let next = page.body["next_after"]
        .as_str()
        .expect("next_after")
        .to_owned();
    let page = feed(&app, &owner, &format!("?after={next}&limit=2")).await;
    assert_eq!(ids_of(&page), delivered_ids[2..4]);
    let next = page.body["next_after"]
        .as_str()
        .expect("next_after")
        .to_owned();
    let last = feed(&app, &owner, &format!("?after={next}")).await;
    assert_eq!(ids_of(&last), delivered_ids[4..]);
    let end = last.body["next_after"]
        .as_str()
        .expect("next_after")
        .to_owned();
    let empty = feed(&app, &owner, &format!("?after={end}")).await;
    assert_eq!(ids_of(&empty), Vec::<String>::new());
    assert_eq!(empty.body["next_after"], end.as_str());
    for bad in ["?limit=0", "?limit=101", "?after=nope", "?page=1"] {
        let answer = call(&app, &owner, Method::GET, &format!("/events/{bad}"), None).await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.text);
    }
    let unknown = call(
        &app,
        &owner,
        Method::GET,
        "/events/?after=evt_unknown",
        None,
    )
    .await;
    assert_eq!(unknown.status, 404);

    // The delivery list shows what happened.
    receiver.stop().await;
    second.stop().await;
}

async fn retries_keep_the_webhook_id(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let receiver = Receiver::start(&[500, 500]).await;
    let (endpoint, secret) = create_endpoint(&app, &owner, json!({"url": receiver.url})).await;
    create_config(&app, &owner, 1).await;
    let received = receiver.wait_for(3).await;
    let first = received[0].id();
    assert!(first.starts_with("evt_"));
    for attempt in &received {
        assert_eq!(attempt.id(), first, "the same webhook-id on every retry");
        assert!(attempt.verifies_with(&secret));
        assert_eq!(attempt.body, received[0].body, "the same body");
    }
    let start = Instant::now();
    let delivery = loop {
        let listed = call(
            &app,
            &owner,
            Method::GET,
            &format!("{ENDPOINTS}{endpoint}/deliveries/"),
            None,
        )
        .await;
        assert_eq!(listed.status, 200, "{}", listed.text);
        let delivery = listed.body["data"][0].clone();
        if delivery["status"] == "succeeded" {
            break delivery;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{delivery}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["last_status_code"], 200);
    assert_eq!(delivery["event_id"], first.as_str());
    assert_eq!(delivery["event_type"], "provider_configuration.created");
    assert_eq!(delivery["next_attempt_at"], Value::Null);

    // A manual retry sends it once more, with the same id.
    let retried = call(
        &app,
        &owner,
        Method::POST,
        &format!("/webhooks/deliveries/{}/retry/", delivery["id"]),
        None,
    )
    .await;
    assert_eq!(retried.status, 202, "{}", retried.text);
    let received = receiver.wait_for(4).await;
    assert_eq!(received[3].id(), first);
    receiver.stop().await;
}

async fn gone_disables_and_the_schedule_ends_dead(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let gone = Receiver::start(&[410]).await;
    let failing = Receiver::start(&[503, 503, 503, 503, 503]).await;
    let (gone_id, _) = create_endpoint(&app, &owner, json!({"url": gone.url})).await;
    let (failing_id, _) = create_endpoint(&app, &owner, json!({"url": failing.url})).await;
    create_config(&app, &owner, 1).await;
    gone.wait_for(1).await;
    // The test schedule has three retries: four attempts, then dead.
    failing.wait_for(4).await;
    let start = Instant::now();
    loop {
        let endpoint = call(
            &app,
            &owner,
            Method::GET,
            &format!("{ENDPOINTS}{gone_id}/"),
            None,
        )
        .await;
        let failed = call(
            &app,
            &owner,
            Method::GET,
            &format!("{ENDPOINTS}{failing_id}/deliveries/"),
            None,
        )
        .await;
        if endpoint.body["data"]["enabled"] == false && failed.body["data"][0]["status"] == "dead" {
            assert_eq!(endpoint.body["data"]["disabled_reason"], "gone");
            assert!(endpoint.body["data"].get("secret").is_none());
            assert_eq!(failed.body["data"][0]["attempts"], 4);
            assert_eq!(failed.body["data"][0]["last_status_code"], 503);
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{} {}",
            endpoint.text,
            failed.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A disabled endpoint receives nothing more.
    create_config(&app, &owner, 2).await;
    // The live endpoint gets the new event (waited for, however busy the machine);
    // by then the worker has passed the disabled one, which got nothing more.
    failing.wait_for(5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(gone.received().len(), 1);
    assert_eq!(failing.received().len(), 5);
    gone.stop().await;
    failing.stop().await;
}

async fn endpoints_crud_rotation_and_test_events(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let member = app.user_in("acme", Role::Member);
    let receiver = Receiver::start(&[]).await;
    let (id, old_secret) = create_endpoint(
        &app,
        &owner,
        json!({"url": receiver.url, "event_types": ["provider_configuration.created"]}),
    )
    .await;
    let path = format!("{ENDPOINTS}{id}/");
    let got = call(&app, &owner, Method::GET, &path, None).await;
    assert_eq!(got.status, 200);
    assert!(!got.text.contains(&old_secret) && got.body["data"].get("secret").is_none());
    assert_eq!(
        got.body["data"]["event_types"],
        json!(["provider_configuration.created"])
    );
    let listed = call(&app, &owner, Method::GET, ENDPOINTS, None).await;
    assert_eq!(listed.body["count"], 1);
    assert!(!listed.text.contains("whsec_"));

    for (body, field) in [
        (json!({"event_types": ["bridge.renamed"]}), "event_types"),
        (json!({"event_types": "bridge.created"}), "event_types"),
        (json!({"url": "ftp://example.com/x"}), "url"),
        (json!({"url": "not a url"}), "url"),
        (json!({"enabled": "yes"}), "enabled"),
    ] {
        let refused = call(&app, &owner, Method::PATCH, &path, Some(body.clone())).await;
        assert_eq!(refused.status, 400, "{body}: {}", refused.text);
        assert!(
            refused.body["errors"].get(field).is_some(),
            "{}",
            refused.text
        );
    }
    let empty = call(&app, &owner, Method::PATCH, &path, Some(json!({}))).await;
    assert_eq!(empty.status, 400);
    let forbidden = call(&app, &member, Method::GET, ENDPOINTS, None).await;
    assert_eq!(forbidden.status, 403);

    // Rotation: the new secret once; both sign for a day.
    let rotated = call(
        &app,
        &owner,
        Method::POST,
        &format!("{path}rotate-secret/"),
        None,
    )
    .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let new_secret = rotated.body["data"]["secret"]
        .as_str()
        .expect("new secret")
        .to_owned();
    assert_ne!(new_secret, old_secret);
    assert!(rotated.body["data"]["previous_secret_expires_at"].is_string());
    create_config(&app, &owner, 1).await;
    let received = receiver.wait_for(1).await;
    assert!(received[0].verifies_with(&new_secret));
    assert!(received[0].verifies_with(&old_secret));
    let signatures = received[0]
        .headers
        .get("webhook-signature")
        .and_then(|value| value.to_str().ok())
        .expect("signature");
    assert_eq!(signatures.split(' ').count(), 2);

    // A test event goes to this endpoint whatever it subscribed to.
    let tested = call(&app, &owner, Method::POST, &format!("{path}test/"), None).await;
    assert_eq!(tested.status, 202, "{}", tested.text);
    let received = receiver.wait_for(2).await;
    assert_eq!(received[1].json()["type"], "webhook.test");
    assert_eq!(
        received[1].id(),
        tested.body["data"]["event_id"].as_str().expect("id")
    );

    // Unsubscribed types are not delivered; a PATCH changes the subscription.
    let patched = call(
        &app,
        &owner,
        Method::PATCH,
        &path,
        Some(json!({"event_types": [], "description": "all events"})),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.body["data"]["event_types"], json!([]));
    assert_eq!(patched.body["data"]["description"], "all events");

    let deleted = call(&app, &owner, Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, 204);
    let gone = call(&app, &owner, Method::GET, &path, None).await;
    assert_eq!(gone.status, 404);
    let other = call(
        &app,
        &owner,
        Method::GET,
        &format!("{ENDPOINTS}999999/"),
        None,
    )
    .await;
    assert_eq!(other.status, 404);
    receiver.stop().await;
}

async fn events_are_recorded_without_endpoints_and_not_for_refused_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    app.organization("acme");
    app.organization("other");
    let owner = app.user_in("acme", Role::Owner);
    let stranger = app.user_in("other", Role::Owner);
    create_config(&app, &owner, 1).await;
    let duplicate = call(
        &app,
        &owner,
        Method::POST,
        CONFIGS,
        Some(json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(2)})),
    )
    .await;
    assert_eq!(duplicate.status, 409);
    let events = feed_with(&app, &owner, "", 1).await;
    assert_eq!(events.body["data"].as_array().expect("list").len(), 1);
    assert_eq!(
        events.body["data"][0]["type"],
        "provider_configuration.created"
    );
    // Another organization sees none of them, and cannot page from them.
    let theirs = feed(&app, &stranger, "").await;
    assert_eq!(theirs.body["data"], json!([]));
    let first = ids_of(&events)[0].clone();
    let probe = call(
        &app,
        &stranger,
        Method::GET,
        &format!("/events/?after={first}"),
        None,
    )
    .await;
    assert_eq!(probe.status, 404);

    // Bridges and numbers.
    let number = call(
        &app,
        &owner,
        Method::POST,
        "/telephony/numbers/",
        Some(json!({"number": "+14155550100"})),
    )
    .await;
    assert_eq!(number.status, 201, "{}", number.text);
    let number_id = number.body["data"]["id"].as_i64().expect("number id");
    let bridge = call(
        &app,
        &owner,
        Method::POST,
        "/telephony/bridges/",
        Some(json!({"name": "Main line", "number_ids": [number_id]})),
    )
    .await;
    assert_eq!(bridge.status, 201, "{}", bridge.text);
    let slug = bridge.body["data"]["slug"]
        .as_str()
        .expect("slug")
        .to_owned();
    let renamed = call(
        &app,
        &owner,
        Method::PATCH,
        &format!("/telephony/bridges/{slug}/"),
        Some(json!({"name": "Renamed line"})),
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    let refused = call(
        &app,
        &owner,
        Method::DELETE,
        &format!("/telephony/numbers/{number_id}/"),
        None,
    )
    .await;
    assert_eq!(
        refused.status, 409,
        "an assigned number: no change, no event"
    );
    let deleted = call(
        &app,
        &owner,
        Method::DELETE,
        &format!("/telephony/bridges/{slug}/"),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
    let deleted = call(
        &app,
        &owner,
        Method::DELETE,
        &format!("/telephony/numbers/{number_id}/"),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
    let events = feed_with(&app, &owner, &format!("?after={first}"), 5).await;
    let types: Vec<&str> = events.body["data"]
        .as_array()
        .expect("list")
        .iter()
        .map(|event| event["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        types,
        [
            "number.created",
            "bridge.created",
            "bridge.updated",
            "bridge.deleted",
            "number.deleted"
        ]
    );
    assert_eq!(events.body["data"][2]["data"]["name"], "Renamed line");
    assert_eq!(events.body["data"][2]["data"]["slug"], slug.as_str());
    assert_eq!(events.body["data"][4]["data"]["number"], "+14155550100");
}

async fn private_targets_are_refused_without_the_setting(backend: Backend) {
    let app = spawn_app_on(TestDatabase::new(backend), |settings| {
        settings.webhooks.allow_private_targets = false;
    })
    .await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    for url in [
        "http://127.0.0.1/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://0x7f.1/hook",
        "https://2130706433/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest",
        "https://user:pass@example.com/hook",
    ] {
        let refused = call(
            &app,
            &owner,
            Method::POST,
            ENDPOINTS,
            Some(json!({"url": url})),
        )
        .await;
        assert_eq!(refused.status, 400, "{url}: {}", refused.text);
        assert!(
            refused.body["errors"].get("url").is_some(),
            "{}",
            refused.text
        );
        assert!(!refused.text.contains(url), "the URL is not echoed");
    }
    let listed = call(&app, &owner, Method::GET, ENDPOINTS, None).await;
    assert_eq!(listed.body["count"], 0);
}

on_both_backends!(
    signed_ordered_and_secret_free,
    retries_keep_the_webhook_id,
    gone_disables_and_the_schedule_ends_dead,
    endpoints_crud_rotation_and_test_events,
    events_are_recorded_without_endpoints_and_not_for_refused_changes,
    private_targets_are_refused_without_the_setting,
);
