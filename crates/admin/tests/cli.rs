//! `switchboard-admin` as operators and scripts use it, against a real SQLite file in
//! the production profile: migrations, organizations, users, memberships, tokens
//! (checked against the same wiring the server uses) and key generation.

#![expect(
    clippy::expect_used,
    reason = "test helpers: a failed step is a test failure"
)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use secrecy::SecretString;
use switchboard_application::WriteOptions;
use switchboard_domain::identity::Role;
use switchboard_server::settings::Loaded;
use switchboard_server::{Profile, startup};
use switchboard_test_support::process::{SECOND_TEST_KEY, TEST_HMAC_KEY, TEST_KEY, clean_command};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard-admin");

struct Admin {
    dir: tempfile::TempDir,
    database_url: String,
    keys: String,
    primary: u32,
}

impl Admin {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", dir.path().join("admin.db").display());
        Self {
            dir,
            database_url,
            keys: format!("1:{TEST_KEY}"),
            primary: 1,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = clean_command(BINARY, self.dir.path());
        command
            .env("SWITCHBOARD_PROFILE", "production")
            .env("SWITCHBOARD__DATABASE__URL", &self.database_url)
            .env("SWITCHBOARD__CRYPTO__KEYS", &self.keys)
            .env(
                "SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID",
                self.primary.to_string(),
            )
            .env("SWITCHBOARD__AUTH__TOKEN_HMAC_KEY", TEST_HMAC_KEY)
            .args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("admin runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(!output.status.success(), "{args:?} should fail");
        let stderr = without_banner(&String::from_utf8_lossy(&output.stderr));
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "one line on stderr besides the banner: {stderr}"
        );
        stderr
    }

    fn with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("admin runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("written");
        child.wait_with_output().expect("admin finishes")
    }

    /// Through the CLI: a migrated database, organization `acme` and its owner
    /// `ops@acme.test`; returns the owner's API token.
    fn acme_with_owner_token(&self) -> String {
        self.ok(&["migrate"]);
        self.ok(&["org", "create", "--name", "Acme", "--handle", "acme"]);
        let output = self.with_stdin(
            &[
                "user",
                "create",
                "--email",
                "ops@acme.test",
                "--password-stdin",
            ],
            "a long passphrase\n",
        );
        assert!(output.status.success());
        self.ok(&[
            "member",
            "add",
            "--org",
            "acme",
            "--email",
            "ops@acme.test",
            "--role",
            "owner",
        ]);
        let token = self.ok(&["token", "create", "--email", "ops@acme.test", "--name", "t"]);
        token.lines().last().expect("token").trim().to_owned()
    }

    /// The services the server would wire over the same database and keys.
    fn services(&self) -> switchboard_server::Services {
        let mut settings = switchboard_test_support::test_settings(
            &self.database_url,
            self.dir.path().to_path_buf(),
        );
        settings.crypto.keys = SecretString::from(self.keys.clone());
        settings.crypto.primary_key_id = self.primary;
        settings.auth.token_hmac_key = SecretString::from(TEST_HMAC_KEY);
        startup::services(&Loaded {
            profile: Profile::Production,
            settings,
            notes: Vec::new(),
        })
        .expect("services wire")
    }
}

/// Standard error without the start banner (`switchboard-admin: profile ...`).
fn without_banner(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|line| !line.starts_with("switchboard-admin: profile "))
        .map(|line| format!("{line}\n"))
        .collect()
}

fn in_dir(dir: &Path) -> Command {
    clean_command(BINARY, dir)
}

#[test]
fn keys_generate_needs_no_configuration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = in_dir(dir.path())
        .env("SWITCHBOARD_PROFILE", "production")
        .args(["keys", "generate"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    let key = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        switchboard_crypto::parse_key_base64(&key).is_some(),
        "{key}"
    );
    let again = in_dir(dir.path())
        .args(["keys", "generate"])
        .output()
        .expect("runs");
    assert_ne!(String::from_utf8_lossy(&again.stdout).trim(), key);
}

