//! Opening SQLite connections (WAL, foreign keys, the sync level), the migrations, and the
//! small pool of read-only connections the readers share.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use crate::error::Result;

const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_outbound.sql"),
    include_str!("../../migrations/sqlite/0003_seams.sql"),
];
/// Idle readers kept open.
const READERS: usize = 4;

/// How hard SQLite syncs a commit to disk (`MOJA_SQLITE_SYNC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// Durable across process crashes (WAL with `synchronous=NORMAL`).
    #[default]
    Normal,
    /// Also durable across power loss (`synchronous=FULL`).
    Full,
}

pub(crate) fn open_connection(path: &Path, read_only: bool, sync: SyncMode) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let connection = Connection::open_with_flags(path, flags)?;
    let synchronous = match sync {
        SyncMode::Normal => "NORMAL",
        SyncMode::Full => "FULL",
    };
    connection.execute_batch(&format!(
        "PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = {synchronous};"
    ))?;
    connection.set_prepared_statement_cache_capacity(64);
    Ok(connection)
}

/// Applies the migrations not yet applied (`PRAGMA user_version` counts them), each in its own
/// transaction.
pub(crate) fn migrate(connection: &Connection) -> Result<()> {
    connection.execute_batch("PRAGMA journal_mode = WAL;")?;
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        connection.execute_batch(&format!(
            "BEGIN; {migration}\nPRAGMA user_version = {}; COMMIT;",
            index + 1
        ))?;
        tracing::info!(version = index + 1, "applied database migration");
    }
    Ok(())
}

/// Read-only connections, opened on demand and kept while idle.
#[derive(Debug)]
pub(crate) struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `work` on an idle reader (or a new one).
    pub(crate) fn with<R>(&self, work: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let connection = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let connection = match connection {
            Some(c) => c,
            None => open_connection(&self.path, true, SyncMode::Normal)?,
        };
        let result = work(&connection);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < READERS {
            idle.push(connection);
        }
        result
    }
}
