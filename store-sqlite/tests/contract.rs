//! The store contract on SQLite: a real database file in a temporary folder per case.

use std::sync::Arc;

use moja_store::Store;
use moja_store::contract::Database;
use moja_store_sqlite::{SqliteStore, SyncMode};

/// A fresh SQLite file.
struct SqliteDatabase {
    dir: tempfile::TempDir,
}

impl SqliteDatabase {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
}

#[async_trait::async_trait]
impl Database for SqliteDatabase {
    async fn open(&self) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(&self.dir.path().join("db.sqlite"), SyncMode::Normal).unwrap())
    }
}

moja_store::store_contract!(SqliteDatabase::new());
