//! The store's transactional logic, written once over [`Tx`] primitives that each backend
//! implements: creating calls (with call data), lifecycle transitions, inbound updates with
//! idempotency and matching, call data. Everything here runs inside one transaction.

use jiff::{SignedDuration, Timestamp};
use moja_core::calls::{self, Call, ConversionRule, FieldUpdates, InvalidTransition, Transition};
use moja_core::events::EventType;
use moja_core::money;
use moja_core::tags::CampaignInfo;
use serde_json::{Map, Value, json};

use crate::Result;
use crate::model::*;
use crate::outbound::{Delivery, OutboundEvent};
use crate::outbox;

/// A call-data record as matching reads it: `(request id, fields in order)`.
pub type CallDataFields = (String, Vec<(String, String)>);

/// A stored idempotency record.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    /// Hash of the request content that claimed the id.
    pub fingerprint: String,
    /// The stored response.
    pub response: InboundResponse,
}

/// The primitives a backend offers inside one transaction.
pub trait Tx {
    /// A call by id, whatever its org.
    fn call(&mut self, id: &str) -> Result<Option<Call>>;
    /// An org's calls from `e164` that started at or after `since`, newest first.
    fn calls_by_phone(&mut self, org_id: &str, e164: &str, since: Timestamp) -> Result<Vec<Call>>;
    /// Inserts a new call.
    fn insert_call(&mut self, call: &Call) -> Result<()>;
    /// Saves a changed call.
    fn update_call(&mut self, call: &Call) -> Result<()>;
    /// Appends to a call's timeline.
    fn append_timeline(
        &mut self,
        call_id: &str,
        at: Timestamp,
        kind: &str,
        details: &Value,
    ) -> Result<()>;
    /// Stores completion-only fields for a live call.
    fn queue_update(
        &mut self,
        call_id: &str,
        request_id: &str,
        fields: &FieldUpdates,
        at: Timestamp,
    ) -> Result<()>;
    /// Takes the queued fields of a call, oldest first.
    fn take_queued(&mut self, call_id: &str) -> Result<Vec<(String, FieldUpdates)>>;
    /// The idempotency record of `(org, transaction id)`.
    fn idempotency(
        &mut self,
        org_id: &str,
        transaction_id: &str,
    ) -> Result<Option<IdempotencyRecord>>;
    /// Stores a successful response under `(org, transaction id)`.
    fn store_idempotency(
        &mut self,
        org_id: &str,
        transaction_id: &str,
        fingerprint: &str,
        response: &InboundResponse,
        at: Timestamp,
    ) -> Result<()>;
    /// Stores a call-data record valid until `expires_at`.
    fn insert_call_data(&mut self, data: &InboundCallData, expires_at: Timestamp) -> Result<()>;
    /// Call data from `e164` received at or before `at` and still valid then, newest first:
    /// `(request id, fields)`.
    fn call_data_for(
        &mut self,
        org_id: &str,
        e164: &str,
        at: Timestamp,
    ) -> Result<Vec<CallDataFields>>;
    /// The conversion rule of a campaign (the default rule when there is none).
    fn campaign_rule(&mut self, org_id: &str, campaign_id: Option<&str>) -> Result<ConversionRule>;
    /// Writes a request log entry.
    fn insert_request_log(&mut self, entry: &RequestLogEntry) -> Result<()>;
    /// The enabled webhooks of an org sent for `event`: `(id, campaign scope)`.
    fn subscribers(&mut self, org_id: &str, event: EventType)
    -> Result<Vec<(String, Vec<String>)>>;
    /// What outbound tags need to know about a campaign.
    fn campaign_info(&mut self, org_id: &str, campaign_id: &str) -> Result<Option<CampaignInfo>>;
    /// Stores an event and its tag snapshot.
    fn insert_event(&mut self, event: &OutboundEvent) -> Result<()>;
    /// Queues a delivery.
    fn insert_delivery(&mut self, delivery: &Delivery) -> Result<()>;
    /// Schedules `event` of a call at `due_at` (once per call and event).
    fn schedule_event(
        &mut self,
        org_id: &str,
        call_id: &str,
        event: EventType,
        due_at: Timestamp,
    ) -> Result<()>;
    /// Cancels a call's scheduled events due after `after`.
    fn cancel_scheduled_after(&mut self, call_id: &str, after: Timestamp) -> Result<()>;
}

fn error_body(code: &str, message: &str) -> Value {
    json!({"success": false, "error": message, "code": code})
}

