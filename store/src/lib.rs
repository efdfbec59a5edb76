//! Moja Webhooks persistence, backend-neutral: the [`Store`] trait the host programs against,
//! the records it keeps, the transactional logic (`ops`, `outbox`) written once over the
//! [`tx::Tx`] primitives each backend implements, the signals a backend raises after commits,
//! and (feature `contract`) the contract suite every backend runs. No database driver here:
//! `moja-store-sqlite` is the embedded backend.
//!
//! Invariant: every acknowledged write is committed before its method returns.

#[cfg(feature = "contract")]
pub mod contract;
mod cursor;
mod model;
pub mod ops;
mod outbound;
pub mod outbox;
mod signals;
pub mod tx;

use async_trait::async_trait;
use jiff::Timestamp;
use moja_core::calls::Call;

pub use cursor::Cursor;
pub use model::*;
pub use outbound::*;
pub use signals::Signals;

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
    /// Checks that the database answers and takes writes (for `/readyz`).
    async fn ping(&self) -> Result<()>;
    /// A setting (`operator_token_hash`, …).
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Stores a setting unless one exists; returns whether it was stored.
    async fn put_setting_if_absent(&self, key: &str, value: &str) -> Result<bool>;
    /// Stores a setting, replacing any value it had.
    async fn put_setting(&self, key: &str, value: &str) -> Result<()>;

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
    /// Completes calls live since before `started_before` (`terminated_by: system`); returns
    /// their ids.
    async fn sweep_live_calls(
        &self,
        started_before: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<String>>;

    /// Applies an inbound update: idempotency, matching, the changes, the timeline, the stored
    /// answer and `log` in one transaction; `respond` renders the outcome for the log and the
    /// idempotency record.
    async fn apply_update(
        &self,
        update: InboundUpdate,
        log: RequestLogEntry,
        respond: Responder,
    ) -> Result<InboundOutcome>;
    /// Stores call data (and applies it to a live call from that caller) with `log`.
    async fn store_call_data(
        &self,
        data: InboundCallData,
        log: RequestLogEntry,
        respond: Responder,
    ) -> Result<InboundOutcome>;
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

    /// What the store signals after commits: deliveries queued (the dispatcher's wake-up) and
    /// webhooks or orgs changed (the webhook-by-key cache's invalidation). In-process on SQLite;
    /// a clustered backend raises them from the database's notifications as well.
    fn signals(&self) -> std::sync::Arc<Signals>;

    /// Creates an outgoing webhook.
    async fn create_outgoing_webhook(&self, webhook: OutgoingWebhook) -> Result<()>;
    /// An org's outgoing webhooks.
    async fn list_outgoing_webhooks(&self, org_id: &str) -> Result<Vec<OutgoingWebhook>>;
    /// One outgoing webhook.
    async fn get_outgoing_webhook(&self, org_id: &str, id: &str)
    -> Result<Option<OutgoingWebhook>>;
    /// Replaces an outgoing webhook's settings; disabling it fails its pending deliveries.
    async fn update_outgoing_webhook(&self, webhook: OutgoingWebhook) -> Result<bool>;
    /// Deletes an outgoing webhook: its pending deliveries fail, its log stays.
    async fn delete_outgoing_webhook(&self, org_id: &str, id: &str, at: Timestamp) -> Result<bool>;

    /// Claims due deliveries for one attempt each (see [`ClaimRequest`]).
    async fn claim_deliveries(&self, claim: ClaimRequest) -> Result<Vec<ClaimedDelivery>>;
    /// Records an attempt and moves its delivery on; a final outcome goes on the call's
    /// timeline. All in one transaction.
    async fn finish_attempt(&self, attempt: AttemptRecord, next: DeliveryNext) -> Result<()>;
    /// Materializes scheduled events due at `now` (duration marks). Returns how many fired.
    async fn fire_scheduled_events(&self, now: Timestamp, limit: usize) -> Result<usize>;
    /// Releases the claims of attempts a previous run of `node` left in hand (after a crash),
    /// so they are retried at once instead of when their lease lapses.
    async fn release_leases(&self, node: &str) -> Result<u64>;
    /// The queue at a glance.
    async fn queue_stats(&self, now: Timestamp) -> Result<QueueStats>;
    /// Records a test send: a finished delivery without an event, and its attempt.
    async fn record_test_attempt(&self, delivery: Delivery, attempt: AttemptRecord) -> Result<()>;
    /// The outgoing request log, newest first.
    async fn list_attempts(
        &self,
        org_id: &str,
        filter: AttemptFilter,
    ) -> Result<Page<AttemptRecord>>;
    /// One attempt.
    async fn get_attempt(&self, org_id: &str, id: &str) -> Result<Option<AttemptRecord>>;
    /// One delivery.
    async fn get_delivery(&self, org_id: &str, id: &str) -> Result<Option<Delivery>>;
    /// Queues the delivery of an attempt again, due at `now`, with a fresh retry schedule.
    async fn resend(&self, org_id: &str, attempt_id: &str, now: Timestamp) -> Result<Resend>;

    /// Deletes idempotency records, request log entries and expired call data older than the
    /// given times. Returns how many rows went.
    async fn purge(
        &self,
        idempotency_before: Timestamp,
        requests_before: Timestamp,
        now: Timestamp,
    ) -> Result<u64>;
}
