//! Inbound updates and call data (SPEC §7.1–§7.6): idempotency, matching, the changes, the
//! timeline, the stored answer and the request log entry, in one transaction.

use jiff::SignedDuration;
use moja_core::calls::{self, Call};
use moja_core::events::EventType;
use serde_json::{Value, json};

use super::calls::apply_call_data_fields;
use crate::Result;
use crate::model::*;
use crate::outbox;
use crate::tx::{IdempotencyClaim, Tx};

/// The outcome of an idempotency check, or `None` to go ahead.
async fn check_idempotency<T: Tx>(
    tx: &mut T,
    org_id: &str,
    transaction_id: Option<&str>,
    fingerprint: &str,
) -> Result<Option<InboundOutcome>> {
    let Some(transaction_id) = transaction_id else {
        return Ok(None);
    };
    Ok(match tx.claim_idempotency(org_id, transaction_id).await? {
        IdempotencyClaim::Claimed => None,
        IdempotencyClaim::InFlight => Some(InboundOutcome::InFlight {
            transaction_id: transaction_id.to_owned(),
        }),
        IdempotencyClaim::Done(record) if record.fingerprint != fingerprint => {
            Some(InboundOutcome::TransactionIdReused {
                transaction_id: transaction_id.to_owned(),
            })
        }
        IdempotencyClaim::Done(record) => Some(InboundOutcome::Replayed(record.response)),
    })
}

/// Where a kept answer is stored: under the org's transaction id, with the request's fingerprint.
struct Keep<'a> {
    org_id: &'a str,
    transaction_id: &'a str,
    fingerprint: &'a str,
    at: jiff::Timestamp,
}

/// Writes the request log entry of `outcome` as the host answers it; stores that answer under
/// the transaction id when the outcome keeps it.
async fn record<T: Tx>(
    tx: &mut T,
    mut log: RequestLogEntry,
    outcome: InboundOutcome,
    keep: Option<Keep<'_>>,
    respond: Responder,
) -> Result<InboundOutcome> {
    let response = respond(&outcome);
    let label = outcome.idempotency(keep.as_ref().map(|k| k.transaction_id));
    if label == "stored"
        && let Some(keep) = keep
    {
        tx.store_idempotency(
            keep.org_id,
            keep.transaction_id,
            keep.fingerprint,
            &response,
            keep.at,
        )
        .await?;
    }
    log.status = response.status;
    log.response = response.body;
    if let Value::Object(details) = &mut log.details {
        details.insert("match".into(), outcome.match_result());
        details.insert("idempotency".into(), Value::String(label.into()));
    }
    tx.insert_request_log(&log).await?;
    Ok(outcome)
}

fn in_scope(webhook: &IncomingWebhook, call: &Call) -> bool {
    webhook.campaign_ids.is_empty()
        || call
            .campaign_id
            .as_ref()
            .is_some_and(|c| webhook.campaign_ids.contains(c))
}

/// The calls an update targets, or the outcome that ends it.
async fn targets<T: Tx>(
    tx: &mut T,
    update: &InboundUpdate,
) -> Result<std::result::Result<(Vec<Call>, Option<Vec<String>>), InboundOutcome>> {
    let webhook = &update.webhook;
    let org_id = webhook.org_id.as_str();
    Ok(Ok(match &update.selector {
        Selector::One(id) => match tx.lock_call(id).await? {
            Some(call) if call.org_id != org_id => {
                return Ok(Err(InboundOutcome::CallOfOtherOrg {
                    call_log_id: id.clone(),
                }));
            }
            Some(call) if !in_scope(webhook, &call) => {
                return Ok(Err(InboundOutcome::CallOutsideCampaigns {
                    call_log_id: id.clone(),
                }));
            }
            Some(call) => (vec![call], None),
            None => {
                return Ok(Err(InboundOutcome::CallNotFound {
                    call_log_id: id.clone(),
                }));
            }
        },
        Selector::Batch(ids) => {
            let mut targets = Vec::new();
            let mut failed = Vec::new();
            for id in ids {
                match tx.lock_call(id).await? {
                    Some(call) if call.org_id == org_id && in_scope(webhook, &call) => {
                        targets.push(call)
                    }
                    _ => failed.push(id.clone()),
                }
            }
            (targets, Some(failed))
        }
        Selector::Phone(e164) => {
            let since = update.now - SignedDuration::from_secs(webhook.lookback_seconds);
            let mut calls: Vec<Call> = tx
                .lock_calls_by_phone(org_id, e164, since)
                .await?
                .into_iter()
                .filter(|c| c.started_at <= update.now && in_scope(webhook, c))
                .collect();
            if calls.is_empty() {
                return Ok(Err(InboundOutcome::NoCallForPhone {
                    phone_number: e164.clone(),
                }));
            }
            if webhook.match_policy == MatchPolicy::MostRecent {
                calls.truncate(1);
            }
            (calls, None)
        }
    }))
}