fn respond(status: u16, body: Value, idempotency: &'static str, matched: Value) -> InboundResponse {
    InboundResponse {
        status,
        body,
        replayed: false,
        match_result: matched,
        idempotency,
    }
}

/// Checks the idempotency key before any change: a replay of the stored response, a 422 for
/// reuse with other content, or `None` to go ahead.
fn check_idempotency(
    tx: &mut dyn Tx,
    org_id: &str,
    transaction_id: Option<&str>,
    fingerprint: &str,
) -> Result<Option<InboundResponse>> {
    let Some(transaction_id) = transaction_id else {
        return Ok(None);
    };
    let Some(record) = tx.idempotency(org_id, transaction_id)? else {
        return Ok(None);
    };
    if record.fingerprint != fingerprint {
        return Ok(Some(respond(
            422,
            error_body(
                "transaction_id_reused",
                &format!(
                    "transaction_id {transaction_id:?} was already used for a different request; use a new transaction_id for new content"
                ),
            ),
            "reused",
            Value::Null,
        )));
    }
    let mut response = record.response;
    response.replayed = true;
    response.idempotency = "replayed";
    Ok(Some(response))
}

fn finish_log(tx: &mut dyn Tx, mut log: RequestLogEntry, response: &InboundResponse) -> Result<()> {
    log.status = response.status;
    log.response = response.body.clone();
    if let Value::Object(details) = &mut log.details {
        details.insert("match".into(), response.match_result.clone());
        details.insert(
            "idempotency".into(),
            Value::String(response.idempotency.into()),
        );
    }
    tx.insert_request_log(&log)
}

fn in_scope(webhook: &IncomingWebhook, call: &Call) -> bool {
    webhook.campaign_ids.is_empty()
        || call
            .campaign_id
            .as_ref()
            .is_some_and(|c| webhook.campaign_ids.contains(c))
}

