//! The primitives a backend offers inside one transaction, which the backend-neutral operations
//! (`ops`, `outbox`) are written over once.
//!
//! The primitives are `async` so that a backend with an asynchronous driver (PostgreSQL through
//! sqlx) implements them natively; SQLite implements them synchronously on its writer thread,
//! where their futures are always ready (`moja-store-sqlite` polls them once).
//!
//! # What every backend must keep
//! The operations are correct only if each primitive keeps its stated guarantee **against
//! concurrent transactions**. On SQLite one writer thread runs every transaction in turn, which
//! keeps them all trivially; a backend with concurrent transactions must keep them with locks:
//! - [`Tx::lock_call`] / [`Tx::lock_calls_by_phone`]: the calls returned stay locked until the
//!   transaction ends (`SELECT … FOR UPDATE`), so two updates of one call serialize and a
//!   read-modify-write of its JSON never loses a change.
//! - [`Tx::append_timeline`] and [`Tx::queue_update`] are only called while the transaction holds
//!   the call's lock (the operations take it first, with [`Tx::lock_call`] or, when they do not
//!   need the call itself, [`Tx::lock_call_for_timeline`]), so "next sequence number" is exact.
//! - [`Tx::claim_idempotency`]: at most one transaction at a time may go ahead with an
//!   `(org, transaction id)`; another one sees [`IdempotencyClaim::InFlight`] (an advisory or row
//!   lock held until commit, or a claim row with a lease that a crashed node's claim lapses).
//! - [`Tx::due_deliveries`]: the deliveries returned are not returned to a concurrent claimer
//!   (`FOR UPDATE SKIP LOCKED`) until this transaction ends; their lease is then set in it.
//! - [`Tx::take_due_scheduled`]: removes what it returns, and never returns a row a concurrent
//!   transaction also takes (`DELETE … RETURNING` over rows locked with `SKIP LOCKED`).

use jiff::Timestamp;
use moja_core::calls::{Call, ConversionRule, FieldUpdates};
use moja_core::events::EventType;
use moja_core::tags::CampaignInfo;
use serde_json::Value;

use crate::Result;
use crate::model::*;
use crate::outbound::{
    AttemptRecord, ClaimedDelivery, Delivery, DeliveryState, OutboundEvent, OutgoingWebhook,
};

/// A call-data record as matching reads it: `(request id, fields in order)`.
pub type CallDataFields = (String, Vec<(String, String)>);

/// A stored idempotency record.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    /// Hash of the request content that claimed the id.
    pub fingerprint: String,
    /// The stored answer.
    pub response: StoredResponse,
}

/// What claiming an idempotency key found.
#[derive(Debug, Clone)]
pub enum IdempotencyClaim {
    /// Nobody used the key: this transaction goes ahead (and stores its answer under it).
    Claimed,
    /// A transaction that used the key committed its answer.
    Done(IdempotencyRecord),
    /// Another transaction holds the key right now (never on SQLite, whose writer runs one
    /// transaction at a time).
    InFlight,
}

/// A due scheduled event, taken off the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueScheduledEvent {
    /// The call.
    pub call_id: String,
    /// The event (a duration mark).
    pub event: EventType,
    /// When it was due.
    pub due_at: Timestamp,
}

/// How an attempt moves its delivery on.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAdvance<'a> {
    /// The delivery.
    pub delivery_id: &'a str,
    /// Its new state.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// Whether this attempt used a retry of the schedule.
    pub used_retry: bool,
    /// The next attempt's due time (pending only).
    pub next_attempt_at: Option<Timestamp>,
    /// When the attempt ended.
    pub at: Timestamp,
    /// Status of its response.
    pub last_status: Option<u16>,
    /// Its error.
    pub last_error: Option<&'a str>,
}

/// The primitives a backend offers inside one transaction. See the module documentation for the
/// guarantee each one must keep against concurrent transactions.
#[expect(
    async_fn_in_trait,
    reason = "the operations are generic over a concrete backend, whose futures' Send-ness is \
              known where it is needed; SQLite's are not Send and run on its writer thread"
)]
pub trait Tx {
    // --- Calls -----------------------------------------------------------------------------

    /// A call by id, whatever its org, locked until the transaction ends.
    async fn lock_call(&mut self, id: &str) -> Result<Option<Call>>;
    /// Locks a call without reading it (before appending to its timeline); whether it exists.
    async fn lock_call_for_timeline(&mut self, id: &str) -> Result<bool>;
    /// An org's calls from `e164` that started at or after `since`, newest first, locked.
    async fn lock_calls_by_phone(
        &mut self,
        org_id: &str,
        e164: &str,
        since: Timestamp,
    ) -> Result<Vec<Call>>;
    /// Live calls (ringing or connected) that started before `before`: `(id, org id)`.
    async fn live_calls_started_before(
        &mut self,
        before: Timestamp,
    ) -> Result<Vec<(String, String)>>;
    /// Inserts a new call; a taken id is a `Conflict`.
    async fn insert_call(&mut self, call: &Call) -> Result<()>;
    /// Saves a changed call.
    async fn update_call(&mut self, call: &Call) -> Result<()>;
    /// Appends to a call's timeline with the next sequence number (the call is locked).
    async fn append_timeline(
        &mut self,
        call_id: &str,
        at: Timestamp,
        kind: &str,
        details: &Value,
    ) -> Result<()>;
    /// Stores completion-only fields for a live call (the call is locked).
    async fn queue_update(
        &mut self,
        call_id: &str,
        request_id: &str,
        fields: &FieldUpdates,
        at: Timestamp,
    ) -> Result<()>;
    /// Takes the queued fields of a call, oldest first.
    async fn take_queued(&mut self, call_id: &str) -> Result<Vec<(String, FieldUpdates)>>;
    /// The conversion rule of a campaign (the default rule when there is none).
    async fn campaign_rule(
        &mut self,
        org_id: &str,
        campaign_id: Option<&str>,
    ) -> Result<ConversionRule>;

