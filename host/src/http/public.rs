//! The public inbound endpoints (`/call-data`, `/update-revenue`, `/update-tags`,
//! `/update-fields`, the older `/api/v1/webhooks/incoming/{id}/…` form) and request replay.
//!
//! Order of work (SPEC §7): auth and the rate limit from the request line and headers, before
//! any body byte is read → body size → normalizer → mapper → one store transaction
//! (idempotency, matching, changes, timeline, stored answer, request log). Every request,
//! accepted or refused, lands in the request log; the answers are rendered by `answers`.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use moja_core::calls::{Change, FieldUpdates, TagOp};
use moja_core::rate_limit::{Decision, Period, RateLimit};
use moja_core::{money, phone, secrets};
use moja_store::{
    InboundCallData, InboundOutcome, InboundUpdate, IncomingWebhook, Org, PluginRef,
    RequestLogEntry, Selector, WebhookKind,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::error::ErrorBody;
use super::{ApiError, OrgAuth};
use crate::plugins::{LoadedPlugin, PluginWorld, Unresolved, wit};
use crate::state::AppState;

/// Largest body accepted (413 above).
pub(crate) const MAX_BODY_BYTES: usize = 1 << 20;
/// Bytes of a body refused for its size kept in the request log.
const REFUSED_LOG_BYTES: usize = 4 << 10;
/// Most bytes of an oversized body read (and dropped) so that its sender reads our 413.
const DRAIN_LIMIT: usize = 4 * MAX_BODY_BYTES;
/// Most ids in a batch.
const MAX_BATCH: usize = 50;

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", message).with_field(field)
}

/// A request as received, before any decision.
struct Received {
    request_id: String,
    received_at: Timestamp,
    started: Instant,
    method: Method,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Bytes,
    /// Whether `body` is only the start of what was sent (a refused body keeps its first
    /// [`REFUSED_LOG_BYTES`], or nothing when it was never read).
    body_truncated: bool,
}

impl Received {
    fn new(state: &AppState, method: Method, uri: &Uri, headers: &HeaderMap, body: Bytes) -> Self {
        Self {
            request_id: headers
                .get(super::REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .unwrap_or_else(secrets::new_id),
            received_at: state.clock.now(),
            started: Instant::now(),
            method,
            path: uri.path().to_owned(),
            query: uri.query().unwrap_or_default().to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body,
            body_truncated: false,
        }
    }

    fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }

    /// The log entry, credentials redacted. (A request refused before auth succeeded has no body
    /// here: it was never read.)
    fn log_entry(&self, org: Option<&Org>, webhook: Option<&IncomingWebhook>) -> RequestLogEntry {
        RequestLogEntry {
            id: self.request_id.clone(),
            org_id: org.map(|o| o.id.clone()),
            webhook_id: webhook.map(|w| w.id.clone()),
            received_at: self.received_at,
            method: self.method.to_string(),
            path: self.path.clone(),
            query: secrets::redact_query(&self.query),
            headers: moja_core::keys::redact_credentials(&self.headers, "REDACTED"),
            body: self.body.to_vec(),
            body_truncated: self.body_truncated,
            status: 0,
            response: Value::Null,
            latency_us: self.started.elapsed().as_micros() as i64,
            details: json!({}),
        }
    }

    fn plugin_request(&self) -> wit::HttpRequest {
        let content_type = self
            .headers
            .iter()
            .find(|(k, _)| k == "content-type")
            .map(|(_, v)| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|v| !v.is_empty());
        wit::HttpRequest {
            method: self.method.to_string(),
            path: self.path.clone(),
            query: self
                .query_pairs()
                .into_iter()
                .filter(|(k, _)| k != "moja_auth_key")
                .collect(),
            headers: self.headers.clone(),
            body: self.body.to_vec(),
            content_type,
        }
    }
}

/// Logs a refused request and answers it.
async fn refuse(
    state: &AppState,
    received: &Received,
    who: Option<(&IncomingWebhook, &Org)>,
    error: ApiError,
    extra_headers: Vec<(&'static str, String)>,
) -> Response {
    let mut entry = received.log_entry(who.map(|w| w.1), who.map(|w| w.0));
    entry.status = error.status.as_u16();
    entry.response = error.body();
    entry.details = json!({"error_code": error.code});
    entry.latency_us = received.started.elapsed().as_micros() as i64;
    if let Err(log_error) = state.store.log_request(entry).await {
        tracing::error!(error = %log_error, "could not log a refused request");
    }
    with_headers(error.into_response(), extra_headers)
}

fn with_headers(mut response: Response, headers: Vec<(&'static str, String)>) -> Response {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name_lower(name)), value);
        }
    }
    response
}

