//! Decides, when the tests are compiled, whether the PostgreSQL cases of
//! `on_both_backends!` run or are reported as ignored: they run when
//! `SWITCHBOARD_TEST_POSTGRES_URL` names a server, or when
//! `SWITCHBOARD_TEST_REQUIRE_POSTGRES=1` asks for them (they then fail without a
//! server instead of being skipped). Changing either variable rebuilds this crate
//! and every test that uses the macro.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pg_tests)");
    println!("cargo::rerun-if-env-changed=SWITCHBOARD_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=SWITCHBOARD_TEST_REQUIRE_POSTGRES");
    let configured =
        std::env::var("SWITCHBOARD_TEST_POSTGRES_URL").is_ok_and(|url| !url.trim().is_empty());
    let required = std::env::var("SWITCHBOARD_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1");
    if configured || required {
        println!("cargo::rustc-cfg=pg_tests");
    }
}
