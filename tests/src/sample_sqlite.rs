//! A SQLite file holding the sample dataset ([`prismiq_sample::dataset::load_sqlite`]), created
//! once per test binary and shared by its tests (each test opens its own pool: pools belong to
//! one runtime).

use std::path::PathBuf;

use prismiq_sample::dataset;
use prismiq_store_sqlite::{SqliteDataSource, SqliteStore};
use tokio::sync::OnceCell;

static FILE: OnceCell<PathBuf> = OnceCell::const_new();

/// The path of a SQLite file with the sample dataset and prismiq's tables migrated, in the
/// system's temporary directory (one per test binary and process).
pub async fn path() -> PathBuf {
    FILE.get_or_init(|| async {
        let exe = std::env::current_exe().expect("the test binary's path");
        let name = exe
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("tests")
            .to_owned();
        let path =
            std::env::temp_dir().join(format!("prismiq-sample-{name}-{}.db", std::process::id()));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let store = SqliteStore::connect(&path.display().to_string())
            .await
            .expect("create the sample SQLite file");
        store.migrate().await.expect("migrate prismiq's tables");
        dataset::load_sqlite(store.pool())
            .await
            .expect("load the sample dataset into SQLite");
        store.pool().close().await;
        path
    })
    .await
    .clone()
}

/// A data source reading the sample SQLite file.
pub async fn source() -> SqliteDataSource {
    SqliteDataSource::open(path().await)
        .await
        .expect("open the sample SQLite file")
}