#[test]
fn operators_manage_organizations_users_and_tokens() {
    let admin = Admin::new();

    // Only `migrate` creates a database: the others name the file they looked for.
    let file = admin.dir.path().join("admin.db");
    for args in [
        &["org", "create", "--name", "Acme", "--handle", "acme"][..],
        &["migrate", "--status"],
        &["token", "list", "--email", "ops@example.com"],
    ] {
        let stderr = admin.fails(args);
        assert!(
            stderr.contains("no SQLite database at") && stderr.contains("admin.db"),
            "{args:?}: {stderr}"
        );
        assert!(!file.exists(), "{args:?} created the database");
    }

    // Production refuses to work on a database with pending migrations.
    std::fs::write(&file, b"").expect("an empty database");
    let stderr = admin.fails(&["org", "create", "--name", "Acme", "--handle", "acme"]);
    assert!(stderr.contains("pending"), "{stderr}");

    let status = admin.ok(&["migrate", "--status"]);
    assert!(
        status.lines().all(|line| line.starts_with("pending")),
        "{status}"
    );
    assert!(status.lines().count() >= 2);
    let applied = admin.ok(&["migrate"]);
    assert!(applied.contains("database is current"));
    let status = admin.ok(&["migrate", "--status"]);
    assert!(
        status.lines().all(|line| line.starts_with("applied")),
        "{status}"
    );
    assert!(admin.ok(&["migrate"]).contains("0 migration(s) applied"));

    assert!(
        admin
            .ok(&["org", "create", "--name", "Acme", "--handle", "acme"])
            .contains("acme")
    );
    assert!(
        admin
            .fails(&["org", "create", "--name", "Acme 2", "--handle", "acme"])
            .contains("already exists")
    );
    assert!(
        admin
            .fails(&["org", "create", "--name", "Bad", "--handle", "No"])
            .contains("handle")
    );

    let output = admin.with_stdin(
        &[
            "user",
            "create",
            "--email",
            "Ops@Example.com",
            "--password-stdin",
        ],
        "a long passphrase\n",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = admin.with_stdin(
        &[
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--password-stdin",
        ],
        "another passphrase\n",
    );
    assert!(!output.status.success());
    let output = admin.with_stdin(
        &[
            "user",
            "create",
            "--email",
            "short@example.com",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(
        !output.status.success(),
        "passwords under 8 characters are refused"
    );

    admin.ok(&[
        "member",
        "add",
        "--org",
        "acme",
        "--email",
        "ops@example.com",
        "--role",
        "admin",
    ]);
    assert!(
        admin
            .fails(&[
                "member",
                "add",
                "--org",
                "acme",
                "--email",
                "ops@example.com",
                "--role",
                "root"
            ])
            .contains("role")
    );
    assert!(
        admin
            .fails(&[
                "member",
                "add",
                "--org",
                "nope",
                "--email",
                "ops@example.com",
                "--role",
                "viewer"
            ])
            .contains("organization")
    );
    assert!(
        admin
            .fails(&[
                "member",
                "add",
                "--org",
                "acme",
                "--email",
                "ghost@example.com",
                "--role",
                "viewer"
            ])
            .contains("user")
    );

    let created = admin.ok(&[
        "token",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "ci",
        "--expires-in-days",
        "30",
    ]);
    let token = created
        .lines()
        .last()
        .expect("a last line")
        .trim()
        .to_owned();
    assert!(token.starts_with("sbt_"), "{created}");

    // The token works with the server's wiring, in the organization, with the role.
    let services = admin.services();
    let actor = services
        .identity
        .authenticate_in(&token, "acme")
        .expect("token works");
    assert_eq!(actor.role, Role::Admin);

    let listed = admin.ok(&["token", "list", "--email", "ops@example.com"]);
    assert!(listed.contains("\tci\tsbt_"), "{listed}");
    assert!(!listed.contains(&token));
    let id = listed
        .lines()
        .nth(1)
        .and_then(|line| line.split('\t').next())
        .expect("an id")
        .to_owned();
    admin.ok(&["token", "revoke", "--id", &id]);
    assert!(
        services.identity.authenticate_in(&token, "acme").is_err(),
        "revoked at once"
    );
    assert!(
        admin
            .fails(&["token", "revoke", "--id", &id])
            .contains("no live token")
    );
    assert!(
        admin
            .fails(&[
                "token",
                "create",
                "--email",
                "ghost@example.com",
                "--name",
                "x"
            ])
            .contains("no user")
    );
}

/// Creates a configuration through the server's path: shapes first, then the write.
fn create(
    services: &switchboard_server::Services,
    actor: &switchboard_application::Actor,
    draft: switchboard_domain::telephony::ProviderConfigDraft,
) -> switchboard_domain::telephony::ProviderConfig {
    let checked = services
        .provider_configs
        .check_create(draft)
        .expect("a valid draft");
    services
        .provider_configs
        .create_checked(actor, checked, &WriteOptions::default())
        .expect("created")
}

fn twilio(n: u32) -> switchboard_domain::telephony::ProviderConfigDraft {
    switchboard_domain::telephony::ProviderConfigDraft {
        provider: Some(switchboard_domain::telephony::ProviderRef::Slug(
            "twilio".into(),
        )),
        account_sid: Some(format!("AC{n:032x}")),
        auth_token: Some(SecretString::from(format!("{n:032x}"))),
        ..Default::default()
    }
}

fn key_status(admin: &Admin) -> Vec<(u32, u64)> {
    admin
        .ok(&["keys", "status"])
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut parts = line.split('\t');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })
        .collect()
}

fn reveal_all(services: &switchboard_server::Services, ids: &[i64]) -> Vec<String> {
    use secrecy::ExposeSecret;
    ids.iter()
        .map(|id| {
            services
                .provider_configs
                .reveal_credential(
                    switchboard_domain::identity::OrgId(1),
                    switchboard_domain::telephony::ProviderConfigId(*id),
                )
                .map(|secret| secret.expose_secret().to_owned())
                .expect("credential opens")
        })
        .collect()
}

#[test]
fn keys_rotate_online_and_rewrap_resumes_after_a_kill() {
    let mut admin = Admin::new();
    let token = admin.acme_with_owner_token();

    // Written under key 1.
    let services = admin.services();
    let actor = services
        .identity
        .authenticate_in(&token, "acme")
        .expect("actor");
    let mut ids: Vec<i64> = (0..6)
        .map(|n| create(&services, &actor, twilio(n)).id.0)
        .collect();
    let mut expected: Vec<String> = (0..6).map(|n| format!("{n:032x}")).collect();
    assert_eq!(key_status(&admin), vec![(1, 6)]);

    // Restart with key 2 primary: everything still reads, new writes use key 2.
    admin.keys = format!("1:{TEST_KEY},2:{SECOND_TEST_KEY}");
    admin.primary = 2;
    let services = admin.services();
    assert_eq!(reveal_all(&services, &ids), expected);
    ids.push(create(&services, &actor, twilio(6)).id.0);
    expected.push(format!("{:032x}", 6));
    assert_eq!(key_status(&admin), vec![(1, 6), (2, 1)]);

    // A rewrap killed halfway...
    let mut child = admin
        .command(&["keys", "rewrap", "--batch-size", "1", "--pause-ms", "400"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("rewrap starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let mut batches = 0;
    while batches < 2 {
        let line = lines.next().expect("a line").expect("readable");
        if line.starts_with("batch done") {
            batches += 1;
        }
    }
    child.kill().expect("killed");
    let _ = child.wait();
    let halfway = key_status(&admin);
    println!("after the kill: {halfway:?}");
    let under_1 = halfway
        .iter()
        .find(|(id, _)| *id == 1)
        .map_or(0, |(_, n)| *n);
    assert!(
        (1..6).contains(&under_1),
        "some but not all moved: {halfway:?}"
    );
    assert_eq!(
        reveal_all(&services, &ids),
        expected,
        "nothing lost by the kill"
    );

    // ... finishes when run again.
    let done = admin.ok(&["keys", "rewrap", "--batch-size", "1"]);
    assert!(done.contains("failed 0"), "{done}");
    // Progress against the total: what is left of the 7 stored secrets to move.
    let first = done.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("re-encrypting ") && first.contains(" of 7 stored secret(s) under key 2"),
        "{done}"
    );
    assert!(
        done.lines()
            .filter(|line| line.starts_with("batch done"))
            .all(|line| line.contains(" of ") && line.contains("%)")),
        "{done}"
    );
    assert_eq!(key_status(&admin), vec![(1, 0), (2, 7)]);
    assert!(admin.ok(&["keys", "status"]).contains("can be removed"));

    // Key 1 removed: all still read.
    admin.keys = format!("2:{SECOND_TEST_KEY}");
    let services = admin.services();
    assert_eq!(reveal_all(&services, &ids), expected);
}

/// The current and previous signing secrets of webhook endpoint `id`, opened.
fn webhook_secrets(
    services: &switchboard_server::Services,
    actor: &switchboard_application::identity::Actor,
    id: switchboard_domain::webhooks::EndpointId,
) -> (Option<String>, Option<String>) {
    use secrecy::ExposeSecret;
    let endpoint = services.webhooks.get(actor, id).expect("endpoint");
    let secrets = services.webhooks.signing_secrets(&endpoint);
    let open = |secret: Option<SecretString>| secret.map(|s| s.expose_secret().to_owned());
    (open(secrets.current), open(secrets.previous))
}

#[test]
fn webhook_secrets_are_counted_rewrapped_and_checked_with_the_credentials() {
    use secrecy::ExposeSecret;
    let mut admin = Admin::new();
    let token = admin.acme_with_owner_token();

    // Under key 1: one credential and one endpoint whose secret was rotated (a
    // current and a previous secret).
    let services = admin.services();
    let actor = services
        .identity
        .authenticate_in(&token, "acme")
        .expect("actor");
    create(&services, &actor, twilio(0));
    let endpoint = services
        .webhooks
        .create(
            &actor,
            &switchboard_application::webhooks::CreateEndpoint {
                url: "https://127.0.0.1:9/hook".into(),
                description: None,
                event_types: None,
                enabled: None,
            },
        )
        .expect("endpoint created");
    let first = endpoint.secret.expose_secret().to_owned();
    let id = endpoint.endpoint.id;
    let rotated = services
        .webhooks
        .rotate_secret(&actor, id)
        .expect("secret rotated");
    let second = rotated.secret.expose_secret().to_owned();
    let expected = (Some(second.clone()), Some(first.clone()));
    assert_eq!(webhook_secrets(&services, &actor, id), expected);
    // Three secrets: the credential and the endpoint's two.
    assert_eq!(key_status(&admin), vec![(1, 3)]);
    assert!(
        admin
            .ok(&["keys", "check"])
            .contains("checked 3 stored secret(s): all open")
    );

    // Key 2 primary: rewrap moves the webhook secrets too.
    admin.keys = format!("1:{TEST_KEY},2:{SECOND_TEST_KEY}");
    admin.primary = 2;
    let done = admin.ok(&["keys", "rewrap", "--batch-size", "1"]);
    assert!(
        done.starts_with("re-encrypting 3 of 3 stored secret(s) under key 2"),
        "{done}"
    );
    assert!(
        done.contains("re-encrypted 3, changed meanwhile 0, failed 0"),
        "{done}"
    );
    assert_eq!(key_status(&admin), vec![(1, 0), (2, 3)]);

    // Key 1 removed: the endpoint still signs with both secrets, and check agrees.
    admin.keys = format!("2:{SECOND_TEST_KEY}");
    let services = admin.services();
    assert_eq!(webhook_secrets(&services, &actor, id), expected);
    assert!(
        admin
            .ok(&["keys", "check"])
            .contains("checked 3 stored secret(s): all open")
    );

    // A webhook secret under a key that is gone is reported by check and status and
    // skipped by rewrap, naming the endpoint and never the bytes.
    let rotated = services
        .webhooks
        .rotate_secret(&actor, id)
        .expect("rotated under key 2");
    admin.keys = format!("3:{TEST_KEY}");
    admin.primary = 3;
    let output = admin.run(&["keys", "check"]);
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("checked 3 stored secret(s): 3 cannot be opened"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}\tcurrent\t", id.0))
            && stdout.contains(&format!("{}\tprevious\t", id.0)),
        "{stdout}"
    );
    assert!(!stdout.contains(rotated.secret.expose_secret()), "{stdout}");
    let output = admin.run(&["keys", "rewrap"]);
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("failed 3"), "{stdout}");
    assert!(
        stdout.contains("webhook_endpoint\tsecret\torganization\treason"),
        "{stdout}"
    );
}

#[test]
fn a_rotation_racing_the_rewrap_keeps_its_token_and_unknown_keys_fail_closed() {
    use secrecy::ExposeSecret;
    use switchboard_domain::telephony::{CredentialKeyRepository, KeyId, ProviderConfigDraft};

    let mut admin = Admin::new();
    let token = admin.acme_with_owner_token();
    let services = admin.services();
    let actor = services
        .identity
        .authenticate_in(&token, "acme")
        .expect("actor");
    let id = create(&services, &actor, twilio(1)).id;

    admin.keys = format!("1:{TEST_KEY},2:{SECOND_TEST_KEY}");
    admin.primary = 2;
    let services = admin.services();
    // The rewrap reads the row...
    let repository =
        switchboard_persistence::DieselCredentialKeyRepository::new(services.database.clone());
    let batch = repository
        .sealed_not_under(KeyId(2), None, 10)
        .expect("batch");
    assert_eq!(batch.len(), 1);
    // ... a PATCH rotates the credential meanwhile ...
    let rotated = "fedcba9876543210fedcba9876543210";
    services
        .provider_configs
        .update_with(
            &actor,
            id,
            ProviderConfigDraft {
                auth_token: Some(SecretString::from(rotated)),
                ..Default::default()
            },
            &WriteOptions::default(),
        )
        .expect("rotated");
    // ... and the rewrap's write does not overwrite it.
    let outcome = services
        .key_rotation
        .rewrap_credential(&batch[0])
        .expect("rewrap");
    assert_eq!(
        outcome,
        switchboard_application::key_rotation::RewrapOutcome::ChangedMeanwhile
    );
    let revealed = services
        .provider_configs
        .reveal_credential(switchboard_domain::identity::OrgId(1), id)
        .expect("opens");
    assert_eq!(revealed.expose_secret(), rotated);

    // A blob under a key that is no longer configured fails closed, naming the key id.
    let other = create(&services, &actor, twilio(2)).id;
    admin.keys = format!("1:{TEST_KEY}");
    admin.primary = 1;
    let services = admin.services();
    let error = services
        .provider_configs
        .reveal_credential(switchboard_domain::identity::OrgId(1), other)
        .expect_err("fails closed");
    assert!(
        error.to_string().contains("key 2 is not configured"),
        "{error}"
    );
    assert!(!error.to_string().contains(SECOND_TEST_KEY));
    let stderr = admin.fails(&["keys", "rewrap"]);
    assert!(stderr.contains("could not be opened"), "{stderr}");
    assert!(admin.ok(&["keys", "status"]).contains("NOT CONFIGURED"));
}

/// Overwrites the stored credential of configuration `id` behind the service's back.
fn store_blob(admin: &Admin, id: i64, bytes: &[u8]) {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Binary};
    let path = admin.database_url.trim_start_matches("sqlite://");
    let mut connection = SqliteConnection::establish(path).expect("sqlite opens");
    diesel::sql_query(
        "UPDATE provider_configurations SET auth_token_ciphertext = $1 WHERE id = $2",
    )
    .bind::<Binary, _>(bytes)
    .bind::<BigInt, _>(id)
    .execute(&mut connection)
    .expect("blob written");
}

