//! The SQLite store: WAL mode, one group-committing writer thread, a small pool of readers.

mod outbound;
mod tx;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::Timestamp;
use moja_core::calls::Call;
use moja_core::rate_limit::{Period, RateLimit};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};

use self::tx::{SqliteTx, call_from_json, decimal, micros, timestamp};
use self::writer::Writer;
use crate::model::*;
use crate::outbound::*;
use crate::{Result, Store, StoreError, ops};

const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/sqlite/0001_init.sql"),
    include_str!("../../../migrations/sqlite/0002_outbound.sql"),
];
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

/// Webhooks by key hash, and a generation bumped by every invalidation: a lookup that read the
/// database before a change committed must not re-insert what it read.
#[derive(Debug, Default)]
struct WebhookCache {
    generation: u64,
    entries: HashMap<String, (IncomingWebhook, Org)>,
}

/// The SQLite implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: Writer,
    readers: Arc<ReaderPool>,
    /// Webhooks (with their org) by key hash: every public request looks one up. Only this
    /// process writes the database, so clearing on each webhook or org change keeps it exact.
    webhooks_by_key: Arc<Mutex<WebhookCache>>,
    /// Notified after each commit that queued deliveries.
    deliveries_queued: Arc<tokio::sync::Notify>,
}

#[derive(Debug)]
struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    fn with<R>(&self, work: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
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

fn open_connection(path: &Path, read_only: bool, sync: SyncMode) -> Result<Connection> {
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

fn migrate(connection: &Connection) -> Result<()> {
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

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path, sync: SyncMode) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Database(format!("creating {}: {e}", parent.display())))?;
        }
        let connection = open_connection(path, false, sync)?;
        migrate(&connection)?;
        let deliveries_queued = Arc::new(tokio::sync::Notify::new());
        Ok(Self {
            writer: Writer::start(connection, deliveries_queued.clone()),
            deliveries_queued,
            readers: Arc::new(ReaderPool {
                path: path.to_path_buf(),
                idle: Mutex::new(Vec::new()),
            }),
            webhooks_by_key: Arc::default(),
        })
    }

    async fn find_incoming_webhook_uncached(
        &self,
        key_hash: &str,
    ) -> Result<Option<(IncomingWebhook, Org)>> {
        let key_hash = key_hash.to_owned();
        self.read(move |c| {
            let webhook = c
                .prepare_cached(&format!(
                    "SELECT {WEBHOOK_COLUMNS} FROM incoming_webhooks
                     WHERE key_hash = ?1 AND deleted_at IS NULL"
                ))?
                .query_row([key_hash], webhook_from)
                .optional()?
                .transpose()?;
            let Some(webhook) = webhook else {
                return Ok(None);
            };
            let org = c
                .prepare_cached(&format!("SELECT {ORG_COLUMNS} FROM orgs WHERE id = ?1"))?
                .query_row([&webhook.org_id], org_row)
                .optional()?
                .map(org_from)
                .transpose()?;
            Ok(org.map(|org| (webhook, org)))
        })
        .await
    }

    /// Runs one statement on the writer; whether it changed exactly one row.
    fn execute_one(
        &self,
        sql: &'static str,
        params: Vec<Box<dyn rusqlite::ToSql + Send>>,
    ) -> impl std::future::Future<Output = Result<bool>> + '_ {
        self.writer
            .write(move |c| Ok(c.execute(sql, rusqlite::params_from_iter(params.iter()))? == 1))
    }

    fn webhook_cache(&self) -> std::sync::MutexGuard<'_, WebhookCache> {
        self.webhooks_by_key
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a write that may change what a key authenticates, then invalidates the cache.
    async fn changing_webhooks<R>(
        &self,
        write: impl std::future::Future<Output = Result<R>>,
    ) -> Result<R> {
        let result = write.await;
        let mut cache = self.webhook_cache();
        cache.generation += 1;
        cache.entries.clear();
        result
    }

    async fn read<R, F>(&self, work: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || readers.with(work))
            .await
            .map_err(|e| StoreError::Database(format!("reader task: {e}")))?
    }
}

fn org_row(row: &Row<'_>) -> rusqlite::Result<(String, String, String, String, bool, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn org_from(r: (String, String, String, String, bool, i64)) -> Result<Org> {
    Ok(Org {
        id: r.0,
        name: r.1,
        default_region: r.2,
        currency: r.3,
        disabled: r.4,
        created_at: timestamp(r.5)?,
    })
}

