//! Outbound webhooks on SQLite: webhook rows, the outbox (events, deliveries, scheduled
//! events), claiming and finishing attempts, and the outgoing request log.

use jiff::Timestamp;
use moja_core::events::EventType;
use moja_core::tags::CampaignInfo;
use moja_store::tx::{DeliveryAdvance, DueScheduledEvent};
use moja_store::*;
use rusqlite::{Connection, OptionalExtension, Row, ToSql, params};

use crate::error::{Result, stored as bad};
use crate::rows::{self, decimal, micros, page_of, timestamp};

fn event_type(text: &str) -> Result<EventType> {
    EventType::parse(text).ok_or_else(|| bad("event type", text))
}

const WEBHOOK_COLUMNS: &str = "id, org_id, name, event_type, method, url, headers_sealed, header_names, body, body_format, campaign_ids, renderer, renderer_owner, renderer_version, plugin_config, enabled, secret_sealed, created_at, updated_at";

/// The columns of [`WEBHOOK_COLUMNS`] by position: rows are read by index (a lookup by name
/// scans the statement's columns, which the dispatcher's claims would pay per delivery) without
/// counting positions by hand.
#[derive(Clone, Copy)]
enum W {
    Id,
    OrgId,
    Name,
    EventType,
    Method,
    Url,
    HeadersSealed,
    HeaderNames,
    Body,
    BodyFormat,
    CampaignIds,
    Renderer,
    RendererOwner,
    RendererVersion,
    PluginConfig,
    Enabled,
    SecretSealed,
    CreatedAt,
    UpdatedAt,
}

/// Reads a webhook from a row whose columns from `base` on are the [`WEBHOOK_COLUMNS`].
fn webhook_at(row: &Row<'_>, base: usize) -> Result<OutgoingWebhook> {
    let at = |column: W| base + column as usize;
    let text = |column: W| row.get::<_, String>(at(column));
    let event = text(W::EventType)?;
    let body_format = text(W::BodyFormat)?;
    Ok(OutgoingWebhook {
        id: text(W::Id)?,
        org_id: text(W::OrgId)?,
        name: text(W::Name)?,
        event_type: event_type(&event)?,
        method: text(W::Method)?,
        url: text(W::Url)?,
        headers_sealed: text(W::HeadersSealed)?,
        header_names: serde_json::from_str(&text(W::HeaderNames)?)?,
        body: text(W::Body)?,
        body_format: BodyFormat::parse(&body_format)
            .ok_or_else(|| bad("body format", &body_format))?,
        campaign_ids: serde_json::from_str(&text(W::CampaignIds)?)?,
        renderer: PluginRef {
            owner: PluginOwner::from_org_id(row.get(at(W::RendererOwner))?),
            name: text(W::Renderer)?,
            version: row.get(at(W::RendererVersion))?,
        },
        plugin_config: serde_json::from_str(&text(W::PluginConfig)?)?,
        enabled: row.get(at(W::Enabled))?,
        secret_sealed: row.get(at(W::SecretSealed))?,
        created_at: timestamp(row.get(at(W::CreatedAt))?)?,
        updated_at: timestamp(row.get(at(W::UpdatedAt))?)?,
    })
}

/// The settings columns of an outgoing webhook, in [`settings_values`] order.
const SETTINGS_COLUMNS: [&str; 15] = [
    "name",
    "event_type",
    "method",
    "url",
    "headers_sealed",
    "header_names",
    "body",
    "body_format",
    "campaign_ids",
    "renderer",
    "renderer_owner",
    "renderer_version",
    "plugin_config",
    "enabled",
    "secret_sealed",
];

/// The values of the settings a create and an update both write.
fn settings_values(w: &OutgoingWebhook) -> Result<Vec<Box<dyn ToSql>>> {
    Ok(vec![
        Box::new(w.name.clone()),
        Box::new(w.event_type.as_str()),
        Box::new(w.method.clone()),
        Box::new(w.url.clone()),
        Box::new(w.headers_sealed.clone()),
        Box::new(serde_json::to_string(&w.header_names)?),
        Box::new(w.body.clone()),
        Box::new(w.body_format.as_str()),
        Box::new(serde_json::to_string(&w.campaign_ids)?),
        Box::new(w.renderer.name.clone()),
        Box::new(w.renderer.owner.org_id().map(str::to_owned)),
        Box::new(w.renderer.version.clone()),
        Box::new(serde_json::to_string(&w.plugin_config)?),
        Box::new(w.enabled),
        Box::new(w.secret_sealed.clone()),
    ])
}