fn name_lower(name: &'static str) -> &'static str {
    match name {
        "RateLimit-Limit" => "ratelimit-limit",
        "RateLimit-Remaining" => "ratelimit-remaining",
        "RateLimit-Reset" => "ratelimit-reset",
        "Retry-After" => "retry-after",
        other => other,
    }
}

/// What a 401 tells the sender: what to send when nothing was sent; that the key was not
/// recognised (never whether a webhook exists or is disabled); and where an org API key belongs.
fn unauthorized(key: Option<&str>) -> &'static str {
    match key {
        None | Some("") => {
            "Unauthorized: send the webhook's key as the moja_auth_key query parameter"
        }
        Some(key) if key.starts_with("mok_") => {
            "Unauthorized: moja_auth_key holds an org API key (mok_…), which belongs in the \
             Authorization header of /api/v1; these endpoints take an incoming webhook's key \
             (mwk_…)"
        }
        Some(_) => {
            "Unauthorized: the moja_auth_key is not recognised; was the webhook deleted or its \
             key rotated? Copy the current key from the webhook"
        }
    }
}

fn rate_limited(decision: &Decision, what: &str) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!(
            "Rate limit of {} requests per {what} reached; retry in {} s",
            decision.limit,
            decision.retry_after_secs.unwrap_or(1)
        ),
    )
}

/// Handles one public request for a webhook of `kind` (`legacy`: the webhook id of the older
/// path form).
async fn handle(
    state: AppState,
    kind: WebhookKind,
    legacy: Option<String>,
    client: SocketAddr,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    // Nothing of the body is read until the key and the rate limit let the request in.
    let mut received = Received::new(
        &state,
        parts.method,
        &parts.uri,
        &parts.headers,
        Bytes::new(),
    );
    let key = received
        .query_pairs()
        .into_iter()
        .find(|(k, _)| k == "moja_auth_key")
        .map(|(_, v)| v);
    let found = match &key {
        Some(key) => match state.webhook_keys.find(&secrets::hash(key)).await {
            Ok(found) => found,
            Err(error) => return ApiError::internal(error).into_response(),
        },
        None => None,
    };
    let Some((webhook, org)) = found
        .filter(|(w, o)| w.enabled && !o.disabled && legacy.as_deref().is_none_or(|id| id == w.id))
    else {
        // A 401 never says whether a webhook exists; keyless traffic is limited per address.
        let limit = RateLimit {
            limit: state.settings.unauthenticated_rate_limit,
            period: Period::Minute,
        };
        let decision =
            state
                .limiter
                .check(&format!("ip:{}", client.ip()), limit, received.received_at);
        let error = if decision.allowed {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                unauthorized(key.as_deref()),
            )
        } else {
            rate_limited(&decision, "minute from this address without a valid key")
        };
        let headers = if decision.allowed {
            Vec::new()
        } else {
            decision.headers()
        };
        return refuse(&state, &received, None, error, headers).await;
    };
    let who = Some((&webhook, &org));
    if webhook.kind != kind {
        let error = ApiError::new(
            StatusCode::BAD_REQUEST,
            "wrong_endpoint",
            format!(
                "This key belongs to a {} webhook: send it to {}",
                webhook.kind.as_str(),
                webhook.kind.path()
            ),
        );
        return refuse(&state, &received, who, error, Vec::new()).await;
    }
    let decision = state.limiter.check(
        &format!("webhook:{}", webhook.id),
        webhook.rate_limit,
        received.received_at,
    );
    if !decision.allowed {
        let error = rate_limited(&decision, webhook.rate_limit.period.as_str());
        return refuse(&state, &received, who, error, decision.headers()).await;
    }
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let body = match declared {
        // Refused by its declared size: a body a little over the limit is read and dropped but
        // for its start (so its sender reads our 413 rather than a reset connection), a larger
        // one not read at all.
        Some(length) if length > DRAIN_LIMIT => Err(Bytes::new()),
        Some(length) if length > MAX_BODY_BYTES => Err(drain(body, DRAIN_LIMIT).await),
        _ => axum::body::to_bytes(body, DRAIN_LIMIT)
            .await
            .map_err(|_| Bytes::new()),
    };
    let too_large = match body {
        Ok(body) if body.len() <= MAX_BODY_BYTES => {
            received.body = body;
            false
        }
        Ok(body) => {
            received.body = body.slice(..REFUSED_LOG_BYTES);
            true
        }
        Err(start) => {
            received.body = start;
            true
        }
    };
    received.body_truncated = too_large;
    if too_large {
        let error = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The body is larger than the limit of {MAX_BODY_BYTES} bytes"),
        );
        return refuse(&state, &received, who, error, decision.headers()).await;
    }
    match run_pipeline(&state, &webhook, &org, &received, json!(null)).await {
        Ok(outcome) => with_headers(answer(&outcome), decision.headers()),
        Err(error) => refuse(&state, &received, who, error, decision.headers()).await,
    }
}

