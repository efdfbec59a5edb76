//! The records of outbound webhooks (SPEC §8): webhooks, events with their tag snapshot,
//! deliveries (the outbox) and attempts (the outgoing request log).

use jiff::Timestamp;
use moja_core::events::EventType;
use serde::{Deserialize, Serialize};

/// How a body template is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = BodyFormatView)]
pub enum BodyFormat {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

impl BodyFormat {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Json => "json",
            BodyFormat::Form => "form",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "json" => Some(BodyFormat::Json),
            "form" => Some(BodyFormat::Form),
            _ => None,
        }
    }
}

/// An outgoing webhook. Header templates and the signing secret are sealed by the host with the
/// server's encryption key before they reach the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingWebhook {
    /// Id.
    pub id: String,
    /// Owning org.
    pub org_id: String,
    /// Name.
    pub name: String,
    /// The event it is sent for.
    pub event_type: EventType,
    /// HTTP method.
    pub method: String,
    /// URL template.
    pub url: String,
    /// Header templates (`[[name, template], …]` as JSON), sealed.
    pub headers_sealed: String,
    /// The header names, in order (shown by the API instead of the sealed values).
    pub header_names: Vec<String>,
    /// Body template.
    pub body: String,
    /// Body encoding.
    pub body_format: BodyFormat,
    /// Campaigns whose calls it is sent for (empty: all).
    pub campaign_ids: Vec<String>,
    /// Renderer plugin.
    pub renderer: crate::PluginRef,
    /// Per-webhook renderer configuration.
    pub plugin_config: Vec<(String, String)>,
    /// Disabled webhooks get no new deliveries.
    pub enabled: bool,
    /// The Standard Webhooks signing secret (`whsec_…`), sealed.
    pub secret_sealed: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl OutgoingWebhook {
    /// Whether a call of `campaign_id` is in this webhook's scope.
    pub fn covers_campaign(&self, campaign_id: Option<&str>) -> bool {
        self.campaign_ids.is_empty()
            || campaign_id.is_some_and(|id| self.campaign_ids.iter().any(|c| c == id))
    }
}

/// The tags of an event as they were when it happened: `(NAME, value)`, `None` when the tag does
/// not apply to the event.
pub type TagSnapshot = Vec<(String, Option<String>)>;

/// An event some webhook subscribed to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundEvent {
    /// Id.
    pub id: String,
    /// Org.
    pub org_id: String,
    /// The call it is about (none for test sends).
    pub call_id: Option<String>,
    /// Type.
    pub event_type: EventType,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// The tag context of that moment.
    pub tags: TagSnapshot,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = DeliveryStateView)]
pub enum DeliveryState {
    /// Waiting for its next attempt (or in one).
    Pending,
    /// A 2xx came back.
    Succeeded,
    /// Gave up: a final error or the retry schedule ran out.
    Failed,
}

impl DeliveryState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Succeeded => "succeeded",
            DeliveryState::Failed => "failed",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(DeliveryState::Pending),
            "succeeded" => Some(DeliveryState::Succeeded),
            "failed" => Some(DeliveryState::Failed),
            _ => None,
        }
    }
}

/// One event to one webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = DeliveryView)]
pub struct Delivery {
    /// Id, also the `webhook-id` header: the same across retries and resends.
    pub id: String,
    /// Org.
    pub org_id: String,
    /// Webhook.
    pub webhook_id: String,
    /// Event (none for test sends).
    pub event_id: Option<String>,
    /// Call.
    pub call_id: Option<String>,
    /// Event type.
    pub event_type: EventType,
    /// State.
    pub state: DeliveryState,
    /// Attempts made so far.
    pub attempts: u32,
    /// Retries of the schedule used since it was (re)sent.
    pub retries_used: u32,
    /// When the next attempt is due (pending only).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
    /// Creation time.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last change.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Status of the last response.
    pub last_status: Option<u16>,
    /// Error of the last attempt.
    pub last_error: Option<String>,
}

/// A delivery a dispatcher holds for one attempt, with what it needs to render it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// The delivery (attempts not yet counting this one).
    pub delivery: Delivery,
    /// Its event.
    pub event: OutboundEvent,
    /// Its webhook.
    pub webhook: OutgoingWebhook,
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryNext {
    /// Done: a 2xx.
    Succeeded,
    /// Try again at this time.
    RetryAt(Timestamp),
    /// Give up.
    Failed,
}

/// One attempt: an entry of the outgoing request log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = AttemptView)]
pub struct AttemptRecord {
    /// Id.
    pub id: String,
    /// Org.
    pub org_id: String,
    /// Delivery (also the `webhook-id` header: the same across retries and resends).
    pub delivery_id: String,
    /// Webhook.
    pub webhook_id: String,
    /// Event type.
    pub event_type: EventType,
    /// Call (none for test sends).
    pub call_id: Option<String>,
    /// 1 for the first attempt of the delivery.
    pub attempt: u32,
    /// When it started.
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    /// The rendered request: `{method, url, headers, body}`, credentials redacted.
    pub request: serde_json::Value,
    /// Response status, when one came back.
    pub response_status: Option<u16>,
    /// Response header pairs `[name, value]`.
    #[schema(value_type = Vec<Vec<String>>)]
    pub response_headers: Vec<(String, String)>,
    /// Response body (capped).
    pub response_body: String,
    /// Whether the response body was cut at the cap.
    pub response_truncated: bool,
    /// Time from start to the end of the response (or the error), microseconds.
    pub latency_us: i64,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// `succeeded`, `retrying` or `failed`.
    pub outcome: String,
    /// When the retry is due, for `retrying`.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
}

/// Filters of the outgoing request log.
#[derive(Debug, Clone, Default)]
pub struct AttemptFilter {
    /// Of this webhook.
    pub webhook_id: Option<String>,
    /// Of this event type.
    pub event_type: Option<String>,
    /// For this call.
    pub call_id: Option<String>,
    /// Only attempts that did not succeed.
    pub failed: bool,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: usize,
}

/// The answer to a resend.
#[derive(Debug, Clone, PartialEq)]
pub enum Resend {
    /// Queued again, due now.
    Queued(Box<Delivery>),
    /// The delivery is still pending: nothing to resend.
    StillPending(Box<Delivery>),
    /// No such attempt in the org.
    NotFound,
}

/// The outbound queue at a glance, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// Pending deliveries.
    pub pending: u64,
    /// Pending deliveries already due.
    pub due: u64,
    /// Due time of the oldest due delivery.
    pub oldest_due: Option<Timestamp>,
}

/// What a dispatcher asks for when it claims deliveries.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    /// The node claiming: its leases are its own (`release_leases` of a restarted node).
    pub node: String,
    /// Deliveries due at or before this time.
    pub now: Timestamp,
    /// The claim lapses then (a crash mid-attempt leads to a retry after it).
    pub lease_until: Timestamp,
    /// At most this many.
    pub limit: usize,
    /// At most this many attempts in hand per webhook.
    pub per_webhook_limit: usize,
    /// Attempts the dispatcher has in hand now, per webhook.
    pub in_flight: std::collections::HashMap<String, usize>,
    /// Deliveries the dispatcher has in hand: never claimed twice by one node, even when their
    /// lease lapsed (a slow attempt, a clock that jumped).
    pub in_hand: std::collections::HashSet<String>,
}