/// The `configuration  organization  reason` rows of an admin listing.
fn unreadable_rows(stdout: &str) -> Vec<(i64, i64, String)> {
    stdout
        .lines()
        .skip_while(|line| !line.starts_with("configuration\torganization\treason"))
        .skip(1)
        .map_while(|line| {
            let mut parts = line.splitn(3, '\t');
            Some((
                parts.next()?.parse().ok()?,
                parts.next()?.parse().ok()?,
                parts.next()?.to_owned(),
            ))
        })
        .collect()
}

#[test]
fn unreadable_credentials_are_skipped_by_rewrap_and_found_by_check_and_status() {
    use switchboard_domain::identity::OrgId;
    use switchboard_domain::telephony::{ProviderConfigDraft, ProviderConfigId};

    let mut admin = Admin::new();
    admin.ok(&["migrate"]);
    admin.ok(&["org", "create", "--name", "Acme", "--handle", "acme"]);
    admin.ok(&["org", "create", "--name", "Beta", "--handle", "beta"]);
    let services = admin.services();
    services
        .identity
        .create_user("ops@example.com", &SecretString::from("a long passphrase"))
        .expect("user");
    for org in ["acme", "beta"] {
        services
            .identity
            .add_member(org, "ops@example.com", Role::Owner)
            .expect("member");
    }
    let token = services
        .identity
        .issue_token("ops@example.com", "t", None)
        .expect("token");
    let acme = services
        .identity
        .authenticate_in(token.token.expose(), "acme")
        .expect("actor");
    let beta = services
        .identity
        .authenticate_in(token.token.expose(), "beta")
        .expect("actor");
    let mut ids = Vec::new();
    for n in 0..6 {
        let actor = if n < 3 { &acme } else { &beta };
        ids.push(
            services
                .provider_configs
                .create_checked(
                    actor,
                    services
                        .provider_configs
                        .check_create(twilio(n))
                        .expect("valid"),
                    &WriteOptions::default(),
                )
                .expect("created")
                .id
                .0,
        );
    }
    assert!(admin.ok(&["keys", "check"]).contains("all open"));
    // A bad format byte in acme, an empty blob in beta.
    store_blob(&admin, ids[1], &[9; 45]);
    store_blob(&admin, ids[4], &[]);

    // Key 2 becomes primary: the rewrap moves every row it can open, lists the two it
    // cannot, and exits non-zero at the end; a rerun does the same, moving nothing
    // twice.
    admin.keys = format!("1:{TEST_KEY},2:{SECOND_TEST_KEY}");
    admin.primary = 2;
    for _ in 0..2 {
        let output = admin.run(&["keys", "rewrap", "--batch-size", "2"]);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = without_banner(&String::from_utf8_lossy(&output.stderr));
        assert!(!output.status.success(), "{stdout}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("2 stored secret(s) could not be opened"),
            "{stderr}"
        );
        let skipped = unreadable_rows(&stdout);
        assert_eq!(
            skipped
                .iter()
                .map(|(id, org, _)| (*id, *org))
                .collect::<Vec<_>>(),
            vec![(ids[1], acme.org_id.0), (ids[4], beta.org_id.0)],
            "{stdout}"
        );
        assert!(skipped[0].2.contains("unknown format version"), "{stdout}");
        assert!(skipped[1].2.contains("too short"), "{stdout}");
    }
    // Everything else moved: only the two broken rows stay recorded under key 1.
    assert_eq!(key_status(&admin), vec![(1, 2), (2, 4)]);
    let services = admin.services();
    for (index, id) in ids.iter().enumerate() {
        let org = if index < 3 { acme.org_id } else { beta.org_id };
        let opened = services
            .provider_configs
            .reveal_credential(org, ProviderConfigId(*id));
        assert_eq!(opened.is_ok(), index != 1 && index != 4, "row {index}");
    }

    // `keys status` and `keys check` find them; check lists id, organization, reason.
    let status = admin.ok(&["keys", "status"]);
    assert!(
        status.contains("UNREADABLE: 2 of 6 stored secret(s) cannot be opened"),
        "{status}"
    );
    let output = admin.run(&["keys", "check"]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("2 stored secret(s) cannot be opened")
    );
    let found = unreadable_rows(&stdout);
    assert_eq!(found.len(), 2, "{stdout}");
    assert_eq!((found[0].0, found[0].1), (ids[1], acme.org_id.0));
    assert_eq!((found[1].0, found[1].1), (ids[4], beta.org_id.0));
    assert!(!stdout.contains(TEST_KEY) && !stdout.contains(SECOND_TEST_KEY));

    // Repair: send the secret again, or delete the row. Then all is well.
    services
        .provider_configs
        .update_with(
            &acme,
            ProviderConfigId(ids[1]),
            ProviderConfigDraft {
                auth_token: Some(SecretString::from(format!("{:032x}", 1))),
                ..Default::default()
            },
            &WriteOptions::default(),
        )
        .expect("a PATCH with the secret repairs the row");
    services
        .provider_configs
        .delete_with(&beta, ProviderConfigId(ids[4]), &WriteOptions::default())
        .expect("an unreadable row deletes");
    assert!(
        admin
            .ok(&["keys", "check"])
            .contains("checked 5 stored secret(s): all open")
    );
    assert!(admin.ok(&["keys", "rewrap"]).contains("failed 0"));
    assert_eq!(key_status(&admin), vec![(1, 0), (2, 5)]);
    assert!(
        services
            .provider_configs
            .reveal_credential(OrgId(acme.org_id.0), ProviderConfigId(ids[1]))
            .is_ok()
    );
}