/// Reads at most `limit` bytes of `body`, keeping only the first [`REFUSED_LOG_BYTES`].
async fn drain(body: axum::body::Body, limit: usize) -> Bytes {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut seen = 0;
    let mut start = Vec::new();
    while seen <= limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    let room = REFUSED_LOG_BYTES.saturating_sub(start.len());
                    start.extend_from_slice(&data[..data.len().min(room)]);
                    seen += data.len();
                }
            }
            _ => break,
        }
    }
    Bytes::from(start)
}

/// The HTTP answer to a store outcome.
fn answer(outcome: &InboundOutcome) -> Response {
    let response = super::answers::respond(outcome);
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK);
    let mut http = (status, axum::Json(response.body)).into_response();
    if matches!(outcome, InboundOutcome::Replayed(_)) {
        http.headers_mut().insert(
            HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    http
}

/// The version serving a webhook's plugin reference, or a 500 naming it.
fn plugin(
    state: &AppState,
    reference: &PluginRef,
    world: PluginWorld,
) -> Result<std::sync::Arc<LoadedPlugin>, ApiError> {
    state
        .plugins
        .serving(reference, world)
        .map_err(|unresolved| {
            let name = &reference.name;
            let message = match unresolved {
                Unresolved::Missing { .. } => {
                    format!("The webhook's {world} plugin {name:?} is not loaded")
                }
                other => format!("The webhook's {world} plugin: {other}"),
            };
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "plugin_unavailable",
                message,
            )
        })
}

/// Normalizer → mapper → store, for an authenticated request (also used by replay).
async fn run_pipeline(
    state: &AppState,
    webhook: &IncomingWebhook,
    org: &Org,
    received: &Received,
    replay_of: Value,
) -> Result<InboundOutcome, ApiError> {
    let request = received.plugin_request();
    let normalizer = plugin(state, &webhook.normalizer, PluginWorld::Normalizer)?;
    let mapper = plugin(state, &webhook.mapper, PluginWorld::Mapper)?;
    let plugins = json!({
        "normalizer": {"name": normalizer.key.name, "version": normalizer.version},
        "mapper": {"name": mapper.key.name, "version": mapper.version},
    });
    let pipeline = state
        .plugins
        .normalize_and_map(
            normalizer,
            mapper,
            wit_kind(webhook.kind),
            request,
            webhook.plugin_config.clone(),
        )
        .await
        .map_err(|f| ApiError::plugin_failure(&f))?;
    let normalized = pipeline.normalized;
    if let Err(error) = &normalized.value {
        return Err(ApiError::plugin_refusal(error));
    }
    let Some(mapped) = pipeline.mapped else {
        return Err(ApiError::internal(
            "the mapper did not run after a successful normalizer",
        ));
    };
    let command = mapped.value.map_err(|e| ApiError::plugin_refusal(&e))?;

    let mut log = received.log_entry(Some(org), Some(webhook));
    let plugin_log = [normalized.output.log, mapped.output.log].concat();
    log.details = json!({
        "plugins": plugins,
        "plugin_log": plugin_log,
        "replay_of": replay_of,
    });
    log.latency_us = received.started.elapsed().as_micros() as i64;
    let fingerprint_of = |parts: &Value| hex::encode(Sha256::digest(parts.to_string()));

    let response = if webhook.kind == WebhookKind::CallData {
        let raw_caller = command.caller_id.clone().ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "missing_parameter",
                "Missing caller_id parameter",
            )
            .with_field("caller_id")
        })?;
        let caller_e164 = phone::parse_phone(&raw_caller, &org.default_region)
            .map_err(|e| invalid("caller_id", e.to_string()))?;
        let custom_tag_keys = state
            .custom_tag_keys(&org.id)
            .await
            .map_err(ApiError::internal)?;
        let fingerprint = fingerprint_of(&json!({
            "kind": "call_data", "caller": caller_e164, "fields": command.call_data,
        }));
        state
            .store
            .store_call_data(
                InboundCallData {
                    webhook: webhook.clone(),
                    request_id: received.request_id.clone(),
                    now: received.received_at,
                    caller_e164,
                    transaction_id: command.transaction_id.clone(),
                    fingerprint,
                    fields: command.call_data.clone(),
                    custom_tag_keys,
                    max_call_duration: jiff::SignedDuration::try_from(
                        state.settings.max_call_duration,
                    )
                    .unwrap_or(jiff::SignedDuration::MAX),
                },
                log,
                super::answers::respond,
            )
            .await
    } else {
        let selector = selector(&command.calls, org)?;
        let fields = field_updates(&command.fields)?;
        let tag_ops: Vec<TagOp> = command
            .tag_ops
            .iter()
            .map(|op| match op {
                wit::TagOp::Add((k, v)) => TagOp::Add(k.clone(), v.clone()),
                wit::TagOp::Remove(k) => TagOp::Remove(k.clone()),
            })
            .collect();
        let fingerprint = fingerprint_of(&json!({
            "kind": webhook.kind.as_str(),
            "selector": selector,
            "fields": fields,
            "tags": tag_ops,
        }));
        state
            .store
            .apply_update(
                InboundUpdate {
                    webhook: webhook.clone(),
                    request_id: received.request_id.clone(),
                    now: received.received_at,
                    selector,
                    transaction_id: command.transaction_id.clone(),
                    fingerprint,
                    fields,
                    tag_ops,
                    ignored_fields: command.ignored_fields.clone(),
                    plugins,
                },
                log,
                super::answers::respond,
            )
            .await
    };
    response.map_err(ApiError::internal)
}