/// Applies an inbound update (SPEC §7.2–§7.6) and logs the request, in the caller's transaction.
pub fn apply_update(
    tx: &mut dyn Tx,
    update: &InboundUpdate,
    log: RequestLogEntry,
) -> Result<InboundResponse> {
    let webhook = &update.webhook;
    let org_id = webhook.org_id.as_str();
    if let Some(response) = check_idempotency(
        tx,
        org_id,
        update.transaction_id.as_deref(),
        &update.fingerprint,
    )? {
        finish_log(tx, log, &response)?;
        return Ok(response);
    }

    let mut targets: Vec<Call> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let batch = matches!(update.selector, Selector::Batch(_));
    match &update.selector {
        Selector::One(id) => match tx.call(id)? {
            Some(call) if call.org_id != org_id => {
                let response = respond(
                    403,
                    error_body("forbidden", "Call log does not belong to your organization"),
                    "none",
                    json!({"call_log_id": id, "found": "other_org"}),
                );
                finish_log(tx, log, &response)?;
                return Ok(response);
            }
            Some(call) if !in_scope(webhook, &call) => {
                let response = respond(
                    403,
                    error_body(
                        "forbidden",
                        "Call log belongs to a campaign this webhook may not update",
                    ),
                    "none",
                    json!({"call_log_id": id, "found": "outside_campaigns"}),
                );
                finish_log(tx, log, &response)?;
                return Ok(response);
            }
            Some(call) => targets.push(call),
            None => {
                let response = respond(
                    404,
                    error_body(
                        "not_found",
                        "Call log not found: check the call_log_id (ids are case-sensitive)",
                    ),
                    "none",
                    json!({"call_log_id": id, "found": "none"}),
                );
                finish_log(tx, log, &response)?;
                return Ok(response);
            }
        },
        Selector::Batch(ids) => {
            for id in ids {
                match tx.call(id)? {
                    Some(call) if call.org_id == org_id && in_scope(webhook, &call) => {
                        targets.push(call)
                    }
                    _ => failed.push(id.clone()),
                }
            }
        }
        Selector::Phone(e164) => {
            let since = update.now - SignedDuration::from_secs(webhook.lookback_seconds);
            let mut calls: Vec<Call> = tx
                .calls_by_phone(org_id, e164, since)?
                .into_iter()
                .filter(|c| c.started_at <= update.now && in_scope(webhook, c))
                .collect();
            if calls.is_empty() {
                let response = respond(
                    404,
                    error_body(
                        "not_found",
                        "No call found for this phone number within the lookback window",
                    ),
                    "none",
                    json!({"phone_number": e164, "found": 0}),
                );
                finish_log(tx, log, &response)?;
                return Ok(response);
            }
            if webhook.match_policy == MatchPolicy::MostRecent {
                calls.truncate(1);
            }
            targets = calls;
        }
    }

    let mut call_ids = Vec::new();
    let mut active_ids = Vec::new();
    let mut updated = Map::new();
    let mut queued: Vec<String> = Vec::new();
    let mut added: Vec<(String, String)> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    for mut call in targets {
        let live = call.status.is_live();
        let applied = calls::apply_fields(&mut call, &update.fields, update.now);
        if !applied.queued.is_empty() {
            tx.queue_update(
                &call.id,
                &update.request_id,
                &calls::completion_only(&update.fields),
                update.now,
            )?;
        }
        let (tags_added, tags_removed) = calls::apply_tags(&mut call, &update.tag_ops);
        tx.update_call(&call)?;
        tx.append_timeline(
            &call.id,
            update.now,
            &format!("webhook.{}", webhook.kind.as_str()),
            &json!({
                "webhook_id": webhook.id,
                "webhook_name": webhook.name,
                "request_id": update.request_id,
                "transaction_id": update.transaction_id,
                "changes": applied.changes,
                "tags_added": tags_added.iter().map(|(k, v)| json!({k: v})).collect::<Vec<_>>(),
                "tags_removed": tags_removed,
                "queued": applied.queued,
                "plugins": update.plugins,
            }),
        )?;
        if applied.became_converted && !live {
            outbox::emit(
                tx,
                &call,
                EventType::Converted,
                update.now,
                &json!({"by": "webhook", "request_id": update.request_id}),
            )?;
        }
        for (field, value) in applied.updated {
            updated.insert(field, value);
        }
        if queued.is_empty() {
            queued = applied.queued;
        }
        if added.is_empty() && removed.is_empty() {
            added = tags_added;
            removed = tags_removed;
        }
        if live {
            active_ids.push(call.id.clone());
        }
        call_ids.push(call.id);
    }

    let mut body = Map::new();
    body.insert("success".into(), Value::Bool(true));
    body.insert("call_log_ids".into(), json!(call_ids));
    match webhook.kind {
        WebhookKind::UpdateRevenue => {
            let revenue = updated
                .get("revenue_paid_out")
                .cloned()
                .unwrap_or(Value::Null);
            body.insert("revenue_paid_out".into(), revenue);
        }
        WebhookKind::UpdateTags => {
            let added: Vec<Value> = added.iter().map(|(k, v)| json!({k: v})).collect();
            body.insert("added".into(), Value::Array(added));
            body.insert("removed".into(), json!(removed));
        }
        WebhookKind::UpdateFields | WebhookKind::CallData => {
            body.insert("updated".into(), Value::Object(updated));
            if !added.is_empty() {
                let added: Vec<Value> = added.iter().map(|(k, v)| json!({k: v})).collect();
                body.insert("added".into(), Value::Array(added));
            }
            if !removed.is_empty() {
                body.insert("removed".into(), json!(removed));
            }
        }
    }
    if !active_ids.is_empty() {
        body.insert("active_call_log_ids".into(), json!(active_ids));
    }
    if !queued.is_empty() {
        body.insert("queued".into(), json!(queued));
    }
    if !update.ignored_fields.is_empty() {
        body.insert("ignored_fields".into(), json!(update.ignored_fields));
    }
    if batch {
        body.insert("failed_call_log_ids".into(), json!(failed));
    }
    let changed_any = !call_ids.is_empty();
    let mut response = respond(
        200,
        Value::Object(body),
        "none",
        json!({"matched": call_ids, "failed": failed}),
    );
    // A batch that changed nothing does not keep its id: the sender may retry with it.
    if let Some(transaction_id) = &update.transaction_id
        && changed_any
    {
        response.idempotency = "stored";
        tx.store_idempotency(
            org_id,
            transaction_id,
            &update.fingerprint,
            &response,
            update.now,
        )?;
    }
    finish_log(tx, log, &response)?;
    Ok(response)
}

