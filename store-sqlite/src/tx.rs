//! The [`Tx`] primitives on the writer's connection, inside the job's savepoint.
//!
//! Every primitive runs synchronously: its future is ready when first polled, and
//! [`run_now`] polls an operation of `moja_store::ops` to its end on the writer thread. The
//! guarantees `moja_store::tx` asks of each primitive hold because the writer runs one job at a
//! time: a call read here cannot change before the job ends.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use jiff::Timestamp;
use moja_core::calls::{Call, ConversionRule, FieldUpdates};
use moja_core::events::EventType;
use moja_core::tags::CampaignInfo;
use moja_store::tx::{CallDataFields, DeliveryAdvance, DueScheduledEvent, IdempotencyClaim, Tx};
use moja_store::{
    AttemptRecord, ClaimedDelivery, Delivery, DeliveryState, InboundCallData, OutboundEvent,
    OutgoingWebhook, RequestLogEntry, Result, StoredResponse,
};
use rusqlite::Connection;
use serde_json::Value;

use crate::{calls, inbound, outbound};

/// What a job changed that layers above keep in memory; raised as the store's signals once the
/// job's group commits.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Effects {
    /// A pending delivery was queued.
    pub(crate) deliveries_queued: bool,
    /// A webhook or an org changed (what a key authenticates may differ).
    pub(crate) webhooks_changed: bool,
}

impl Effects {
    /// Adds another job's effects.
    pub(crate) fn merge(&mut self, other: Effects) {
        self.deliveries_queued |= other.deliveries_queued;
        self.webhooks_changed |= other.webhooks_changed;
    }
}

/// The writer's connection inside one job.
pub(crate) struct SqliteTx<'c> {
    pub(crate) connection: &'c Connection,
    pub(crate) effects: Effects,
}

impl<'c> SqliteTx<'c> {
    pub(crate) fn new(connection: &'c Connection) -> Self {
        Self {
            connection,
            effects: Effects::default(),
        }
    }

    /// Notes that this job changed a webhook or an org.
    pub(crate) fn webhooks_changed(&mut self) {
        self.effects.webhooks_changed = true;
    }
}

/// Runs an operation over [`SqliteTx`] to its end on this thread. Its primitives never wait, so
/// the first poll finishes it; polling again is only a safeguard.
pub(crate) fn run_now<F: Future>(operation: F) -> F::Output {
    let mut operation = std::pin::pin!(operation);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = operation.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::yield_now();
    }
}

