//! The outbound queue's operations: claiming due deliveries with a lease, finishing an attempt
//! (with the call's timeline entry of a final outcome), resending, test sends, and failing the
//! pending deliveries of a webhook that stops sending.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::Result;
use crate::outbound::*;
use crate::tx::{DeliveryAdvance, Tx};

/// Claims due deliveries for one attempt each: at most `limit`, at most `per_webhook_limit` in
/// hand per webhook (counting what the dispatcher already holds), never one it already holds.
pub async fn claim<T: Tx>(tx: &mut T, request: &ClaimRequest) -> Result<Vec<ClaimedDelivery>> {
    if request.limit == 0 {
        return Ok(Vec::new());
    }
    // Read more candidates than asked for: some belong to webhooks already at their bound.
    let candidates = tx.due_deliveries(request.now, request.limit * 4).await?;
    let mut in_flight: HashMap<String, usize> = request.in_flight.clone();
    let mut claimed = Vec::new();
    for (id, webhook_id) in candidates {
        if claimed.len() == request.limit {
            break;
        }
        if request.in_hand.contains(&id) {
            continue;
        }
        let busy = in_flight.entry(webhook_id).or_default();
        if *busy >= request.per_webhook_limit.max(1) {
            continue;
        }
        if let Some(delivery) = tx
            .lease_delivery(&id, &request.node, request.lease_until)
            .await?
        {
            *busy += 1;
            claimed.push(delivery);
        }
    }
    Ok(claimed)
}

/// Records an attempt and moves its delivery on; a final outcome goes on the call's timeline.
pub async fn finish_attempt<T: Tx>(
    tx: &mut T,
    attempt: &AttemptRecord,
    next: DeliveryNext,
) -> Result<()> {
    tx.insert_attempt(attempt).await?;
    let at = attempt.started_at + SignedDuration::from_micros(attempt.latency_us);
    let (state, next_attempt_at) = match next {
        DeliveryNext::Succeeded => (DeliveryState::Succeeded, None),
        DeliveryNext::RetryAt(due) => (DeliveryState::Pending, Some(due)),
        DeliveryNext::Failed => (DeliveryState::Failed, None),
    };
    let moved = tx
        .advance_delivery(&DeliveryAdvance {
            delivery_id: &attempt.delivery_id,
            state,
            attempts: attempt.attempt,
            used_retry: state == DeliveryState::Pending,
            next_attempt_at,
            at,
            last_status: attempt.response_status,
            last_error: attempt.error.as_deref(),
        })
        .await?;
    if moved
        && state != DeliveryState::Pending
        && let Some(call_id) = &attempt.call_id
        && tx.lock_call_for_timeline(call_id).await?
    {
        let kind = if state == DeliveryState::Succeeded {
            "delivery.succeeded"
        } else {
            "delivery.failed"
        };
        tx.append_timeline(
            call_id,
            at,
            kind,
            &json!({
                "delivery_id": attempt.delivery_id,
                "webhook_id": attempt.webhook_id,
                "event": attempt.event_type,
                "attempts": attempt.attempt,
                "status": attempt.response_status,
                "error": attempt.error,
            }),
        )
        .await?;
    }
    Ok(())
}

/// Queues the delivery of an attempt again, due at `now`, with a fresh retry schedule.
pub async fn resend<T: Tx>(
    tx: &mut T,
    org_id: &str,
    attempt_id: &str,
    now: Timestamp,
) -> Result<Resend> {
    let Some(attempt) = tx.attempt(org_id, attempt_id).await? else {
        return Ok(Resend::NotFound);
    };
    let Some(delivery) = tx.delivery(org_id, &attempt.delivery_id).await? else {
        return Ok(Resend::NotFound);
    };
    if delivery.state == DeliveryState::Pending {
        return Ok(Resend::StillPending(Box::new(delivery)));
    }
    if delivery.event_id.is_none()
        || tx
            .outgoing_webhook(org_id, &delivery.webhook_id)
            .await?
            .is_none()
    {
        // A test send has no event to render again; a deleted webhook sends nothing.
        return Ok(Resend::NotFound);
    }
    tx.requeue_delivery(&delivery.id, now).await?;
    if let Some(call_id) = &delivery.call_id
        && tx.lock_call_for_timeline(call_id).await?
    {
        tx.append_timeline(
            call_id,
            now,
            "delivery.resent",
            &json!({
                "delivery_id": delivery.id,
                "webhook_id": delivery.webhook_id,
                "event": delivery.event_type,
            }),
        )
        .await?;
    }
    match tx.delivery(org_id, &delivery.id).await? {
        Some(delivery) => Ok(Resend::Queued(Box::new(delivery))),
        None => Ok(Resend::NotFound),
    }
}

/// Records a test send: a finished delivery without an event, and its attempt.
pub async fn record_test_attempt<T: Tx>(
    tx: &mut T,
    delivery: &Delivery,
    attempt: &AttemptRecord,
) -> Result<()> {
    tx.insert_delivery(delivery).await?;
    tx.insert_attempt(attempt).await
}

/// Replaces an outgoing webhook's settings; disabling it fails its pending deliveries (a resend
/// after enabling it again sends one).
pub async fn update_outgoing_webhook<T: Tx>(tx: &mut T, webhook: &OutgoingWebhook) -> Result<bool> {
    let updated = tx.update_outgoing_webhook(webhook).await?;
    if updated && !webhook.enabled {
        tx.fail_pending_deliveries(&webhook.id, "the webhook was disabled", webhook.updated_at)
            .await?;
    }
    Ok(updated)
}

/// Deletes an outgoing webhook: its pending deliveries fail, its log stays.
pub async fn delete_outgoing_webhook<T: Tx>(
    tx: &mut T,
    org_id: &str,
    id: &str,
    at: Timestamp,
) -> Result<bool> {
    let deleted = tx.delete_outgoing_webhook(org_id, id, at).await?;
    if deleted {
        tx.fail_pending_deliveries(id, "the webhook was deleted", at)
            .await?;
    }
    Ok(deleted)
}
