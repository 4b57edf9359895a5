//! Benchmark-style check, not part of the regular suite (ignored; run it with
//! `cargo test -p switchboard-e2e --release --test login_timing -- --ignored --nocapture`):
//! the median time of logins with an unknown email and with a wrong password must
//! differ by less than 20%, so that a login's timing does not tell whether an email
//! has an account. It prints both medians and their ratio.

use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;
use switchboard_test_support::{TestDatabase, spawn_app_on};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark-style timing check; run explicitly"]
async fn unknown_email_and_wrong_password_take_the_same_time() {
    let database = TestDatabase::sqlite();
    let app = spawn_app_on(database, |settings| {
        settings.auth.login_email_failures_per_minute = 0;
        settings.auth.login_address_failures_per_minute = 0;
    })
    .await;
    app.services
        .identity
        .create_user(
            "ops@acme.test",
            &SecretString::from("correct horse battery"),
        )
        .expect("user");
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    // Interleaved, so that drift in the machine's load affects both alike.
    for round in 0..42 {
        for (email, samples) in [
            ("ghost@acme.test", &mut unknown),
            ("ops@acme.test", &mut wrong),
        ] {
            let started = Instant::now();
            let answer = app
                .call(
                    Method::POST,
                    "/auth/login/",
                    None,
                    None,
                    Some(&json!({"email": email, "password": "not the password"})),
                    &[],
                )
                .await;
            let elapsed = started.elapsed();
            assert_eq!(answer.status, 401);
            if round >= 2 {
                samples.push(elapsed);
            }
        }
    }
    let (unknown, wrong) = (median(unknown), median(wrong));
    let ratio = unknown.as_secs_f64() / wrong.as_secs_f64();
    println!(
        "login timing, median of 40 each: unknown email {unknown:?}, wrong password {wrong:?}, ratio {ratio:.3}"
    );
    assert!(
        (0.8..=1.25).contains(&ratio),
        "timings differ by 20% or more: {ratio:.3}"
    );
}