#[test]
fn idempotency_purge_deletes_expired_keys() {
    use switchboard_domain::idempotency::{IdempotencyKey, IdempotencyScope, IdempotencyStore};
    use switchboard_domain::shared::{Clock, SystemClock};

    let admin = Admin::new();
    admin.ok(&["migrate"]);
    admin.ok(&["org", "create", "--name", "Acme", "--handle", "acme"]);
    let services = admin.services();
    services
        .identity
        .create_user("ops@example.com", &SecretString::from("a long passphrase"))
        .expect("user");
    services
        .identity
        .add_member("acme", "ops@example.com", Role::Owner)
        .expect("member");
    let issued = services
        .identity
        .issue_token("ops@example.com", "t", None)
        .expect("token");
    let organization = services
        .identity
        .organizations_of(switchboard_application::identity::Caller {
            user_id: issued.record.user_id,
            token_id: issued.record.id,
        })
        .expect("organizations");
    let scope = IdempotencyScope {
        org_id: organization[0].organization.id,
        token_id: issued.record.id,
    };
    let store = switchboard_persistence::DieselIdempotencyStore::new(services.database.clone());
    let now = SystemClock.now();
    for (key, at) in [
        ("old-1", now - chrono::TimeDelta::hours(25)),
        ("old-2", now - chrono::TimeDelta::hours(30)),
        ("fresh", now),
    ] {
        store
            .claim(scope, &IdempotencyKey::parse(key).expect("key"), "h", at)
            .expect("claimed");
    }
    let output = admin.ok(&["idempotency", "purge"]);
    assert!(
        output.contains("purged 2 expired idempotency key(s)"),
        "{output}"
    );
    let output = admin.ok(&["idempotency", "purge"]);
    assert!(output.contains("purged 0 expired"), "{output}");
}

