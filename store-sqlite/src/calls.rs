//! Calls on SQLite: the call rows (the call as JSON beside the columns queries filter on), their
//! timelines and queued completion-only fields.

use jiff::Timestamp;
use moja_core::calls::{Call, ConversionRule, FieldUpdates};
use moja_store::{CallFilter, CallLookup, Page, TimelineEntry};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::error::Result;
use crate::rows::{decimal, micros, page_limit, page_of, parse_cursor, timestamp};

fn call_from_json(data: &str) -> Result<Call> {
    Ok(serde_json::from_str(data)?)
}

pub(crate) fn call(c: &Connection, id: &str) -> Result<Option<Call>> {
    let data: Option<String> = c
        .prepare_cached("SELECT data FROM calls WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()?;
    data.as_deref().map(call_from_json).transpose()
}

pub(crate) fn exists(c: &Connection, id: &str) -> Result<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM calls WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

pub(crate) fn calls_by_phone(
    c: &Connection,
    org_id: &str,
    e164: &str,
    since: Timestamp,
) -> Result<Vec<Call>> {
    let mut statement = c.prepare_cached(
        "SELECT data FROM calls WHERE org_id = ?1 AND caller_e164 = ?2 AND started_at >= ?3
         ORDER BY started_at DESC, id DESC",
    )?;
    let rows = statement.query_map(params![org_id, e164, micros(since)], |row| {
        row.get::<_, String>(0)
    })?;
    rows.map(|data| call_from_json(&data?)).collect()
}

pub(crate) fn live_calls_started_before(
    c: &Connection,
    before: Timestamp,
) -> Result<Vec<(String, String)>> {
    let mut statement = c.prepare_cached(
        "SELECT id, org_id FROM calls
         WHERE status IN ('ringing', 'connected') AND started_at < ?1",
    )?;
    let rows = statement.query_map([micros(before)], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn insert_call(c: &Connection, call: &Call) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO calls (id, org_id, campaign_id, caller_e164, status, started_at, data, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)",
    )?
    .execute(params![
        call.id,
        call.org_id,
        call.campaign_id,
        call.caller_e164,
        call.status.as_str(),
        micros(call.started_at),
        serde_json::to_string(call)?,
    ])?;
    Ok(())
}

pub(crate) fn update_call(c: &Connection, call: &Call) -> Result<()> {
    c.prepare_cached(
        "UPDATE calls SET status = ?2, data = ?3, version = version + 1 WHERE id = ?1",
    )?
    .execute(params![
        call.id,
        call.status.as_str(),
        serde_json::to_string(call)?
    ])?;
    Ok(())
}

pub(crate) fn append_timeline(
    c: &Connection,
    call_id: &str,
    at: Timestamp,
    kind: &str,
    details: &Value,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO call_timeline (call_id, seq, at, kind, details)
         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM call_timeline WHERE call_id = ?1), ?2, ?3, ?4)",
    )?
    .execute(params![call_id, micros(at), kind, details.to_string()])?;
    Ok(())
}

pub(crate) fn queue_update(
    c: &Connection,
    call_id: &str,
    request_id: &str,
    fields: &FieldUpdates,
    at: Timestamp,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO queued_updates (call_id, seq, request_id, changes, created_at)
         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM queued_updates WHERE call_id = ?1), ?2, ?3, ?4)",
    )?
    .execute(params![
        call_id,
        request_id,
        serde_json::to_string(fields)?,
        micros(at)
    ])?;
    Ok(())
}

