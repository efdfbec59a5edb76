//! The [`Tx`] primitives on a SQLite connection inside the writer's transaction, and the row
//! conversions shared with the readers.

use jiff::Timestamp;
use moja_core::calls::{Call, ConversionRule, FieldUpdates};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use moja_core::events::EventType;
use moja_core::tags::CampaignInfo;

use super::outbound;
use crate::model::{InboundCallData, InboundResponse, RequestLogEntry};
use crate::ops::{IdempotencyRecord, Tx};
use crate::outbound::{Delivery, OutboundEvent};
use crate::{Result, StoreError};

/// Microseconds since the epoch, the stored form of a timestamp.
pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// The timestamp of stored microseconds.
pub(crate) fn timestamp(us: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(us).map_err(|e| StoreError::Database(format!("stored time: {e}")))
}

pub(crate) fn call_from_json(data: &str) -> Result<Call> {
    Ok(serde_json::from_str(data)?)
}

/// The writer's connection seen through [`Tx`].
pub(crate) struct SqliteTx<'c> {
    pub(crate) connection: &'c Connection,
}

impl Tx for SqliteTx<'_> {
    fn call(&mut self, id: &str) -> Result<Option<Call>> {
        let data: Option<String> = self
            .connection
            .prepare_cached("SELECT data FROM calls WHERE id = ?1")?
            .query_row([id], |row| row.get(0))
            .optional()?;
        data.as_deref().map(call_from_json).transpose()
    }

    fn calls_by_phone(&mut self, org_id: &str, e164: &str, since: Timestamp) -> Result<Vec<Call>> {
        let mut statement = self.connection.prepare_cached(
            "SELECT data FROM calls WHERE org_id = ?1 AND caller_e164 = ?2 AND started_at >= ?3
             ORDER BY started_at DESC, id DESC",
        )?;
        let rows = statement.query_map(params![org_id, e164, micros(since)], |row| {
            row.get::<_, String>(0)
        })?;
        rows.map(|data| call_from_json(&data?)).collect()
    }

    fn insert_call(&mut self, call: &Call) -> Result<()> {
        self.connection
            .prepare_cached(
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

    fn update_call(&mut self, call: &Call) -> Result<()> {
        self.connection
            .prepare_cached(
                "UPDATE calls SET status = ?2, data = ?3, version = version + 1 WHERE id = ?1",
            )?
            .execute(params![
                call.id,
                call.status.as_str(),
                serde_json::to_string(call)?
            ])?;
        Ok(())
    }

    fn append_timeline(
        &mut self,
        call_id: &str,
        at: Timestamp,
        kind: &str,
        details: &Value,
    ) -> Result<()> {
        self.connection
            .prepare_cached(
                "INSERT INTO call_timeline (call_id, seq, at, kind, details)
                 VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM call_timeline WHERE call_id = ?1), ?2, ?3, ?4)",
            )?
            .execute(params![call_id, micros(at), kind, details.to_string()])?;
        Ok(())
    }

    fn queue_update(
        &mut self,
        call_id: &str,
        request_id: &str,
        fields: &FieldUpdates,
        at: Timestamp,
    ) -> Result<()> {
        self.connection
            .prepare_cached(
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

    fn take_queued(&mut self, call_id: &str) -> Result<Vec<(String, FieldUpdates)>> {
        let mut statement = self.connection.prepare_cached(
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
        self.connection
            .prepare_cached("DELETE FROM queued_updates WHERE call_id = ?1")?
            .execute([call_id])?;
        Ok(queued)
    }

    fn idempotency(
        &mut self,
        org_id: &str,
        transaction_id: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        let row: Option<(String, i64, String)> = self
            .connection
            .prepare_cached(
                "SELECT fingerprint, status, response FROM idempotency
                 WHERE org_id = ?1 AND transaction_id = ?2 AND state = 'done'",
            )?
            .query_row(params![org_id, transaction_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()?;
        row.map(|(fingerprint, status, body)| {
            Ok(IdempotencyRecord {
                fingerprint,
                response: InboundResponse {
                    status: status as u16,
                    body: serde_json::from_str(&body)?,
                    replayed: true,
                    match_result: Value::Null,
                    idempotency: "replayed",
                },
            })
        })
        .transpose()
    }

    fn store_idempotency(
        &mut self,
        org_id: &str,
        transaction_id: &str,
        fingerprint: &str,
        response: &InboundResponse,
        at: Timestamp,
    ) -> Result<()> {
        self.connection
            .prepare_cached(
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

    fn insert_call_data(&mut self, data: &InboundCallData, expires_at: Timestamp) -> Result<()> {
        self.connection
            .prepare_cached(
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

    fn call_data_for(
        &mut self,
        org_id: &str,
        e164: &str,
        at: Timestamp,
    ) -> Result<Vec<crate::ops::CallDataFields>> {
        let mut statement = self.connection.prepare_cached(
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

    fn campaign_rule(&mut self, org_id: &str, campaign_id: Option<&str>) -> Result<ConversionRule> {
        let Some(campaign_id) = campaign_id else {
            return Ok(ConversionRule::default());
        };
        let row: Option<(Option<i64>, Option<String>, Option<String>)> = self
            .connection
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

    fn subscribers(
        &mut self,
        org_id: &str,
        event: EventType,
    ) -> Result<Vec<(String, Vec<String>)>> {
        outbound::subscribers(self.connection, org_id, event)
    }

    fn campaign_info(&mut self, org_id: &str, campaign_id: &str) -> Result<Option<CampaignInfo>> {
        outbound::campaign_info(self.connection, org_id, campaign_id)
    }

    fn insert_event(&mut self, event: &OutboundEvent) -> Result<()> {
        outbound::insert_event(self.connection, event)
    }

    fn insert_delivery(&mut self, delivery: &Delivery) -> Result<()> {
        outbound::insert_delivery(self.connection, delivery)
    }

    fn schedule_event(
        &mut self,
        org_id: &str,
        call_id: &str,
        event: EventType,
        due_at: Timestamp,
    ) -> Result<()> {
        outbound::schedule_event(self.connection, org_id, call_id, event, due_at)
    }

    fn cancel_scheduled_after(&mut self, call_id: &str, after: Timestamp) -> Result<()> {
        outbound::cancel_scheduled_after(self.connection, call_id, after)
    }

    fn insert_request_log(&mut self, entry: &RequestLogEntry) -> Result<()> {
        insert_request_log(self.connection, entry)
    }
}

pub(crate) fn decimal(text: &str) -> Result<rust_decimal::Decimal> {
    text.parse()
        .map_err(|e| StoreError::Database(format!("stored decimal {text:?}: {e}")))
}

pub(crate) fn insert_request_log(connection: &Connection, entry: &RequestLogEntry) -> Result<()> {
    connection
        .prepare_cached(
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