#[test]
fn rotation_sweep_erases_expired_previous_versions() {
    use switchboard_application::rotation::PromoteOptions;

    let admin = Admin::new();
    let token = admin.acme_with_owner_token();
    let services = admin.services();
    let actor = services
        .identity
        .authenticate_in(&token, "acme")
        .expect("actor");
    let id = create(&services, &actor, twilio(1)).id;
    let started = services
        .rotations
        .start(
            &actor,
            id,
            switchboard_domain::telephony::ProviderConfigDraft {
                auth_token: Some(SecretString::from(format!("{:032x}", 2))),
                ..Default::default()
            },
            &WriteOptions::default(),
        )
        .expect("started");
    services
        .rotations
        .promote(
            &actor,
            id,
            started.rotation.id,
            PromoteOptions {
                keep_previous_for_seconds: 1,
                require_verified: false,
            },
            &WriteOptions::default(),
        )
        .expect("promoted");
    let output = admin.ok(&["rotation", "sweep"]);
    assert!(
        output.contains("erased 0 "),
        "still in its window: {output}"
    );
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let output = admin.ok(&["rotation", "sweep"]);
    assert!(output.contains("erased 1 "), "{output}");
    let output = admin.ok(&["rotation", "sweep"]);
    assert!(output.contains("erased 0 "), "{output}");
}

