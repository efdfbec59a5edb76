//! Inbound records on SQLite: idempotency records, call data and the incoming request log.

use jiff::Timestamp;
use moja_store::tx::{CallDataFields, IdempotencyClaim, IdempotencyRecord};
use moja_store::{InboundCallData, Page, RequestFilter, RequestLogEntry, StoredResponse};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::Result;
use crate::rows::{micros, page_limit, page_of, parse_cursor, timestamp};

/// On SQLite the writer runs one transaction at a time, so a key is never in flight: it is
/// either done or free.
pub(crate) fn claim_idempotency(
    c: &Connection,
    org_id: &str,
    transaction_id: &str,
) -> Result<IdempotencyClaim> {
    let row: Option<(String, u16, String)> = c
        .prepare_cached(
            "SELECT fingerprint, status, response FROM idempotency
             WHERE org_id = ?1 AND transaction_id = ?2 AND state = 'done'",
        )?
        .query_row(params![org_id, transaction_id], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    Ok(match row {
        None => IdempotencyClaim::Claimed,
        Some((fingerprint, status, body)) => IdempotencyClaim::Done(IdempotencyRecord {
            fingerprint,
            response: StoredResponse {
                status,
                body: serde_json::from_str(&body)?,
            },
        }),
    })
}

pub(crate) fn store_idempotency(
    c: &Connection,
    org_id: &str,
    transaction_id: &str,
    fingerprint: &str,
    response: &StoredResponse,
    at: Timestamp,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO idempotency (org_id, transaction_id, fingerprint, state, status, response, created_at)
         VALUES (?1, ?2, ?3, 'done', ?4, ?5, ?6)
         ON CONFLICT (org_id, transaction_id) DO UPDATE SET
           fingerprint = excluded.fingerprint, state = 'done', lease_until = NULL,
           status = excluded.status, response = excluded.response",
    )?
    .execute(params![
        org_id,
        transaction_id,
        fingerprint,
        response.status,
        response.body.to_string(),
        micros(at)
    ])?;
    Ok(())
}

pub(crate) fn insert_call_data(
    c: &Connection,
    data: &InboundCallData,
    expires_at: Timestamp,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO call_data (id, org_id, webhook_id, caller_e164, received_at, expires_at, fields)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        data.request_id,
        data.webhook.org_id,
        data.webhook.id,
        data.caller_e164,
        micros(data.now),
        micros(expires_at),
        serde_json::to_string(&data.fields)?,
    ])?;
    Ok(())
}

pub(crate) fn call_data_for(
    c: &Connection,
    org_id: &str,
    e164: &str,
    at: Timestamp,
) -> Result<Vec<CallDataFields>> {
    let mut statement = c.prepare_cached(
        "SELECT id, fields FROM call_data
         WHERE org_id = ?1 AND caller_e164 = ?2 AND received_at <= ?3 AND expires_at >= ?3
         ORDER BY received_at DESC, id DESC",
    )?;
    let rows = statement.query_map(params![org_id, e164, micros(at)], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    rows.map(|row| {
        let (id, fields) = row?;
        Ok((id, serde_json::from_str(&fields)?))
    })
    .collect()
}

pub(crate) fn insert_request_log(c: &Connection, entry: &RequestLogEntry) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO request_log (id, org_id, webhook_id, received_at, method, path, query, headers,
           body, body_truncated, status, response, latency_us, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        entry.id,
        entry.org_id,
        entry.webhook_id,
        micros(entry.received_at),
        entry.method,
        entry.path,
        entry.query,
        serde_json::to_string(&entry.headers)?,
        entry.body,
        entry.body_truncated,
        entry.status,
        entry.response.to_string(),
        entry.latency_us,
        entry.details.to_string(),
    ])?;
    Ok(())
}

const REQUEST_COLUMNS: &str = "id, org_id, webhook_id, received_at, method, path, query, headers, body, body_truncated, status, response, latency_us, details";

fn request_from(row: &Row<'_>) -> Result<RequestLogEntry> {
    Ok(RequestLogEntry {
        id: row.get("id")?,
        org_id: row.get("org_id")?,
        webhook_id: row.get("webhook_id")?,
        received_at: timestamp(row.get("received_at")?)?,
        method: row.get("method")?,
        path: row.get("path")?,
        query: row.get("query")?,
        headers: serde_json::from_str(&row.get::<_, String>("headers")?)?,
        body: row.get("body")?,
        body_truncated: row.get("body_truncated")?,
        status: row.get("status")?,
        response: serde_json::from_str(&row.get::<_, String>("response")?)?,
        latency_us: row.get("latency_us")?,
        details: serde_json::from_str(&row.get::<_, String>("details")?)?,
    })
}

pub(crate) fn list_requests(
    c: &Connection,
    org_id: &str,
    filter: &RequestFilter,
) -> Result<Page<RequestLogEntry>> {
    let limit = page_limit(filter.limit);
    let (cursor_time, cursor_id) =
        parse_cursor(filter.cursor.as_deref()).unwrap_or((i64::MAX, String::new()));
    let mut statement = c.prepare_cached(&format!(
        "SELECT {REQUEST_COLUMNS} FROM request_log
         WHERE org_id = ?1
           AND (?2 IS NULL OR webhook_id = ?2)
           AND (?3 IS NULL OR status = ?3)
           AND (?4 = 0 OR status >= 400)
           AND (received_at < ?5 OR (received_at = ?5 AND id < ?6) OR ?6 = '')
         ORDER BY received_at DESC, id DESC LIMIT ?7"
    ))?;
    let mut rows = statement.query(params![
        org_id,
        filter.webhook_id,
        filter.status,
        filter.failed,
        cursor_time,
        cursor_id,
        (limit + 1) as i64
    ])?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next()? {
        entries.push(request_from(row));
    }
    page_of(entries.into_iter(), limit, |e: &RequestLogEntry| {
        (micros(e.received_at), e.id.clone())
    })
}

pub(crate) fn get_request(
    c: &Connection,
    org_id: &str,
    id: &str,
) -> Result<Option<RequestLogEntry>> {
    let mut statement = c.prepare_cached(&format!(
        "SELECT {REQUEST_COLUMNS} FROM request_log WHERE org_id = ?1 AND id = ?2"
    ))?;
    let mut rows = statement.query([org_id, id])?;
    rows.next()?.map(request_from).transpose()
}

/// Deletes idempotency records, request log entries and expired call data. Returns how many.
pub(crate) fn purge(
    c: &Connection,
    idempotency_before: Timestamp,
    requests_before: Timestamp,
    now: Timestamp,
) -> Result<usize> {
    let mut removed = c.execute(
        "DELETE FROM idempotency WHERE created_at < ?1",
        [micros(idempotency_before)],
    )?;
    removed += c.execute(
        "DELETE FROM request_log WHERE received_at < ?1",
        [micros(requests_before)],
    )?;
    removed += c.execute("DELETE FROM call_data WHERE expires_at < ?1", [micros(now)])?;
    Ok(removed)
}