const ORG_COLUMNS: &str = "id, name, default_region, currency, disabled, created_at";

type ApiKeyRow = (String, String, String, String, i64, Option<i64>);

fn api_key_from(r: ApiKeyRow) -> Result<ApiKey> {
    Ok(ApiKey {
        id: r.0,
        org_id: r.1,
        name: r.2,
        key_prefix: r.3,
        created_at: timestamp(r.4)?,
        revoked_at: r.5.map(timestamp).transpose()?,
    })
}

const CAMPAIGN_COLUMNS: &str = "id, org_id, name, conversion_min_duration_s, buyer_revenue, publisher_payout, currency, created_at, updated_at";

type CampaignRow = (
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
);

fn campaign_row(row: &Row<'_>) -> rusqlite::Result<CampaignRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
    ))
}

fn campaign_from(r: CampaignRow) -> Result<Campaign> {
    Ok(Campaign {
        id: r.0,
        org_id: r.1,
        name: r.2,
        conversion_min_duration_s: r.3,
        buyer_revenue: r.4.as_deref().map(decimal).transpose()?,
        publisher_payout: r.5.as_deref().map(decimal).transpose()?,
        currency: r.6,
        created_at: timestamp(r.7)?,
        updated_at: timestamp(r.8)?,
    })
}

const WEBHOOK_COLUMNS: &str = "id, org_id, name, kind, campaign_ids, lookback_seconds, match_policy, rate_limit, rate_period, normalizer, mapper, plugin_config, enabled, created_at, updated_at";

fn webhook_from(row: &Row<'_>) -> rusqlite::Result<Result<IncomingWebhook>> {
    let kind: String = row.get(3)?;
    let campaign_ids: String = row.get(4)?;
    let policy: String = row.get(6)?;
    let period: String = row.get(8)?;
    let plugin_config: String = row.get(11)?;
    let created_at: i64 = row.get(13)?;
    let updated_at: i64 = row.get(14)?;
    let id: String = row.get(0)?;
    let org_id: String = row.get(1)?;
    let name: String = row.get(2)?;
    let lookback_seconds: i64 = row.get(5)?;
    let limit: i64 = row.get(7)?;
    let normalizer: String = row.get(9)?;
    let mapper: String = row.get(10)?;
    let enabled: bool = row.get(12)?;
    Ok((|| {
        Ok(IncomingWebhook {
            id,
            org_id,
            name,
            kind: WebhookKind::parse(&kind)
                .ok_or_else(|| StoreError::Database(format!("stored webhook kind {kind:?}")))?,
            campaign_ids: serde_json::from_str(&campaign_ids)?,
            lookback_seconds,
            match_policy: if policy == "all" {
                MatchPolicy::All
            } else {
                MatchPolicy::MostRecent
            },
            rate_limit: RateLimit {
                limit: limit as u32,
                period: period
                    .parse::<Period>()
                    .map_err(|_| StoreError::Database(format!("stored rate period {period:?}")))?,
            },
            normalizer,
            mapper,
            plugin_config: serde_json::from_str(&plugin_config)?,
            enabled,
            created_at: timestamp(created_at)?,
            updated_at: timestamp(updated_at)?,
        })
    })())
}

const REQUEST_COLUMNS: &str = "id, org_id, webhook_id, received_at, method, path, query, headers, body, body_truncated, status, response, latency_us, details";

fn request_from(row: &Row<'_>) -> rusqlite::Result<Result<RequestLogEntry>> {
    let received_at: i64 = row.get(3)?;
    let headers: String = row.get(7)?;
    let response: String = row.get(11)?;
    let details: String = row.get(13)?;
    let status: i64 = row.get(10)?;
    let entry = (
        row.get::<_, String>(0)?,
        row.get::<_, Option<String>>(1)?,
        row.get::<_, Option<String>>(2)?,
        row.get::<_, String>(4)?,
        row.get::<_, String>(5)?,
        row.get::<_, String>(6)?,
        row.get::<_, Vec<u8>>(8)?,
        row.get::<_, bool>(9)?,
        row.get::<_, i64>(12)?,
    );
    Ok((|| {
        Ok(RequestLogEntry {
            id: entry.0,
            org_id: entry.1,
            webhook_id: entry.2,
            received_at: timestamp(received_at)?,
            method: entry.3,
            path: entry.4,
            query: entry.5,
            headers: serde_json::from_str(&headers)?,
            body: entry.6,
            body_truncated: entry.7,
            status: status as u16,
            response: serde_json::from_str(&response)?,
            latency_us: entry.8,
            details: serde_json::from_str(&details)?,
        })
    })())
}