/// Standard output parsed as one JSON document (nothing else may be on it).
fn json_of(output: &str) -> serde_json::Value {
    serde_json::from_str(output).unwrap_or_else(|error| panic!("{error}: {output:?}"))
}

#[test]
fn listings_in_text_and_json_on_standard_output_only() {
    let admin = Admin::new();
    let output = admin.run(&["migrate"]);
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("created a new SQLite database at") && stderr.contains("admin.db"),
        "{stderr}"
    );
    assert!(
        stderr.contains("switchboard-admin: profile production;")
            && stderr.contains("database: sqlite://"),
        "the banner names profile and database: {stderr}"
    );
    let status = json_of(&admin.ok(&["--json", "migrate", "--status"]));
    let rows = status.as_array().expect("an array");
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|row| row["state"] == "applied"), "{status}");

    admin.ok(&["org", "create", "--name", "Acme", "--handle", "acme"]);
    let created = json_of(&admin.ok(&[
        "org", "create", "--name", "Beta", "--handle", "beta", "--json",
    ]));
    assert_eq!(created["handle"], "beta");
    let output = admin.with_stdin(
        &["user", "create", "--email", "ops@acme.test"],
        "a long passphrase\n",
    );
    assert!(
        output.status.success(),
        "a pipe is read without --password-stdin: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    admin.ok(&[
        "member",
        "add",
        "--org",
        "acme",
        "--email",
        "ops@acme.test",
        "--role",
        "admin",
    ]);

    // Text: a header and tab-separated rows.
    let orgs = admin.ok(&["org", "list"]);
    let mut lines = orgs.lines();
    assert_eq!(lines.next(), Some("id\thandle\tname\tcreated_at"), "{orgs}");
    assert!(
        orgs.contains("\tacme\tAcme\t") && orgs.contains("\tbeta\tBeta\t"),
        "{orgs}"
    );
    let members = admin.ok(&["member", "list", "--org", "acme"]);
    assert!(members.contains("\tops@acme.test\tadmin\t"), "{members}");

    // JSON: one document on standard output.
    let orgs = json_of(&admin.ok(&["--json", "org", "list"]));
    let handles: Vec<&str> = orgs
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|org| org["handle"].as_str())
        .collect();
    assert_eq!(handles, ["acme", "beta"]);
    let users = json_of(&admin.ok(&["user", "list", "--json"]));
    assert_eq!(users[0]["email"], "ops@acme.test", "{users}");
    assert!(users[0].get("password_hash").is_none());
    assert!(!users.to_string().contains("argon2"), "{users}");
    let members = json_of(&admin.ok(&["member", "list", "--org", "acme", "--json"]));
    assert_eq!(members[0]["email"], "ops@acme.test");
    assert_eq!(members[0]["role"], "admin");
    assert!(
        admin
            .fails(&["member", "list", "--org", "nope"])
            .contains("no organization")
    );

    let issued = json_of(&admin.ok(&[
        "--json",
        "token",
        "create",
        "--email",
        "ops@acme.test",
        "--name",
        "ci",
        "--expires-in-days",
        "7",
    ]));
    let token = issued["token"].as_str().expect("token").to_owned();
    assert!(token.starts_with("sbt_"), "{issued}");
    assert!(issued["expires_at"].is_string(), "{issued}");
    let listed = admin.ok(&["--json", "token", "list", "--email", "ops@acme.test"]);
    assert!(!listed.contains(&token), "never the secret: {listed}");
    let tokens = json_of(&listed);
    assert_eq!(tokens[0]["name"], "ci");
    assert_eq!(tokens[0]["kind"], "admin");
    assert!(tokens[0]["revoked_at"].is_null());
    let id = tokens[0]["id"].as_i64().expect("id").to_string();
    let revoked = json_of(&admin.ok(&["--json", "token", "revoke", "--id", &id]));
    assert_eq!(revoked["revoked"].to_string(), id);
    let tokens = json_of(&admin.ok(&["--json", "token", "list", "--email", "ops@acme.test"]));
    assert!(tokens[0]["revoked_at"].is_string(), "{tokens}");

    let status = json_of(&admin.ok(&["--json", "keys", "status"]));
    assert_eq!(status["keys"][0]["key_id"], 1, "{status}");
    assert_eq!(status["keys"][0]["state"], "primary", "{status}");
    assert_eq!(status["unreadable"], 0, "{status}");
    let check = json_of(&admin.ok(&["--json", "keys", "check"]));
    assert_eq!(check["examined"], 0, "{check}");

    // A negative number of days is a clear usage error, not "unexpected argument".
    let output = admin.run(&[
        "token",
        "create",
        "--email",
        "ops@acme.test",
        "--name",
        "x",
        "--expires-in-days",
        "-1",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--expires-in-days")
            && stderr.contains("-1")
            && !stderr.contains("unexpected argument"),
        "{stderr}"
    );
}

#[test]
fn a_folder_without_an_installation_stays_empty() {
    // The development profile (no settings at all), in a folder with no data/: every
    // command but `migrate` refuses and names the database it looked for.
    let dir = tempfile::tempdir().expect("temp dir");
    for args in [
        &[
            "token",
            "create",
            "--email",
            "owner@localhost",
            "--name",
            "x",
        ][..],
        &["org", "list"],
        &["keys", "status"],
    ] {
        let output = in_dir(dir.path()).args(args).output().expect("runs");
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("profile development")
                && stderr.contains("no SQLite database at data/switchboard.db"),
            "{args:?}: {stderr}"
        );
        let entries: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
        assert!(entries.is_empty(), "{args:?} wrote into the folder");
    }
}