pub(crate) fn insert_webhook(c: &Connection, w: &OutgoingWebhook) -> Result<()> {
    let mut values: Vec<Box<dyn ToSql>> = vec![
        Box::new(w.id.clone()),
        Box::new(w.org_id.clone()),
        Box::new(micros(w.created_at)),
        Box::new(micros(w.updated_at)),
    ];
    values.extend(settings_values(w)?);
    let mut columns = ["id", "org_id", "created_at", "updated_at"].to_vec();
    columns.extend(SETTINGS_COLUMNS);
    rows::insert(c, "outgoing_webhooks", &columns, values)
}

pub(crate) fn update_webhook(c: &Connection, w: &OutgoingWebhook) -> Result<bool> {
    let mut values: Vec<Box<dyn ToSql>> = vec![Box::new(micros(w.updated_at))];
    values.extend(settings_values(w)?);
    let mut columns = vec!["updated_at"];
    columns.extend(SETTINGS_COLUMNS);
    rows::update_live(c, "outgoing_webhooks", (&w.org_id, &w.id), &columns, values)
}

pub(crate) fn fail_pending(
    c: &Connection,
    webhook_id: &str,
    why: &str,
    at: Timestamp,
) -> Result<()> {
    c.execute(
        "UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, lease_until = NULL,
           lease_owner = NULL, last_error = ?3, updated_at = ?2
         WHERE webhook_id = ?1 AND state = 'pending'",
        params![webhook_id, micros(at), why],
    )?;
    Ok(())
}

pub(crate) fn delete_webhook(
    c: &Connection,
    org_id: &str,
    id: &str,
    at: Timestamp,
) -> Result<bool> {
    Ok(c.execute(
        "UPDATE outgoing_webhooks SET deleted_at = ?3
         WHERE org_id = ?1 AND id = ?2 AND deleted_at IS NULL",
        params![org_id, id, micros(at)],
    )? == 1)
}

/// The outgoing webhooks (not deleted) of an org, or its one webhook `id`, oldest first.
pub(crate) fn webhooks(
    c: &Connection,
    org_id: &str,
    id: Option<&str>,
) -> Result<Vec<OutgoingWebhook>> {
    let table = ("outgoing_webhooks", WEBHOOK_COLUMNS);
    let from = |row: &Row<'_>| webhook_at(row, 0);
    match id {
        Some(id) => rows::select_live(c, table, "org_id = ?1 AND id = ?2", [org_id, id], from),
        None => rows::select_live(c, table, "org_id = ?1", [org_id], from),
    }
}

// --- The outbox ------------------------------------------------------------------------------

