//! `switchboard health`: the container health check. One HTTP/1.0 GET of a running
//! server's readiness route over plain TCP, so the image needs no curl, wget or bash
//! (Debian's `/bin/sh` is dash, which has no `/dev/tcp`). Exit 0 only on a 200.
//!
//! It loads no settings and writes nothing: the port comes from `--port` or
//! `SWITCHBOARD__SERVER__PORT`, as the server's own does.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Why the probe failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("cannot reach {address}: {source}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    #[error("no HTTP answer from {address}: {detail}")]
    Answer { address: String, detail: String },
    #[error("{address}{path} answered {status_line}")]
    NotReady {
        address: String,
        path: String,
        status_line: String,
    },
}

/// GETs `path` from `host:port` within `timeout`; `Ok` with the status line when the
/// answer is 200.
///
/// # Errors
/// [`ProbeError`]: unreachable, no HTTP answer, or a status other than 200.
pub fn probe(host: &str, port: u16, path: &str, timeout: Duration) -> Result<String, ProbeError> {
    let address = format!("{host}:{port}");
    let target = (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .ok_or_else(|| ProbeError::Resolve(address.clone()))?;
    let connect = |source| ProbeError::Connect {
        address: address.clone(),
        source,
    };
    let mut stream = TcpStream::connect_timeout(&target, timeout).map_err(connect)?;
    stream.set_read_timeout(Some(timeout)).map_err(connect)?;
    stream.set_write_timeout(Some(timeout)).map_err(connect)?;
    let answer = |detail: String| ProbeError::Answer {
        address: address.clone(),
        detail,
    };
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {address}\r\nUser-Agent: switchboard-health\r\nConnection: close\r\n\r\n"
    )
    .map_err(|error| answer(error.to_string()))?;
    let mut status_line = String::new();
    BufReader::new(stream)
        .read_line(&mut status_line)
        .map_err(|error| answer(error.to_string()))?;
    let status_line = status_line.trim_end().to_owned();
    let mut parts = status_line.split_whitespace();
    let status = match (parts.next(), parts.next()) {
        (Some(version), Some(status)) if version.starts_with("HTTP/") => status,
        _ => return Err(answer("not an HTTP status line".to_owned())),
    };
    if status == "200" {
        Ok(status_line)
    } else {
        Err(ProbeError::NotReady {
            address,
            path: path.to_owned(),
            status_line,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_port_is_a_connect_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .unwrap_or(9);
        let error = probe(
            "127.0.0.1",
            port,
            "/health/ready",
            Duration::from_millis(500),
        );
        assert!(
            matches!(error, Err(ProbeError::Connect { .. })),
            "{error:?}"
        );
    }

    #[test]
    fn only_200_is_ready() {
        for (answer, ready) in [
            ("HTTP/1.1 200 OK\r\n\r\n{}", true),
            ("HTTP/1.1 503 Service Unavailable\r\n\r\n{}", false),
            ("garbage\r\n", false),
        ] {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = listener.local_addr().expect("address").port();
            let server = std::thread::spawn(move || {
                if let Ok((mut stream, _)) = listener.accept() {
                    // Read the whole request head first: answering and closing with
                    // unread bytes would reset the connection under the client.
                    let mut request = Vec::new();
                    let mut chunk = [0_u8; 512];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match std::io::Read::read(&mut stream, &mut chunk) {
                            Ok(0) | Err(_) => break,
                            Ok(read) => request.extend_from_slice(&chunk[..read]),
                        }
                    }
                    let _ = stream.write_all(answer.as_bytes());
                }
            });
            let result = probe("127.0.0.1", port, "/health/ready", Duration::from_secs(5));
            assert_eq!(result.is_ok(), ready, "{answer:?}: {result:?}");
            server.join().expect("server thread");
        }
    }
}