/// Every subcommand's help, and every option in it has a description.
#[test]
fn every_option_has_help_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let commands: [&[&str]; 18] = [
        &[],
        &["migrate"],
        &["org", "create"],
        &["org", "list"],
        &["user", "create"],
        &["user", "list"],
        &["member", "add"],
        &["member", "list"],
        &["token", "create"],
        &["token", "list"],
        &["token", "revoke"],
        &["keys", "generate"],
        &["keys", "rewrap"],
        &["keys", "status"],
        &["keys", "check"],
        &["idempotency", "purge"],
        &["rotation", "sweep"],
        &["keys"],
    ];
    for command in commands {
        let output = in_dir(dir.path())
            .args(command)
            .arg("--help")
            .output()
            .expect("runs");
        assert!(output.status.success(), "{command:?}");
        let help = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = help.lines().collect();
        for (at, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            if !trimmed.starts_with('-') {
                continue;
            }
            // `--name <NAME>  Text` on one line, or the text on the next, indented.
            let inline = trimmed
                .split("  ")
                .filter(|part| !part.trim().is_empty())
                .count()
                >= 2;
            let below = lines.get(at + 1).is_some_and(|next| {
                let text = next.trim_start();
                !text.is_empty()
                    && !text.starts_with('-')
                    && next.len() - text.len() > line.len() - trimmed.len()
            });
            assert!(
                inline || below,
                "{command:?}: no help for {trimmed:?}\n{help}"
            );
        }
    }
    let output = in_dir(dir.path()).arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("SWITCHBOARD_CONFIG_DIR") && help.contains("current folder"),
        "{help}"
    );
}

/// On a terminal, `user create` asks for the password twice without echoing it.
/// `script` (util-linux) gives the command a pseudo-terminal; the password is typed
/// only once the prompt shows, as a person would.
#[test]
fn the_password_prompt_on_a_terminal_does_not_echo() {
    use std::io::Read;
    use std::sync::{Arc, Mutex};

    let admin = Admin::new();
    admin.ok(&["migrate"]);
    let command_line = format!("{BINARY} user create --email tty@acme.test");
    let settings = admin.command(&[]);
    let mut script = Command::new("script");
    for (name, _) in std::env::vars() {
        if name.starts_with("SWITCHBOARD") {
            script.env_remove(&name);
        }
    }
    let mut child = script
        .args(["-qec", &command_line, "/dev/null"])
        .envs(
            settings
                .get_envs()
                .filter_map(|(name, value)| Some((name, value?))),
        )
        .current_dir(admin.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    let seen = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut buffer = [0_u8; 256];
            while let Ok(read) = stdout.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                if let Ok(mut seen) = seen.lock() {
                    seen.push_str(&String::from_utf8_lossy(&buffer[..read]));
                }
            }
        })
    };
    let wait_for = |needle: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if seen
                .lock()
                .map(|seen| seen.contains(needle))
                .unwrap_or(false)
            {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {needle:?} prompt: {:?}",
                seen.lock().map(|seen| seen.clone())
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let mut stdin = child.stdin.take().expect("stdin");
    // rpassword prints the prompt and then turns the echo off: a person never types
    // inside that window, a test can (it did, on a fast machine). Typing a moment
    // after the prompt shows is what a person does.
    let pause = || std::thread::sleep(std::time::Duration::from_millis(500));
    wait_for("Password (");
    pause();
    stdin.write_all(b"typed-secret-42\n").expect("typed");
    wait_for("again");
    pause();
    stdin.write_all(b"typed-secret-42\n").expect("typed");
    let status = child.wait().expect("script ends");
    drop(stdin);
    reader.join().expect("reader");
    let screen = seen.lock().map(|seen| seen.clone()).unwrap_or_default();
    assert!(status.success(), "{screen}");
    assert!(screen.contains("created user tty@acme.test"), "{screen}");
    assert!(
        !screen.contains("typed-secret-42"),
        "the password was echoed: {screen}"
    );
    assert!(admin.ok(&["user", "list"]).contains("tty@acme.test"));
}

#[test]
fn operators_manage_service_accounts_and_their_scoped_tokens() {
    let admin = Admin::new();
    admin.ok(&["migrate"]);
    admin.ok(&["org", "create", "--name", "Acme", "--handle", "acme"]);
    let created = admin.ok(&[
        "service-account",
        "create",
        "--org",
        "acme",
        "--name",
        "call runtime",
        "--role",
        "member",
    ]);
    assert!(created.contains("call runtime"), "{created}");
    assert!(
        admin
            .fails(&[
                "service-account",
                "create",
                "--org",
                "acme",
                "--name",
                "boss",
                "--role",
                "owner",
            ])
            .contains("role")
    );
    let listed = admin.ok(&["service-account", "list", "--org", "acme"]);
    let id = listed
        .lines()
        .nth(1)
        .and_then(|line| line.split('\t').next())
        .expect("one account listed")
        .to_owned();
    let issued = admin.ok(&[
        "service-account",
        "token",
        "create",
        "--org",
        "acme",
        "--id",
        &id,
        "--name",
        "runtime",
        "--scope",
        "credentials:use",
        "--scope",
        "credentials:reveal",
    ]);
    let token = issued.lines().last().expect("token line").to_owned();
    assert!(token.starts_with("sbt_"), "{issued}");
    assert!(
        issued.contains("credentials:use,credentials:reveal"),
        "{issued}"
    );
    // A viewer account cannot hold a writing scope; unknown scopes fail.
    admin.ok(&[
        "service-account",
        "create",
        "--org",
        "acme",
        "--name",
        "reader",
        "--role",
        "viewer",
    ]);
    let listed = admin.ok(&["service-account", "list", "--org", "acme"]);
    let viewer = listed
        .lines()
        .find(|line| line.contains("reader"))
        .and_then(|line| line.split('\t').next())
        .expect("listed")
        .to_owned();
    for scope in ["configurations:write", "everything"] {
        admin.fails(&[
            "service-account",
            "token",
            "create",
            "--org",
            "acme",
            "--id",
            &viewer,
            "--name",
            "x",
            "--scope",
            scope,
        ]);
    }
    // The token works until its account is deleted, then never again.
    let services = admin.services();
    assert!(services.identity.resolve(&token, Some("acme")).is_ok());
    let deleted = admin.ok(&["service-account", "delete", "--org", "acme", "--id", &id]);
    assert!(deleted.contains("revoked"), "{deleted}");
    assert!(services.identity.resolve(&token, Some("acme")).is_err());
    assert!(
        !admin
            .ok(&["service-account", "list", "--org", "acme"])
            .contains("call runtime")
    );
    admin.fails(&["service-account", "delete", "--org", "acme", "--id", &id]);
}

