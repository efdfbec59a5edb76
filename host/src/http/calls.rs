//! `/api/v1/calls`: the telephony side reports calls (create, connected, hangup, failure) and
//! tenants read them (get, list, timeline). SPEC §5.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine as _;
use jiff::Timestamp;
use moja_core::calls::{Call, CallStatus, Party, format_time};
use moja_core::{money, phone, secrets};
use moja_store::{
    CallFilter, CallLookup, NewCall, StoreError, TransitionRequest, TransitionResult,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::admin::Params;
use super::error::ErrorBody;
use super::json::checked_cursor;
use super::openapi::ResponseAmount;
use super::{ApiError, ApiJson, Created, List, OrgAuth};
use crate::plugins::{PluginWorld, standard, wit};
use crate::state::AppState;

/// The attribution fields a call may carry (DNI), in the order they are kept.
const ATTRIBUTION_FIELDS: [&str; 17] = [
    "gclid",
    "fbclid",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "keyword",
    "visitor_id",
    "landing_page",
    "referrer",
    "visitor_city",
    "visitor_state",
    "visitor_zip",
    "visitor_country",
    "visitor_ip",
    "visitor_browser",
];

/// The raw RTB request of a call, normalized into tags by the org's normalizer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct RtbRequest {
    /// The request's method.
    #[serde(default = "default_method")]
    #[schema(default = "POST")]
    method: String,
    /// The request's path.
    #[serde(default)]
    path: String,
    /// Query pairs `[name, value]`, in order (`moja_auth_key` is dropped).
    #[serde(default)]
    #[schema(value_type = Vec<Vec<String>>)]
    query: Vec<(String, String)>,
    /// Header pairs `[name, value]`, in order.
    #[serde(default)]
    #[schema(value_type = Vec<Vec<String>>)]
    headers: Vec<(String, String)>,
    /// The body as text; give this or `body_base64`, not both.
    body: Option<String>,
    /// The body as standard base64.
    body_base64: Option<String>,
    /// The body's content type (`application/json`).
    content_type: Option<String>,
}

fn default_method() -> String {
    "POST".into()
}

/// `POST /api/v1/calls`: a new inbound call. Unknown fields are refused.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateCall {
    /// The caller's number, parsed with the org's default region and stored as E.164 when
    /// possible; `anonymous`, `restricted` or empty are kept as such.
    caller_id: Option<String>,
    /// The dialed tracking number.
    dialed_number: Option<String>,
    /// A campaign of the org: its currency and configured amounts apply.
    campaign_id: Option<String>,
    /// The telephony's own id, `[A-Za-z0-9_-]{1,64}`, unique; otherwise a UUIDv7 is made.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    call_log_id: Option<String>,
    /// The telephony's session id.
    call_sid: Option<String>,
    #[serde(default)]
    publisher: Party,
    #[serde(default)]
    target: Party,
    #[serde(default)]
    buyer: Party,
    /// State.
    state: Option<String>,
    /// ZIP code.
    zip: Option<String>,
    #[serde(default)]
    #[schema(value_type = Attribution)]
    attribution: Map<String, Value>,
    /// Tags; keys are normalized (`Lead Type` → `lead_type`), values kept as text. They win over
    /// RTB tags and call data.
    #[serde(default)]
    #[schema(value_type = std::collections::HashMap<String, String>)]
    tags: Map<String, Value>,
    rtb: Option<RtbRequest>,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", message).with_field(field)
}

