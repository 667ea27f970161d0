//! Rebuilds the crate when a migration changes, since `sqlx::migrate!()` embeds them.

fn main() {
    // `migrations` links to `../sql/sqlite` in the repository and is a plain directory in the
    // published package.
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=sqlx.toml");
}
