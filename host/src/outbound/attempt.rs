//! One attempt of a delivery: unseal, render, sign, send behind the SSRF guard, and the log
//! record of what went out and what came back (credential headers redacted).

use std::sync::Arc;

use jiff::Timestamp;
use moja_core::events::EventType;
use moja_core::keys::redact_credentials;
use moja_delivery::client::{OutboundRequest, Outcome};
use moja_delivery::retry::{self, Verdict};
use moja_delivery::signing;
use moja_store::{AttemptRecord, OutgoingWebhook, TagSnapshot};
use serde_json::json;

use super::Outbound;
use super::render::{self, RenderFailure};
use crate::plugins::PluginRuntime;

const USER_AGENT: &str = concat!("moja-webhooks/", env!("CARGO_PKG_VERSION"));
const REDACTED: &str = "[redacted]";

/// What one attempt is about.
#[derive(Debug, Clone, Copy)]
pub struct AttemptInput<'a> {
    /// The webhook.
    pub webhook: &'a OutgoingWebhook,
    /// The delivery id: the `webhook-id` header.
    pub delivery_id: &'a str,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The event.
    pub event_type: EventType,
    /// The call.
    pub call_id: Option<&'a str>,
    /// The event's tags.
    pub tags: &'a TagSnapshot,
    /// The clock's time at the start.
    pub now: Timestamp,
}

/// The log record of an attempt (its `outcome` still to be decided by the caller) and what the
/// result means for the delivery.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// The record; `outcome` and `next_attempt_at` are set by the caller.
    pub record: AttemptRecord,
    /// Success, retry or fail.
    pub verdict: Verdict,
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Renders and sends one attempt.
pub async fn send_once(
    outbound: &Outbound,
    plugins: &Arc<PluginRuntime>,
    input: AttemptInput<'_>,
) -> AttemptResult {
    let started = std::time::Instant::now();
    let mut record = AttemptRecord {
        id: moja_core::secrets::new_id(),
        org_id: input.webhook.org_id.clone(),
        delivery_id: input.delivery_id.to_owned(),
        webhook_id: input.webhook.id.clone(),
        event_type: input.event_type,
        call_id: input.call_id.map(str::to_owned),
        attempt: input.attempt,
        started_at: input.now,
        request: json!({"method": input.webhook.method, "url": input.webhook.url}),
        response_status: None,
        response_headers: Vec::new(),
        response_body: String::new(),
        response_truncated: false,
        latency_us: 0,
        error: None,
        outcome: String::new(),
        next_attempt_at: None,
    };
    let request = match prepare(outbound, plugins, &input).await {
        Ok(request) => request,
        Err(failure) => {
            record.error = Some(failure.to_string());
            record.latency_us = started.elapsed().as_micros() as i64;
            let verdict = if failure.is_retryable() {
                Verdict::Retry { retry_after: None }
            } else {
                Verdict::Fail
            };
            return AttemptResult { record, verdict };
        }
    };
    record.request = json!({
        "method": request.method,
        "url": request.url,
        "headers": redact_credentials(&request.headers, REDACTED),
        "body": String::from_utf8_lossy(&request.body),
    });
    let report = outbound.client.send(&request).await;
    record.latency_us = report.latency.as_micros() as i64;
    record.error = report.outcome.error_message();
    if let Outcome::Response {
        status,
        headers,
        body,
        body_truncated,
    } = &report.outcome
    {
        record.response_status = Some(*status);
        record.response_headers = headers.clone();
        record.response_body = String::from_utf8_lossy(body).into_owned();
        record.response_truncated = *body_truncated;
    }
    // An HTTP-date `Retry-After` is measured on the server's clock, at the response's arrival.
    let answered_at = input
        .now
        .checked_add(jiff::SignedDuration::from_micros(record.latency_us))
        .unwrap_or(input.now);
    let verdict = retry::verdict_at(&report.outcome, answered_at);
    AttemptResult { record, verdict }
}

async fn prepare(
    outbound: &Outbound,
    plugins: &Arc<PluginRuntime>,
    input: &AttemptInput<'_>,
) -> Result<OutboundRequest, RenderFailure> {
    let webhook = input.webhook;
    let headers = render::unseal_headers(&outbound.sealing, &webhook.headers_sealed)?;
    let rendered = render::render(plugins, webhook, headers, input.event_type, input.tags).await?;
    let mut headers = rendered.headers;
    if let Some(content_type) = rendered.content_type
        && !has_header(&headers, "content-type")
    {
        headers.push(("content-type".into(), content_type));
    }
    if !has_header(&headers, "user-agent") {
        headers.push(("user-agent".into(), USER_AGENT.into()));
    }
    // The delivery id goes out on every request, signed or not, so that receivers can
    // deduplicate retries and resends.
    if !has_header(&headers, "webhook-id") {
        headers.push(("webhook-id".into(), input.delivery_id.to_owned()));
    }
    if let Some(sealed) = &webhook.secret_sealed {
        let secret = outbound.sealing.open(sealed).map_err(|e| {
            RenderFailure::Sealed(format!(
                "the webhook's signing secret cannot be decrypted ({e}); was MOJA_ENCRYPTION_KEY changed? Set a new secret"
            ))
        })?;
        let timestamp = input.now.as_second();
        let signed = signing::headers(&secret, input.delivery_id, timestamp, &rendered.body)
            .map_err(|e| RenderFailure::Sealed(format!("signing: {e}")))?;
        for (name, value) in signed {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.to_owned(), value));
        }
    }
    Ok(OutboundRequest {
        method: rendered.method,
        url: rendered.url,
        headers,
        body: rendered.body,
    })
}
