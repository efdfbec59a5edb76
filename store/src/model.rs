//! The records the store keeps and returns (rows stay private to each backend).

use jiff::Timestamp;
use moja_core::calls::{Call, FieldUpdates, TagOp};
use moja_core::rate_limit::RateLimit;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Org {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Region for phone numbers without a country code (`US`).
    pub default_region: String,
    /// Default currency (`USD`).
    pub currency: String,
    /// A disabled org gets 401 on public endpoints and 403 on the admin API.
    pub disabled: bool,
    /// Creation time.
    pub created_at: Timestamp,
}

/// An org API key, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Id.
    pub id: String,
    /// Owning org.
    pub org_id: String,
    /// A label.
    pub name: String,
    /// The first characters of the key, to recognise it (`mok_AbCd`).
    pub key_prefix: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Revocation time.
    pub revoked_at: Option<Timestamp>,
}

/// A new API key: its record and the hash of its secret.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// The record.
    pub key: ApiKey,
    /// SHA-256 of the secret.
    pub hash: String,
}

/// A campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    /// Id.
    pub id: String,
    /// Owning org.
    pub org_id: String,
    /// Name.
    pub name: String,
    /// Connected seconds that convert a call; `None`: no rule.
    pub conversion_min_duration_s: Option<i64>,
    /// Revenue of a converted call.
    pub buyer_revenue: Option<Decimal>,
    /// Payout of a converted call.
    pub publisher_payout: Option<Decimal>,
    /// Currency.
    pub currency: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A custom tag definition: call-data fields with this key become call tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomTag {
    /// Owning org.
    pub org_id: String,
    /// Normalized key (`lead_type`).
    pub key: String,
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// The four incoming webhook types, each with its public endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = WebhookType)]
pub enum WebhookKind {
    /// Caller metadata before or during routing.
    CallData,
    /// Revenue.
    UpdateRevenue,
    /// Tags.
    UpdateTags,
    /// Several fields.
    UpdateFields,
}

impl WebhookKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::CallData => "call_data",
            WebhookKind::UpdateRevenue => "update_revenue",
            WebhookKind::UpdateTags => "update_tags",
            WebhookKind::UpdateFields => "update_fields",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "call_data" => WebhookKind::CallData,
            "update_revenue" => WebhookKind::UpdateRevenue,
            "update_tags" => WebhookKind::UpdateTags,
            "update_fields" => WebhookKind::UpdateFields,
            _ => return None,
        })
    }

    /// The main public path (`/update-revenue`).
    pub fn path(self) -> &'static str {
        match self {
            WebhookKind::CallData => "/call-data",
            WebhookKind::UpdateRevenue => "/update-revenue",
            WebhookKind::UpdateTags => "/update-tags",
            WebhookKind::UpdateFields => "/update-fields",
        }
    }
}

/// How a phone number picks calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = MatchPolicyView)]
pub enum MatchPolicy {
    /// Every call from the number within the lookback.
    All,
    /// Only the most recent one.
    MostRecent,
}

impl MatchPolicy {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchPolicy::All => "all",
            MatchPolicy::MostRecent => "most_recent",
        }
    }
}

/// Whose plugin a reference names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginOwner {
    /// The platform's (bundled or installed by the operator): visible to every org.
    Platform,
    /// An org's own: visible to that org only.
    Org(String),
}

impl PluginOwner {
    /// The owning org, `None` for the platform.
    pub fn org_id(&self) -> Option<&str> {
        match self {
            PluginOwner::Platform => None,
            PluginOwner::Org(id) => Some(id),
        }
    }

    /// The owner of an org id read back from storage (`None`: the platform).
    pub fn from_org_id(org_id: Option<String>) -> Self {
        org_id.map_or(PluginOwner::Platform, PluginOwner::Org)
    }
}

/// A webhook's reference to a plugin: whose, which, and an optional version pin (without one,
/// the plugin's active version serves).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PluginRef {
    /// Whose plugin.
    pub owner: PluginOwner,
    /// Its name.
    pub name: String,
    /// A pinned version.
    pub version: Option<String>,
}

