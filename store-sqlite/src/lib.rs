//! Moja Webhooks persistence on embedded SQLite: WAL mode, one group-committing writer thread
//! (`writer`), a small pool of readers (`connection`). The transactional logic is
//! `moja_store::ops`, run on the writer over this backend's [`Tx`](moja_store::tx::Tx)
//! primitives (`tx`); the SQL lives by subject (`tenants`, `calls`, `inbound`, `outbound`).

mod calls;
mod connection;
mod error;
mod inbound;
mod outbound;
mod rows;
mod tenants;
mod tx;
mod writer;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use moja_core::calls::Call;
use moja_store::*;
use rusqlite::{Connection, params};

pub use self::connection::SyncMode;
use self::connection::{ReaderPool, migrate, open_connection};
use self::rows::{micros, page_limit, parse_cursor};
use self::tx::run_now;
use self::writer::Writer;

/// The SQLite implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: Writer,
    readers: Arc<ReaderPool>,
    signals: Arc<Signals>,
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path, sync: SyncMode) -> moja_store::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Database(format!("creating {}: {e}", parent.display())))?;
        }
        let connection = open_connection(path, false, sync)?;
        migrate(&connection)?;
        let signals = Arc::new(Signals::default());
        Ok(Self {
            writer: Writer::start(connection, signals.clone()),
            readers: Arc::new(ReaderPool::new(path)),
            signals,
        })
    }

    /// Runs `work` on a reader, off the async runtime.
    async fn read<R, F>(&self, work: F) -> moja_store::Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> error::Result<R> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || readers.with(work))
            .await
            .map_err(|e| StoreError::Database(format!("reader task: {e}")))?
            .map_err(StoreError::from)
    }

    /// Runs a write that may change what a key authenticates: the store's webhook signal is
    /// raised when it commits.
    async fn write_webhooks<R, F>(&self, work: F) -> moja_store::Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> error::Result<R> + Send + 'static,
    {
        self.writer
            .write(move |tx| {
                tx.webhooks_changed();
                work(tx.connection)
            })
            .await
    }

    /// Runs `sql` with the org id, an id and a time as `?1`, `?2`, `?3` on the writer; whether
    /// it changed exactly one row.
    async fn change_one(
        &self,
        sql: &'static str,
        org_id: &str,
        id: &str,
        at: Timestamp,
    ) -> moja_store::Result<bool> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.write(move |c| Ok(c.execute(sql, params![org_id, id, micros(at)])? == 1))
            .await
    }

    /// Runs a plain write on the writer's connection.
    async fn write<R, F>(&self, work: F) -> moja_store::Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> error::Result<R> + Send + 'static,
    {
        self.writer.write(move |tx| work(tx.connection)).await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> moja_store::Result<()> {
        // Through the writer: a stuck or failing writer is what would make the node useless.
        self.write(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn setting(&self, key: &str) -> moja_store::Result<Option<String>> {
        let key = key.to_owned();
        self.read(move |c| {
            use rusqlite::OptionalExtension;
            Ok(
                c.prepare_cached("SELECT value FROM settings WHERE key = ?1")?
                    .query_row([key], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }

    async fn put_setting_if_absent(&self, key: &str, value: &str) -> moja_store::Result<bool> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |c| {
            Ok(c.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![key, value],
            )? == 1)
        })
        .await
    }

    async fn put_setting(&self, key: &str, value: &str) -> moja_store::Result<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |c| {
            c.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok(())
        })
        .await
    }

    async fn create_org(&self, org: Org, key: NewApiKey) -> moja_store::Result<()> {
        self.write(move |c| {
            tenants::insert_org(c, &org)?;
            tenants::insert_api_key(c, &key)
        })
        .await
    }

    async fn list_orgs(&self) -> moja_store::Result<Vec<Org>> {
        self.read(tenants::orgs).await
    }

    async fn get_org(&self, id: &str) -> moja_store::Result<Option<Org>> {
        let id = id.to_owned();
        self.read(move |c| tenants::org(c, &id)).await
    }

    async fn set_org_disabled(&self, id: &str, disabled: bool) -> moja_store::Result<Option<Org>> {
        let id = id.to_owned();
        self.write_webhooks(move |c| {
            c.execute(
                "UPDATE orgs SET disabled = ?2 WHERE id = ?1",
                params![id, disabled],
            )?;
            tenants::org(c, &id)
        })
        .await
    }

    async fn rename_org(&self, id: &str, name: &str) -> moja_store::Result<Option<Org>> {
        let (id, name) = (id.to_owned(), name.to_owned());
        self.write_webhooks(move |c| {
            c.execute("UPDATE orgs SET name = ?2 WHERE id = ?1", params![id, name])?;
            tenants::org(c, &id)
        })
        .await
    }

    async fn create_api_key(&self, key: NewApiKey) -> moja_store::Result<()> {
        self.write(move |c| tenants::insert_api_key(c, &key)).await
    }

    async fn list_api_keys(&self, org_id: &str) -> moja_store::Result<Vec<ApiKey>> {
        let org_id = org_id.to_owned();
        self.read(move |c| tenants::api_keys(c, &org_id)).await
    }

    async fn revoke_api_key(
        &self,
        org_id: &str,
        id: &str,
        at: Timestamp,
    ) -> moja_store::Result<bool> {
        self.change_one(
            "UPDATE api_keys SET revoked_at = ?3
             WHERE org_id = ?1 AND id = ?2 AND revoked_at IS NULL",
            org_id,
            id,
            at,
        )
        .await
    }

    async fn find_api_key(&self, hash: &str) -> moja_store::Result<Option<(ApiKey, Org)>> {
        let hash = hash.to_owned();
        self.read(move |c| tenants::active_api_key(c, &hash)).await
    }

    async fn create_campaign(&self, campaign: Campaign) -> moja_store::Result<()> {
        self.write(move |c| tenants::insert_campaign(c, &campaign))
            .await
    }

    async fn list_campaigns(&self, org_id: &str) -> moja_store::Result<Vec<Campaign>> {
        let org_id = org_id.to_owned();
        self.read(move |c| tenants::campaigns(c, "org_id = ?1", [org_id]))
            .await
    }

    async fn get_campaign(&self, org_id: &str, id: &str) -> moja_store::Result<Option<Campaign>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| {
            let mut found = tenants::campaigns(c, "org_id = ?1 AND id = ?2", [org_id, id])?;
            Ok(found.pop())
        })
        .await
    }

    async fn update_campaign(&self, campaign: Campaign) -> moja_store::Result<bool> {
        self.write(move |c| tenants::update_campaign(c, &campaign))
            .await
    }

    async fn delete_campaign(
        &self,
        org_id: &str,
        id: &str,
        at: Timestamp,
    ) -> moja_store::Result<bool> {
        self.change_one(
            "UPDATE campaigns SET deleted_at = ?3
             WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL",
            org_id,
            id,
            at,
        )
        .await
    }

    async fn create_custom_tag(&self, tag: CustomTag) -> moja_store::Result<()> {
        self.write(move |c| tenants::insert_custom_tag(c, &tag))
            .await
    }

    async fn list_custom_tags(&self, org_id: &str) -> moja_store::Result<Vec<CustomTag>> {
        let org_id = org_id.to_owned();
        self.read(move |c| tenants::custom_tags(c, &org_id)).await
    }

    async fn delete_custom_tag(&self, org_id: &str, key: &str) -> moja_store::Result<bool> {
        let (org_id, key) = (org_id.to_owned(), key.to_owned());
        self.write(move |c| {
            Ok(c.execute(
                "DELETE FROM custom_tags WHERE org_id = ?1 AND key = ?2",
                params![org_id, key],
            )? == 1)
        })
        .await
    }

    async fn create_incoming_webhook(
        &self,
        webhook: IncomingWebhook,
        key_hash: &str,
    ) -> moja_store::Result<()> {
        let key_hash = key_hash.to_owned();
        self.write_webhooks(move |c| tenants::insert_incoming_webhook(c, &webhook, &key_hash))
            .await
    }

    async fn list_incoming_webhooks(
        &self,
        org_id: &str,
    ) -> moja_store::Result<Vec<IncomingWebhook>> {
        let org_id = org_id.to_owned();
        self.read(move |c| tenants::incoming_webhooks(c, "org_id = ?1", [org_id]))
            .await
    }

    async fn get_incoming_webhook(
        &self,
        org_id: &str,
        id: &str,
    ) -> moja_store::Result<Option<IncomingWebhook>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| tenants::incoming_webhook(c, &org_id, &id))
            .await
    }

    async fn update_incoming_webhook(&self, webhook: IncomingWebhook) -> moja_store::Result<bool> {
        self.write_webhooks(move |c| tenants::update_incoming_webhook(c, &webhook))
            .await
    }

    async fn rotate_incoming_webhook_key(
        &self,
        org_id: &str,
        id: &str,
        key_hash: &str,
        at: Timestamp,
    ) -> moja_store::Result<bool> {
        let (org_id, id, key_hash) = (org_id.to_owned(), id.to_owned(), key_hash.to_owned());
        self.write_webhooks(move |c| {
            tenants::rotate_incoming_webhook_key(c, &org_id, &id, &key_hash, at)
        })
        .await
    }

    async fn delete_incoming_webhook(
        &self,
        org_id: &str,
        id: &str,
        at: Timestamp,
    ) -> moja_store::Result<bool> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.write_webhooks(move |c| tenants::delete_incoming_webhook(c, &org_id, &id, at))
            .await
    }

    async fn find_incoming_webhook(
        &self,
        key_hash: &str,
    ) -> moja_store::Result<Option<(IncomingWebhook, Org)>> {
        let key_hash = key_hash.to_owned();
        self.read(move |c| {
            let Some(webhook) = tenants::incoming_webhooks(c, "key_hash = ?1", [key_hash])?
                .into_iter()
                .next()
            else {
                return Ok(None);
            };
            Ok(tenants::org(c, &webhook.org_id)?.map(|org| (webhook, org)))
        })
        .await
    }

    async fn create_call(&self, new: NewCall) -> moja_store::Result<Call> {
        self.writer
            .write(move |tx| Ok(run_now(ops::create_call(tx, &new))?))
            .await
    }

    async fn transition(
        &self,
        org_id: &str,
        id: &str,
        request: TransitionRequest,
        now: Timestamp,
    ) -> moja_store::Result<TransitionResult> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.writer
            .write(move |tx| Ok(run_now(ops::transition(tx, &org_id, &id, &request, now))?))
            .await
    }

    async fn get_call(&self, org_id: &str, id: &str) -> moja_store::Result<CallLookup> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| calls::lookup(c, &org_id, &id)).await
    }

    async fn list_calls(&self, org_id: &str, filter: CallFilter) -> moja_store::Result<Page<Call>> {
        let org_id = org_id.to_owned();
        self.read(move |c| calls::list(c, &org_id, &filter)).await
    }

    async fn timeline(
        &self,
        org_id: &str,
        id: &str,
    ) -> moja_store::Result<Option<Vec<TimelineEntry>>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| calls::timeline(c, &org_id, &id)).await
    }

    async fn sweep_live_calls(
        &self,
        started_before: Timestamp,
        now: Timestamp,
    ) -> moja_store::Result<Vec<String>> {
        self.writer
            .write(move |tx| Ok(run_now(ops::sweep_live_calls(tx, started_before, now))?))
            .await
    }

    async fn apply_update(
        &self,
        update: InboundUpdate,
        log: RequestLogEntry,
        respond: Responder,
    ) -> moja_store::Result<InboundOutcome> {
        self.writer
            .write(move |tx| Ok(run_now(ops::apply_update(tx, &update, log, respond))?))
            .await
    }

    async fn store_call_data(
        &self,
        data: InboundCallData,
        log: RequestLogEntry,
        respond: Responder,
    ) -> moja_store::Result<InboundOutcome> {
        self.writer
            .write(move |tx| Ok(run_now(ops::store_call_data(tx, &data, log, respond))?))
            .await
    }

    async fn log_request(&self, entry: RequestLogEntry) -> moja_store::Result<()> {
        self.write(move |c| inbound::insert_request_log(c, &entry))
            .await
    }

    async fn list_requests(
        &self,
        org_id: &str,
        filter: RequestFilter,
    ) -> moja_store::Result<Page<RequestLogEntry>> {
        let org_id = org_id.to_owned();
        self.read(move |c| inbound::list_requests(c, &org_id, &filter))
            .await
    }

    async fn get_request(
        &self,
        org_id: &str,
        id: &str,
    ) -> moja_store::Result<Option<RequestLogEntry>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| inbound::get_request(c, &org_id, &id))
            .await
    }

    fn signals(&self) -> Arc<Signals> {
        self.signals.clone()
    }

    async fn create_outgoing_webhook(&self, webhook: OutgoingWebhook) -> moja_store::Result<()> {
        self.write(move |c| outbound::insert_webhook(c, &webhook))
            .await
    }

    async fn list_outgoing_webhooks(
        &self,
        org_id: &str,
    ) -> moja_store::Result<Vec<OutgoingWebhook>> {
        let org_id = org_id.to_owned();
        self.read(move |c| outbound::webhooks(c, &org_id, None))
            .await
    }

    async fn get_outgoing_webhook(
        &self,
        org_id: &str,
        id: &str,
    ) -> moja_store::Result<Option<OutgoingWebhook>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| {
            Ok(outbound::webhooks(c, &org_id, Some(&id))?
                .into_iter()
                .next())
        })
        .await
    }

    async fn update_outgoing_webhook(&self, webhook: OutgoingWebhook) -> moja_store::Result<bool> {
        self.writer
            .write(move |tx| Ok(run_now(ops::update_outgoing_webhook(tx, &webhook))?))
            .await
    }

    async fn delete_outgoing_webhook(
        &self,
        org_id: &str,
        id: &str,
        at: Timestamp,
    ) -> moja_store::Result<bool> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.writer
            .write(move |tx| Ok(run_now(ops::delete_outgoing_webhook(tx, &org_id, &id, at))?))
            .await
    }

    async fn claim_deliveries(
        &self,
        claim: ClaimRequest,
    ) -> moja_store::Result<Vec<ClaimedDelivery>> {
        self.writer
            .write(move |tx| Ok(run_now(ops::claim(tx, &claim))?))
            .await
    }

    async fn finish_attempt(
        &self,
        attempt: AttemptRecord,
        next: DeliveryNext,
    ) -> moja_store::Result<()> {
        self.writer
            .write(move |tx| Ok(run_now(ops::finish_attempt(tx, &attempt, next))?))
            .await
    }

    async fn fire_scheduled_events(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> moja_store::Result<usize> {
        self.writer
            .write(move |tx| Ok(run_now(outbox::fire_due_scheduled(tx, now, limit))?))
            .await
    }

    async fn release_leases(&self, node: &str) -> moja_store::Result<u64> {
        let node = node.to_owned();
        self.write(move |c| outbound::release_leases(c, &node))
            .await
    }

    async fn queue_stats(&self, now: Timestamp) -> moja_store::Result<QueueStats> {
        self.read(move |c| outbound::queue_stats(c, now)).await
    }

    async fn record_test_attempt(
        &self,
        delivery: Delivery,
        attempt: AttemptRecord,
    ) -> moja_store::Result<()> {
        self.writer
            .write(move |tx| Ok(run_now(ops::record_test_attempt(tx, &delivery, &attempt))?))
            .await
    }

    async fn list_attempts(
        &self,
        org_id: &str,
        filter: AttemptFilter,
    ) -> moja_store::Result<Page<AttemptRecord>> {
        let org_id = org_id.to_owned();
        self.read(move |c| {
            let cursor =
                parse_cursor(filter.cursor.as_deref()).unwrap_or((i64::MAX, String::new()));
            outbound::list_attempts(c, &org_id, &filter, page_limit(filter.limit), cursor)
        })
        .await
    }

    async fn get_attempt(
        &self,
        org_id: &str,
        id: &str,
    ) -> moja_store::Result<Option<AttemptRecord>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| outbound::attempt(c, &org_id, &id)).await
    }

    async fn get_delivery(&self, org_id: &str, id: &str) -> moja_store::Result<Option<Delivery>> {
        let (org_id, id) = (org_id.to_owned(), id.to_owned());
        self.read(move |c| outbound::delivery(c, &org_id, &id))
            .await
    }

    async fn resend(
        &self,
        org_id: &str,
        attempt_id: &str,
        now: Timestamp,
    ) -> moja_store::Result<Resend> {
        let (org_id, attempt_id) = (org_id.to_owned(), attempt_id.to_owned());
        self.writer
            .write(move |tx| Ok(run_now(ops::resend(tx, &org_id, &attempt_id, now))?))
            .await
    }

    async fn purge(
        &self,
        idempotency_before: Timestamp,
        requests_before: Timestamp,
        now: Timestamp,
    ) -> moja_store::Result<u64> {
        self.write(move |c| {
            let removed = inbound::purge(c, idempotency_before, requests_before, now)?
                + outbound::purge(c, requests_before)?;
            Ok(removed as u64)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use moja_core::events::EventType;

    use super::*;

    fn count(c: &Connection, table: &str) -> i64 {
        c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    /// The outbox shares the transaction of the change: when the change fails after its event
    /// was recorded, neither the event nor its delivery remain, and no dispatcher is woken.
    #[tokio::test]
    async fn a_rolled_back_change_queues_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db"), SyncMode::Normal).unwrap();
        let t = Timestamp::from_second(1_790_000_000).unwrap();
        store
            .write(|c| {
                c.execute(
                    "INSERT INTO orgs (id, name, default_region, currency, disabled, created_at)
                     VALUES ('a', 'A', 'US', 'USD', 0, 0)",
                    [],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        store
            .create_outgoing_webhook(OutgoingWebhook {
                id: "w".into(),
                org_id: "a".into(),
                name: "w".into(),
                event_type: EventType::Incoming,
                method: "POST".into(),
                url: "https://example.com".into(),
                headers_sealed: String::new(),
                header_names: vec![],
                body: String::new(),
                body_format: BodyFormat::Json,
                campaign_ids: vec![],
                renderer: PluginRef::platform("render-template"),
                plugin_config: vec![],
                enabled: true,
                secret_sealed: None,
                created_at: t,
                updated_at: t,
            })
            .await
            .unwrap();
        let new = |id: &str| NewCall {
            call: Call::ringing(id, "a", t, "USD"),
            protected_keys: vec![],
            custom_tag_keys: vec![],
        };
        let failed = new("rolled-back");
        let result: moja_store::Result<()> = store
            .writer
            .write(move |tx| {
                run_now(ops::create_call(tx, &failed))?;
                assert_eq!(count(tx.connection, "deliveries"), 1, "queued inside");
                Err(StoreError::Database("the change failed after its event".into()).into())
            })
            .await;
        assert!(result.is_err());
        let signals = store.signals();
        let woken = signals.deliveries_queued().notified();
        let kept = new("kept");
        store.create_call(kept).await.unwrap();
        woken.await;
        let counts = store
            .read(|c| {
                Ok([
                    count(c, "calls"),
                    count(c, "events"),
                    count(c, "deliveries"),
                    count(c, "call_timeline"),
                ])
            })
            .await
            .unwrap();
        assert_eq!(counts, [1, 1, 1, 1], "only the committed change's rows");
    }
}