fn text_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl CallView {
    /// The call as the API shows it at `now` (the duration of a live call grows).
    pub(crate) fn of(call: &Call, now: Timestamp) -> Self {
        let pairs = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect()
        };
        let amount = |d: &Option<rust_decimal::Decimal>| d.as_ref().map(money::json_number);
        Self {
            call_log_id: call.id.clone(),
            org_id: call.org_id.clone(),
            campaign_id: call.campaign_id.clone(),
            call_sid: call.call_sid.clone(),
            caller_id: call.caller_id.clone(),
            from: call.from_raw.clone(),
            dialed_number: call.dialed_number.clone(),
            publisher: call.publisher.clone(),
            target: call.target.clone(),
            buyer: call.buyer.clone(),
            state: call.state.clone(),
            zip: call.zip.clone(),
            original_state: call.original_state.clone(),
            original_zip: call.original_zip.clone(),
            attribution: pairs(&call.attribution),
            tags: pairs(&call.tags),
            status: call.status,
            started_at: format_time(call.started_at),
            connected_at: call.connected_at.map(format_time),
            ended_at: call.ended_at.map(format_time),
            duration_s: call.duration_secs(now),
            terminated_by: call.terminated_by.clone(),
            failure_reason: call.failure_reason.clone(),
            converted: call.converted,
            call_converted_at: call.converted_at.map(format_time),
            revenue_paid_out: amount(&call.revenue_paid_out),
            publisher_paid_out: amount(&call.publisher_paid_out),
            configured_buyer_revenue: amount(&call.configured_buyer_revenue),
            configured_publisher_payout: amount(&call.configured_publisher_payout),
            currency: call.currency.clone(),
            reason: call.reason.clone(),
            no_payout_reason: call.no_payout_reason.clone(),
        }
    }
}

async fn rtb_tags(
    state: &AppState,
    org_id: &str,
    rtb: RtbRequest,
) -> Result<Vec<(String, String)>, ApiError> {
    let body = match (rtb.body, rtb.body_base64) {
        (Some(text), None) => text.into_bytes(),
        (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| {
                invalid(
                    "rtb.body_base64",
                    format!("rtb.body_base64 is not valid base64: {e}"),
                )
            })?,
        (None, None) => Vec::new(),
        (Some(_), Some(_)) => {
            return Err(invalid("rtb", "give rtb.body or rtb.body_base64, not both"));
        }
    };
    let request = wit::HttpRequest {
        method: rtb.method.to_ascii_uppercase(),
        path: rtb.path,
        query: rtb
            .query
            .into_iter()
            .filter(|(k, _)| k != "moja_auth_key")
            .collect(),
        headers: rtb
            .headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        body,
        content_type: rtb.content_type,
    };
    let plugin = state
        .plugins
        .lookup(org_id, standard::NORMALIZER, PluginWorld::Normalizer)
        .map_err(|unresolved| ApiError::internal(format!("the RTB normalizer: {unresolved}")))?;
    let outcome = state
        .plugins
        .normalize(plugin, request, Vec::new())
        .await
        .map_err(|failure| ApiError::plugin_failure(&failure))?;
    match outcome.value {
        Ok(normalized) => Ok(normalized.tags),
        Err(error) => Err(ApiError::plugin_refusal(&error).with_field("rtb")),
    }
}

