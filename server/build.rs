//! `sqlx::migrate!` embeds the migration folders when it expands; without
//! this, a migration added to a folder would not reach a binary built
//! incrementally.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
