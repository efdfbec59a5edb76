//! The transactional outbox: an event of a call and its deliveries are written in the
//! transaction of the change that caused them; duration marks are durable scheduled events.
//!
//! An event is stored only when some enabled webhook subscribes to it (the call's timeline
//! records every event either way): that keeps the inbound write path free of outbound cost for
//! orgs without outgoing webhooks. Its tags are computed once, at the moment it happens, so a
//! retry days later renders what was true then.

use jiff::{SignedDuration, Timestamp};
use moja_core::calls::Call;
use moja_core::events::EventType;
use moja_core::secrets::new_id;
use moja_core::tags;
use serde_json::Value;

use crate::Result;
use crate::outbound::{Delivery, DeliveryState, OutboundEvent};
use crate::tx::Tx;

/// Records `event` of `call` at `at`: a timeline entry with `details`, and, for every enabled
/// webhook of the org subscribed to it whose campaign scope covers the call, an event with the
/// tag snapshot and one pending delivery due at `at`. Returns how many deliveries were queued.
pub async fn emit<T: Tx>(
    tx: &mut T,
    call: &Call,
    event: EventType,
    at: Timestamp,
    details: &Value,
) -> Result<usize> {
    tx.append_timeline(&call.id, at, event.as_str(), details)
        .await?;
    let campaign_id = call.campaign_id.as_deref();
    let webhooks: Vec<String> = tx
        .subscribers(&call.org_id, event)
        .await?
        .into_iter()
        .filter(|(_, campaigns)| {
            campaigns.is_empty() || campaign_id.is_some_and(|id| campaigns.iter().any(|c| c == id))
        })
        .map(|(id, _)| id)
        .collect();
    if webhooks.is_empty() {
        return Ok(0);
    }
    let campaign = match campaign_id {
        Some(id) => tx.campaign_info(&call.org_id, id).await?,
        None => None,
    };
    let record = OutboundEvent {
        id: new_id(),
        org_id: call.org_id.clone(),
        call_id: Some(call.id.clone()),
        event_type: event,
        occurred_at: at,
        tags: tags::tag_values(call, campaign.as_ref(), event, at),
    };
    tx.insert_event(&record).await?;
    for webhook_id in &webhooks {
        tx.insert_delivery(&Delivery {
            id: new_id(),
            org_id: call.org_id.clone(),
            webhook_id: webhook_id.clone(),
            event_id: Some(record.id.clone()),
            call_id: Some(call.id.clone()),
            event_type: event,
            state: DeliveryState::Pending,
            attempts: 0,
            retries_used: 0,
            next_attempt_at: Some(at),
            created_at: at,
            updated_at: at,
            last_status: None,
            last_error: None,
        })
        .await?;
    }
    Ok(webhooks.len())
}

/// Schedules the duration marks of a call that connected at `connected_at`, those some webhook
/// of the org subscribes to now (a webhook created mid-call sees marks from the next call on).
pub async fn schedule_marks<T: Tx>(tx: &mut T, call: &Call, connected_at: Timestamp) -> Result<()> {
    for mark in EventType::MARKS {
        if tx.subscribers(&call.org_id, mark).await?.is_empty() {
            continue;
        }
        let offset = mark.mark_offset_secs().unwrap_or_default();
        let due_at = connected_at + SignedDuration::from_secs(offset);
        tx.schedule_event(&call.org_id, &call.id, mark, due_at)
            .await?;
    }
    Ok(())
}

/// Fires a due scheduled event: the call as it is now, at the event's due time.
async fn fire_scheduled<T: Tx>(
    tx: &mut T,
    call_id: &str,
    event: EventType,
    due_at: Timestamp,
) -> Result<usize> {
    let Some(call) = tx.lock_call(call_id).await? else {
        return Ok(0);
    };
    let seconds = event.mark_offset_secs().unwrap_or_default();
    emit(
        tx,
        &call,
        event,
        due_at,
        &serde_json::json!({"connected_seconds": seconds}),
    )
    .await
}

/// Fires at most `limit` scheduled events due at `now` (duration marks): each is taken off the
/// schedule and emitted with the call as it is now, at its due time. Returns how many fired.
pub async fn fire_due_scheduled<T: Tx>(tx: &mut T, now: Timestamp, limit: usize) -> Result<usize> {
    let due = tx.take_due_scheduled(now, limit).await?;
    for event in &due {
        fire_scheduled(tx, &event.call_id, event.event, event.due_at).await?;
    }
    Ok(due.len())
}
