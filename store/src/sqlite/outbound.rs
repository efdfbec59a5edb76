//! Outbound webhooks on SQLite: webhook rows, the outbox (events, deliveries, scheduled
//! events), claiming and finishing attempts, and the outgoing request log.

use std::collections::HashMap;

use jiff::Timestamp;
use moja_core::events::EventType;
use moja_core::tags::CampaignInfo;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::json;

use super::tx::{SqliteTx, decimal, micros, timestamp};
use crate::model::Page;
use crate::ops::Tx;
use crate::outbound::*;
use crate::{Result, StoreError, outbox};

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Database(format!("stored {what} {value:?}"))
}

fn event_type(text: &str) -> Result<EventType> {
    EventType::parse(text).ok_or_else(|| bad("event type", text))
}

pub(super) const WEBHOOK_COLUMNS: &str = "id, org_id, name, event_type, method, url, headers_sealed, header_names, body, body_format, campaign_ids, renderer, plugin_config, enabled, secret_sealed, created_at, updated_at";

/// Reads a webhook from `row`, whose columns start at `at` in [`WEBHOOK_COLUMNS`] order.
fn webhook_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Result<OutgoingWebhook>> {
    let get_s = |i: usize| row.get::<_, String>(at + i);
    let (id, org_id, name, event, method, url) = (
        get_s(0)?,
        get_s(1)?,
        get_s(2)?,
        get_s(3)?,
        get_s(4)?,
        get_s(5)?,
    );
    let (headers_sealed, header_names, body, body_format, campaign_ids, renderer, plugin_config) = (
        get_s(6)?,
        get_s(7)?,
        get_s(8)?,
        get_s(9)?,
        get_s(10)?,
        get_s(11)?,
        get_s(12)?,
    );
    let enabled: bool = row.get(at + 13)?;
    let secret_sealed: Option<String> = row.get(at + 14)?;
    let created_at: i64 = row.get(at + 15)?;
    let updated_at: i64 = row.get(at + 16)?;
    Ok((|| {
        Ok(OutgoingWebhook {
            id,
            org_id,
            name,
            event_type: event_type(&event)?,
            method,
            url,
            headers_sealed,
            header_names: serde_json::from_str(&header_names)?,
            body,
            body_format: BodyFormat::parse(&body_format)
                .ok_or_else(|| bad("body format", &body_format))?,
            campaign_ids: serde_json::from_str(&campaign_ids)?,
            renderer,
            plugin_config: serde_json::from_str(&plugin_config)?,
            enabled,
            secret_sealed,
            created_at: timestamp(created_at)?,
            updated_at: timestamp(updated_at)?,
        })
    })())
}

pub(super) fn webhook_from(row: &Row<'_>) -> rusqlite::Result<Result<OutgoingWebhook>> {
    webhook_at(row, 0)
}

pub(super) fn insert_webhook(c: &Connection, w: &OutgoingWebhook) -> Result<()> {
    c.execute(
        &format!(
            "INSERT INTO outgoing_webhooks ({WEBHOOK_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
        ),
        params![
            w.id,
            w.org_id,
            w.name,
            w.event_type.as_str(),
            w.method,
            w.url,
            w.headers_sealed,
            serde_json::to_string(&w.header_names)?,
            w.body,
            w.body_format.as_str(),
            serde_json::to_string(&w.campaign_ids)?,
            w.renderer,
            serde_json::to_string(&w.plugin_config)?,
            w.enabled,
            w.secret_sealed,
            micros(w.created_at),
            micros(w.updated_at),
        ],
    )?;
    Ok(())
}

pub(super) fn update_webhook(c: &Connection, w: &OutgoingWebhook) -> Result<bool> {
    let updated = c.execute(
        "UPDATE outgoing_webhooks SET name = ?3, event_type = ?4, method = ?5, url = ?6,
           headers_sealed = ?7, header_names = ?8, body = ?9, body_format = ?10,
           campaign_ids = ?11, renderer = ?12, plugin_config = ?13, enabled = ?14,
           secret_sealed = ?15, updated_at = ?16
         WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL",
        params![
            w.org_id,
            w.id,
            w.name,
            w.event_type.as_str(),
            w.method,
            w.url,
            w.headers_sealed,
            serde_json::to_string(&w.header_names)?,
            w.body,
            w.body_format.as_str(),
            serde_json::to_string(&w.campaign_ids)?,
            w.renderer,
            serde_json::to_string(&w.plugin_config)?,
            w.enabled,
            w.secret_sealed,
            micros(w.updated_at),
        ],
    )? == 1;
    if updated && !w.enabled {
        fail_pending(c, &w.id, "the webhook was disabled", w.updated_at)?;
    }
    Ok(updated)
}