fn wit_kind(kind: WebhookKind) -> wit::WebhookKind {
    match kind {
        WebhookKind::CallData => wit::WebhookKind::CallData,
        WebhookKind::UpdateRevenue => wit::WebhookKind::UpdateRevenue,
        WebhookKind::UpdateTags => wit::WebhookKind::UpdateTags,
        WebhookKind::UpdateFields => wit::WebhookKind::UpdateFields,
    }
}

fn selector(calls: &wit::CallSelector, org: &Org) -> Result<Selector, ApiError> {
    match calls {
        wit::CallSelector::CallLogId(id) => Ok(Selector::One(id.clone())),
        wit::CallSelector::CallLogIds(ids) => {
            let mut unique: Vec<String> = Vec::with_capacity(ids.len());
            for id in ids {
                if !unique.contains(id) {
                    unique.push(id.clone());
                }
            }
            if unique.is_empty() {
                return Err(invalid("call_log_id", "call_log_id must hold 1 to 50 ids"));
            }
            if unique.len() > MAX_BATCH {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "batch_too_large",
                    format!(
                        "A batch holds at most {MAX_BATCH} call_log_ids; got {}",
                        unique.len()
                    ),
                )
                .with_field("call_log_id"));
            }
            Ok(Selector::Batch(unique))
        }
        wit::CallSelector::PhoneNumber(raw) => phone::parse_phone(raw, &org.default_region)
            .map(Selector::Phone)
            .map_err(|e| invalid("phone_number", e.to_string())),
        wit::CallSelector::None => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_parameter",
            "Either call_log_id or phone_number must be provided",
        )),
    }
}

fn change<T>(
    value: &Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, ApiError>,
) -> Result<Change<T>, ApiError> {
    Ok(match value {
        None => Change::Absent,
        Some(None) => Change::Null,
        Some(Some(text)) => Change::Set(parse(text)?),
    })
}

fn amount(field: &'static str) -> impl Fn(&str) -> Result<rust_decimal::Decimal, ApiError> {
    move |text| money::parse_amount(text).map_err(|e| invalid(field, format!("{field}: {e}")))
}

fn field_updates(fields: &wit::FieldChanges) -> Result<FieldUpdates, ApiError> {
    let text = |t: &str| Ok(t.to_owned());
    Ok(FieldUpdates {
        converted: fields.converted,
        call_converted_at: change(&fields.call_converted_at, |t| {
            t.parse::<Timestamp>().map_err(|_| {
                invalid(
                    "call_converted_at",
                    "call_converted_at must be an RFC 3339 time like 2026-03-27T14:05:00Z, or null",
                )
            })
        })?,
        revenue_paid_out: change(&fields.revenue_paid_out, amount("revenue_paid_out"))?,
        revenue_converts: fields.revenue_converts,
        publisher_paid_out: change(&fields.publisher_paid_out, amount("publisher_paid_out"))?,
        currency: fields
            .currency
            .as_deref()
            .map(|c| {
                money::normalize_currency(c).ok_or_else(|| {
                    invalid("currency", "currency must be an ISO 4217 code like USD")
                })
            })
            .transpose()?,
        reason: change(&fields.reason, text)?,
        no_payout_reason: change(&fields.no_payout_reason, text)?,
        state: change(&fields.state, text)?,
        zip: change(&fields.zip, text)?,
    })
}