/// A new inbound call.
///
/// Status `ringing`; `call.incoming` fires. The RTB request, if given, goes through the org's normalizer first; matching call data
/// received within its webhook's lookback is applied. Precedence: explicit fields > RTB tags >
/// call data.
#[utoipa::path(
    post,
    path = "/api/v1/calls",
    operation_id = "create_call",
    tag = "calls",
    request_body = CreateCall,
    security(("org_api_key" = [])),
    responses(
        (status = 201, description = "The call, its tags including applied call data", body = CallView),
        (status = 400, description = "A field is invalid (`field` names it), the body is not JSON, or the normalizer refused `rtb`", body = ErrorBody),
        (status = 409, description = "A call with this `call_log_id` already exists (`conflict`)", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
    ),
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: OrgAuth,
    ApiJson(body): ApiJson<CreateCall>,
) -> Result<Created<CallView>, ApiError> {
    let org = auth.org;
    let now = state.clock.now();
    let id = match body.call_log_id {
        Some(id) if secrets::is_valid_call_log_id(&id) => id,
        Some(_) => {
            return Err(invalid(
                "call_log_id",
                "call_log_id must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'",
            ));
        }
        None => secrets::new_id(),
    };
    let campaign = match &body.campaign_id {
        Some(campaign_id) => Some(
            state
                .store
                .get_campaign(&org.id, campaign_id)
                .await
                .map_err(ApiError::internal)?
                .ok_or_else(|| {
                    invalid(
                        "campaign_id",
                        "no campaign with this id in your organization",
                    )
                })?,
        ),
        None => None,
    };
    let raw_caller = body.caller_id.unwrap_or_default();
    let caller = phone::parse_caller_id(&raw_caller, &org.default_region);
    let caller_e164 = match &caller {
        phone::CallerId::Number(e164) => Some(e164.clone()),
        _ => None,
    };

    // Precedence: explicit fields > RTB tags > call data (applied by the store).
    let mut tags: Vec<(String, String)> = match body.rtb {
        Some(rtb) => rtb_tags(&state, &org.id, rtb).await?,
        None => Vec::new(),
    };
    for (key, value) in &body.tags {
        let key = moja_core::keys::normalize_key(key);
        if key.is_empty() {
            return Err(invalid(
                "tags",
                "tag keys need at least one letter or digit",
            ));
        }
        let value = text_value(value);
        match tags.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => *existing = value,
            None => tags.push((key, value)),
        }
    }
    let attribution: Vec<(String, String)> = ATTRIBUTION_FIELDS
        .iter()
        .filter_map(|field| {
            body.attribution
                .get(*field)
                .filter(|v| !v.is_null())
                .map(|v| (field.to_string(), text_value(v)))
        })
        .collect();
    if let Some(unknown) = body
        .attribution
        .keys()
        .find(|k| !ATTRIBUTION_FIELDS.contains(&k.as_str()))
    {
        return Err(invalid(
            "attribution",
            format!(
                "unknown attribution field {unknown:?}; known: {}",
                ATTRIBUTION_FIELDS.join(", ")
            ),
        ));
    }
    let mut protected_keys: Vec<String> = tags.iter().map(|(k, _)| k.clone()).collect();
    if body.state.is_some() {
        protected_keys.push("state".into());
    }
    if body.zip.is_some() {
        protected_keys.extend(["zip".into(), "zip_code".into()]);
    }
    let custom_tag_keys = state
        .custom_tag_keys(&org.id)
        .await
        .map_err(ApiError::internal)?;
    let currency = campaign
        .as_ref()
        .map(|c| c.currency.clone())
        .unwrap_or_else(|| org.currency.clone());
    let mut call = Call::ringing(&id, &org.id, now, &currency);
    call.campaign_id = body.campaign_id;
    call.call_sid = body.call_sid;
    call.caller_id = caller.as_str().to_owned();
    call.caller_e164 = caller_e164;
    call.from_raw = raw_caller;
    call.dialed_number = body.dialed_number;
    call.publisher = body.publisher;
    call.target = body.target;
    call.buyer = body.buyer;
    call.original_state = body.state.clone();
    call.original_zip = body.zip.clone();
    call.state = body.state;
    call.zip = body.zip;
    call.attribution = attribution;
    call.tags = tags;
    call.configured_buyer_revenue = campaign.as_ref().and_then(|c| c.buyer_revenue);
    call.configured_publisher_payout = campaign.as_ref().and_then(|c| c.publisher_payout);
    match state
        .store
        .create_call(NewCall {
            call,
            protected_keys,
            custom_tag_keys,
        })
        .await
    {
        Ok(call) => Ok(Created(CallView::of(&call, now))),
        Err(StoreError::Conflict(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "A call with this call_log_id already exists",
        )
        .with_field("call_log_id")),
        Err(error) => Err(ApiError::internal(error)),
    }
}

/// The call log id of the path.
const CALL_ID: &str = "The call log id (case-sensitive)";

/// One call of the org.
#[utoipa::path(
    get,
    path = "/api/v1/calls/{id}",
    operation_id = "get_call",
    tag = "calls",
    params(("id" = String, Path, description = CALL_ID)),
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The call", body = CallView),
        (status = 404, description = "No such call in the org (`not_found`)", body = ErrorBody),
    ),
)]
pub(crate) async fn get(
    State(state): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
) -> Result<Json<CallView>, ApiError> {
    match state
        .store
        .get_call(&auth.org.id, &id)
        .await
        .map_err(ApiError::internal)?
    {
        CallLookup::Found(call) => Ok(Json(CallView::of(&call, state.clock.now()))),
        _ => Err(ApiError::not_found("Call log not found")),
    }
}