/// Fails the pending deliveries of a webhook that stopped sending (disabled or deleted); a
/// resend after enabling it again sends one.
fn fail_pending(c: &Connection, webhook_id: &str, why: &str, at: Timestamp) -> Result<()> {
    c.execute(
        "UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, lease_until = NULL,
           last_error = ?3, updated_at = ?2
         WHERE webhook_id = ?1 AND state = 'pending'",
        params![webhook_id, micros(at), why],
    )?;
    Ok(())
}

pub(super) fn delete_webhook(
    c: &Connection,
    org_id: &str,
    id: &str,
    at: Timestamp,
) -> Result<bool> {
    let deleted = c.execute(
        "UPDATE outgoing_webhooks SET deleted_at = ?3
         WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL",
        params![org_id, id, micros(at)],
    )? == 1;
    if deleted {
        fail_pending(c, id, "the webhook was deleted", at)?;
    }
    Ok(deleted)
}

pub(super) fn list_webhooks(c: &Connection, org_id: &str) -> Result<Vec<OutgoingWebhook>> {
    let mut statement = c.prepare_cached(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM outgoing_webhooks
         WHERE org_id = ?1 AND deleted_at IS NULL ORDER BY created_at, id"
    ))?;
    let rows = statement.query_map([org_id], webhook_from)?;
    rows.map(|r| r?).collect()
}

pub(super) fn get_webhook(
    c: &Connection,
    org_id: &str,
    id: &str,
) -> Result<Option<OutgoingWebhook>> {
    c.prepare_cached(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM outgoing_webhooks
         WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL"
    ))?
    .query_row([org_id, id], webhook_from)
    .optional()?
    .transpose()
}

// --- Tx primitives -------------------------------------------------------------------------