    // --- Inbound ---------------------------------------------------------------------------

    /// Claims `(org, transaction id)` for this transaction, or finds who has it.
    async fn claim_idempotency(
        &mut self,
        org_id: &str,
        transaction_id: &str,
    ) -> Result<IdempotencyClaim>;
    /// Stores a successful answer under `(org, transaction id)`.
    async fn store_idempotency(
        &mut self,
        org_id: &str,
        transaction_id: &str,
        fingerprint: &str,
        response: &StoredResponse,
        at: Timestamp,
    ) -> Result<()>;
    /// Stores a call-data record valid until `expires_at`.
    async fn insert_call_data(
        &mut self,
        data: &InboundCallData,
        expires_at: Timestamp,
    ) -> Result<()>;
    /// Call data from `e164` received at or before `at` and still valid then, newest first.
    async fn call_data_for(
        &mut self,
        org_id: &str,
        e164: &str,
        at: Timestamp,
    ) -> Result<Vec<CallDataFields>>;
    /// Writes a request log entry.
    async fn insert_request_log(&mut self, entry: &RequestLogEntry) -> Result<()>;

    // --- The outbox ------------------------------------------------------------------------

    /// The enabled webhooks of an org sent for `event`: `(id, campaign scope)`.
    async fn subscribers(
        &mut self,
        org_id: &str,
        event: EventType,
    ) -> Result<Vec<(String, Vec<String>)>>;
    /// What outbound tags need to know about a campaign.
    async fn campaign_info(
        &mut self,
        org_id: &str,
        campaign_id: &str,
    ) -> Result<Option<CampaignInfo>>;
    /// Stores an event and its tag snapshot.
    async fn insert_event(&mut self, event: &OutboundEvent) -> Result<()>;
    /// Queues a delivery; once the transaction commits, a pending one wakes the dispatchers.
    async fn insert_delivery(&mut self, delivery: &Delivery) -> Result<()>;
    /// Schedules `event` of a call at `due_at` (once per call and event).
    async fn schedule_event(
        &mut self,
        org_id: &str,
        call_id: &str,
        event: EventType,
        due_at: Timestamp,
    ) -> Result<()>;
    /// Cancels a call's scheduled events due after `after`.
    async fn cancel_scheduled_after(&mut self, call_id: &str, after: Timestamp) -> Result<()>;
    /// Removes and returns at most `limit` scheduled events due at `now`, earliest first.
    async fn take_due_scheduled(
        &mut self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<DueScheduledEvent>>;

    // --- Dispatch --------------------------------------------------------------------------

    /// Pending deliveries due at `now` whose lease (if any) lapsed, earliest first, at most
    /// `limit`: `(id, webhook id)`, held against concurrent claimers.
    async fn due_deliveries(
        &mut self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<(String, String)>>;
    /// Leases a delivery to `node` until `until`, and reads it with its event and webhook.
    async fn lease_delivery(
        &mut self,
        id: &str,
        node: &str,
        until: Timestamp,
    ) -> Result<Option<ClaimedDelivery>>;
    /// Releases the leases `node` holds on pending deliveries. Returns how many.
    async fn release_leases(&mut self, node: &str) -> Result<u64>;
    /// Records an attempt in the outgoing request log.
    async fn insert_attempt(&mut self, attempt: &AttemptRecord) -> Result<()>;
    /// Moves a still-pending delivery on (and drops its lease); whether it was pending.
    async fn advance_delivery(&mut self, advance: &DeliveryAdvance<'_>) -> Result<bool>;
    /// Queues a finished delivery again, due at `now`, with a fresh retry schedule.
    async fn requeue_delivery(&mut self, id: &str, now: Timestamp) -> Result<()>;
    /// Fails the pending deliveries of a webhook with `why`.
    async fn fail_pending_deliveries(
        &mut self,
        webhook_id: &str,
        why: &str,
        at: Timestamp,
    ) -> Result<()>;
    /// An attempt of the org.
    async fn attempt(&mut self, org_id: &str, id: &str) -> Result<Option<AttemptRecord>>;
    /// A delivery of the org.
    async fn delivery(&mut self, org_id: &str, id: &str) -> Result<Option<Delivery>>;

    // --- Outgoing webhooks -----------------------------------------------------------------

    /// An outgoing webhook of the org (not deleted).
    async fn outgoing_webhook(&mut self, org_id: &str, id: &str)
    -> Result<Option<OutgoingWebhook>>;
    /// Replaces an outgoing webhook's settings; whether it existed.
    async fn update_outgoing_webhook(&mut self, webhook: &OutgoingWebhook) -> Result<bool>;
    /// Marks an outgoing webhook deleted; whether it existed.
    async fn delete_outgoing_webhook(
        &mut self,
        org_id: &str,
        id: &str,
        at: Timestamp,
    ) -> Result<bool>;
}