/// `GET /api/v1/calls` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListCalls {
    /// Calls from this number (parsed like caller ids, compared as E.164).
    phone_number: Option<String>,
    /// `ringing`, `connected`, `completed` or `failed`.
    status: Option<String>,
    /// Calls of this campaign.
    campaign_id: Option<String>,
    /// Calls started at or after this RFC 3339 time.
    #[param(format = DateTime)]
    from: Option<String>,
    /// Calls started before this RFC 3339 time.
    #[param(format = DateTime)]
    to: Option<String>,
    /// Opaque cursor from `next_cursor`.
    cursor: Option<String>,
    /// Page size (default 50).
    limit: Option<usize>,
}

fn time_param(field: &str, value: Option<String>) -> Result<Option<Timestamp>, ApiError> {
    value
        .map(|v| {
            v.parse::<Timestamp>().map_err(|_| {
                invalid(
                    field,
                    format!("{field} must be an RFC 3339 time like 2026-11-23T10:00:00Z"),
                )
            })
        })
        .transpose()
}

/// The org's calls, newest first, filtered and paged by cursor.
#[utoipa::path(
    get,
    path = "/api/v1/calls",
    operation_id = "list_calls",
    tag = "calls",
    params(ListCalls),
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "A page of calls", body = List<CallView>),
        (status = 400, description = "A filter is invalid (`field` names it)", body = ErrorBody),
    ),
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: OrgAuth,
    Params(query): Params<ListCalls>,
) -> Result<Json<List<CallView>>, ApiError> {
    let phone_e164 = query
        .phone_number
        .map(|p| phone::parse_phone(&p, &auth.org.default_region))
        .transpose()
        .map_err(|e| invalid("phone_number", e.to_string()))?;
    if let Some(status) = &query.status
        && !["ringing", "connected", "completed", "failed"].contains(&status.as_str())
    {
        return Err(invalid(
            "status",
            "status must be ringing, connected, completed or failed",
        ));
    }
    let filter = CallFilter {
        phone_e164,
        status: query.status,
        campaign_id: query.campaign_id,
        from: time_param("from", query.from)?,
        to: time_param("to", query.to)?,
        cursor: checked_cursor(query.cursor)?,
        limit: query.limit.unwrap_or(50),
    };
    let page = state
        .store
        .list_calls(&auth.org.id, filter)
        .await
        .map_err(ApiError::internal)?;
    let now = state.clock.now();
    Ok(Json(List {
        items: page.items.iter().map(|c| CallView::of(c, now)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A call's timeline.
///
/// Everything that happened to the call, in order: lifecycle events, webhook actions (what
/// changed from what to what), deliveries.
#[utoipa::path(
    get,
    path = "/api/v1/calls/{id}/timeline",
    operation_id = "call_timeline",
    tag = "calls",
    params(("id" = String, Path, description = CALL_ID)),
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The timeline, oldest first", body = List<TimelineEntryView>),
        (status = 404, description = "No such call in the org (`not_found`)", body = ErrorBody),
    ),
)]
pub(crate) async fn timeline(
    State(state): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
) -> Result<Json<List<TimelineEntryView>>, ApiError> {
    let entries = state
        .store
        .timeline(&auth.org.id, &id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("Call log not found"))?;
    Ok(Json(List::all(
        entries
            .into_iter()
            .map(|e| TimelineEntryView {
                seq: e.seq,
                at: format_time(e.at),
                kind: e.kind,
                details: e.details,
            })
            .collect(),
    )))
}

/// `POST /api/v1/calls/{id}/connected` body (optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub(crate) struct Connected {
    /// The target that answered.
    target: Option<Party>,
    /// The buyer.
    buyer: Option<Party>,
}

/// `POST /api/v1/calls/{id}/hangup` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Hangup {
    /// `caller` (default), `target` or `system`.
    terminated_by: Option<String>,
}