#[test]
fn service_account_and_purge_commands_answer_in_json_too() {
    let admin = Admin::new();
    admin.ok(&["migrate"]);
    admin.ok(&["org", "create", "--name", "Acme", "--handle", "acme"]);
    let created = json_of(&admin.ok(&[
        "--json",
        "service-account",
        "create",
        "--org",
        "acme",
        "--name",
        "call runtime",
        "--role",
        "member",
    ]));
    assert_eq!(created["name"], "call runtime", "{created}");
    assert_eq!(created["role"], "member", "{created}");
    assert_eq!(created["org"], "acme", "{created}");
    let id = created["id"].as_i64().expect("an id").to_string();
    let issued = json_of(&admin.ok(&[
        "service-account",
        "token",
        "create",
        "--org",
        "acme",
        "--id",
        &id,
        "--name",
        "runtime",
        "--scope",
        "credentials:use",
        "--json",
    ]));
    assert!(
        issued["token"]
            .as_str()
            .is_some_and(|token| token.starts_with("sbt_")),
        "{issued}"
    );
    assert_eq!(issued["service_account"].to_string(), id, "{issued}");
    assert_eq!(issued["scopes"], serde_json::json!(["credentials:use"]));
    assert_eq!(issued["expires_at"], serde_json::Value::Null);
    let deleted = json_of(&admin.ok(&[
        "--json",
        "service-account",
        "delete",
        "--org",
        "acme",
        "--id",
        &id,
    ]));
    assert_eq!(deleted["deleted"].to_string(), id, "{deleted}");
    let purged = json_of(&admin.ok(&["--json", "idempotency", "purge"]));
    assert_eq!(purged, serde_json::json!({"purged": 0}));
}

#[test]
fn webhooks_redeliver_makes_dead_deliveries_due_again() {
    use switchboard_domain::webhooks::{AttemptOutcome, DeliveryStatus};

    let admin = Admin::new();
    admin.ok(&["migrate"]);
    admin.ok(&["org", "create", "--name", "Acme", "--handle", "acme"]);
    let services = admin.services();
    services
        .identity
        .create_user("ops@example.com", &SecretString::from("a long passphrase"))
        .expect("user");
    services
        .identity
        .add_member("acme", "ops@example.com", Role::Owner)
        .expect("member");
    let issued = services
        .identity
        .issue_token("ops@example.com", "t", None)
        .expect("token");
    let membership = services
        .identity
        .organizations_of(switchboard_application::identity::Caller {
            user_id: issued.record.user_id,
            token_id: issued.record.id,
        })
        .expect("organizations")
        .remove(0);
    let actor = switchboard_application::Actor {
        user_id: issued.record.user_id,
        token_id: issued.record.id,
        org_id: membership.organization.id,
        org_handle: membership.organization.domain_handle.clone(),
        role: membership.role,
    };
    let webhooks = &services.webhooks;
    // The services of the test profile allow loopback targets; nothing listens there.
    let endpoint = webhooks
        .create(
            &actor,
            &switchboard_application::webhooks::CreateEndpoint {
                url: "http://127.0.0.1:9/hook".to_owned(),
                ..Default::default()
            },
        )
        .expect("endpoint")
        .endpoint;
    webhooks.send_test(&actor, endpoint.id).expect("test event");
    let page = switchboard_domain::shared::PageRequest {
        page: 1,
        page_size: 10,
    };
    let delivery = webhooks
        .deliveries(&actor, endpoint.id, page)
        .expect("deliveries")
        .items
        .remove(0);
    webhooks
        .record_attempt(
            delivery.id,
            &AttemptOutcome {
                status: DeliveryStatus::Dead,
                status_code: Some(503),
                error: Some("answered 503".into()),
                next_attempt_at: None,
                disable_endpoint: false,
                at: webhooks.now(),
            },
        )
        .expect("recorded");
    let output = admin.ok(&["webhooks", "status"]);
    assert!(output.contains("waiting deliveries: 0"), "{output}");

    let error = admin.fails(&["webhooks", "redeliver", "--since", "yesterday"]);
    assert!(error.contains("RFC 3339"), "{error}");
    let since = (webhooks.now() - chrono::TimeDelta::hours(1)).to_rfc3339();
    let output = admin.ok(&["webhooks", "redeliver", "--since", &since]);
    assert!(output.starts_with("1 delivery(ies) due again"), "{output}");
    let again = webhooks
        .deliveries(&actor, endpoint.id, page)
        .expect("deliveries")
        .items
        .remove(0);
    assert_eq!(again.status, DeliveryStatus::Pending);
    assert_eq!(again.attempts, 1, "attempts are kept");
    let output = admin.ok(&["webhooks", "status"]);
    assert!(output.contains("waiting deliveries: 1"), "{output}");
    // Nothing dead or failed is left since then.
    let output = admin.ok(&["webhooks", "redeliver", "--since", &since]);
    assert!(output.starts_with("0 delivery(ies)"), "{output}");
}
