//! Rebuilds the crate when a migration changes: `embed_migrations!` reads the
//! `migrations` directory at compile time, which cargo does not watch by itself.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