/// `POST /api/v1/calls/{id}/failure` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Failure {
    /// `busy`, `no-answer`, `error` (default), … (1–64 characters).
    failure_reason: Option<String>,
}

async fn transition(
    state: &AppState,
    org_id: &str,
    id: &str,
    request: TransitionRequest,
) -> Result<Json<TransitionView>, ApiError> {
    let now = state.clock.now();
    match state
        .store
        .transition(org_id, id, request, now)
        .await
        .map_err(ApiError::internal)?
    {
        TransitionResult::Done { call, events } => Ok(Json(TransitionView {
            call: CallView::of(&call, now),
            events,
        })),
        TransitionResult::NotFound => Err(ApiError::not_found("Call log not found")),
        TransitionResult::Invalid(message) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "invalid_transition",
            message,
        )),
    }
}

/// The call was answered.
///
/// Status `connected`; `call.connected` fires and the duration marks (5, 15, 30, 45, 60 s) are
/// scheduled. A repeated transition answers 200 and fires nothing new.
#[utoipa::path(
    post,
    path = "/api/v1/calls/{id}/connected",
    operation_id = "call_connected",
    tag = "calls",
    params(("id" = String, Path, description = CALL_ID)),
    request_body(content = Option<Connected>, description = "Optional: an empty body is accepted"),
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The call and the events fired", body = TransitionView),
        (status = 400, description = "The body is not valid JSON (`invalid_json`)", body = ErrorBody),
        (status = 404, description = "No such call in the org (`not_found`)", body = ErrorBody),
        (status = 409, description = "Impossible from the call's status (`invalid_transition`)", body = ErrorBody),
    ),
)]
pub(crate) async fn connected(
    State(state): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<TransitionView>, ApiError> {
    // The body is optional: the telephony side may post nothing.
    let body: Connected = if body.iter().all(u8::is_ascii_whitespace) {
        Connected::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", e.to_string()))?
    };
    transition(
        &state,
        &auth.org.id,
        &id,
        TransitionRequest::Connected {
            target: body.target,
            buyer: body.buyer,
        },
    )
    .await
}

/// The call ended.
///
/// `call.hangup` fires, then post-call processing (conversion rule, queued updates), then
/// `call.converted` if the call converted, and `call.completed`. A repeated transition answers
/// 200 and fires nothing new.
#[utoipa::path(
    post,
    path = "/api/v1/calls/{id}/hangup",
    operation_id = "call_hangup",
    tag = "calls",
    params(("id" = String, Path, description = CALL_ID)),
    request_body = Hangup,
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The completed call and the events fired", body = TransitionView),
        (status = 400, description = "A field is invalid (`field` names it)", body = ErrorBody),
        (status = 404, description = "No such call in the org (`not_found`)", body = ErrorBody),
        (status = 409, description = "Impossible from the call's status (`invalid_transition`)", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
    ),
)]
pub(crate) async fn hangup(
    State(state): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Hangup>,
) -> Result<Json<TransitionView>, ApiError> {
    let terminated_by = body.terminated_by.unwrap_or_else(|| "caller".into());
    if !["caller", "target", "system"].contains(&terminated_by.as_str()) {
        return Err(invalid(
            "terminated_by",
            "terminated_by must be caller, target or system",
        ));
    }
    transition(
        &state,
        &auth.org.id,
        &id,
        TransitionRequest::Hangup { terminated_by },
    )
    .await
}

/// The call could not be connected.
///
/// Status `failed`; `call.failure` fires. A repeated transition answers 200 and fires nothing new.
#[utoipa::path(
    post,
    path = "/api/v1/calls/{id}/failure",
    operation_id = "call_failure",
    tag = "calls",
    params(("id" = String, Path, description = CALL_ID)),
    request_body = Failure,
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The failed call and the events fired", body = TransitionView),
        (status = 400, description = "A field is invalid (`field` names it)", body = ErrorBody),
        (status = 404, description = "No such call in the org (`not_found`)", body = ErrorBody),
        (status = 409, description = "Impossible from the call's status (`invalid_transition`)", body = ErrorBody),
        (status = 415, description = "The body is not `application/json`", body = ErrorBody),
    ),
)]
pub(crate) async fn failure(
    State(state): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Failure>,
) -> Result<Json<TransitionView>, ApiError> {
    let reason = body.failure_reason.unwrap_or_else(|| "error".into());
    if reason.trim().is_empty() || reason.len() > 64 {
        return Err(invalid(
            "failure_reason",
            "failure_reason must be 1-64 characters (busy, no-answer, error, …)",
        ));
    }
    transition(
        &state,
        &auth.org.id,
        &id,
        TransitionRequest::Failure { reason },
    )
    .await
}

