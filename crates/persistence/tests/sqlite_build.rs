//! The bundled SQLite is built with the query planner stability guarantee
//! (`LIBSQLITE3_FLAGS` in `.cargo/config.toml`). Without it SQLite 3.50 plans with
//! the value bound to `LIMIT ?`, so every rebinding expires the prepared statement and
//! each `.first()` or paginated query is parsed and planned again on every execution
//! (see docs/performance.md).

use diesel::prelude::*;
use diesel::sql_types::Text;

#[derive(QueryableByName)]
struct CompileOption {
    #[diesel(sql_type = Text)]
    compile_options: String,
}

#[test]
fn sqlite_is_built_with_the_query_planner_stability_guarantee() {
    let mut connection = SqliteConnection::establish(":memory:").expect("in-memory SQLite");
    let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options")
        .load(&mut connection)
        .expect("compile options");
    assert!(
        options
            .iter()
            .any(|option| option.compile_options == "ENABLE_QPSG"),
        "SQLite was built without SQLITE_ENABLE_QPSG: build inside the repository so that \
         .cargo/config.toml applies"
    );
}

/// Multi-thread mode, no memory statistics and a page cache per connection
/// (`.cargo/config.toml` says why).
#[test]
fn sqlite_is_built_without_the_per_call_mutexes() {
    let mut connection = SqliteConnection::establish(":memory:").expect("in-memory SQLite");
    let options: Vec<CompileOption> = diesel::sql_query("PRAGMA compile_options")
        .load(&mut connection)
        .expect("compile options");
    let has = |wanted: &str| {
        options
            .iter()
            .any(|option| option.compile_options == wanted)
    };
    assert!(has("THREADSAFE=2"), "SQLite is not in multi-thread mode");
    assert!(has("DEFAULT_MEMSTATUS=0"), "SQLite keeps memory statistics");
    assert!(
        !has("ENABLE_MEMORY_MANAGEMENT"),
        "SQLite shares one page cache, behind one mutex, between connections"
    );
}
