//! Several replicas for real (contract section 14): three processes of the real
//! `switchboard` binary behind Debian's `haproxy` (health checks on
//! `/health/ready`), on the machine's PostgreSQL through Debian's `pgbouncer` in
//! transaction mode (Diesel's statement cache off, migrations on the direct URL),
//! with rate limits and failed-login counters in a Redis of the test's own. The
//! test starts its own Redis, pgbouncer and haproxy on free ports and never touches
//! the shared servers beyond its own fresh database.
//!
//! It shows: a burst of one token spread over the replicas gets `burst` ± 1
//! answers that are not 429; failed logins are throttled across replicas; 20
//! racing creates give one 201 through pgbouncer; a token revoked through one
//! replica is refused by every replica at once; kill -9 of one replica under load
//! loses no acknowledged write and haproxy routes around it; with Redis stopped,
//! requests keep succeeding (fail open) and the store-error metric rises.
//!
//! Ignored by default (it needs the three programs); `.ci/run` runs it with
//! `cargo test -p switchboard-server --test replicas -- --ignored --nocapture`.
//! Throughput figures come from `scripts/bench/replicas.sh`, not from here.

#![expect(
    clippy::expect_used,
    reason = "a multi-replica scenario: a failed step is a test failure"
)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{Value, json};
use switchboard_test_support::process::{
    ServerProcess, free_port, get_plain, get_status, server_command, wait_for, which,
};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard");
const CONFIGS: &str = "/api/v2/platform/telephony/providers-configurations/";
const STORE_ERRORS: &str = "switchboard_rate_limit_store_errors_total";

/// Where `program` is installed.
fn installed(program: &str) -> PathBuf {
    which(program).unwrap_or_else(|| panic!("{program} is not installed (.ci/run installs it)"))
}