pub(super) fn subscribers(
    c: &Connection,
    org_id: &str,
    event: EventType,
) -> Result<Vec<(String, Vec<String>)>> {
    let mut statement = c.prepare_cached(
        "SELECT id, campaign_ids FROM outgoing_webhooks
         WHERE org_id = ?1 AND event_type = ?2 AND deleted_at IS NULL AND enabled = 1
         ORDER BY created_at, id",
    )?;
    let rows = statement.query_map(params![org_id, event.as_str()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    rows.map(|r| {
        let (id, campaigns) = r?;
        Ok((id, serde_json::from_str(&campaigns)?))
    })
    .collect()
}

pub(super) fn campaign_info(
    c: &Connection,
    org_id: &str,
    campaign_id: &str,
) -> Result<Option<CampaignInfo>> {
    let row: Option<(String, Option<String>, Option<String>)> = c
        .prepare_cached(
            "SELECT name, buyer_revenue, publisher_payout FROM campaigns
             WHERE org_id = ?1 AND id = ?2",
        )?
        .query_row([org_id, campaign_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    row.map(|(name, revenue, payout)| {
        Ok(CampaignInfo {
            id: campaign_id.to_owned(),
            name,
            buyer_revenue: revenue.as_deref().map(decimal).transpose()?,
            publisher_payout: payout.as_deref().map(decimal).transpose()?,
        })
    })
    .transpose()
}

pub(super) fn insert_event(c: &Connection, event: &OutboundEvent) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO events (id, org_id, call_id, event_type, occurred_at, tags)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        event.id,
        event.org_id,
        event.call_id,
        event.event_type.as_str(),
        micros(event.occurred_at),
        serde_json::to_string(&event.tags)?,
    ])?;
    Ok(())
}

const DELIVERY_COLUMNS: &str = "id, org_id, webhook_id, event_id, call_id, event_type, state, attempts, retries_used, next_attempt_at, created_at, updated_at, last_status, last_error";

pub(super) fn insert_delivery(c: &Connection, d: &Delivery) -> Result<()> {
    if d.state == DeliveryState::Pending {
        super::writer::note_delivery_queued();
    }
    c.prepare_cached(&format!(
        "INSERT INTO deliveries ({DELIVERY_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))?
    .execute(params![
        d.id,
        d.org_id,
        d.webhook_id,
        d.event_id,
        d.call_id,
        d.event_type.as_str(),
        d.state.as_str(),
        d.attempts,
        d.retries_used,
        d.next_attempt_at.map(micros),
        micros(d.created_at),
        micros(d.updated_at),
        d.last_status,
        d.last_error,
    ])?;
    Ok(())
}

fn delivery_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Result<Delivery>> {
    let id: String = row.get(at)?;
    let org_id: String = row.get(at + 1)?;
    let webhook_id: String = row.get(at + 2)?;
    let event_id: Option<String> = row.get(at + 3)?;
    let call_id: Option<String> = row.get(at + 4)?;
    let event: String = row.get(at + 5)?;
    let state: String = row.get(at + 6)?;
    let attempts: u32 = row.get(at + 7)?;
    let retries_used: u32 = row.get(at + 8)?;
    let next_attempt_at: Option<i64> = row.get(at + 9)?;
    let created_at: i64 = row.get(at + 10)?;
    let updated_at: i64 = row.get(at + 11)?;
    let last_status: Option<u16> = row.get(at + 12)?;
    let last_error: Option<String> = row.get(at + 13)?;
    Ok((|| {
        Ok(Delivery {
            id,
            org_id,
            webhook_id,
            event_id,
            call_id,
            event_type: event_type(&event)?,
            state: DeliveryState::parse(&state).ok_or_else(|| bad("delivery state", &state))?,
            attempts,
            retries_used,
            next_attempt_at: next_attempt_at.map(timestamp).transpose()?,
            created_at: timestamp(created_at)?,
            updated_at: timestamp(updated_at)?,
            last_status,
            last_error,
        })
    })())
}

pub(super) fn schedule_event(
    c: &Connection,
    org_id: &str,
    call_id: &str,
    event: EventType,
    due_at: Timestamp,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO scheduled_events (call_id, event_type, org_id, due_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (call_id, event_type) DO NOTHING",
    )?
    .execute(params![call_id, event.as_str(), org_id, micros(due_at)])?;
    Ok(())
}

pub(super) fn cancel_scheduled_after(
    c: &Connection,
    call_id: &str,
    after: Timestamp,
) -> Result<()> {
    c.prepare_cached("DELETE FROM scheduled_events WHERE call_id = ?1 AND due_at > ?2")?
        .execute(params![call_id, micros(after)])?;
    Ok(())
}

// --- Dispatch ------------------------------------------------------------------------------

pub(super) fn claim(c: &Connection, request: &ClaimRequest) -> Result<Vec<ClaimedDelivery>> {
    if request.limit == 0 {
        return Ok(Vec::new());
    }
    let now = micros(request.now);
    // Read more candidates than asked for: some belong to webhooks already at their bound.
    let candidates: Vec<(String, String)> = {
        let mut statement = c.prepare_cached(
            "SELECT id, webhook_id FROM deliveries
             WHERE state = 'pending' AND next_attempt_at <= ?1
               AND (lease_until IS NULL OR lease_until <= ?1)
             ORDER BY next_attempt_at LIMIT ?2",
        )?;
        let rows = statement.query_map(params![now, (request.limit * 4) as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut in_flight: HashMap<String, usize> = request.in_flight.clone();
    let mut chosen = Vec::new();
    for (id, webhook_id) in candidates {
        if chosen.len() == request.limit {
            break;
        }
        if request.in_hand.contains(&id) {
            continue;
        }
        let busy = in_flight.entry(webhook_id).or_default();
        if *busy >= request.per_webhook_limit.max(1) {
            continue;
        }
        *busy += 1;
        chosen.push(id);
    }
    let mut claimed = Vec::with_capacity(chosen.len());
    let mut lease = c.prepare_cached("UPDATE deliveries SET lease_until = ?2 WHERE id = ?1")?;
    let mut read = c.prepare_cached(&format!(
        "SELECT d.id, d.org_id, d.webhook_id, d.event_id, d.call_id, d.event_type, d.state,
                d.attempts, d.retries_used, d.next_attempt_at, d.created_at, d.updated_at,
                d.last_status, d.last_error,
                e.occurred_at, e.tags,
                {}
         FROM deliveries d
         JOIN events e ON e.id = d.event_id
         JOIN outgoing_webhooks w ON w.id = d.webhook_id
         WHERE d.id = ?1",
        WEBHOOK_COLUMNS
            .split(", ")
            .map(|column| format!("w.{column}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))?;
    for id in chosen {
        lease.execute(params![id, micros(request.lease_until)])?;
        let row = read
            .query_row([&id], |r| {
                let delivery = delivery_at(r, 0)?;
                let occurred_at: i64 = r.get(14)?;
                let tags: String = r.get(15)?;
                let webhook = webhook_at(r, 16)?;
                Ok((delivery, occurred_at, tags, webhook))
            })
            .optional()?;
        let Some((delivery, occurred_at, tags, webhook)) = row else {
            continue;
        };
        let delivery = delivery?;
        let webhook = webhook?;
        let event = OutboundEvent {
            id: delivery.event_id.clone().unwrap_or_default(),
            org_id: delivery.org_id.clone(),
            call_id: delivery.call_id.clone(),
            event_type: delivery.event_type,
            occurred_at: timestamp(occurred_at)?,
            tags: serde_json::from_str(&tags)?,
        };
        claimed.push(ClaimedDelivery {
            delivery,
            event,
            webhook,
        });
    }
    Ok(claimed)
}

pub(super) fn insert_attempt(c: &Connection, a: &AttemptRecord) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO delivery_attempts (id, org_id, delivery_id, webhook_id, event_type, call_id,
           attempt, started_at, request, response_status, response_headers, response_body,
           response_truncated, latency_us, error, outcome, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        a.id,
        a.org_id,
        a.delivery_id,
        a.webhook_id,
        a.event_type.as_str(),
        a.call_id,
        a.attempt,
        micros(a.started_at),
        a.request.to_string(),
        a.response_status,
        serde_json::to_string(&a.response_headers)?,
        a.response_body,
        a.response_truncated,
        a.latency_us,
        a.error,
        a.outcome,
        a.next_attempt_at.map(micros),
    ])?;
    Ok(())
}

pub(super) fn finish(c: &Connection, attempt: &AttemptRecord, next: DeliveryNext) -> Result<()> {
    insert_attempt(c, attempt)?;
    let at = micros(attempt.started_at + jiff::SignedDuration::from_micros(attempt.latency_us));
    let (state, next_at, retried) = match next {
        DeliveryNext::Succeeded => (DeliveryState::Succeeded, None, 0),
        DeliveryNext::RetryAt(due) => (DeliveryState::Pending, Some(micros(due)), 1),
        DeliveryNext::Failed => (DeliveryState::Failed, None, 0),
    };
    let changed = c
        .prepare_cached(
            "UPDATE deliveries SET state = ?2, attempts = ?3, retries_used = retries_used + ?4,
               next_attempt_at = ?5, lease_until = NULL, updated_at = ?6, last_status = ?7,
               last_error = ?8
             WHERE id = ?1 AND state = 'pending'",
        )?
        .execute(params![
            attempt.delivery_id,
            state.as_str(),
            attempt.attempt,
            retried,
            next_at,
            at,
            attempt.response_status,
            attempt.error,
        ])?;
    if changed == 1
        && state != DeliveryState::Pending
        && let Some(call_id) = &attempt.call_id
    {
        SqliteTx { connection: c }.append_timeline(
            call_id,
            timestamp(at)?,
            if state == DeliveryState::Succeeded {
                "delivery.succeeded"
            } else {
                "delivery.failed"
            },
            &json!({
                "delivery_id": attempt.delivery_id,
                "webhook_id": attempt.webhook_id,
                "event": attempt.event_type,
                "attempts": attempt.attempt,
                "status": attempt.response_status,
                "error": attempt.error,
            }),
        )?;
    }
    Ok(())
}

pub(super) fn fire_scheduled(c: &Connection, now: Timestamp, limit: usize) -> Result<usize> {
    let due: Vec<(String, String, i64)> = {
        let mut statement = c.prepare_cached(
            "SELECT call_id, event_type, due_at FROM scheduled_events WHERE due_at <= ?1
             ORDER BY due_at LIMIT ?2",
        )?;
        let rows = statement.query_map(params![micros(now), limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut tx = SqliteTx { connection: c };
    for (call_id, event, due_at) in &due {
        c.prepare_cached("DELETE FROM scheduled_events WHERE call_id = ?1 AND event_type = ?2")?
            .execute(params![call_id, event])?;
        outbox::fire_scheduled(&mut tx, call_id, event_type(event)?, timestamp(*due_at)?)?;
    }
    Ok(due.len())
}

pub(super) fn release_leases(c: &Connection) -> Result<u64> {
    Ok(c.execute(
        "UPDATE deliveries SET lease_until = NULL WHERE state = 'pending' AND lease_until IS NOT NULL",
        [],
    )? as u64)
}

pub(super) fn queue_stats(c: &Connection, now: Timestamp) -> Result<QueueStats> {
    let (pending, due, oldest): (i64, i64, Option<i64>) = c
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(next_attempt_at <= ?1), 0), MIN(next_attempt_at)
             FROM deliveries WHERE state = 'pending'",
        )?
        .query_row([micros(now)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(QueueStats {
        pending: pending as u64,
        due: due as u64,
        oldest_due: oldest
            .filter(|t| *t <= micros(now))
            .map(timestamp)
            .transpose()?,
    })
}

// --- The outgoing request log ----------------------------------------------------------------

const ATTEMPT_COLUMNS: &str = "id, org_id, delivery_id, webhook_id, event_type, call_id, attempt, started_at, request, response_status, response_headers, response_body, response_truncated, latency_us, error, outcome, next_attempt_at";

fn attempt_from(row: &Row<'_>) -> rusqlite::Result<Result<AttemptRecord>> {
    let event: String = row.get(4)?;
    let started_at: i64 = row.get(7)?;
    let request: String = row.get(8)?;
    let headers: String = row.get(10)?;
    let next_attempt_at: Option<i64> = row.get(16)?;
    let fields = (
        row.get::<_, String>(0)?,
        row.get::<_, String>(1)?,
        row.get::<_, String>(2)?,
        row.get::<_, String>(3)?,
        row.get::<_, Option<String>>(5)?,
        row.get::<_, u32>(6)?,
        row.get::<_, Option<u16>>(9)?,
        row.get::<_, String>(11)?,
        row.get::<_, bool>(12)?,
        row.get::<_, i64>(13)?,
        row.get::<_, Option<String>>(14)?,
        row.get::<_, String>(15)?,
    );
    Ok((|| {
        Ok(AttemptRecord {
            id: fields.0,
            org_id: fields.1,
            delivery_id: fields.2,
            webhook_id: fields.3,
            event_type: event_type(&event)?,
            call_id: fields.4,
            attempt: fields.5,
            started_at: timestamp(started_at)?,
            request: serde_json::from_str(&request)?,
            response_status: fields.6,
            response_headers: serde_json::from_str(&headers)?,
            response_body: fields.7,
            response_truncated: fields.8,
            latency_us: fields.9,
            error: fields.10,
            outcome: fields.11,
            next_attempt_at: next_attempt_at.map(timestamp).transpose()?,
        })
    })())
}

pub(super) fn list_attempts(
    c: &Connection,
    org_id: &str,
    filter: &AttemptFilter,
    limit: usize,
    cursor: (i64, String),
) -> Result<Page<AttemptRecord>> {
    let mut statement = c.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM delivery_attempts
         WHERE org_id = ?1
           AND (?2 IS NULL OR webhook_id = ?2)
           AND (?3 IS NULL OR event_type = ?3)
           AND (?4 IS NULL OR call_id = ?4)
           AND (?5 = 0 OR outcome != 'succeeded')
           AND (started_at < ?6 OR (started_at = ?6 AND id < ?7) OR ?7 = '')
         ORDER BY started_at DESC, id DESC LIMIT ?8"
    ))?;
    let rows = statement.query_map(
        params![
            org_id,
            filter.webhook_id,
            filter.event_type,
            filter.call_id,
            filter.failed,
            cursor.0,
            cursor.1,
            (limit + 1) as i64
        ],
        attempt_from,
    )?;
    super::page_of(rows.map(|row| row?), limit, |a: &AttemptRecord| {
        (micros(a.started_at), a.id.clone())
    })
}

pub(super) fn get_attempt(c: &Connection, org_id: &str, id: &str) -> Result<Option<AttemptRecord>> {
    c.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM delivery_attempts WHERE org_id = ?1 AND id = ?2"
    ))?
    .query_row([org_id, id], attempt_from)
    .optional()?
    .transpose()
}

pub(super) fn get_delivery(c: &Connection, org_id: &str, id: &str) -> Result<Option<Delivery>> {
    c.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE org_id = ?1 AND id = ?2"
    ))?
    .query_row([org_id, id], |r| delivery_at(r, 0))
    .optional()?
    .transpose()
}

pub(super) fn resend(
    c: &Connection,
    org_id: &str,
    attempt_id: &str,
    now: Timestamp,
) -> Result<Resend> {
    let Some(attempt) = get_attempt(c, org_id, attempt_id)? else {
        return Ok(Resend::NotFound);
    };
    let Some(delivery) = get_delivery(c, org_id, &attempt.delivery_id)? else {
        return Ok(Resend::NotFound);
    };
    if delivery.state == DeliveryState::Pending {
        return Ok(Resend::StillPending(Box::new(delivery)));
    }
    if delivery.event_id.is_none() || get_webhook(c, org_id, &delivery.webhook_id)?.is_none() {
        // A test send has no event to render again; a deleted webhook sends nothing.
        return Ok(Resend::NotFound);
    }
    super::writer::note_delivery_queued();
    c.execute(
        "UPDATE deliveries SET state = 'pending', retries_used = 0, next_attempt_at = ?2,
           lease_until = NULL, updated_at = ?2
         WHERE id = ?1",
        params![delivery.id, micros(now)],
    )?;
    if let Some(call_id) = &delivery.call_id {
        SqliteTx { connection: c }.append_timeline(
            call_id,
            now,
            "delivery.resent",
            &json!({"delivery_id": delivery.id, "webhook_id": delivery.webhook_id, "event": delivery.event_type}),
        )?;
    }
    let delivery = get_delivery(c, org_id, &delivery.id)?.ok_or(StoreError::Closed)?;
    Ok(Resend::Queued(Box::new(delivery)))
}

pub(super) fn purge(c: &Connection, before: i64) -> Result<usize> {
    let mut removed = c.execute(
        "DELETE FROM delivery_attempts WHERE started_at < ?1",
        [before],
    )?;
    removed += c.execute(
        "DELETE FROM deliveries WHERE state != 'pending' AND updated_at < ?1",
        [before],
    )?;
    removed += c.execute(
        "DELETE FROM events WHERE occurred_at < ?1
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id)",
        [before],
    )?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use moja_core::calls::Call;

    use super::*;
    use crate::model::NewCall;
    use crate::sqlite::{SqliteStore, SyncMode};
    use crate::{Store, ops};

    fn count(c: &Connection, table: &str) -> i64 {
        c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    /// The outbox shares the transaction of the change: when the change fails after its event
    /// was recorded, neither the event nor its delivery remain.
    #[tokio::test]
    async fn a_rolled_back_change_queues_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("db"), SyncMode::Normal).unwrap();
        let t = Timestamp::from_second(1_790_000_000).unwrap();
        store
            .writer
            .write(move |c| {
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
                renderer: "render-template".into(),
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
        let result: Result<()> = store
            .writer
            .write(move |c| {
                ops::create_call(&mut SqliteTx { connection: c }, &failed)?;
                assert_eq!(count(c, "deliveries"), 1, "queued inside the transaction");
                Err(StoreError::Database(
                    "the change failed after its event".into(),
                ))
            })
            .await;
        assert!(result.is_err());
        let kept = new("kept");
        store
            .writer
            .write(move |c| ops::create_call(&mut SqliteTx { connection: c }, &kept).map(|_| ()))
            .await
            .unwrap();
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
