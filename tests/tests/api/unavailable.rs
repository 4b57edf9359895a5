//! When the database is out of reach the service answers 503 with `Retry-After`
//! quickly, never hangs and never 500s, keeps `/health/live` up, and recovers by
//! itself once the database is back.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;
use switchboard_domain::identity::Role;
use switchboard_test_support::{
    TestDatabase, postgres_only, spawn_app_on, twilio_sid, twilio_token,
};

const CONFIGS: &str = "/telephony/providers-configurations/";

postgres_only! {
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_is_503_then_recovers() {
    let database = TestDatabase::postgres();
    let admin_url =
        std::env::var("SWITCHBOARD_TEST_POSTGRES_URL").expect("set when a database exists");
    let name = database
        .url()
        .rsplit('/')
        .next()
        .expect("database name")
        .split('?')
        .next()
        .expect("name")
        .to_owned();
    let app = spawn_app_on(database, |settings| {
        settings.database.connect_timeout_ms = 1000;
    })
    .await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let token = Some(owner.token.as_str());
    let answer = app.create_config(&owner, &json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1)})).await;
    assert_eq!(answer.status, 201);

    let mut admin = PgConnection::establish(&admin_url).expect("admin connection");
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
        ))
        .expect("database closed");
    println!("closed database {name} to new connections and ended its sessions");

    for (method, body) in [
        (Method::GET, None),
        (
            Method::POST,
            Some(
                json!({"provider": "twilio", "account_sid": twilio_sid(2), "auth_token": twilio_token(2)}),
            ),
        ),
    ] {
        let started = Instant::now();
        let answer = app
            .call(method.clone(), CONFIGS, token, Some("acme"), body.as_ref(), &[])
            .await;
        let elapsed = started.elapsed();
        println!(
            "{method} during the outage: {} after {elapsed:?}",
            answer.status
        );
        assert_eq!(answer.status, 503, "{}", answer.text);
        assert_eq!(answer.header("retry-after"), Some("1"));
        assert_eq!(
            answer.text,
            r#"{"status_code":503,"message":"Service temporarily unavailable.","code":"unavailable"}"#
        );
        assert!(elapsed < Duration::from_secs(5), "answered in {elapsed:?}");
    }
    let live = app
        .client
        .get(app.url("/health/live"))
        .send()
        .await
        .expect("sent");
    assert_eq!(live.status(), 200);
    let ready = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .expect("sent");
    assert_eq!(ready.status(), 503);

    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true;"
        ))
        .expect("database reopened");
    let reopened = Instant::now();
    loop {
        let answer = app.list_configs(&owner, "")
            .await;
        if answer.status == 200 {
            assert_eq!(answer.body["count"], 1, "nothing was lost");
            break;
        }
        assert_eq!(answer.status, 503);
        assert!(
            reopened.elapsed() < Duration::from_secs(10),
            "no recovery within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "recovered {:?} after the database reopened",
        reopened.elapsed()
    );
    app.stop().await;
}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_locked_by_another_process_is_503_on_writes_only() {
    let database = TestDatabase::sqlite();
    let path = database.url().trim_start_matches("sqlite://").to_owned();
    let app = spawn_app_on(database, |settings| {
        settings.database.statement_timeout_ms = 500;
    })
    .await;
    app.organization("acme");
    let owner = app.user_in("acme", Role::Owner);
    let answer = app.create_config(&owner, &json!({"provider": "twilio", "account_sid": twilio_sid(1), "auth_token": twilio_token(1)})).await;
    assert_eq!(answer.status, 201);

    let mut locker = SqliteConnection::establish(&path).expect("second connection");
    locker.batch_execute("BEGIN EXCLUSIVE;").expect("locked");
    let started = Instant::now();
    let answer = app.create_config(&owner, &json!({"provider": "twilio", "account_sid": twilio_sid(2), "auth_token": twilio_token(2)})).await;
    println!(
        "write while locked: {} after {:?}",
        answer.status,
        started.elapsed()
    );
    assert_eq!(answer.status, 503, "{}", answer.text);
    assert_eq!(answer.header("retry-after"), Some("1"));
    let answer = app.list_configs(&owner, "").await;
    assert_eq!(answer.status, 200, "reads of committed data keep working");
    assert_eq!(answer.body["count"], 1);

    locker.batch_execute("COMMIT;").expect("unlocked");
    let answer = app.create_config(&owner, &json!({"provider": "twilio", "account_sid": twilio_sid(2), "auth_token": twilio_token(2)})).await;
    assert_eq!(
        answer.status, 201,
        "writes recover once the lock is released"
    );
    app.stop().await;
}