/// Applies an inbound update (SPEC §7.2–§7.6) and logs the request, in the caller's transaction.
pub async fn apply_update<T: Tx>(
    tx: &mut T,
    update: &InboundUpdate,
    log: RequestLogEntry,
    respond: Responder,
) -> Result<InboundOutcome> {
    let webhook = &update.webhook;
    let transaction_id = update.transaction_id.as_deref();
    let keep = transaction_id.map(|transaction_id| Keep {
        org_id: &webhook.org_id,
        transaction_id,
        fingerprint: &update.fingerprint,
        at: update.now,
    });
    if let Some(outcome) =
        check_idempotency(tx, &webhook.org_id, transaction_id, &update.fingerprint).await?
    {
        return record(tx, log, outcome, None, respond).await;
    }
    let (targets, failed) = match targets(tx, update).await? {
        Ok(found) => found,
        Err(outcome) => return record(tx, log, outcome, None, respond).await,
    };

    let mut applied_update = AppliedUpdate {
        kind: webhook.kind,
        call_log_ids: Vec::new(),
        updated: Vec::new(),
        added: Vec::new(),
        removed: Vec::new(),
        active_call_log_ids: Vec::new(),
        queued: Vec::new(),
        ignored_fields: update.ignored_fields.clone(),
        failed_call_log_ids: failed,
    };
    for mut call in targets {
        let live = call.status.is_live();
        let applied = calls::apply_fields(&mut call, &update.fields, update.now);
        if !applied.queued.is_empty() {
            tx.queue_update(
                &call.id,
                &update.request_id,
                &calls::completion_only(&update.fields),
                update.now,
            )
            .await?;
        }
        let (tags_added, tags_removed) = calls::apply_tags(&mut call, &update.tag_ops);
        tx.update_call(&call).await?;
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
        )
        .await?;
        if applied.became_converted && !live {
            outbox::emit(
                tx,
                &call,
                EventType::Converted,
                update.now,
                &json!({"by": "webhook", "request_id": update.request_id}),
            )
            .await?;
        }
        for (field, value) in applied.updated {
            // A later call's value replaces an earlier one's in place: the answer keeps the
            // order in which fields were first set.
            match applied_update.updated.iter_mut().find(|(f, _)| *f == field) {
                Some(slot) => slot.1 = value,
                None => applied_update.updated.push((field, value)),
            }
        }
        if applied_update.queued.is_empty() {
            applied_update.queued = applied.queued;
        }
        if applied_update.added.is_empty() && applied_update.removed.is_empty() {
            applied_update.added = tags_added;
            applied_update.removed = tags_removed;
        }
        if live {
            applied_update.active_call_log_ids.push(call.id.clone());
        }
        applied_update.call_log_ids.push(call.id);
    }
    record(
        tx,
        log,
        InboundOutcome::Updated(applied_update),
        keep,
        respond,
    )
    .await
}

/// Stores call data and applies it at once to a live call from that caller (SPEC §7.1).
pub async fn store_call_data<T: Tx>(
    tx: &mut T,
    data: &InboundCallData,
    log: RequestLogEntry,
    respond: Responder,
) -> Result<InboundOutcome> {
    let org_id = data.webhook.org_id.as_str();
    let transaction_id = data.transaction_id.as_deref();
    let keep = transaction_id.map(|transaction_id| Keep {
        org_id,
        transaction_id,
        fingerprint: &data.fingerprint,
        at: data.now,
    });
    if let Some(outcome) = check_idempotency(tx, org_id, transaction_id, &data.fingerprint).await? {
        return record(tx, log, outcome, None, respond).await;
    }
    let expires_at = data.now + SignedDuration::from_secs(data.webhook.lookback_seconds);
    tx.insert_call_data(data, expires_at).await?;
    let mut applied_to = Vec::new();
    // A live call is at most as old as the sweeper lets it get.
    let since = data.now - data.max_call_duration;
    for mut call in tx
        .lock_calls_by_phone(org_id, &data.caller_e164, since)
        .await?
    {
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
        tx.update_call(&call).await?;
        tx.append_timeline(
            &call.id,
            data.now,
            "call_data.applied",
            &json!({
                "request_ids": [data.request_id],
                "webhook_id": data.webhook.id,
                "fields": set.iter().map(|(k, v)| json!({k: v})).collect::<Vec<_>>(),
            }),
        )
        .await?;
        applied_to.push(call.id);
    }
    let outcome = InboundOutcome::CallDataStored {
        request_id: data.request_id.clone(),
        live_calls_updated: applied_to,
    };
    record(tx, log, outcome, keep, respond).await
}