/// DNI attribution of a call: only the members of [`ATTRIBUTION_FIELDS`], as text; any other is
/// refused. Its schema is built from that list, the one the handler checks against.
pub(crate) struct Attribution;

impl utoipa::PartialSchema for Attribution {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
        ATTRIBUTION_FIELDS
            .iter()
            .fold(ObjectBuilder::new(), |object, field| {
                object.property(*field, ObjectBuilder::new().schema_type(Type::String))
            })
            .description(Some(
                "DNI attribution of a call: only these members, as text; any other is refused",
            ))
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl utoipa::ToSchema for Attribution {}

/// A call. Times are RFC 3339 UTC with milliseconds; amounts are JSON numbers with two decimals.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CallView {
    /// The call log id (case-sensitive).
    call_log_id: String,
    org_id: String,
    campaign_id: Option<String>,
    call_sid: Option<String>,
    /// E.164 when the caller id parsed; else `anonymous`, `restricted`, empty or the raw text.
    caller_id: String,
    /// The caller id exactly as the telephony sent it.
    from: String,
    dialed_number: Option<String>,
    publisher: Party,
    target: Party,
    buyer: Party,
    state: Option<String>,
    zip: Option<String>,
    /// State at call start.
    original_state: Option<String>,
    /// ZIP code at call start.
    original_zip: Option<String>,
    /// Attribution fields, in the order of `Attribution`.
    #[schema(value_type = std::collections::HashMap<String, String>)]
    attribution: Map<String, Value>,
    /// Tags, in insertion order.
    #[schema(value_type = std::collections::HashMap<String, String>)]
    tags: Map<String, Value>,
    status: CallStatus,
    #[schema(format = DateTime)]
    started_at: String,
    #[schema(format = DateTime)]
    connected_at: Option<String>,
    #[schema(format = DateTime)]
    ended_at: Option<String>,
    /// Connected seconds (so far, for a live call).
    duration_s: i64,
    /// `caller`, `target` or `system`.
    terminated_by: Option<String>,
    failure_reason: Option<String>,
    converted: bool,
    #[schema(format = DateTime)]
    call_converted_at: Option<String>,
    #[schema(value_type = Option<ResponseAmount>)]
    revenue_paid_out: Option<serde_json::Number>,
    #[schema(value_type = Option<ResponseAmount>)]
    publisher_paid_out: Option<serde_json::Number>,
    /// The campaign's buyer revenue at call start.
    #[schema(value_type = Option<ResponseAmount>)]
    configured_buyer_revenue: Option<serde_json::Number>,
    /// The campaign's publisher payout at call start.
    #[schema(value_type = Option<ResponseAmount>)]
    configured_publisher_payout: Option<serde_json::Number>,
    /// ISO 4217 code of the amounts.
    currency: String,
    /// Disposition.
    reason: Option<String>,
    /// `Campaign preconversion`, `Condition not met`, `Caps exceeded` or null.
    no_payout_reason: Option<String>,
}

/// A call after a transition, with the events it fired (`call.connected`, `call.hangup`,
/// `call.converted`, `call.completed`, `call.failure`; none on a repeat).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TransitionView {
    #[serde(flatten)]
    call: CallView,
    events: Vec<&'static str>,
}

/// One entry of a call's timeline.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TimelineEntryView {
    /// Position in the timeline (1-based).
    seq: i64,
    #[schema(format = DateTime)]
    at: String,
    /// `call.incoming`, `webhook.update_revenue`, `call_data.applied`, …
    kind: String,
    /// Which webhook, request id, transaction id, changes from → to, …
    details: Value,
}