pub(crate) fn subscribers(
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

pub(crate) fn campaign_info(
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

pub(crate) fn insert_event(c: &Connection, event: &OutboundEvent) -> Result<()> {
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

pub(crate) fn insert_delivery(c: &Connection, d: &Delivery) -> Result<()> {
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

/// The columns of [`DELIVERY_COLUMNS`] by position (see [`W`]).
#[derive(Clone, Copy)]
enum D {
    Id,
    OrgId,
    WebhookId,
    EventId,
    CallId,
    EventType,
    State,
    Attempts,
    RetriesUsed,
    NextAttemptAt,
    CreatedAt,
    UpdatedAt,
    LastStatus,
    LastError,
}

/// Reads a delivery from a row whose first columns are the [`DELIVERY_COLUMNS`].
fn delivery_from(row: &Row<'_>) -> Result<Delivery> {
    let at = |column: D| column as usize;
    let event: String = row.get(at(D::EventType))?;
    let state: String = row.get(at(D::State))?;
    Ok(Delivery {
        id: row.get(at(D::Id))?,
        org_id: row.get(at(D::OrgId))?,
        webhook_id: row.get(at(D::WebhookId))?,
        event_id: row.get(at(D::EventId))?,
        call_id: row.get(at(D::CallId))?,
        event_type: event_type(&event)?,
        state: DeliveryState::parse(&state).ok_or_else(|| bad("delivery state", &state))?,
        attempts: row.get(at(D::Attempts))?,
        retries_used: row.get(at(D::RetriesUsed))?,
        next_attempt_at: row
            .get::<_, Option<i64>>(at(D::NextAttemptAt))?
            .map(timestamp)
            .transpose()?,
        created_at: timestamp(row.get(at(D::CreatedAt))?)?,
        updated_at: timestamp(row.get(at(D::UpdatedAt))?)?,
        last_status: row.get(at(D::LastStatus))?,
        last_error: row.get(at(D::LastError))?,
    })
}

pub(crate) fn schedule_event(
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

pub(crate) fn cancel_scheduled_after(
    c: &Connection,
    call_id: &str,
    after: Timestamp,
) -> Result<()> {
    c.prepare_cached("DELETE FROM scheduled_events WHERE call_id = ?1 AND due_at > ?2")?
        .execute(params![call_id, micros(after)])?;
    Ok(())
}

pub(crate) fn take_due_scheduled(
    c: &Connection,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<DueScheduledEvent>> {
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
    let mut delete =
        c.prepare_cached("DELETE FROM scheduled_events WHERE call_id = ?1 AND event_type = ?2")?;
    due.into_iter()
        .map(|(call_id, event, due_at)| {
            delete.execute(params![call_id, event])?;
            Ok(DueScheduledEvent {
                call_id,
                event: event_type(&event)?,
                due_at: timestamp(due_at)?,
            })
        })
        .collect()
}

// --- Dispatch ------------------------------------------------------------------------------

pub(crate) fn due_deliveries(
    c: &Connection,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<(String, String)>> {
    let mut statement = c.prepare_cached(
        "SELECT id, webhook_id FROM deliveries
         WHERE state = 'pending' AND next_attempt_at <= ?1
           AND (lease_until IS NULL OR lease_until <= ?1)
         ORDER BY next_attempt_at LIMIT ?2",
    )?;
    let rows = statement.query_map(params![micros(now), limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn lease_delivery(
    c: &Connection,
    id: &str,
    node: &str,
    until: Timestamp,
) -> Result<Option<ClaimedDelivery>> {
    c.prepare_cached("UPDATE deliveries SET lease_until = ?2, lease_owner = ?3 WHERE id = ?1")?
        .execute(params![id, micros(until), node])?;
    fn prefixed(table: &str, columns: &str) -> String {
        columns
            .split(", ")
            .map(|column| format!("{table}.{column}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
    // Deliveries' columns, then the event's time and tags, then the webhook's; the text is made
    // once, not per delivery.
    static CLAIMED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {}, e.occurred_at, e.tags, {}
             FROM deliveries d
             JOIN events e ON e.id = d.event_id
             JOIN outgoing_webhooks w ON w.id = d.webhook_id
             WHERE d.id = ?1",
            prefixed("d", DELIVERY_COLUMNS),
            prefixed("w", WEBHOOK_COLUMNS)
        )
    });
    let mut statement = c.prepare_cached(&CLAIMED)?;
    let mut rows = statement.query([id])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let after_delivery = D::LastError as usize + 1;
    let delivery = delivery_from(row)?;
    let webhook = webhook_at(row, after_delivery + 2)?;
    let event = OutboundEvent {
        id: delivery.event_id.clone().unwrap_or_default(),
        org_id: delivery.org_id.clone(),
        call_id: delivery.call_id.clone(),
        event_type: delivery.event_type,
        occurred_at: timestamp(row.get(after_delivery)?)?,
        tags: serde_json::from_str(&row.get::<_, String>(after_delivery + 1)?)?,
    };
    Ok(Some(ClaimedDelivery {
        delivery,
        event,
        webhook,
    }))
}

pub(crate) fn release_leases(c: &Connection, node: &str) -> Result<u64> {
    Ok(c.execute(
        "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL
         WHERE state = 'pending' AND lease_until IS NOT NULL
           AND (lease_owner = ?1 OR lease_owner IS NULL)",
        [node],
    )? as u64)
}

pub(crate) fn insert_attempt(c: &Connection, a: &AttemptRecord) -> Result<()> {
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

pub(crate) fn advance_delivery(c: &Connection, advance: &DeliveryAdvance<'_>) -> Result<bool> {
    Ok(c.prepare_cached(
        "UPDATE deliveries SET state = ?2, attempts = ?3, retries_used = retries_used + ?4,
               next_attempt_at = ?5, lease_until = NULL, lease_owner = NULL, updated_at = ?6,
               last_status = ?7, last_error = ?8
             WHERE id = ?1 AND state = 'pending'",
    )?
    .execute(params![
        advance.delivery_id,
        advance.state.as_str(),
        advance.attempts,
        i64::from(advance.used_retry),
        advance.next_attempt_at.map(micros),
        micros(advance.at),
        advance.last_status,
        advance.last_error,
    ])? == 1)
}

pub(crate) fn requeue_delivery(c: &Connection, id: &str, now: Timestamp) -> Result<()> {
    c.execute(
        "UPDATE deliveries SET state = 'pending', retries_used = 0, next_attempt_at = ?2,
           lease_until = NULL, lease_owner = NULL, updated_at = ?2
         WHERE id = ?1",
        params![id, micros(now)],
    )?;
    Ok(())
}

pub(crate) fn queue_stats(c: &Connection, now: Timestamp) -> Result<QueueStats> {
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

fn attempt_from(row: &Row<'_>) -> Result<AttemptRecord> {
    let event: String = row.get("event_type")?;
    Ok(AttemptRecord {
        id: row.get("id")?,
        org_id: row.get("org_id")?,
        delivery_id: row.get("delivery_id")?,
        webhook_id: row.get("webhook_id")?,
        event_type: event_type(&event)?,
        call_id: row.get("call_id")?,
        attempt: row.get("attempt")?,
        started_at: timestamp(row.get("started_at")?)?,
        request: serde_json::from_str(&row.get::<_, String>("request")?)?,
        response_status: row.get("response_status")?,
        response_headers: serde_json::from_str(&row.get::<_, String>("response_headers")?)?,
        response_body: row.get("response_body")?,
        response_truncated: row.get("response_truncated")?,
        latency_us: row.get("latency_us")?,
        error: row.get("error")?,
        outcome: row.get("outcome")?,
        next_attempt_at: row
            .get::<_, Option<i64>>("next_attempt_at")?
            .map(timestamp)
            .transpose()?,
    })
}

pub(crate) fn list_attempts(
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
    let mut rows = statement.query(params![
        org_id,
        filter.webhook_id,
        filter.event_type,
        filter.call_id,
        filter.failed,
        cursor.0,
        cursor.1,
        (limit + 1) as i64
    ])?;
    let mut attempts = Vec::new();
    while let Some(row) = rows.next()? {
        attempts.push(attempt_from(row));
    }
    page_of(attempts.into_iter(), limit, |a: &AttemptRecord| {
        (micros(a.started_at), a.id.clone())
    })
}

pub(crate) fn attempt(c: &Connection, org_id: &str, id: &str) -> Result<Option<AttemptRecord>> {
    let mut statement = c.prepare_cached(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM delivery_attempts WHERE org_id = ?1 AND id = ?2"
    ))?;
    let mut rows = statement.query([org_id, id])?;
    rows.next()?.map(attempt_from).transpose()
}

pub(crate) fn delivery(c: &Connection, org_id: &str, id: &str) -> Result<Option<Delivery>> {
    let mut statement = c.prepare_cached(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE org_id = ?1 AND id = ?2"
    ))?;
    let mut rows = statement.query([org_id, id])?;
    rows.next()?.map(delivery_from).transpose()
}

pub(crate) fn purge(c: &Connection, before: Timestamp) -> Result<usize> {
    let before = micros(before);
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