/// Every webhook type: each has a public endpoint.
pub(crate) const KINDS: [WebhookKind; 4] = [
    WebhookKind::CallData,
    WebhookKind::UpdateRevenue,
    WebhookKind::UpdateTags,
    WebhookKind::UpdateFields,
];

/// The paths of a type's endpoint: the hyphen spelling (`/update-revenue`) and the underscore
/// one (`/update_revenue`), which work the same, GET and POST.
pub(crate) fn paths(kind: WebhookKind) -> [String; 2] {
    [kind.path().to_owned(), format!("/{}", kind.as_str())]
}

/// The older "Revenue Postback" form, `POST /api/v1/webhooks/incoming/{id}/…`, of the types that
/// had one: the key must belong to the webhook of the path.
pub(crate) fn legacy_path(kind: WebhookKind) -> Option<String> {
    matches!(kind, WebhookKind::UpdateRevenue | WebhookKind::UpdateTags)
        .then(|| format!("/api/v1/webhooks/incoming/{{id}}{}", kind.path()))
}

/// The public inbound routes, from [`KINDS`], [`paths`] and [`legacy_path`] (which the OpenAPI
/// document reads too).
pub(crate) fn routes() -> Router<AppState> {
    let mut routes = Router::new();
    for kind in KINDS {
        let endpoint = move |State(state): State<AppState>,
                             ConnectInfo(client): ConnectInfo<SocketAddr>,
                             request: Request| async move {
            handle(state, kind, None, client, request).await
        };
        for path in paths(kind) {
            routes = routes.route(&path, get(endpoint).post(endpoint));
        }
        if let Some(path) = legacy_path(kind) {
            let legacy = move |State(state): State<AppState>,
                               Path(webhook_id): Path<String>,
                               ConnectInfo(client): ConnectInfo<SocketAddr>,
                               request: Request| async move {
                handle(state, kind, Some(webhook_id), client, request).await
            };
            routes = routes.route(&path, post(legacy));
        }
    }
    // The handlers read the body themselves, with their own limit and 413.
    routes.layer(DefaultBodyLimit::disable())
}

/// `POST /api/v1/webhooks/incoming/requests/{id}/replay`: runs a logged request again through
/// its webhook's current plugins. The replay is a new request (new id, logged, `replay_of`).
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/incoming/requests/{id}/replay",
    operation_id = "replay_incoming_request",
    tag = "request-log",
    summary = "Runs a logged request again through its webhook's current plugins",
    description = "The replay is a new request: a new id (the `x-replay-request-id` header), \
                   logged with `replay_of`. It answers what the public endpoint would answer now, \
                   errors included (SPEC §7.5).",
    params(("id" = String, Path, description = "The logged request's id")),
    security(("org_api_key" = [])),
    responses(
        (
            status = 200,
            description = "The endpoint's answer to the replayed request (its status may be any \
                           of the public endpoints')",
            body = serde_json::Value,
            headers(("x-replay-request-id" = String, description = "The replay's own request id")),
        ),
        (status = 404, description = "No logged request with this id in the org", body = ErrorBody),
        (status = 409, description = "The request never reached a webhook, or its webhook was deleted", body = ErrorBody),
    ),
)]
pub(crate) async fn replay(
    State(state): State<AppState>,
    auth: OrgAuth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let original = state
        .store
        .get_request(&auth.org.id, &id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found("No logged request with this id"))?;
    let webhook_id = original.webhook_id.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "This request never reached a webhook; there is nothing to replay",
        )
    })?;
    let webhook = state
        .store
        .get_incoming_webhook(&auth.org.id, &webhook_id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "The request's webhook was deleted",
            )
        })?;
    let method = Method::from_bytes(original.method.as_bytes()).unwrap_or(Method::POST);
    let received = Received {
        request_id: secrets::new_id(),
        received_at: state.clock.now(),
        started: Instant::now(),
        method,
        path: original.path.clone(),
        query: original.query.clone(),
        headers: original.headers.clone(),
        body: Bytes::from(original.body.clone()),
        body_truncated: original.body_truncated,
    };
    let who = Some((&webhook, &auth.org));
    match run_pipeline(&state, &webhook, &auth.org, &received, json!(original.id)).await {
        Ok(outcome) => {
            let mut http = answer(&outcome);
            if let Ok(value) = HeaderValue::from_str(&received.request_id) {
                http.headers_mut()
                    .insert(HeaderName::from_static("x-replay-request-id"), value);
            }
            Ok(http)
        }
        Err(error) => Ok(refuse(&state, &received, who, error, Vec::new()).await),
    }
}