/// A helper process (redis-server, pgbouncer, haproxy), killed when dropped. Its
/// output goes to `<name>.log` in the test's directory.
struct Helper {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Helper {
    fn spawn(name: &'static str, dir: &Path, command: &mut Command) -> Self {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let child = command
            .stdout(Stdio::from(file.try_clone().expect("log file")))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap_or_else(|error| panic!("{name} starts: {error}"));
        Self { name, child, log }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("wait") {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            panic!("{} exited with {status}: {log}", self.name);
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One replica: the real binary in the development profile (migrations and the
/// bootstrap at start).
fn start_replica(dir: &Path, port: u16, env: &[(&str, String)]) -> ServerProcess {
    let mut command = server_command(BINARY, dir, "development", port);
    command.env("SWITCHBOARD__SERVER__WORKERS", "2");
    for (name, value) in env {
        command.env(name, value);
    }
    ServerProcess::start(&mut command, port, Duration::from_secs(90))
}

/// The store-error counter of one replica's `/metrics` (0 before any error).
fn replica_store_errors(replica: &ServerProcess) -> f64 {
    get_plain(replica.port(), "/metrics", Duration::from_secs(5))
        .expect("replica answers")
        .lines()
        .filter(|line| line.starts_with(STORE_ERRORS))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |total, value| total + value)
}

/// The store-error counters of every replica, added up.
fn store_errors(replicas: &[ServerProcess]) -> usize {
    let total = replicas
        .iter()
        .map(replica_store_errors)
        .fold(0.0, |sum, value| sum + value);
    // A count, exported as a float.
    format!("{total:.0}").parse().unwrap_or(0)
}

/// A directory the `postgres` system user may read (pgbouncer refuses to run as
/// root, so it runs as that user when the test is root).
fn shared_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let _ = Command::new("chmod")
        .args(["0755"])
        .arg(dir.path())
        .status();
    dir
}

fn id(args: &[&str]) -> Option<u32> {
    let output = Command::new("id").args(args).output().ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

fn start_redis(dir: &Path, port: u16) -> Helper {
    let redis = Helper::spawn(
        "redis-server",
        dir,
        Command::new(installed("redis-server")).args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]),
    );
    wait_for("redis-server", Duration::from_secs(10), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    redis
}

/// pgbouncer in transaction mode in front of the machine's PostgreSQL.
fn start_pgbouncer(dir: &Path, port: u16, postgres_port: u16) -> Helper {
    let userlist = dir.join("userlist.txt");
    std::fs::write(&userlist, "\"postgres\" \"\"\n").expect("userlist");
    let config = dir.join("pgbouncer.ini");
    std::fs::write(
        &config,
        format!(
            "[databases]\n* = host=127.0.0.1 port={postgres_port}\n\n[pgbouncer]\n\
             listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
             auth_type = trust\nauth_file = {}\npool_mode = transaction\n\
             max_client_conn = 500\ndefault_pool_size = 12\nmax_db_connections = 12\n\
             server_reset_query =\nignore_startup_parameters = extra_float_digits\n\
             log_connections = 0\nlog_disconnections = 0\n",
            userlist.display(),
        ),
    )
    .expect("pgbouncer.ini");
    let mut command = Command::new(installed("pgbouncer"));
    if id(&["-u"]) == Some(0) {
        // pgbouncer refuses to run as root: the postgres system user runs it.
        use std::os::unix::process::CommandExt;
        let uid = id(&["-u", "postgres"]).expect("a postgres user");
        let gid = id(&["-g", "postgres"]).expect("a postgres group");
        command.uid(uid).gid(gid);
    }
    let mut pgbouncer = Helper::spawn("pgbouncer", dir, command.arg(&config));
    wait_for("pgbouncer", Duration::from_secs(10), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    pgbouncer.assert_running();
    pgbouncer
}

/// haproxy round-robin over the replicas, each checked on `/health/ready` every
/// 200 ms (two failures take it out, two successes bring it back). A request whose
/// connection to a replica fails is sent to another (nothing was sent yet, so even
/// a POST is safe to redispatch).
fn start_haproxy(dir: &Path, port: u16, replicas: &[u16]) -> Helper {
    let servers: String = replicas
        .iter()
        .enumerate()
        .map(|(index, replica)| format!("    server r{index} 127.0.0.1:{replica} check\n"))
        .collect();
    let config = dir.join("haproxy.cfg");
    std::fs::write(
        &config,
        format!(
            "global\n    maxconn 2000\n\ndefaults\n    mode http\n    timeout connect 1s\n\
             timeout client 30s\n    timeout server 30s\n    retries 3\n\
             option redispatch 1\n    retry-on conn-failure\n    option forwardfor\n\n\
             frontend switchboard\n    bind 127.0.0.1:{port}\n    default_backend replicas\n\n\
             backend replicas\n    balance roundrobin\n    option httpchk GET /health/ready\n\
             http-check expect status 200\n    default-server inter 200ms fall 2 rise 2\n{servers}"
        ),
    )
    .expect("haproxy.cfg");
    let mut haproxy = Helper::spawn(
        "haproxy",
        dir,
        Command::new(installed("haproxy"))
            .args(["-db", "-f"])
            .arg(&config),
    );
    wait_for("haproxy", Duration::from_secs(10), || {
        get_status(port, "/health/ready") == Some(200)
    });
    haproxy.assert_running();
    haproxy
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> Result<(u16, Value), reqwest::Error> {
    let mut request = client
        .request(method, url)
        .header("Authorization", format!("Token {token}"))
        .header("Org-Handle", "default");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

async fn mint(client: &reqwest::Client, base: &str, token: &str, name: &str) -> (String, i64) {
    let (status, created) = send(
        client,
        reqwest::Method::POST,
        format!("{base}/api/v2/platform/auth/tokens/"),
        token,
        Some(json!({"name": name})),
    )
    .await
    .expect("answered");
    assert_eq!(status, 201, "{created}");
    (
        created["data"]["token"].as_str().expect("token").to_owned(),
        created["data"]["id"].as_i64().expect("id"),
    )
}

fn sid(n: u64) -> Value {
    json!({"provider": "twilio", "account_sid": format!("AC{n:032x}"), "auth_token": format!("{n:032x}")})
}

#[test]
#[ignore = "multi-replica test (haproxy, pgbouncer, redis-server): run by .ci/run"]
fn three_replicas_behind_haproxy_share_limits_and_survive_failures() {
    let database = switchboard_test_support::TestDatabase::postgres();
    let direct = url::Url::parse(database.url()).expect("a URL");
    let postgres_port = direct.port().unwrap_or(5432);
    let dir = shared_dir();
    let (redis_port, bouncer_port, proxy_port) = (free_port(), free_port(), free_port());
    let mut redis = start_redis(dir.path(), redis_port);
    let _pgbouncer = start_pgbouncer(dir.path(), bouncer_port, postgres_port);
    let mut pooled = direct.clone();
    pooled.set_port(Some(bouncer_port)).expect("a port");

    let env = |per_second: u32, burst: u32| -> Vec<(&'static str, String)> {
        vec![
            ("SWITCHBOARD__DATABASE__URL", pooled.to_string()),
            ("SWITCHBOARD__DATABASE__MIGRATION_URL", direct.to_string()),
            ("SWITCHBOARD__DATABASE__STATEMENT_CACHE", "false".to_owned()),
            ("SWITCHBOARD__DATABASE__POOL_SIZE", "4".to_owned()),
            ("SWITCHBOARD__RATE_LIMIT__STORE", "redis".to_owned()),
            (
                "SWITCHBOARD__REDIS__URL",
                format!("redis://127.0.0.1:{redis_port}/0"),
            ),
            (
                "SWITCHBOARD__RATE_LIMIT__PER_SECOND",
                per_second.to_string(),
            ),
            ("SWITCHBOARD__RATE_LIMIT__BURST", burst.to_string()),
            (
                "SWITCHBOARD__RATE_LIMIT__PER_USER_PER_SECOND",
                "10000".to_owned(),
            ),
            (
                "SWITCHBOARD__RATE_LIMIT__PER_USER_BURST",
                "20000".to_owned(),
            ),
            (
                "SWITCHBOARD__AUTH__LOGIN_EMAIL_FAILURES_PER_MINUTE",
                "5".to_owned(),
            ),
            (
                "SWITCHBOARD__AUTH__LOGIN_ADDRESS_FAILURES_PER_MINUTE",
                "1000".to_owned(),
            ),
            (
                "SWITCHBOARD__SERVER__TRUSTED_PROXIES",
                "127.0.0.1".to_owned(),
            ),
        ]
    };
    let ports = [free_port(), free_port(), free_port()];
    // Phase 1: a small per-token burst (25, one cell a second).
    const BURST: usize = 25;
    let root = dir.path();
    let start_all = |env: &[(&'static str, String)]| -> Vec<ServerProcess> {
        std::thread::scope(|scope| {
            let handles: Vec<_> = ports
                .iter()
                .map(|port| scope.spawn(move || start_replica(root, *port, env)))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("replica"))
                .collect()
        })
    };
    let mut replicas = start_all(&env(1, BURST as u32));
    let printed: Vec<String> = replicas
        .iter_mut()
        .filter_map(ServerProcess::first_token)
        .collect();
    assert_eq!(
        printed.len(),
        1,
        "one replica bootstraps, three migrate at once"
    );
    let owner = printed[0].clone();
    let _haproxy = start_haproxy(dir.path(), proxy_port, &ports);
    let base = format!("http://127.0.0.1:{proxy_port}");
    let runtime = switchboard_test_support::runtime();
    runtime.block_on(async {
        let client = client();

        // A burst of one token over three replicas: `burst` ± 1 answers not 429. A
        // check the store did not answer within 25 ms lets its request through
        // (fail open, counted): on a loaded machine the upper bound grows by those.
        let (burster, _) = mint(&client, &base, &owner, "burst").await;
        let errors_before = tokio::task::block_in_place(|| store_errors(&replicas));
        let burst = (0..BURST + 15).map(|_| {
            send(
                &client,
                reqwest::Method::GET,
                format!("{base}{CONFIGS}"),
                &burster,
                None,
            )
        });
        let statuses: Vec<u16> = futures_util::future::join_all(burst)
            .await
            .into_iter()
            .map(|answer| answer.expect("answered").0)
            .collect();
        let served = statuses.iter().filter(|status| **status != 429).count();
        let let_through = tokio::task::block_in_place(|| store_errors(&replicas)) - errors_before;
        println!(
            "burst of {} over three replicas (burst {BURST}): {served} served, \
             {let_through} checks failed open",
            statuses.len()
        );
        assert!(
            statuses
                .iter()
                .all(|status| *status == 200 || *status == 429),
            "{statuses:?}"
        );
        assert!(
            (BURST - 1..=BURST + 1 + let_through).contains(&served),
            "{statuses:?}"
        );
        // The IETF headers agree across replicas.
        let answer = client
            .get(format!("{base}{CONFIGS}"))
            .header("Authorization", format!("Token {owner}"))
            .header("Org-Handle", "default")
            .send()
            .await
            .expect("answered");
        let header = |name: &str| {
            answer
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(
            header("ratelimit-policy").as_deref(),
            Some(&*format!("\"token\";q={BURST};w={BURST}"))
        );
        assert!(header("ratelimit").is_some_and(|value| value.starts_with("\"token\";r=")));

        // Failed logins for one email are throttled across replicas: 5 a minute.
        let errors_before = tokio::task::block_in_place(|| store_errors(&replicas));
        let mut login_statuses = Vec::new();
        for _ in 0..12 {
            let response = client
                .post(format!("{base}/api/v2/platform/auth/login/"))
                .json(&json!({"email": "owner@localhost", "password": "not the password"}))
                .send()
                .await
                .expect("answered");
            login_statuses.push(response.status().as_u16());
        }
        let let_through = tokio::task::block_in_place(|| store_errors(&replicas)) - errors_before;
        println!(
            "12 wrong passwords over three replicas: {login_statuses:?} \
             ({let_through} checks failed open)"
        );
        assert!(
            login_statuses.iter().all(|s| *s == 401 || *s == 429),
            "{login_statuses:?}"
        );
        assert_eq!(login_statuses[..5], [401; 5], "{login_statuses:?}");
        let refused = login_statuses.iter().filter(|s| **s == 429).count();
        assert!(refused + let_through >= 7, "{login_statuses:?}");

        // 20 identical creates racing through pgbouncer: one 201.
        let (creator, _) = mint(&client, &base, &owner, "creator").await;
        let creates = (0..20).map(|_| {
            send(
                &client,
                reqwest::Method::POST,
                format!("{base}{CONFIGS}"),
                &creator,
                Some(sid(7)),
            )
        });
        let statuses: Vec<u16> = futures_util::future::join_all(creates)
            .await
            .into_iter()
            .map(|answer| answer.expect("answered").0)
            .collect();
        println!("20 identical creates through haproxy and pgbouncer: {statuses:?}");
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 409).count(),
            19,
            "{statuses:?}"
        );

        // A token revoked through the balancer is refused by every replica at once.
        let (revoked, revoked_id) = mint(&client, &base, &owner, "revoked").await;
        for port in ports {
            let url = format!("http://127.0.0.1:{port}{CONFIGS}");
            assert_eq!(
                send(&client, reqwest::Method::GET, url, &revoked, None)
                    .await
                    .expect("answered")
                    .0,
                200
            );
        }
        let (status, _) = send(
            &client,
            reqwest::Method::DELETE,
            format!("{base}/api/v2/platform/auth/tokens/{revoked_id}/"),
            &owner,
            None,
        )
        .await
        .expect("answered");
        assert_eq!(status, 204);
        for port in ports {
            let url = format!("http://127.0.0.1:{port}{CONFIGS}");
            let (status, _) = send(&client, reqwest::Method::GET, url, &revoked, None)
                .await
                .expect("answered");
            assert_eq!(status, 401, "replica on {port} still takes a revoked token");
        }
    });
    drop(replicas);

    // Phase 2: limits high enough for load, still in Redis.
    let mut replicas = start_all(&env(5000, 10000));
    wait_for(
        "all three replicas back in haproxy",
        Duration::from_secs(10),
        || (0..6).all(|_| get_status(proxy_port, "/health/ready") == Some(200)),
    );
    let acknowledged: Vec<i64> = runtime.block_on(async {
        let client = client();
        let writers: Vec<_> = (0..4_u64)
            .map(|writer| {
                let (client, base, owner) = (client.clone(), base.clone(), owner.clone());
                tokio::spawn(async move {
                    let mut acknowledged = Vec::new();
                    let mut failed = 0_u32;
                    let started = Instant::now();
                    let mut n = 0;
                    while started.elapsed() < Duration::from_secs(4) {
                        n += 1;
                        let body = sid(1_000_000 * (writer + 1) + n);
                        match send(
                            &client,
                            reqwest::Method::POST,
                            format!("{base}{CONFIGS}"),
                            &owner,
                            Some(body),
                        )
                        .await
                        {
                            Ok((201, created)) => {
                                acknowledged.push(created["data"]["id"].as_i64().expect("id"))
                            }
                            Ok((status, _)) => {
                                assert!(status == 502 || status == 503, "unexpected {status}");
                                failed += 1;
                            }
                            Err(_) => failed += 1,
                        }
                    }
                    (acknowledged, failed)
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // kill -9 of one replica under load.
        tokio::task::block_in_place(|| replicas[1].kill_9());
        println!("replica on port {} killed with -9 under load", ports[1]);
        let mut acknowledged = Vec::new();
        let mut failed = 0;
        for writer in writers {
            let (acked, lost) = writer.await.expect("writer");
            acknowledged.extend(acked);
            failed += lost;
        }
        println!(
            "{} writes acknowledged, {failed} failed in flight",
            acknowledged.len()
        );
        assert!(acknowledged.len() > 20, "the load went on after the kill");
        assert!(
            failed <= 8,
            "at most the requests in flight on the killed replica fail: {failed}"
        );
        acknowledged
    });
    // haproxy has taken the dead replica out: everything through it succeeds.
    runtime.block_on(async {
        let client = client();
        tokio::time::sleep(Duration::from_millis(600)).await;
        for _ in 0..30 {
            let (status, _) = send(
                &client,
                reqwest::Method::GET,
                format!("{base}{CONFIGS}"),
                &owner,
                None,
            )
            .await
            .expect("answered");
            assert_eq!(status, 200, "haproxy routes around the dead replica");
        }
    });
    // No acknowledged write is lost: every id is in the database.
    let mut connection = PgConnection::establish(database.url()).expect("direct connection");
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let ids: Vec<String> = acknowledged.iter().map(ToString::to_string).collect();
    let found = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM provider_configurations WHERE id IN ({})",
        ids.join(",")
    ))
    .get_result::<Count>(&mut connection)
    .expect("counted");
    assert_eq!(
        usize::try_from(found.n).expect("a count"),
        acknowledged.len(),
        "acknowledged writes are all stored"
    );

    // Redis stopped mid-run: requests keep succeeding and the store-error metric rises.
    let live = [&replicas[0], &replicas[2]];
    let before: f64 = live
        .iter()
        .map(|replica| replica_store_errors(replica))
        .sum();
    redis.kill();
    runtime.block_on(async {
        let client = client();
        for _ in 0..20 {
            let (status, _) = send(
                &client,
                reqwest::Method::GET,
                format!("{base}{CONFIGS}"),
                &owner,
                None,
            )
            .await
            .expect("answered");
            assert_eq!(status, 200, "fail open: served without the store");
        }
    });
    let after: f64 = live
        .iter()
        .map(|replica| replica_store_errors(replica))
        .sum();
    println!(
        "{STORE_ERRORS} across the live replicas: {before} before Redis stopped, {after} after"
    );
    assert!(after >= before + 20.0, "{before} -> {after}");
}