impl PluginRef {
    /// The platform plugin `name`, unpinned.
    pub fn platform(name: impl Into<String>) -> Self {
        Self {
            owner: PluginOwner::Platform,
            name: name.into(),
            version: None,
        }
    }
}

/// An incoming webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncomingWebhook {
    /// Id.
    pub id: String,
    /// Owning org.
    pub org_id: String,
    /// Name.
    pub name: String,
    /// Type.
    pub kind: WebhookKind,
    /// Campaigns it may touch (empty: all).
    pub campaign_ids: Vec<String>,
    /// Lookback window in seconds (phone matching; call-data validity).
    pub lookback_seconds: i64,
    /// Phone matching policy.
    pub match_policy: MatchPolicy,
    /// Rate limit.
    pub rate_limit: RateLimit,
    /// Normalizer plugin.
    pub normalizer: PluginRef,
    /// Mapper plugin.
    pub mapper: PluginRef,
    /// Per-webhook plugin configuration.
    pub plugin_config: Vec<(String, String)>,
    /// Disabled webhooks answer 401.
    pub enabled: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// One timeline entry of a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Position in the call's timeline (1-based).
    pub seq: i64,
    /// When.
    pub at: Timestamp,
    /// What (`call.incoming`, `webhook.update_revenue`, `call_data.applied`, …).
    pub kind: String,
    /// Details (which webhook, request id, transaction id, changes from → to, …).
    pub details: serde_json::Value,
}

/// Where a call id led.
#[derive(Debug, Clone, PartialEq)]
pub enum CallLookup {
    /// The org's call.
    Found(Box<Call>),
    /// The id belongs to another org.
    OtherOrg,
    /// No such call.
    Missing,
}

/// A page of a list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<String>,
}

/// Filters of the calls list.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// Calls from this E.164 number.
    pub phone_e164: Option<String>,
    /// In this status.
    pub status: Option<String>,
    /// Of this campaign.
    pub campaign_id: Option<String>,
    /// Started at or after.
    pub from: Option<Timestamp>,
    /// Started before.
    pub to: Option<Timestamp>,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: usize,
}

/// A new call with what the store needs to finish it in its transaction.
#[derive(Debug, Clone)]
pub struct NewCall {
    /// The call, tags already holding explicit and RTB values.
    pub call: Call,
    /// Keys that explicit fields or RTB tags set (call data never overrides them).
    pub protected_keys: Vec<String>,
    /// The org's custom tag keys, for applying call data.
    pub custom_tag_keys: Vec<String>,
}

/// A lifecycle change asked for by the telephony side.
#[derive(Debug, Clone)]
pub enum TransitionRequest {
    /// Connected to a target.
    Connected {
        /// Target.
        target: Option<moja_core::calls::Party>,
        /// Buyer.
        buyer: Option<moja_core::calls::Party>,
    },
    /// Hung up.
    Hangup {
        /// `caller`, `target` or `system`.
        terminated_by: String,
    },
    /// Failed.
    Failure {
        /// Why.
        reason: String,
    },
}

/// The result of a transition.
#[derive(Debug, Clone, PartialEq)]
pub enum TransitionResult {
    /// The call after the transition, and the events that fired (empty for a repeat).
    Done {
        /// The call.
        call: Box<Call>,
        /// Events fired, in order.
        events: Vec<&'static str>,
    },
    /// Not the org's call, or no such call.
    NotFound,
    /// Impossible from the call's status.
    Invalid(String),
}

/// Which calls an inbound update targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Selector {
    /// One call by id.
    One(String),
    /// A batch of ids (deduplicated, 1–50).
    Batch(Vec<String>),
    /// Calls from an E.164 number within the lookback.
    Phone(String),
}

