//! Moja Webhooks persistence: the [`Store`] trait the host programs against, and its SQLite
//! implementation. A PostgreSQL implementation (cluster mode) comes next and runs the same
//! transactional logic (`ops`) through the same [`ops::Tx`] primitives.
//!
//! Invariant: every acknowledged write is committed before its method returns.

mod model;
pub mod ops;
mod sqlite;

use async_trait::async_trait;
use jiff::Timestamp;
use moja_core::calls::Call;

pub use model::*;
pub use sqlite::{SqliteStore, SyncMode};

/// A storage failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (`what` names it).
    #[error("already exists: {0}")]
    Conflict(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(String),
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(e, _) = &error
            && e.code == rusqlite::ErrorCode::ConstraintViolation
        {
            return StoreError::Conflict(error.to_string());
        }
        StoreError::Database(error.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Database(format!("stored JSON: {error}"))
    }
}

/// Shorthand.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Everything the host persists. Every method is scoped by org where the data belongs to one.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// A setting (`operator_token_hash`, …).
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Stores a setting unless one exists; returns whether it was stored.
    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<bool>;

    /// Creates an org with its first API key.
    async fn create_org(&self, org: Org, key: NewApiKey) -> Result<()>;
    /// All orgs, oldest first.
    async fn list_orgs(&self) -> Result<Vec<Org>>;
    /// One org.
    async fn get_org(&self, id: &str) -> Result<Option<Org>>;
    /// Disables or enables an org.
    async fn set_org_disabled(&self, id: &str, disabled: bool) -> Result<Option<Org>>;
    /// Renames an org.
    async fn rename_org(&self, id: &str, name: &str) -> Result<Option<Org>>;

    /// Adds an API key.
    async fn create_api_key(&self, key: NewApiKey) -> Result<()>;
    /// An org's keys (no secrets).
    async fn list_api_keys(&self, org_id: &str) -> Result<Vec<ApiKey>>;
    /// Revokes a key; false when the org has no such active key.
    async fn revoke_api_key(&self, org_id: &str, id: &str, at: Timestamp) -> Result<bool>;
    /// The active key with this hash and its org.
    async fn find_api_key(&self, hash: &str) -> Result<Option<(ApiKey, Org)>>;

    /// Creates a campaign.
    async fn create_campaign(&self, campaign: Campaign) -> Result<()>;
    /// An org's campaigns.
    async fn list_campaigns(&self, org_id: &str) -> Result<Vec<Campaign>>;
    /// One campaign.
    async fn get_campaign(&self, org_id: &str, id: &str) -> Result<Option<Campaign>>;
    /// Replaces a campaign's settings.
    async fn update_campaign(&self, campaign: Campaign) -> Result<bool>;
    /// Deletes a campaign (its calls stay).
    async fn delete_campaign(&self, org_id: &str, id: &str, at: Timestamp) -> Result<bool>;

    /// Defines a custom tag.
    async fn create_custom_tag(&self, tag: CustomTag) -> Result<()>;
    /// An org's custom tags.
    async fn list_custom_tags(&self, org_id: &str) -> Result<Vec<CustomTag>>;
    /// Deletes a custom tag definition.
    async fn delete_custom_tag(&self, org_id: &str, key: &str) -> Result<bool>;

    /// Creates an incoming webhook with the hash of its key.
    async fn create_incoming_webhook(&self, webhook: IncomingWebhook, key_hash: &str)
    -> Result<()>;
    /// An org's incoming webhooks.
    async fn list_incoming_webhooks(&self, org_id: &str) -> Result<Vec<IncomingWebhook>>;
    /// One incoming webhook.
    async fn get_incoming_webhook(&self, org_id: &str, id: &str)
    -> Result<Option<IncomingWebhook>>;
    /// Replaces a webhook's settings.
    async fn update_incoming_webhook(&self, webhook: IncomingWebhook) -> Result<bool>;
    /// Replaces a webhook's key.
    async fn rotate_incoming_webhook_key(
        &self,
        org_id: &str,
        id: &str,
        key_hash: &str,
        at: Timestamp,
    ) -> Result<bool>;
    /// Deletes a webhook (its requests and the calls it touched stay).
    async fn delete_incoming_webhook(&self, org_id: &str, id: &str, at: Timestamp) -> Result<bool>;
    /// The webhook with this key hash and its org.
    async fn find_incoming_webhook(&self, key_hash: &str)
    -> Result<Option<(IncomingWebhook, Org)>>;

    /// Creates a call, applying matching call data in the same transaction. Returns the call as
    /// stored; a taken id is a `Conflict`.
    async fn create_call(&self, new: NewCall) -> Result<Call>;
    /// Moves a call through its lifecycle, with post-call processing at hang-up.
    async fn transition(
        &self,
        org_id: &str,
        id: &str,
        request: TransitionRequest,
        now: Timestamp,
    ) -> Result<TransitionResult>;
    /// Looks a call up by id.
    async fn get_call(&self, org_id: &str, id: &str) -> Result<CallLookup>;
    /// Lists calls, newest first.
    async fn list_calls(&self, org_id: &str, filter: CallFilter) -> Result<Page<Call>>;
    /// A call's timeline, oldest first; `None` when the org has no such call.
    async fn timeline(&self, org_id: &str, id: &str) -> Result<Option<Vec<TimelineEntry>>>;
    /// Completes calls live since before `started_before` (`terminated_by: system`).
    async fn sweep_live_calls(
        &self,
        started_before: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<String>>;

    /// Applies an inbound update: idempotency, matching, the changes, the timeline, the stored
    /// response and `log` in one transaction.
    async fn apply_update(
        &self,
        update: InboundUpdate,
        log: RequestLogEntry,
    ) -> Result<InboundResponse>;
    /// Stores call data (and applies it to a live call from that caller) with `log`.
    async fn store_call_data(
        &self,
        data: InboundCallData,
        log: RequestLogEntry,
    ) -> Result<InboundResponse>;
    /// Logs a request that was answered before reaching the store (refused, invalid).
    async fn log_request(&self, entry: RequestLogEntry) -> Result<()>;
    /// An org's request log, newest first.
    async fn list_requests(
        &self,
        org_id: &str,
        filter: RequestFilter,
    ) -> Result<Page<RequestLogEntry>>;
    /// One logged request.
    async fn get_request(&self, org_id: &str, id: &str) -> Result<Option<RequestLogEntry>>;

    /// Deletes idempotency records, request log entries and expired call data older than the
    /// given times. Returns how many rows went.
    async fn purge(
        &self,
        idempotency_before: Timestamp,
        requests_before: Timestamp,
        now: Timestamp,
    ) -> Result<u64>;
}

/// Opens the store a database URL names: `sqlite://PATH` (or a bare path).
pub fn open(url: &str, sync: SyncMode) -> Result<std::sync::Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(StoreError::Database(
            "PostgreSQL support arrives with cluster mode; use sqlite://PATH for now".into(),
        ));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    Ok(std::sync::Arc::new(SqliteStore::open(
        std::path::Path::new(path),
        sync,
    )?))
}