impl Tx for SqliteTx<'_> {
    async fn lock_call(&mut self, id: &str) -> Result<Option<Call>> {
        Ok(calls::call(self.connection, id)?)
    }

    async fn lock_call_for_timeline(&mut self, id: &str) -> Result<bool> {
        Ok(calls::exists(self.connection, id)?)
    }

    async fn lock_calls_by_phone(
        &mut self,
        org_id: &str,
        e164: &str,
        since: Timestamp,
    ) -> Result<Vec<Call>> {
        Ok(calls::calls_by_phone(self.connection, org_id, e164, since)?)
    }

    async fn live_calls_started_before(
        &mut self,
        before: Timestamp,
    ) -> Result<Vec<(String, String)>> {
        Ok(calls::live_calls_started_before(self.connection, before)?)
    }

    async fn insert_call(&mut self, call: &Call) -> Result<()> {
        Ok(calls::insert_call(self.connection, call)?)
    }

    async fn update_call(&mut self, call: &Call) -> Result<()> {
        Ok(calls::update_call(self.connection, call)?)
    }

    async fn append_timeline(
        &mut self,
        call_id: &str,
        at: Timestamp,
        kind: &str,
        details: &Value,
    ) -> Result<()> {
        Ok(calls::append_timeline(
            self.connection,
            call_id,
            at,
            kind,
            details,
        )?)
    }

    async fn queue_update(
        &mut self,
        call_id: &str,
        request_id: &str,
        fields: &FieldUpdates,
        at: Timestamp,
    ) -> Result<()> {
        Ok(calls::queue_update(
            self.connection,
            call_id,
            request_id,
            fields,
            at,
        )?)
    }

    async fn take_queued(&mut self, call_id: &str) -> Result<Vec<(String, FieldUpdates)>> {
        Ok(calls::take_queued(self.connection, call_id)?)
    }

    async fn campaign_rule(
        &mut self,
        org_id: &str,
        campaign_id: Option<&str>,
    ) -> Result<ConversionRule> {
        Ok(calls::campaign_rule(self.connection, org_id, campaign_id)?)
    }

    async fn claim_idempotency(
        &mut self,
        org_id: &str,
        transaction_id: &str,
    ) -> Result<IdempotencyClaim> {
        Ok(inbound::claim_idempotency(
            self.connection,
            org_id,
            transaction_id,
        )?)
    }

    async fn store_idempotency(
        &mut self,
        org_id: &str,
        transaction_id: &str,
        fingerprint: &str,
        response: &StoredResponse,
        at: Timestamp,
    ) -> Result<()> {
        Ok(inbound::store_idempotency(
            self.connection,
            org_id,
            transaction_id,
            fingerprint,
            response,
            at,
        )?)
    }

    async fn insert_call_data(
        &mut self,
        data: &InboundCallData,
        expires_at: Timestamp,
    ) -> Result<()> {
        Ok(inbound::insert_call_data(
            self.connection,
            data,
            expires_at,
        )?)
    }

    async fn call_data_for(
        &mut self,
        org_id: &str,
        e164: &str,
        at: Timestamp,
    ) -> Result<Vec<CallDataFields>> {
        Ok(inbound::call_data_for(self.connection, org_id, e164, at)?)
    }

    async fn insert_request_log(&mut self, entry: &RequestLogEntry) -> Result<()> {
        Ok(inbound::insert_request_log(self.connection, entry)?)
    }

    async fn subscribers(
        &mut self,
        org_id: &str,
        event: EventType,
    ) -> Result<Vec<(String, Vec<String>)>> {
        Ok(outbound::subscribers(self.connection, org_id, event)?)
    }

    async fn campaign_info(
        &mut self,
        org_id: &str,
        campaign_id: &str,
    ) -> Result<Option<CampaignInfo>> {
        Ok(outbound::campaign_info(
            self.connection,
            org_id,
            campaign_id,
        )?)
    }

    async fn insert_event(&mut self, event: &OutboundEvent) -> Result<()> {
        Ok(outbound::insert_event(self.connection, event)?)
    }

    async fn insert_delivery(&mut self, delivery: &Delivery) -> Result<()> {
        outbound::insert_delivery(self.connection, delivery)?;
        if delivery.state == DeliveryState::Pending {
            self.effects.deliveries_queued = true;
        }
        Ok(())
    }

    async fn schedule_event(
        &mut self,
        org_id: &str,
        call_id: &str,
        event: EventType,
        due_at: Timestamp,
    ) -> Result<()> {
        Ok(outbound::schedule_event(
            self.connection,
            org_id,
            call_id,
            event,
            due_at,
        )?)
    }

    async fn cancel_scheduled_after(&mut self, call_id: &str, after: Timestamp) -> Result<()> {
        Ok(outbound::cancel_scheduled_after(
            self.connection,
            call_id,
            after,
        )?)
    }

    async fn take_due_scheduled(
        &mut self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<DueScheduledEvent>> {
        Ok(outbound::take_due_scheduled(self.connection, now, limit)?)
    }

    async fn due_deliveries(
        &mut self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<(String, String)>> {
        Ok(outbound::due_deliveries(self.connection, now, limit)?)
    }

    async fn lease_delivery(
        &mut self,
        id: &str,
        node: &str,
        until: Timestamp,
    ) -> Result<Option<ClaimedDelivery>> {
        Ok(outbound::lease_delivery(self.connection, id, node, until)?)
    }

    async fn release_leases(&mut self, node: &str) -> Result<u64> {
        Ok(outbound::release_leases(self.connection, node)?)
    }

    async fn insert_attempt(&mut self, attempt: &AttemptRecord) -> Result<()> {
        Ok(outbound::insert_attempt(self.connection, attempt)?)
    }

    async fn advance_delivery(&mut self, advance: &DeliveryAdvance<'_>) -> Result<bool> {
        Ok(outbound::advance_delivery(self.connection, advance)?)
    }

    async fn requeue_delivery(&mut self, id: &str, now: Timestamp) -> Result<()> {
        outbound::requeue_delivery(self.connection, id, now)?;
        self.effects.deliveries_queued = true;
        Ok(())
    }

    async fn fail_pending_deliveries(
        &mut self,
        webhook_id: &str,
        why: &str,
        at: Timestamp,
    ) -> Result<()> {
        Ok(outbound::fail_pending(
            self.connection,
            webhook_id,
            why,
            at,
        )?)
    }

    async fn attempt(&mut self, org_id: &str, id: &str) -> Result<Option<AttemptRecord>> {
        Ok(outbound::attempt(self.connection, org_id, id)?)
    }

    async fn delivery(&mut self, org_id: &str, id: &str) -> Result<Option<Delivery>> {
        Ok(outbound::delivery(self.connection, org_id, id)?)
    }

    async fn outgoing_webhook(
        &mut self,
        org_id: &str,
        id: &str,
    ) -> Result<Option<OutgoingWebhook>> {
        Ok(outbound::webhooks(self.connection, org_id, Some(id))?
            .into_iter()
            .next())
    }

    async fn update_outgoing_webhook(&mut self, webhook: &OutgoingWebhook) -> Result<bool> {
        Ok(outbound::update_webhook(self.connection, webhook)?)
    }

    async fn delete_outgoing_webhook(
        &mut self,
        org_id: &str,
        id: &str,
        at: Timestamp,
    ) -> Result<bool> {
        Ok(outbound::delete_webhook(self.connection, org_id, id, at)?)
    }
}
