//! The workspace's binaries as child processes, for the tests that need the process
//! itself (the server's first start, signals, kill -9, resource limits, several
//! replicas, log lines; the admin CLI): one way to build a command with the test keys
//! and a clean environment, to start the server and wait until it answers, to read
//! what it printed, and to stop it. A started [`ServerProcess`] is killed when
//! dropped, so that a failed assertion never leaves a server behind.
//!
//! The binary's path is the caller's: only the binary's own crate's tests know it
//! (`env!("CARGO_BIN_EXE_switchboard")`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A data key for `SWITCHBOARD__CRYPTO__KEYS` (base64 of 32 bytes), fixed so that a
/// test can open what the server sealed.
pub const TEST_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
/// A second data key, for the key-rotation cases.
pub const SECOND_TEST_KEY: &str = "c2Vjb25kLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDEyMzQ=";
/// The token HMAC key (`SWITCHBOARD__AUTH__TOKEN_HMAC_KEY`).
pub const TEST_HMAC_KEY: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
/// What the development profile prints before its first token.
pub const FIRST_TOKEN_LINE: &str = "first token (shown once): ";

/// A loopback port nobody listens on (at the time of asking).
///
/// # Panics
/// When no port can be bound.
#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|error| panic!("no free loopback port: {error}"))
}

/// The status of a plain `GET path HTTP/1.0` on a loopback port, or `None` when
/// nothing answers within two seconds (no HTTP client involved, so that it also
/// tells whether a server listens at all).
#[must_use]
pub fn get_status(port: u16, path: &str) -> Option<u16> {
    get_plain(port, path, Duration::from_secs(2))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The whole answer (status line, headers, body) of a plain `GET path HTTP/1.0`, or
/// `None` when nothing answers.
#[must_use]
pub fn get_plain(port: u16, path: &str, timeout: Duration) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
        .ok()?;
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    Some(answer)
}

/// Waits until `ready` says so, polling every 50 ms.
///
/// # Panics
/// When `limit` passes first; the message names `what`.
pub fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} not ready within {limit:?}");
}

/// Where `program` is installed: the system folders first (Debian puts daemons such
/// as haproxy and pgbouncer in `/usr/sbin`, often not on a user's `PATH`), then `PATH`.
#[must_use]
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(PathBuf::from)
        .chain(path)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// The lines of a child's stream, read on a thread of their own and forwarded through
/// a channel (which ends when the stream does).
pub fn lines_of(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// The binary, run in `dir`, with none of the test's own `SWITCHBOARD*`, `RUST_LOG` or
/// `NO_COLOR` variables: what the process sees is what the test sets.
#[must_use]
pub fn clean_command(binary: &str, dir: &Path) -> Command {
    let mut command = Command::new(binary);
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if text.starts_with("SWITCHBOARD") || text == "RUST_LOG" || text == "NO_COLOR" {
            command.env_remove(&name);
        }
    }
    command.current_dir(dir);
    command
}

/// [`clean_command`] as a server: `profile` named (with a database URL and no profile
/// the binary would run in production), listening on `port`, with [`TEST_KEY`] as
/// key 1 and primary, [`TEST_HMAC_KEY`], and log level `warn`. Callers add or
/// override settings with `.env(...)`.
#[must_use]
pub fn server_command(binary: &str, dir: &Path, profile: &str, port: u16) -> Command {
    let mut command = clean_command(binary, dir);
    command
        .env("SWITCHBOARD_PROFILE", profile)
        .env("SWITCHBOARD__SERVER__PORT", port.to_string())
        .env("SWITCHBOARD__CRYPTO__KEYS", format!("1:{TEST_KEY}"))
        .env("SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID", "1")
        .env("SWITCHBOARD__AUTH__TOKEN_HMAC_KEY", TEST_HMAC_KEY)
        .env("SWITCHBOARD__LOG__LEVEL", "warn");
    command
}

/// A running server process, with what it printed so far. Killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    port: u16,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    printed: Vec<String>,
    logged: Vec<String>,
}