/// Applies call-data fields to a call: custom-tag keys become tags (unless `protected`), `state`
/// and `zip`/`zip_code` update the call. Returns what it set.
fn apply_call_data_fields(
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
pub fn create_call(tx: &mut dyn Tx, new: &NewCall) -> Result<Call> {
    let mut call = new.call.clone();
    if tx.call(&call.id)?.is_some() {
        return Err(crate::StoreError::Conflict(format!(
            "call_log_id {:?} is taken",
            call.id
        )));
    }
    let mut applied_from = Vec::new();
    let mut applied_fields = Vec::new();
    if let Some(e164) = call.caller_e164.clone() {
        let mut protected = new.protected_keys.clone();
        for (request_id, fields) in tx.call_data_for(&call.org_id, &e164, call.started_at)? {
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
    tx.insert_call(&call)?;
    outbox::emit(
        tx,
        &call,
        EventType::Incoming,
        call.started_at,
        &json!({"caller_id": call.caller_id, "campaign_id": call.campaign_id}),
    )?;
    if !applied_from.is_empty() {
        tx.append_timeline(
            &call.id,
            call.started_at,
            "call_data.applied",
            &json!({
                "request_ids": applied_from,
                "fields": applied_fields.iter().map(|(k, v)| json!({k: v})).collect::<Vec<_>>(),
            }),
        )?;
    }
    Ok(call)
}

/// Moves a call through its lifecycle; at hang-up runs post-call processing (campaign rule,
/// queued fields) and records each event on the timeline.
pub fn transition(
    tx: &mut dyn Tx,
    org_id: &str,
    id: &str,
    request: &TransitionRequest,
    now: Timestamp,
) -> Result<TransitionResult> {
    let Some(mut call) = tx.call(id)?.filter(|c| c.org_id == org_id) else {
        return Ok(TransitionResult::NotFound);
    };
    let moved: std::result::Result<Transition, InvalidTransition> = match request {
        TransitionRequest::Connected { target, buyer } => {
            calls::connect(&mut call, target.clone(), buyer.clone(), now)
        }
        TransitionRequest::Hangup { terminated_by } => {
            let rule = tx.campaign_rule(org_id, call.campaign_id.as_deref())?;
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
        for (request_id, fields) in tx.take_queued(&call.id)? {
            let applied = calls::apply_queued(&mut call, &fields);
            queued_applied.push(json!({"request_id": request_id, "changes": applied.changes}));
        }
    }
    tx.update_call(&call)?;
    match request {
        TransitionRequest::Connected { .. } => outbox::schedule_marks(tx, &call, now)?,
        // Marks due before the hang-up are still sent; later ones never happen.
        TransitionRequest::Hangup { .. } => tx.cancel_scheduled_after(&call.id, now)?,
        TransitionRequest::Failure { .. } => tx.cancel_scheduled_after(&call.id, now)?,
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
            Some(event) => outbox::emit(tx, &call, event, now, &details)?,
            None => {
                tx.append_timeline(&call.id, now, event, &details)?;
                0
            }
        };
    }
    Ok(TransitionResult::Done {
        call: Box::new(call),
        events,
    })
}

/// Stores call data and applies it at once to a live call from that caller (SPEC §7.1).
pub fn store_call_data(
    tx: &mut dyn Tx,
    data: &InboundCallData,
    log: RequestLogEntry,
) -> Result<InboundResponse> {
    let org_id = data.webhook.org_id.as_str();
    if let Some(response) = check_idempotency(
        tx,
        org_id,
        data.transaction_id.as_deref(),
        &data.fingerprint,
    )? {
        finish_log(tx, log, &response)?;
        return Ok(response);
    }
    let expires_at = data.now + SignedDuration::from_secs(data.webhook.lookback_seconds);
    tx.insert_call_data(data, expires_at)?;
    let mut applied_to = Vec::new();
    // A live call is at most as old as the sweeper allows; a day bounds the scan.
    let since = data.now - SignedDuration::from_hours(24);
    for mut call in tx.calls_by_phone(org_id, &data.caller_e164, since)? {
        if !call.status.is_live() {
            continue;
        }
        let mut protected = Vec::new();
        let set = apply_call_data_fields(
            &mut call,
            &data.fields,
            &data.custom_tag_keys,
            &mut protected,
        );
        if set.is_empty() {
            continue;
        }
        tx.update_call(&call)?;
        tx.append_timeline(
            &call.id,
            data.now,
            "call_data.applied",
            &json!({
                "request_ids": [data.request_id],
                "webhook_id": data.webhook.id,
                "fields": set.iter().map(|(k, v)| json!({k: v})).collect::<Vec<_>>(),
            }),
        )?;
        applied_to.push(call.id);
    }
    let mut response = respond(
        200,
        json!({"success": true, "request_id": data.request_id}),
        "none",
        json!({"live_calls_updated": applied_to}),
    );
    if let Some(transaction_id) = &data.transaction_id {
        response.idempotency = "stored";
        tx.store_idempotency(
            org_id,
            transaction_id,
            &data.fingerprint,
            &response,
            data.now,
        )?;
    }
    finish_log(tx, log, &response)?;
    Ok(response)
}