pub(crate) fn take_queued(c: &Connection, call_id: &str) -> Result<Vec<(String, FieldUpdates)>> {
    let mut statement = c.prepare_cached(
        "SELECT request_id, changes FROM queued_updates WHERE call_id = ?1 ORDER BY seq",
    )?;
    let rows = statement.query_map([call_id], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let queued = rows
        .map(|row| {
            let (request_id, changes) = row?;
            Ok((request_id, serde_json::from_str(&changes)?))
        })
        .collect::<Result<Vec<_>>>()?;
    c.prepare_cached("DELETE FROM queued_updates WHERE call_id = ?1")?
        .execute([call_id])?;
    Ok(queued)
}

pub(crate) fn campaign_rule(
    c: &Connection,
    org_id: &str,
    campaign_id: Option<&str>,
) -> Result<ConversionRule> {
    let Some(campaign_id) = campaign_id else {
        return Ok(ConversionRule::default());
    };
    let row: Option<(Option<i64>, Option<String>, Option<String>)> = c
        .prepare_cached(
            "SELECT conversion_min_duration_s, buyer_revenue, publisher_payout FROM campaigns
             WHERE org_id = ?1 AND id = ?2",
        )?
        .query_row(params![org_id, campaign_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    let Some((min_duration_s, revenue, payout)) = row else {
        return Ok(ConversionRule::default());
    };
    Ok(ConversionRule {
        min_duration_s,
        buyer_revenue: revenue.as_deref().map(decimal).transpose()?,
        publisher_payout: payout.as_deref().map(decimal).transpose()?,
    })
}

// --- Reads outside transactions ----------------------------------------------------------------

pub(crate) fn lookup(c: &Connection, org_id: &str, id: &str) -> Result<CallLookup> {
    Ok(match call(c, id)? {
        None => CallLookup::Missing,
        Some(call) if call.org_id == org_id => CallLookup::Found(Box::new(call)),
        Some(_) => CallLookup::OtherOrg,
    })
}

pub(crate) fn list(c: &Connection, org_id: &str, filter: &CallFilter) -> Result<Page<Call>> {
    let limit = page_limit(filter.limit);
    let (cursor_time, cursor_id) =
        parse_cursor(filter.cursor.as_deref()).unwrap_or((i64::MAX, String::new()));
    let mut statement = c.prepare_cached(
        "SELECT data FROM calls
         WHERE org_id = ?1
           AND (?2 IS NULL OR caller_e164 = ?2)
           AND (?3 IS NULL OR status = ?3)
           AND (?4 IS NULL OR campaign_id = ?4)
           AND (?5 IS NULL OR started_at >= ?5)
           AND (?6 IS NULL OR started_at < ?6)
           AND (started_at < ?7 OR (started_at = ?7 AND id < ?8) OR ?8 = '')
         ORDER BY started_at DESC, id DESC LIMIT ?9",
    )?;
    let rows = statement.query_map(
        params![
            org_id,
            filter.phone_e164,
            filter.status,
            filter.campaign_id,
            filter.from.map(micros),
            filter.to.map(micros),
            cursor_time,
            cursor_id,
            (limit + 1) as i64,
        ],
        |r| r.get::<_, String>(0),
    )?;
    let calls = rows.map(|row| call_from_json(&row?));
    page_of(calls, limit, |call: &Call| {
        (micros(call.started_at), call.id.clone())
    })
}

pub(crate) fn timeline(
    c: &Connection,
    org_id: &str,
    id: &str,
) -> Result<Option<Vec<TimelineEntry>>> {
    let owner: Option<String> = c
        .prepare_cached("SELECT org_id FROM calls WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if owner.as_deref() != Some(org_id) {
        return Ok(None);
    }
    let mut statement = c.prepare_cached(
        "SELECT seq, at, kind, details FROM call_timeline WHERE call_id = ?1 ORDER BY seq",
    )?;
    let rows = statement.query_map([id], |r| {
        Ok((
            r.get::<_, i64>("seq")?,
            r.get::<_, i64>("at")?,
            r.get::<_, String>("kind")?,
            r.get::<_, String>("details")?,
        ))
    })?;
    rows.map(|r| {
        let (seq, at, kind, details) = r?;
        Ok(TimelineEntry {
            seq,
            at: timestamp(at)?,
            kind,
            details: serde_json::from_str(&details)?,
        })
    })
    .collect::<Result<Vec<_>>>()
    .map(Some)
}