/// A statement parameter that owns its value, so a write can move it to the writer thread.
fn owned<T: rusqlite::ToSql + Send + 'static>(value: T) -> Box<dyn rusqlite::ToSql + Send> {
    Box::new(value)
}

/// Cursors are the `(time, id)` of the last item of a page: `"<micros>:<id>"`.
fn parse_cursor(cursor: Option<&str>) -> Option<(i64, String)> {
    let (time, id) = cursor?.split_once(':')?;
    Some((time.parse().ok()?, id.to_owned()))
}

/// A page of at most `limit` items from `rows` (which read one more, to tell whether a next page
/// exists), its cursor made of the last item's `(time, id)`.
pub(crate) fn page_of<T>(
    rows: impl Iterator<Item = Result<T>>,
    limit: usize,
    key: impl Fn(&T) -> (i64, String),
) -> Result<Page<T>> {
    let mut items: Vec<T> = Vec::new();
    let mut more = false;
    for row in rows {
        if items.len() == limit {
            more = true;
            break;
        }
        items.push(row?);
    }
    let next_cursor = if more {
        items.last().map(|item| {
            let (time, id) = key(item);
            format!("{time}:{id}")
        })
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

fn page_limit(limit: usize) -> usize {
    if limit == 0 { 50 } else { limit.min(200) }
}

#[async_trait]
impl Store for SqliteStore {
    async fn setting(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_owned();
        self.read(move |c| {
            Ok(
                c.prepare_cached("SELECT value FROM settings WHERE key = ?1")?
                    .query_row([key], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }

    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<bool> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.execute_one(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
            vec![owned(key), owned(value)],
        )
        .await
    }

    async fn create_org(&self, org: Org, key: NewApiKey) -> Result<()> {
        self.writer
            .write(move |c| {
                c.execute(
                    &format!("INSERT INTO orgs ({ORG_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                    params![
                        org.id,
                        org.name,
                        org.default_region,
                        org.currency,
                        org.disabled,
                        micros(org.created_at)
                    ],
                )?;
                insert_api_key(c, &key)
            })
            .await
    }

    async fn list_orgs(&self) -> Result<Vec<Org>> {
        self.read(|c| {
            let mut statement = c.prepare_cached(&format!(
                "SELECT {ORG_COLUMNS} FROM orgs ORDER BY created_at, id"
            ))?;
            let rows = statement.query_map([], org_row)?;
            rows.map(|r| org_from(r?)).collect()
        })
        .await
    }

    async fn get_org(&self, id: &str) -> Result<Option<Org>> {
        let id = id.to_owned();
        self.read(move |c| {
            c.prepare_cached(&format!("SELECT {ORG_COLUMNS} FROM orgs WHERE id = ?1"))?
                .query_row([id], org_row)
                .optional()?
                .map(org_from)
                .transpose()
        })
        .await
    }

    async fn set_org_disabled(&self, id: &str, disabled: bool) -> Result<Option<Org>> {
        let id = id.to_owned();
        self.changing_webhooks(self.writer.write(move |c| {
            c.execute(
                "UPDATE orgs SET disabled = ?2 WHERE id = ?1",
                params![id, disabled],
            )?;
            c.prepare_cached(&format!("SELECT {ORG_COLUMNS} FROM orgs WHERE id = ?1"))?
                .query_row([id], org_row)
                .optional()?
                .map(org_from)
                .transpose()
        }))
        .await
    }

    async fn rename_org(&self, id: &str, name: &str) -> Result<Option<Org>> {
        let (id, name) = (id.to_owned(), name.to_owned());
        self.changing_webhooks(self.writer.write(move |c| {
            c.execute("UPDATE orgs SET name = ?2 WHERE id = ?1", params![id, name])?;
            c.prepare_cached(&format!("SELECT {ORG_COLUMNS} FROM orgs WHERE id = ?1"))?
                .query_row([id], org_row)
                .optional()?
                .map(org_from)
                .transpose()
        }))
        .await
    }

    async fn create_api_key(&self, key: NewApiKey) -> Result<()> {
        self.writer.write(move |c| insert_api_key(c, &key)).await
    }

    async fn list_api_keys(&self, org_id: &str) -> Result<Vec<ApiKey>> {
        let org_id = org_id.to_owned();
        self.read(move |c| {
            let mut statement = c.prepare_cached(
                "SELECT id, org_id, name, key_prefix, created_at, revoked_at FROM api_keys
                 WHERE org_id = ?1 ORDER BY created_at, id",
            )?;
            let rows = statement.query_map([org_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?;
            rows.map(|r| api_key_from(r?)).collect()
        })
        .await
    }

    async fn revoke_api_key(&self, org_id: &str, id: &str, at: Timestamp) -> Result<bool> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.execute_one(
            "UPDATE api_keys SET revoked_at = ?3 WHERE org_id = ?1 AND id = ?2 AND revoked_at IS NULL",
            vec![owned(org_id), owned(id), owned(micros(at))],
        )
            .await
    }

    async fn find_api_key(&self, hash: &str) -> Result<Option<(ApiKey, Org)>> {
        let hash = hash.to_owned();
        self.read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT k.id, k.org_id, k.name, k.key_prefix, k.created_at, k.revoked_at,
                            o.id, o.name, o.default_region, o.currency, o.disabled, o.created_at
                     FROM api_keys k JOIN orgs o ON o.id = k.org_id
                     WHERE k.key_hash = ?1 AND k.revoked_at IS NULL",
                )?
                .query_row([hash], |r| {
                    Ok((
                        (
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                        ),
                        (
                            r.get(6)?,
                            r.get(7)?,
                            r.get(8)?,
                            r.get(9)?,
                            r.get(10)?,
                            r.get(11)?,
                        ),
                    ))
                })
                .optional()?;
            row.map(|(key, org)| Ok((api_key_from(key)?, org_from(org)?)))
                .transpose()
        })
        .await
    }

    async fn create_campaign(&self, campaign: Campaign) -> Result<()> {
        self.writer
            .write(move |c| {
                c.execute(
                    &format!(
                        "INSERT INTO campaigns ({CAMPAIGN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                    ),
                    params![
                        campaign.id,
                        campaign.org_id,
                        campaign.name,
                        campaign.conversion_min_duration_s,
                        campaign.buyer_revenue.map(|d| d.to_string()),
                        campaign.publisher_payout.map(|d| d.to_string()),
                        campaign.currency,
                        micros(campaign.created_at),
                        micros(campaign.updated_at),
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn list_campaigns(&self, org_id: &str) -> Result<Vec<Campaign>> {
        let org_id = org_id.to_owned();
        self.read(move |c| {
            let mut statement = c.prepare_cached(&format!(
                "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE org_id = ?1 AND deleted_at IS NULL
                 ORDER BY created_at, id"
            ))?;
            let rows = statement.query_map([org_id], campaign_row)?;
            rows.map(|r| campaign_from(r?)).collect()
        })
        .await
    }

    async fn get_campaign(&self, org_id: &str, id: &str) -> Result<Option<Campaign>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL"
            ))?
            .query_row([org_id, id], campaign_row)
            .optional()?
            .map(campaign_from)
            .transpose()
        })
        .await
    }

    async fn update_campaign(&self, campaign: Campaign) -> Result<bool> {
        self.execute_one(
            "UPDATE campaigns SET name = ?3, conversion_min_duration_s = ?4, buyer_revenue = ?5,
                       publisher_payout = ?6, currency = ?7, updated_at = ?8
                     WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL",
            vec![
                owned(campaign.org_id),
                owned(campaign.id),
                owned(campaign.name),
                owned(campaign.conversion_min_duration_s),
                owned(campaign.buyer_revenue.map(|d| d.to_string())),
                owned(campaign.publisher_payout.map(|d| d.to_string())),
                owned(campaign.currency),
                owned(micros(campaign.updated_at)),
            ],
        )
        .await
    }

    async fn delete_campaign(&self, org_id: &str, id: &str, at: Timestamp) -> Result<bool> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.execute_one(
            "UPDATE campaigns SET deleted_at = ?3 WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL",
            vec![owned(org_id), owned(id), owned(micros(at))],
        )
            .await
    }

    async fn create_custom_tag(&self, tag: CustomTag) -> Result<()> {
        self.writer
            .write(move |c| {
                c.execute(
                    "INSERT INTO custom_tags (org_id, key, display_name, description, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        tag.org_id,
                        tag.key,
                        tag.display_name,
                        tag.description,
                        micros(tag.created_at)
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn list_custom_tags(&self, org_id: &str) -> Result<Vec<CustomTag>> {
        let org_id = org_id.to_owned();
        self.read(move |c| {
            let mut statement = c.prepare_cached(
                "SELECT org_id, key, display_name, description, created_at FROM custom_tags
                 WHERE org_id = ?1 ORDER BY created_at, key",
            )?;
            let rows = statement.query_map([org_id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?;
            rows.map(|r| {
                let (org_id, key, display_name, description, created_at) = r?;
                Ok(CustomTag {
                    org_id,
                    key,
                    display_name,
                    description,
                    created_at: timestamp(created_at)?,
                })
            })
            .collect()
        })
        .await
    }

    async fn delete_custom_tag(&self, org_id: &str, key: &str) -> Result<bool> {
        let (org_id, key) = (org_id.to_owned(), key.to_owned());
        self.execute_one(
            "DELETE FROM custom_tags WHERE org_id = ?1 AND key = ?2",
            vec![owned(org_id), owned(key)],
        )
        .await
    }

    async fn create_incoming_webhook(
        &self,
        webhook: IncomingWebhook,
        key_hash: &str,
    ) -> Result<()> {
        let key_hash = key_hash.to_owned();
        self.writer
            .write(move |c| {
                c.execute(
                    "INSERT INTO incoming_webhooks (id, org_id, name, kind, key_hash, campaign_ids,
                       lookback_seconds, match_policy, rate_limit, rate_period, normalizer, mapper,
                       plugin_config, enabled, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                    params![
                        webhook.id,
                        webhook.org_id,
                        webhook.name,
                        webhook.kind.as_str(),
                        key_hash,
                        serde_json::to_string(&webhook.campaign_ids)?,
                        webhook.lookback_seconds,
                        webhook.match_policy.as_str(),
                        webhook.rate_limit.limit,
                        webhook.rate_limit.period.to_string(),
                        webhook.normalizer,
                        webhook.mapper,
                        serde_json::to_string(&webhook.plugin_config)?,
                        webhook.enabled,
                        micros(webhook.created_at),
                        micros(webhook.updated_at),
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn list_incoming_webhooks(&self, org_id: &str) -> Result<Vec<IncomingWebhook>> {
        let org_id = org_id.to_owned();
        self.read(move |c| {
            let mut statement = c.prepare_cached(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM incoming_webhooks
                 WHERE org_id = ?1 AND deleted_at IS NULL ORDER BY created_at, id"
            ))?;
            let rows = statement.query_map([org_id], webhook_from)?;
            rows.map(|r| r?).collect()
        })
        .await
    }

    async fn get_incoming_webhook(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<Option<IncomingWebhook>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM incoming_webhooks
                 WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL"
            ))?
            .query_row([org_id, id], webhook_from)
            .optional()?
            .transpose()
        })
        .await
    }

    async fn update_incoming_webhook(&self, webhook: IncomingWebhook) -> Result<bool> {
        self.changing_webhooks(self.writer.write(move |c| {
            Ok(c.execute(
                "UPDATE incoming_webhooks SET name = ?3, campaign_ids = ?4, lookback_seconds = ?5,
                       match_policy = ?6, rate_limit = ?7, rate_period = ?8, normalizer = ?9,
                       mapper = ?10, plugin_config = ?11, enabled = ?12, updated_at = ?13
                     WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL",
                params![
                    webhook.org_id,
                    webhook.id,
                    webhook.name,
                    serde_json::to_string(&webhook.campaign_ids)?,
                    webhook.lookback_seconds,
                    webhook.match_policy.as_str(),
                    webhook.rate_limit.limit,
                    webhook.rate_limit.period.to_string(),
                    webhook.normalizer,
                    webhook.mapper,
                    serde_json::to_string(&webhook.plugin_config)?,
                    webhook.enabled,
                    micros(webhook.updated_at),
                ],
            )? == 1)
        }))
        .await
    }

    async fn rotate_incoming_webhook_key(
        &self,
        org_id: &str,
        id: &str,
        key_hash: &str,
        at: Timestamp,
    ) -> Result<bool> {
        let params = vec![
            owned(org_id.to_owned()),
            owned(id.to_owned()),
            owned(key_hash.to_owned()),
            owned(micros(at)),
        ];
        self.changing_webhooks(self.execute_one(
            "UPDATE incoming_webhooks SET key_hash = ?3, updated_at = ?4
             WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL",
            params,
        ))
        .await
    }

    async fn delete_incoming_webhook(&self, org_id: &str, id: &str, at: Timestamp) -> Result<bool> {
        let params = vec![
            owned(org_id.to_owned()),
            owned(id.to_owned()),
            owned(micros(at)),
        ];
        // The key hash is replaced so the deleted webhook's key can never authenticate.
        self.changing_webhooks(self.execute_one(
            "UPDATE incoming_webhooks SET deleted_at = ?3, key_hash = 'deleted:' || id
             WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL",
            params,
        ))
        .await
    }

    async fn find_incoming_webhook(
        &self,
        key_hash: &str,
    ) -> Result<Option<(IncomingWebhook, Org)>> {
        let generation = {
            let cache = self.webhook_cache();
            if let Some(found) = cache.entries.get(key_hash) {
                return Ok(Some(found.clone()));
            }
            cache.generation
        };
        let found = self.find_incoming_webhook_uncached(key_hash).await?;
        if let Some(found) = &found {
            let mut cache = self.webhook_cache();
            if cache.generation == generation {
                cache.entries.insert(key_hash.to_owned(), found.clone());
            }
        }
        Ok(found)
    }

    async fn create_call(&self, new: NewCall) -> Result<Call> {
        self.writer
            .write(move |c| ops::create_call(&mut SqliteTx { connection: c }, &new))
            .await
    }

    async fn transition(
        &self,
        org_id: &str,
        id: &str,
        request: TransitionRequest,
        now: Timestamp,
    ) -> Result<TransitionResult> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.writer
            .write(move |c| {
                ops::transition(&mut SqliteTx { connection: c }, &org_id, &id, &request, now)
            })
            .await
    }

    async fn get_call(&self, org_id: &str, id: &str) -> Result<CallLookup> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| {
            let data: Option<String> = c
                .prepare_cached("SELECT data FROM calls WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            Ok(match data {
                None => CallLookup::Missing,
                Some(data) => {
                    let call = call_from_json(&data)?;
                    if call.org_id == org_id {
                        CallLookup::Found(Box::new(call))
                    } else {
                        CallLookup::OtherOrg
                    }
                }
            })
        })
        .await
    }

    async fn list_calls(&self, org_id: &str, filter: CallFilter) -> Result<Page<Call>> {
        let org_id = org_id.to_owned();
        self.read(move |c| {
            let limit = page_limit(filter.limit);
            let (cursor_time, cursor_id) =
                parse_cursor(filter.cursor.as_deref()).unwrap_or((i64::MAX, String::new()));
            let mut statement = c.prepare_cached(
                "SELECT data FROM calls
                 WHERE org_id = ?1
                   AND (?2 IS NULL OR caller_e164 = ?2)
                   AND (?3 IS NULL OR status = ?3)
                   AND (?4 IS NULL OR campaign_id = ?4)
                   AND (?5 IS NULL OR started_at >= ?5)
                   AND (?6 IS NULL OR started_at < ?6)
                   AND (started_at < ?7 OR (started_at = ?7 AND id < ?8) OR ?8 = '')
                 ORDER BY started_at DESC, id DESC LIMIT ?9",
            )?;
            let rows = statement.query_map(
                params![
                    org_id,
                    filter.phone_e164,
                    filter.status,
                    filter.campaign_id,
                    filter.from.map(micros),
                    filter.to.map(micros),
                    cursor_time,
                    cursor_id,
                    (limit + 1) as i64,
                ],
                |r| r.get::<_, String>(0),
            )?;
            let calls = rows.map(|row| call_from_json(&row?));
            page_of(calls, limit, |call: &Call| {
                (micros(call.started_at), call.id.clone())
            })
        })
        .await
    }

    async fn timeline(&self, org_id: &str, id: &str) -> Result<Option<Vec<TimelineEntry>>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| {
            let owner: Option<String> = c
                .prepare_cached("SELECT org_id FROM calls WHERE id = ?1")?
                .query_row([&id], |r| r.get(0))
                .optional()?;
            if owner.as_deref() != Some(org_id.as_str()) {
                return Ok(None);
            }
            let mut statement = c.prepare_cached(
                "SELECT seq, at, kind, details FROM call_timeline WHERE call_id = ?1 ORDER BY seq",
            )?;
            let rows = statement.query_map([&id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            rows.map(|r| {
                let (seq, at, kind, details) = r?;
                Ok(TimelineEntry {
                    seq,
                    at: timestamp(at)?,
                    kind,
                    details: serde_json::from_str(&details)?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
        })
        .await
    }

    async fn sweep_live_calls(
        &self,
        started_before: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<String>> {
        self.writer
            .write(move |c| {
                let stale: Vec<(String, String)> = {
                    let mut statement = c.prepare_cached(
                        "SELECT id, org_id FROM calls
                         WHERE status IN ('ringing', 'connected') AND started_at < ?1",
                    )?;
                    let rows = statement
                        .query_map([micros(started_before)], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                let mut swept = Vec::new();
                for (id, org_id) in stale {
                    let request = TransitionRequest::Hangup {
                        terminated_by: "system".into(),
                    };
                    if let TransitionResult::Done { .. } = ops::transition(
                        &mut SqliteTx { connection: c },
                        &org_id,
                        &id,
                        &request,
                        now,
                    )? {
                        swept.push(id);
                    }
                }
                Ok(swept)
            })
            .await
    }

    async fn apply_update(
        &self,
        update: InboundUpdate,
        log: RequestLogEntry,
    ) -> Result<InboundResponse> {
        self.writer
            .write(move |c| ops::apply_update(&mut SqliteTx { connection: c }, &update, log))
            .await
    }

    async fn store_call_data(
        &self,
        data: InboundCallData,
        log: RequestLogEntry,
    ) -> Result<InboundResponse> {
        self.writer
            .write(move |c| ops::store_call_data(&mut SqliteTx { connection: c }, &data, log))
            .await
    }

    async fn log_request(&self, entry: RequestLogEntry) -> Result<()> {
        self.writer
            .write(move |c| tx::insert_request_log(c, &entry))
            .await
    }

    async fn list_requests(
        &self,
        org_id: &str,
        filter: RequestFilter,
    ) -> Result<Page<RequestLogEntry>> {
        let org_id = org_id.to_owned();
        self.read(move |c| {
            let limit = page_limit(filter.limit);
            let (cursor_time, cursor_id) =
                parse_cursor(filter.cursor.as_deref()).unwrap_or((i64::MAX, String::new()));
            let mut statement = c.prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS} FROM request_log
                 WHERE org_id = ?1
                   AND (?2 IS NULL OR webhook_id = ?2)
                   AND (?3 IS NULL OR status = ?3)
                   AND (?4 = 0 OR status >= 400)
                   AND (received_at < ?5 OR (received_at = ?5 AND id < ?6) OR ?6 = '')
                 ORDER BY received_at DESC, id DESC LIMIT ?7"
            ))?;
            let rows = statement.query_map(
                params![
                    org_id,
                    filter.webhook_id,
                    filter.status,
                    filter.failed,
                    cursor_time,
                    cursor_id,
                    (limit + 1) as i64
                ],
                request_from,
            )?;
            page_of(rows.map(|row| row?), limit, |e: &RequestLogEntry| {
                (micros(e.received_at), e.id.clone())
            })
        })
        .await
    }

    async fn get_request(&self, org_id: &str, id: &str) -> Result<Option<RequestLogEntry>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS} FROM request_log WHERE org_id = ?1 AND id = ?2"
            ))?
            .query_row([org_id, id], request_from)
            .optional()?
            .transpose()
        })
        .await
    }

    fn deliveries_queued(&self) -> Arc<tokio::sync::Notify> {
        self.deliveries_queued.clone()
    }

    async fn create_outgoing_webhook(&self, webhook: OutgoingWebhook) -> Result<()> {
        self.writer
            .write(move |c| outbound::insert_webhook(c, &webhook))
            .await
    }

    async fn list_outgoing_webhooks(&self, org_id: &str) -> Result<Vec<OutgoingWebhook>> {
        let org_id = org_id.to_owned();
        self.read(move |c| outbound::list_webhooks(c, &org_id))
            .await
    }

    async fn get_outgoing_webhook(
        &self,
        org_id: &str,
        id: &str,
    ) -> Result<Option<OutgoingWebhook>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| outbound::get_webhook(c, &org_id, &id))
            .await
    }

    async fn update_outgoing_webhook(&self, webhook: OutgoingWebhook) -> Result<bool> {
        self.writer
            .write(move |c| outbound::update_webhook(c, &webhook))
            .await
    }

    async fn delete_outgoing_webhook(&self, org_id: &str, id: &str, at: Timestamp) -> Result<bool> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.writer
            .write(move |c| outbound::delete_webhook(c, &org_id, &id, at))
            .await
    }

    async fn claim_deliveries(&self, claim: ClaimRequest) -> Result<Vec<ClaimedDelivery>> {
        self.writer.write(move |c| outbound::claim(c, &claim)).await
    }

    async fn finish_attempt(&self, attempt: AttemptRecord, next: DeliveryNext) -> Result<()> {
        self.writer
            .write(move |c| outbound::finish(c, &attempt, next))
            .await
    }

    async fn fire_scheduled_events(&self, now: Timestamp, limit: usize) -> Result<usize> {
        self.writer
            .write(move |c| outbound::fire_scheduled(c, now, limit))
            .await
    }

    async fn release_leases(&self) -> Result<u64> {
        self.writer.write(outbound::release_leases).await
    }

    async fn queue_stats(&self, now: Timestamp) -> Result<QueueStats> {
        self.read(move |c| outbound::queue_stats(c, now)).await
    }

    async fn record_test_attempt(&self, delivery: Delivery, attempt: AttemptRecord) -> Result<()> {
        self.writer
            .write(move |c| {
                outbound::insert_delivery(c, &delivery)?;
                outbound::insert_attempt(c, &attempt)
            })
            .await
    }

    async fn list_attempts(
        &self,
        org_id: &str,
        filter: AttemptFilter,
    ) -> Result<Page<AttemptRecord>> {
        let org_id = org_id.to_owned();
        self.read(move |c| {
            let cursor =
                parse_cursor(filter.cursor.as_deref()).unwrap_or((i64::MAX, String::new()));
            outbound::list_attempts(c, &org_id, &filter, page_limit(filter.limit), cursor)
        })
        .await
    }

    async fn get_attempt(&self, org_id: &str, id: &str) -> Result<Option<AttemptRecord>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| outbound::get_attempt(c, &org_id, &id))
            .await
    }

    async fn get_delivery(&self, org_id: &str, id: &str) -> Result<Option<Delivery>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| outbound::get_delivery(c, &org_id, &id))
            .await
    }

    async fn resend(&self, org_id: &str, attempt_id: &str, now: Timestamp) -> Result<Resend> {
        let (org_id, attempt_id) = (org_id.to_owned(), attempt_id.to_owned());
        self.writer
            .write(move |c| outbound::resend(c, &org_id, &attempt_id, now))
            .await
    }

    async fn purge(
        &self,
        idempotency_before: Timestamp,
        requests_before: Timestamp,
        now: Timestamp,
    ) -> Result<u64> {
        self.writer
            .write(move |c| {
                let mut removed = c.execute(
                    "DELETE FROM idempotency WHERE created_at < ?1",
                    [micros(idempotency_before)],
                )?;
                removed += c.execute(
                    "DELETE FROM request_log WHERE received_at < ?1",
                    [micros(requests_before)],
                )?;
                removed +=
                    c.execute("DELETE FROM call_data WHERE expires_at < ?1", [micros(now)])?;
                removed += outbound::purge(c, micros(requests_before))?;
                Ok(removed as u64)
            })
            .await
    }
}

fn insert_api_key(c: &Connection, key: &NewApiKey) -> Result<()> {
    c.execute(
        "INSERT INTO api_keys (id, org_id, name, key_prefix, key_hash, created_at, revoked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
        params![
            key.key.id,
            key.key.org_id,
            key.key.name,
            key.key.key_prefix,
            key.hash,
            micros(key.key.created_at)
        ],
    )?;
    Ok(())
}