impl ServerProcess {
    /// Spawns `command` (standard output and error captured) and waits until
    /// `GET /health/live` on `port` answers 200.
    ///
    /// # Panics
    /// When the process cannot start, exits first (with its standard error in the
    /// message), or does not answer within `limit` (it is then killed).
    #[must_use]
    pub fn start(command: &mut Command, port: u16, limit: Duration) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("the server starts: {error}"));
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            unreachable!("both streams were asked for as pipes")
        };
        let mut server = Self {
            child,
            port,
            stdout: lines_of(stdout),
            stderr: lines_of(stderr),
            printed: Vec::new(),
            logged: Vec::new(),
        };
        let deadline = Instant::now() + limit;
        while get_status(port, "/health/live") != Some(200) {
            if let Some(status) = server.exited() {
                server.read_to_end(Duration::from_secs(5));
                panic!("the server exited early with {status}: {:?}", server.logged);
            }
            if Instant::now() >= deadline {
                panic!("the server did not answer within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // What it printed before listening (the first token) is in the pipe by now;
        // give the reading thread a moment to pass it on.
        server.read_until_quiet(Duration::from_millis(100));
        server
    }

    /// The port it listens on.
    #[must_use]
    pub const fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port><path>`.
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The token the development profile printed at its first start, if it did.
    #[must_use]
    pub fn first_token(&mut self) -> Option<String> {
        self.stdout_lines().iter().find_map(|line| {
            line.strip_prefix(FIRST_TOKEN_LINE)
                .map(|token| token.trim().to_owned())
        })
    }

    /// Every line it has written to standard output so far.
    pub fn stdout_lines(&mut self) -> Vec<String> {
        self.printed.extend(self.stdout.try_iter());
        self.printed.clone()
    }

    /// Every line it has written to standard error so far.
    pub fn stderr_lines(&mut self) -> Vec<String> {
        self.logged.extend(self.stderr.try_iter());
        self.logged.clone()
    }

    /// Its exit status, once it has exited.
    ///
    /// # Panics
    /// When the status cannot be read.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .try_wait()
            .unwrap_or_else(|error| panic!("the server's status: {error}"))
    }

    /// Sends `signal` (a name `kill` knows: `TERM`, `KILL`, `STOP`, ...).
    ///
    /// # Panics
    /// When `kill` fails.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap_or_else(|error| panic!("kill runs: {error}"));
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Kills it with SIGKILL (no chance to finish anything) and reaps it.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for it to exit.
    ///
    /// # Panics
    /// When it is still running after `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it as an operator would (SIGTERM, then SIGKILL after 30 s) and reads the
    /// rest of what it wrote; its exit status (`None` when it had to be killed).
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.exited() {
                break Some(status);
            }
            if Instant::now() > deadline {
                self.kill_9();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        self.read_to_end(Duration::from_secs(5));
        status
    }

    /// A field of `/proc/<pid>/status` in KiB (`VmRSS`, `VmHWM`, ...); `None` where
    /// there is no `/proc` or no such field.
    #[must_use]
    pub fn memory_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }

    /// Once the process has exited: moves everything both streams still held into
    /// the lines seen, up to their end (the reading threads finish when the pipes
    /// close), waiting at most `limit` in all.
    fn read_to_end(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        for (lines, seen) in [
            (&self.stdout, &mut self.printed),
            (&self.stderr, &mut self.logged),
        ] {
            // Ends at the stream's end (disconnected) or at the deadline.
            while let Ok(line) =
                lines.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                seen.push(line);
            }
        }
    }

    /// Moves what the reading threads pass on into the lines seen, until neither has
    /// had anything for `quiet` (the process still runs: its streams have no end yet).
    fn read_until_quiet(&mut self, quiet: Duration) {
        loop {
            let mut more = false;
            if let Ok(line) = self.stdout.recv_timeout(quiet) {
                self.printed.push(line);
                more = true;
            }
            if let Ok(line) = self.stderr.recv_timeout(Duration::ZERO) {
                self.logged.push(line);
                more = true;
            }
            if !more {
                let _ = self.stderr_lines();
                return;
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill_9();
    }
}
