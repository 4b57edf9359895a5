//! How the connection to PostgreSQL is protected, read from its URL alone (no
//! connection is made), so that a start can say when tokens' hashes, sealed secrets
//! and the database password would cross a network without a verified TLS
//! connection.
//!
//! libpq's default, `sslmode=prefer`, tries TLS but falls back to plain text, and
//! checks no certificate: anyone on the path can read or answer in the server's
//! place. `require` encrypts but still checks no certificate. Only `verify-ca` and
//! `verify-full` do. On loopback or a Unix socket there is no network to cross (and
//! TLS only costs CPU: docs/performance.md), so any mode is fine there.
//!
//! libpq also reads `PGHOST` and `PGSSLMODE` where the URL is silent; the caller
//! passes the environment in, so that the reading stays a pure function.

use std::net::IpAddr;

use url::Url;

use crate::pool::is_postgres_url;

/// How a PostgreSQL connection travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostgresTransport {
    /// Every host is a Unix socket or a loopback address.
    Local,
    /// TLS with the server's certificate checked (`verify-ca`, `verify-full`).
    VerifiedTls,
    /// TLS without the certificate checked (`require`).
    UnverifiedTls,
    /// Possibly plain text (`disable`, `allow`, `prefer`): the mode named.
    MaybePlain(String),
}

impl PostgresTransport {
    /// What a start should warn about (`None`: nothing). Names the mode, never the
    /// URL (it may hold a password).
    #[must_use]
    pub fn warning(&self) -> Option<String> {
        match self {
            Self::Local | Self::VerifiedTls => None,
            Self::UnverifiedTls => Some(
                "the connection to PostgreSQL is encrypted but the server's certificate is \
                 not checked (sslmode=require): set sslmode=verify-full (and sslrootcert) in \
                 the database URL"
                    .to_owned(),
            ),
            Self::MaybePlain(mode) => Some(format!(
                "the connection to PostgreSQL may travel unencrypted and unauthenticated \
                 (sslmode={mode}{}): set sslmode=verify-full (and sslrootcert) in the \
                 database URL",
                if mode == "prefer" {
                    ", libpq's default"
                } else {
                    ""
                }
            )),
        }
    }

    /// One line for `switchboard --check`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Local => "local (Unix socket or loopback)".to_owned(),
            Self::VerifiedTls => "TLS, server certificate checked".to_owned(),
            Self::UnverifiedTls => "TLS, server certificate NOT checked".to_owned(),
            Self::MaybePlain(mode) => format!("possibly unencrypted (sslmode={mode})"),
        }
    }
}

/// How a connection to `url` would travel; `None` when `url` is not a PostgreSQL URL
/// (or cannot be read: connecting reports that). `env` answers libpq's environment
/// variables (`PGHOST`, `PGSSLMODE`).
#[must_use]
pub fn postgres_transport(
    url: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Option<PostgresTransport> {
    let url = url.trim();
    if !is_postgres_url(url) {
        return None;
    }
    let parsed = Url::parse(url).ok()?;
    let parameter = |name: &str| {
        parsed
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let hosts = parameter("host")
        .or_else(|| parsed.host_str().map(str::to_owned))
        .filter(|hosts| !hosts.is_empty())
        .or_else(|| env("PGHOST"))
        .unwrap_or_default();
    if hosts.split(',').all(is_local_host) {
        return Some(PostgresTransport::Local);
    }
    let mode = parameter("sslmode")
        .or_else(|| env("PGSSLMODE"))
        .unwrap_or_else(|| "prefer".to_owned())
        .to_ascii_lowercase();
    Some(match mode.as_str() {
        "verify-full" | "verify-ca" => PostgresTransport::VerifiedTls,
        "require" => PostgresTransport::UnverifiedTls,
        _ => PostgresTransport::MaybePlain(mode),
    })
}

/// A Unix socket folder (or libpq's default socket, the empty host), `localhost`, or
/// a loopback address.
fn is_local_host(host: &str) -> bool {
    let host = host.trim();
    if host.is_empty() || host.starts_with('/') || host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>()
        .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(url: &str) -> Option<PostgresTransport> {
        postgres_transport(url, |_| None)
    }

    #[test]
    fn loopback_and_sockets_are_local_whatever_the_mode() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres://u:p@127.0.0.2/db?sslmode=disable",
            "postgresql://u@localhost/db",
            "postgres://u@[::1]:5432/db",
            "postgres:///db",
            "postgres:///db?host=/var/run/postgresql",
            "postgres:///db?host=127.0.0.1,localhost&port=5432,5433",
        ] {
            assert_eq!(of(url), Some(PostgresTransport::Local), "{url}");
        }
        assert_eq!(of("postgres:///db").and_then(|t| t.warning()), None);
    }

    #[test]
    fn a_network_host_needs_a_verified_certificate() {
        assert_eq!(
            of("postgres://u:secret@db.internal:5432/app"),
            Some(PostgresTransport::MaybePlain("prefer".to_owned()))
        );
        assert_eq!(
            of("postgres://u@db.internal/app?sslmode=disable"),
            Some(PostgresTransport::MaybePlain("disable".to_owned()))
        );
        assert_eq!(
            of("postgres://u@db.internal/app?sslmode=require"),
            Some(PostgresTransport::UnverifiedTls)
        );
        for mode in ["verify-full", "verify-ca", "VERIFY-FULL"] {
            assert_eq!(
                of(&format!("postgres://u@db.internal/app?sslmode={mode}")),
                Some(PostgresTransport::VerifiedTls),
                "{mode}"
            );
        }
        // One remote host among local ones is enough to need it.
        assert_eq!(
            of("postgres:///db?host=127.0.0.1,10.1.2.3&sslmode=verify-full"),
            Some(PostgresTransport::VerifiedTls)
        );
        assert!(matches!(
            of("postgres:///db?host=127.0.0.1,10.1.2.3"),
            Some(PostgresTransport::MaybePlain(_))
        ));
    }

    #[test]
    fn the_environment_fills_what_the_url_leaves_out() {
        let env = |name: &str| match name {
            "PGHOST" => Some("db.internal".to_owned()),
            "PGSSLMODE" => Some("verify-full".to_owned()),
            _ => None,
        };
        assert_eq!(
            postgres_transport("postgres:///app", env),
            Some(PostgresTransport::VerifiedTls)
        );
        // The URL wins over the environment.
        assert_eq!(
            postgres_transport("postgres://127.0.0.1/app", env),
            Some(PostgresTransport::Local)
        );
        assert_eq!(
            postgres_transport("postgres:///app?sslmode=prefer", env),
            Some(PostgresTransport::MaybePlain("prefer".to_owned()))
        );
    }

    #[test]
    fn warnings_name_the_mode_and_never_the_url() {
        let url = "postgres://switchboard:hunter2@db.internal/app";
        let warning = of(url)
            .and_then(|transport| transport.warning())
            .unwrap_or_default();
        assert!(
            warning.contains("sslmode=prefer, libpq's default"),
            "{warning}"
        );
        assert!(warning.contains("verify-full"), "{warning}");
        assert!(!warning.contains("hunter2") && !warning.contains("db.internal"));
        assert!(
            of("postgres://u@db.internal/app?sslmode=require")
                .and_then(|transport| transport.warning())
                .is_some_and(|warning| warning.contains("not checked"))
        );
    }

    #[test]
    fn sqlite_and_unreadable_urls_are_not_judged() {
        assert_eq!(of("sqlite://data/switchboard.db"), None);
        assert_eq!(of("data/switchboard.db"), None);
        assert_eq!(of("postgres://[not a host/db"), None);
    }
}