/// An inbound update, mapped and validated, ready to apply in one transaction.
#[derive(Debug, Clone)]
pub struct InboundUpdate {
    /// The webhook it arrived on.
    pub webhook: IncomingWebhook,
    /// The request id (also the request log id).
    pub request_id: String,
    /// Arrival time.
    pub now: Timestamp,
    /// The calls.
    pub selector: Selector,
    /// The sender's idempotency key.
    pub transaction_id: Option<String>,
    /// Hash of what the request asks for (kind + command), to recognise a reused id.
    pub fingerprint: String,
    /// Field changes.
    pub fields: FieldUpdates,
    /// Tag operations.
    pub tag_ops: Vec<TagOp>,
    /// Fields the mapper did not understand.
    pub ignored_fields: Vec<String>,
    /// Plugin versions that produced the command, for the timeline.
    pub plugins: serde_json::Value,
}

/// Call data received on a `call_data` webhook.
#[derive(Debug, Clone)]
pub struct InboundCallData {
    /// The webhook it arrived on.
    pub webhook: IncomingWebhook,
    /// The request id (also the record id).
    pub request_id: String,
    /// Arrival time.
    pub now: Timestamp,
    /// The caller's number in E.164.
    pub caller_e164: String,
    /// The sender's idempotency key.
    pub transaction_id: Option<String>,
    /// Hash of the request's content.
    pub fingerprint: String,
    /// The fields, normalized keys, in order.
    pub fields: Vec<(String, String)>,
    /// The org's custom tag keys (applied at once to a live call from that caller).
    pub custom_tag_keys: Vec<String>,
    /// The longest a call stays live (`MOJA_MAX_CALL_DURATION`): how far back a live call from
    /// the caller can have started.
    pub max_call_duration: jiff::SignedDuration,
}

/// An answer as the host rendered it (HTTP status and JSON body): what an idempotency record
/// keeps for replays, and what the request log shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: serde_json::Value,
}

/// How the host answers an inbound outcome. The store calls it to write the request log entry,
/// and for an applied change the idempotency record, in the outcome's own transaction; the host
/// answers the client with the same function, so the three never disagree.
pub type Responder = fn(&InboundOutcome) -> StoredResponse;

/// What an inbound request came to in the store (SPEC §7.2–§7.6). Only the host turns it into a
/// status and a body.
#[derive(Debug, Clone, PartialEq)]
pub enum InboundOutcome {
    /// The update was applied to the calls it matched.
    Updated(AppliedUpdate),
    /// The call data was stored (and applied to live calls from that caller).
    CallDataStored {
        /// The request id, which is also the record's.
        request_id: String,
        /// Live calls the data was applied to at once.
        live_calls_updated: Vec<String>,
    },
    /// The transaction id was used before for the same content: the first answer again.
    Replayed(StoredResponse),
    /// The transaction id was used before for other content.
    TransactionIdReused {
        /// The sender's transaction id.
        transaction_id: String,
    },
    /// Another request with this transaction id is being applied right now.
    InFlight {
        /// The sender's transaction id.
        transaction_id: String,
    },
    /// The call id belongs to another org.
    CallOfOtherOrg {
        /// The id sent.
        call_log_id: String,
    },
    /// The call is in a campaign outside the webhook's scope.
    CallOutsideCampaigns {
        /// The id sent.
        call_log_id: String,
    },
    /// No call has this id.
    CallNotFound {
        /// The id sent.
        call_log_id: String,
    },
    /// No call from this number within the lookback (and the webhook's campaigns).
    NoCallForPhone {
        /// The number, E.164.
        phone_number: String,
    },
}

