//! Rebuilds the crate when a migration changes: the SQL files are embedded at compile
//! time, and Cargo does not watch files outside the package on its own.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
