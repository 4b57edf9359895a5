//! The real-binary harness (`switchboard_test_support::process`) on programs every
//! machine has: a process that exits before it answers is reported with all it wrote
//! to standard error, and a command starts with none of the test's own settings.

use std::time::Duration;

use switchboard_test_support::process::{ServerProcess, clean_command, free_port};

#[test]
#[should_panic(expected = "the last line it wrote")]
fn a_server_that_exits_first_is_reported_with_its_standard_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = clean_command("sh", dir.path());
    // Many lines, the telling one last: the report must wait for the stream's end.
    command.arg("-c").arg(
        "i=0; while [ $i -lt 200 ]; do echo \"line $i\" >&2; i=$((i+1)); done; \
         echo 'the last line it wrote' >&2; exit 3",
    );
    let _never = ServerProcess::start(&mut command, free_port(), Duration::from_secs(30));
}

#[test]
fn a_clean_command_carries_none_of_the_tests_settings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = clean_command("sh", dir.path())
        .arg("-c")
        .arg("env")
        .env("SWITCHBOARD__ADDED_BY_THE_TEST", "1")
        .output()
        .expect("sh runs");
    let env = String::from_utf8_lossy(&output.stdout);
    // Only what the test adds; the variables CI exports (SWITCHBOARD_TEST_*) are gone.
    let names: Vec<&str> = env
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name))
        .filter(|name| name.starts_with("SWITCHBOARD") || *name == "RUST_LOG")
        .collect();
    assert_eq!(names, ["SWITCHBOARD__ADDED_BY_THE_TEST"], "{env}");
}