impl InboundOutcome {
    /// What idempotency did, for the request log: `none`, `stored`, `replayed`, `reused` or
    /// `in_flight`.
    pub fn idempotency(&self, transaction_id: Option<&str>) -> &'static str {
        match self {
            InboundOutcome::Replayed(_) => "replayed",
            InboundOutcome::TransactionIdReused { .. } => "reused",
            InboundOutcome::InFlight { .. } => "in_flight",
            // A batch that changed nothing does not keep its id: the sender may retry with it.
            InboundOutcome::Updated(applied)
                if transaction_id.is_some() && !applied.call_log_ids.is_empty() =>
            {
                "stored"
            }
            InboundOutcome::CallDataStored { .. } if transaction_id.is_some() => "stored",
            _ => "none",
        }
    }

    /// What matching found, for the request log.
    pub fn match_result(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            InboundOutcome::Updated(applied) => json!({
                "matched": applied.call_log_ids,
                "failed": applied.failed_call_log_ids.as_deref().unwrap_or_default(),
            }),
            InboundOutcome::CallDataStored {
                live_calls_updated, ..
            } => json!({"live_calls_updated": live_calls_updated}),
            InboundOutcome::CallOfOtherOrg { call_log_id } => {
                json!({"call_log_id": call_log_id, "found": "other_org"})
            }
            InboundOutcome::CallOutsideCampaigns { call_log_id } => {
                json!({"call_log_id": call_log_id, "found": "outside_campaigns"})
            }
            InboundOutcome::CallNotFound { call_log_id } => {
                json!({"call_log_id": call_log_id, "found": "none"})
            }
            InboundOutcome::NoCallForPhone { phone_number } => {
                json!({"phone_number": phone_number, "found": 0})
            }
            InboundOutcome::Replayed(_)
            | InboundOutcome::TransactionIdReused { .. }
            | InboundOutcome::InFlight { .. } => serde_json::Value::Null,
        }
    }
}

/// An update applied to calls: what changed, in request order.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedUpdate {
    /// The webhook's type (what its answer shows).
    pub kind: WebhookKind,
    /// The calls changed.
    pub call_log_ids: Vec<String>,
    /// Field → new value, over all calls (the last call's value wins).
    pub updated: Vec<(String, serde_json::Value)>,
    /// Tags added (of the first call that added or removed any), normalized keys.
    pub added: Vec<(String, String)>,
    /// Tag keys removed (likewise).
    pub removed: Vec<String>,
    /// The changed calls that were live.
    pub active_call_log_ids: Vec<String>,
    /// Fields deferred to completion (of the first call that queued any).
    pub queued: Vec<String>,
    /// Fields the mapper did not understand.
    pub ignored_fields: Vec<String>,
    /// For a batch, the ids not changed (not found, another org's, outside the campaigns).
    pub failed_call_log_ids: Option<Vec<String>>,
}

impl AppliedUpdate {
    /// The value `field` was set to, if it was.
    pub fn updated(&self, field: &str) -> Option<&serde_json::Value> {
        self.updated
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v)
    }
}

/// One entry of the incoming request log; credentials were redacted before it was logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = RequestLogView)]
pub struct RequestLogEntry {
    /// Id (the request id).
    pub id: String,
    /// Org, when auth succeeded.
    pub org_id: Option<String>,
    /// Webhook, when auth succeeded.
    pub webhook_id: Option<String>,
    /// Arrival time.
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query string, `moja_auth_key` redacted.
    pub query: String,
    /// Header pairs `[name, value]`, credentials replaced by `REDACTED`.
    #[schema(value_type = Vec<Vec<String>>)]
    pub headers: Vec<(String, String)>,
    /// The raw body as text (at most 4 KiB before auth succeeded).
    #[serde(with = "body_text")]
    #[schema(value_type = String)]
    pub body: Vec<u8>,
    /// Whether the body was cut.
    pub body_truncated: bool,
    /// Response status.
    pub status: u16,
    /// Response body.
    pub response: serde_json::Value,
    /// Time to answer, in microseconds.
    pub latency_us: i64,
    /// Plugin versions and logs, match result, idempotency outcome, error code, `replay_of`.
    pub details: serde_json::Value,
}

mod body_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(body))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Ok(String::deserialize(d)?.into_bytes())
    }
}

/// Filters of the request log.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// Of this webhook.
    pub webhook_id: Option<String>,
    /// With this status.
    pub status: Option<u16>,
    /// Only failed (status ≥ 400).
    pub failed: bool,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: usize,
}
