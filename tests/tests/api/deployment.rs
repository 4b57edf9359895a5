//! No Docker engine runs here, so `docker-compose.yml` is checked for its structure:
//! PostgreSQL with a healthcheck, a one-shot `migrate` service (the admin binary)
//! that waits for a healthy database, and the server that waits for the migration to
//! complete, with its own healthcheck on readiness. Keys come from the environment.

use yaml_rust2::{Yaml, YamlLoader};

fn compose() -> Yaml {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docker-compose.yml"
    ))
    .unwrap_or_else(|error| panic!("docker-compose.yml: {error}"));
    let mut documents =
        YamlLoader::load_from_str(&text).unwrap_or_else(|error| panic!("YAML: {error}"));
    documents.remove(0)
}

fn condition(service: &Yaml, dependency: &str) -> Option<String> {
    service["depends_on"][dependency]["condition"]
        .as_str()
        .map(str::to_owned)
}

#[test]
fn compose_runs_postgres_then_migrate_then_the_server() {
    let compose = compose();
    let services = &compose["services"];
    let postgres = &services["postgres"];
    let migrate = &services["migrate"];
    let server = &services["switchboard"];
    for (name, service) in [
        ("postgres", postgres),
        ("migrate", migrate),
        ("switchboard", server),
    ] {
        assert!(!service.is_badvalue(), "service {name} is missing");
    }

    assert!(
        postgres["image"]
            .as_str()
            .is_some_and(|image| image.starts_with("postgres:"))
    );
    let check = format!("{:?}", postgres["healthcheck"]["test"]);
    assert!(
        check.contains("pg_isready"),
        "postgres healthcheck: {check}"
    );

    let command = format!("{:?}", migrate["command"]);
    assert!(
        command.contains("switchboard-admin") && command.contains("migrate"),
        "{command}"
    );
    assert_eq!(
        migrate["restart"].as_str(),
        Some("no"),
        "migrate is a one-shot"
    );
    assert_eq!(
        condition(migrate, "postgres").as_deref(),
        Some("service_healthy")
    );

    assert_eq!(
        condition(server, "postgres").as_deref(),
        Some("service_healthy")
    );
    assert_eq!(
        condition(server, "migrate").as_deref(),
        Some("service_completed_successfully")
    );
    let check = format!("{:?}", server["healthcheck"]["test"]);
    assert!(
        check.contains("/health/ready"),
        "server healthcheck: {check}"
    );
    assert!(!server["ports"].is_badvalue());

    // Both the server and the migration get the database URL and keys from the
    // environment, never literal keys from the file.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docker-compose.yml"
    ))
    .unwrap_or_default();
    for setting in [
        "SWITCHBOARD__DATABASE__URL",
        "SWITCHBOARD__CRYPTO__KEYS: ${SWITCHBOARD_KEYS",
        "SWITCHBOARD__AUTH__TOKEN_HMAC_KEY: ${SWITCHBOARD_TOKEN_HMAC_KEY",
        "SWITCHBOARD_PROFILE: production",
    ] {
        assert!(text.contains(setting), "missing {setting}");
    }
}

fn repository_file(name: &str) -> String {
    let path = format!("{}/../{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The image's own health check is the binary's probe, in exec form (no shell), and
/// the compose one runs the same probe (crates/server/tests/cli.rs runs it under dash
/// against a running server). The server gets longer than its own shutdown timeout
/// to stop.
#[test]
fn health_checks_use_the_binary_probe() {
    let dockerfile = repository_file("Dockerfile");
    assert!(
        dockerfile
            .lines()
            .any(|line| line.starts_with("HEALTHCHECK")
                && line.contains(r#"CMD ["switchboard", "health"]"#)),
        "{dockerfile}"
    );
    let compose = compose();
    let server = &compose["services"]["switchboard"];
    let check = format!("{:?}", server["healthcheck"]["test"]);
    assert!(check.contains("switchboard health"), "{check}");
    assert!(!check.contains("/dev/tcp"), "bash-only: {check}");
    assert_eq!(server["stop_grace_period"].as_str(), Some("40s"));
}

/// Dependencies compile in a stage of their own (cargo-chef), before the sources are
/// copied, so a source change reuses that layer.
#[test]
fn the_dockerfile_caches_dependencies_in_a_stage_of_their_own() {
    let dockerfile = repository_file("Dockerfile");
    let cook = dockerfile
        .find("cargo chef cook")
        .expect("a cargo chef cook step");
    let sources = dockerfile[cook..]
        .find("COPY . .")
        .expect("the sources are copied after the dependencies compile");
    assert!(sources > 0);
    assert!(dockerfile.contains("cargo chef prepare"), "{dockerfile}");
    assert!(dockerfile.contains("--locked"), "{dockerfile}");
    assert!(
        dockerfile
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .all(|line| !line.contains("keys generate")
                && !line.contains("openssl rand")
                && !line.contains("SWITCHBOARD__CRYPTO__KEYS=")),
        "no keys baked into the image"
    );
}

/// The build context leaves out build output, the local installation (development
/// keys and database) and the git history.
#[test]
fn the_build_context_excludes_target_data_and_git() {
    let ignore = repository_file(".dockerignore");
    let patterns: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    for needed in ["target/", "data/", ".git/", ".env", "*.db"] {
        assert!(patterns.contains(&needed), "{needed} missing: {patterns:?}");
    }
    assert!(
        !patterns.iter().any(|pattern| pattern.starts_with('!')),
        "no exceptions re-include files: {patterns:?}"
    );
}
