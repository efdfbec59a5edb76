//! Calls: creation with the call data received before them, lifecycle transitions with
//! post-call processing at hang-up, and the sweep of calls left live.

use jiff::Timestamp;
use moja_core::calls::{self, Call, InvalidTransition, Transition};
use moja_core::events::EventType;
use moja_core::money;
use serde_json::json;

use crate::Result;
use crate::model::*;
use crate::outbox;
use crate::tx::Tx;

/// Applies call-data fields to a call: custom-tag keys become tags (unless `protected`), `state`
/// and `zip`/`zip_code` update the call. Returns what it set.
pub(super) fn apply_call_data_fields(
    call: &mut Call,
    fields: &[(String, String)],
    custom_tag_keys: &[String],
    protected: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut set = Vec::new();
    for (key, value) in fields {
        if protected.contains(key) {
            continue;
        }
        match key.as_str() {
            "state" => {
                call.state = Some(value.clone());
            }
            "zip" | "zip_code" => {
                call.zip = Some(value.clone());
                protected.push("zip".into());
                protected.push("zip_code".into());
            }
            _ if custom_tag_keys.contains(key) => {
                call.set_tag(key, value);
            }
            _ => continue,
        }
        protected.push(key.clone());
        set.push((key.clone(), value.clone()));
    }
    set
}

/// Creates a call: call data received from the caller within its lookback is applied, newest
/// first per key, without overriding explicit fields or RTB tags.
pub async fn create_call<T: Tx>(tx: &mut T, new: &NewCall) -> Result<Call> {
    let mut call = new.call.clone();
    if tx.lock_call(&call.id).await?.is_some() {
        return Err(crate::StoreError::Conflict(format!(
            "call_log_id {:?} is taken",
            call.id
        )));
    }
    let mut applied_from = Vec::new();
    let mut applied_fields = Vec::new();
    if let Some(e164) = call.caller_e164.clone() {
        let mut protected = new.protected_keys.clone();
        for (request_id, fields) in tx
            .call_data_for(&call.org_id, &e164, call.started_at)
            .await?
        {
            let set =
                apply_call_data_fields(&mut call, &fields, &new.custom_tag_keys, &mut protected);
            if !set.is_empty() {
                applied_from.push(request_id);
                applied_fields.extend(set);
            }
        }
    }
    if call.original_state.is_none() {
        call.original_state = call.state.clone();
    }
    if call.original_zip.is_none() {
        call.original_zip = call.zip.clone();
    }
    tx.insert_call(&call).await?;
    outbox::emit(
        tx,
        &call,
        EventType::Incoming,
        call.started_at,
        &json!({"caller_id": call.caller_id, "campaign_id": call.campaign_id}),
    )
    .await?;
    if !applied_from.is_empty() {
        tx.append_timeline(
            &call.id,
            call.started_at,
            "call_data.applied",
            &json!({
                "request_ids": applied_from,
                "fields": applied_fields.iter().map(|(k, v)| json!({k: v})).collect::<Vec<_>>(),
            }),
        )
        .await?;
    }
    Ok(call)
}

/// Moves a call through its lifecycle; at hang-up runs post-call processing (campaign rule,
/// queued fields) and records each event on the timeline.
pub async fn transition<T: Tx>(
    tx: &mut T,
    org_id: &str,
    id: &str,
    request: &TransitionRequest,
    now: Timestamp,
) -> Result<TransitionResult> {
    let Some(mut call) = tx.lock_call(id).await?.filter(|c| c.org_id == org_id) else {
        return Ok(TransitionResult::NotFound);
    };
    let moved: std::result::Result<Transition, InvalidTransition> = match request {
        TransitionRequest::Connected { target, buyer } => {
            calls::connect(&mut call, target.clone(), buyer.clone(), now)
        }
        TransitionRequest::Hangup { terminated_by } => {
            let rule = tx
                .campaign_rule(org_id, call.campaign_id.as_deref())
                .await?;
            calls::hang_up(&mut call, terminated_by, &rule, now)
        }
        TransitionRequest::Failure { reason } => calls::fail(&mut call, reason, now),
    };
    let events = match moved {
        Err(invalid) => return Ok(TransitionResult::Invalid(invalid.to_string())),
        Ok(Transition::Repeated) => {
            return Ok(TransitionResult::Done {
                call: Box::new(call),
                events: Vec::new(),
            });
        }
        Ok(Transition::Moved(events)) => events,
    };
    let mut queued_applied = Vec::new();
    if call.status == moja_core::calls::CallStatus::Completed {
        for (request_id, fields) in tx.take_queued(&call.id).await? {
            let applied = calls::apply_queued(&mut call, &fields);
            queued_applied.push(json!({"request_id": request_id, "changes": applied.changes}));
        }
    }
    tx.update_call(&call).await?;
    match request {
        TransitionRequest::Connected { .. } => outbox::schedule_marks(tx, &call, now).await?,
        // Marks due before the hang-up are still sent; later ones never happen.
        TransitionRequest::Hangup { .. } => tx.cancel_scheduled_after(&call.id, now).await?,
        TransitionRequest::Failure { .. } => tx.cancel_scheduled_after(&call.id, now).await?,
    }
    for event in &events {
        let details = match *event {
            "call.connected" => json!({"target": call.target, "buyer": call.buyer}),
            "call.hangup" => json!({
                "terminated_by": call.terminated_by,
                "duration_s": call.duration_secs(now),
            }),
            "call.converted" => json!({
                "revenue_paid_out": call.revenue_paid_out.as_ref().map(money::format_plain),
                "converted_at": call.converted_at.map(calls::format_time),
            }),
            "call.completed" => json!({"queued_updates_applied": queued_applied}),
            "call.failure" => json!({"failure_reason": call.failure_reason}),
            _ => json!({}),
        };
        match EventType::parse(event) {
            Some(event) => outbox::emit(tx, &call, event, now, &details).await?,
            None => {
                tx.append_timeline(&call.id, now, event, &details).await?;
                0
            }
        };
    }
    Ok(TransitionResult::Done {
        call: Box::new(call),
        events,
    })
}

/// Completes the calls live since before `started_before` (`terminated_by: system`), each
/// through the hang-up transition. Returns their ids.
pub async fn sweep_live_calls<T: Tx>(
    tx: &mut T,
    started_before: Timestamp,
    now: Timestamp,
) -> Result<Vec<String>> {
    let mut swept = Vec::new();
    for (id, org_id) in tx.live_calls_started_before(started_before).await? {
        let request = TransitionRequest::Hangup {
            terminated_by: "system".into(),
        };
        if let TransitionResult::Done { .. } = transition(tx, &org_id, &id, &request, now).await? {
            swept.push(id);
        }
    }
    Ok(swept)
}
