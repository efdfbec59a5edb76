//! `/api/v1/webhooks/outgoing` (SPEC §8, §9): an org's outgoing webhooks: create, list, get,
//! update, delete, and a test send rendered from a sample call.
//!
//! Header templates and the signing secret are sealed before they are stored and are shown only
//! in the answer to the request that set them; reads show the header names and whether the
//! webhook signs. Templates are checked when saved by rendering them against a sample call with
//! the webhook's renderer: a template that cannot give a valid request is a 400; placeholders
//! that are not tags, or do not apply to the event, are reported as `warnings` (they render as
//! written).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use moja_core::events::EventType;
use moja_core::secrets;
use moja_core::tags;
use moja_delivery::retry::Verdict;
use moja_delivery::signing;
use moja_store::{
    AttemptRecord, BodyFormat, Delivery, DeliveryState, OutgoingWebhook, PluginRef, TagSnapshot,
};
use serde::Serialize;
use serde_json::Value;

use super::event_types::EventTypeView;
use super::input::{Body, invalid, missing};
use super::outgoing_requests::AttemptView;
use super::{ApiResult, campaign_scope, deleted, found, now, plugin, store_failed};
use crate::http::error::ErrorBody;
use crate::http::{ApiError, Created, List, OrgAuth};
use crate::outbound::{RenderFailure, render, sealed_headers, send_once};
use crate::plugins::PluginWorld;
use crate::state::AppState;

/// The standard renderer's name.
pub(crate) const STANDARD_RENDERER: &str = "render-template";
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const MAX_URL: usize = 4096;
const MAX_BODY_TEMPLATE: usize = 64 * 1024;
const MAX_HEADERS: usize = 50;
const MAX_HEADER_VALUE: usize = 8 * 1024;

/// The outgoing webhook routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks/outgoing", get(list).post(create))
        .route(
            "/api/v1/webhooks/outgoing/{id}",
            get(show).patch(update).put(update).delete(remove),
        )
        .route("/api/v1/webhooks/outgoing/{id}/test", post(test))
}

/// An outgoing webhook as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OutgoingWebhookView)]
struct WebhookView {
    id: String,
    name: String,
    /// The event it is sent for.
    #[schema(value_type = EventTypeView)]
    event_type: EventType,
    #[schema(value_type = HttpMethodView)]
    method: String,
    /// The URL template.
    url: String,
    /// The header templates, only in the answer to the request that set them.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<HashMap<String, String>>, nullable = false)]
    headers: Option<serde_json::Map<String, Value>>,
    /// The header names, in order (the templates are stored sealed).
    header_names: Vec<String>,
    /// The body template (a JSON object given as the body is kept as its text).
    body: String,
    #[schema(value_type = BodyFormatView)]
    body_format: BodyFormat,
    /// The campaigns whose calls it is sent for; empty: all of the org's.
    campaign_ids: Vec<String>,
    /// The renderer plugin's name.
    renderer: String,
    /// Configuration handed to the renderer.
    #[schema(value_type = HashMap<String, String>)]
    plugin_config: serde_json::Map<String, Value>,
    /// A disabled webhook gets no new deliveries.
    enabled: bool,
    /// Whether requests are signed (Standard Webhooks `webhook-signature`).
    signed: bool,
    /// The signing secret (`whsec_…`), only in the answer to the request that set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    secret: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
    /// Placeholders that are not tags, or do not apply to the event: they are sent as written.
    /// Only in the answer to a write, and only when there are some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

/// The HTTP method of the requests sent.
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
#[allow(
    dead_code,
    reason = "documents the methods `method` accepts in /openapi.json"
)]
enum HttpMethodView {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

/// How the rendered body is encoded.
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(
    dead_code,
    reason = "documents `moja_store::BodyFormat` in /openapi.json"
)]
enum BodyFormatView {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

/// `body` in a request: a template string, or a JSON object or array kept as its (pretty-printed)
/// text; at most 64 KiB. Placeholders are tag names in brackets (`[CALLER_ID]`).
#[derive(utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "documents what `template` reads for `body`")]
enum BodyTemplate {
    /// Template text.
    Text(String),
    /// A JSON object whose strings may hold placeholders.
    Object(HashMap<String, Value>),
    /// A JSON array whose strings may hold placeholders.
    Array(Vec<Value>),
}

/// `secret` in a request: `true` generates a secret, a `whsec_…` string sets it, `false` (or
/// `null`) removes it; a secret set is shown once, in the answer.
#[derive(utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "documents what `secret` reads")]
enum SecretInput {
    /// `true`: generate one (`whsec_` and the base64 of 32 random bytes); `false`: remove it.
    Generate(bool),
    /// A Standard Webhooks secret: `whsec_` and the base64 of the key.
    Given(String),
}

/// The settings of an outgoing webhook, on create and update; a member left out keeps its
/// value (or its default at creation). Templates are checked by rendering them against a sample
/// call: one that cannot give a valid request is a 400.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "documents the body `apply` reads field by field")]
struct OutgoingWebhookSettings {
    /// 1–500 characters; default the event type's name.
    name: Option<String>,
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`, in any case; default `POST`.
    #[schema(example = "POST")]
    method: Option<String>,
    /// Header name → value template; replaces every header. At most 50 headers, values at most
    /// 8 KiB without CR or LF. Stored sealed: reads show only `header_names`.
    headers: Option<HashMap<String, String>>,
    body: Option<BodyTemplate>,
    /// Default `json`.
    body_format: Option<BodyFormatView>,
    /// Campaigns of the org (at most 100) whose calls it is sent for; empty: all.
    campaign_ids: Option<Vec<String>>,
    /// The name of a loaded renderer plugin; default `render-template`.
    renderer: Option<String>,
    /// String values handed to the renderer.
    plugin_config: Option<HashMap<String, String>>,
    /// Default `true`.
    enabled: Option<bool>,
    /// Signing (Standard Webhooks): `true`, a `whsec_…` secret, or `false`/`null` to stop
    /// signing. Default: not signed.
    secret: Option<SecretInput>,
}

/// A new outgoing webhook.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "documents the body `create` reads field by field")]
struct CreateOutgoingWebhook {
    event_type: EventTypeView,
    /// The URL template (http or https), at most 4096 bytes; trimmed.
    url: String,
    #[serde(flatten)]
    settings: OutgoingWebhookSettings,
}

/// Changes to an outgoing webhook: members left out keep their value.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "documents the body `update` reads field by field")]
struct UpdateOutgoingWebhook {
    event_type: Option<EventTypeView>,
    /// The URL template, at most 4096 bytes; trimmed.
    url: Option<String>,
    #[serde(flatten)]
    settings: OutgoingWebhookSettings,
}

/// The optional body of a test send (an empty body is `{}`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "documents the body `test` reads field by field")]
struct TestSend {
    /// Render for this event instead of the webhook's own.
    event_type: Option<EventTypeView>,
}

/// Marks the test send's body optional: utoipa makes a body optional only for an `Option`
/// type, which would also document a `null` body (refused: the body is empty or an object).
pub(super) struct OptionalTestBody;

impl utoipa::Modify for OptionalTestBody {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let body = openapi
            .paths
            .paths
            .get_mut("/api/v1/webhooks/outgoing/{id}/test")
            .and_then(|item| item.post.as_mut())
            .and_then(|operation| operation.request_body.as_mut());
        if let Some(body) = body {
            body.required = Some(utoipa::openapi::Required::False);
        }
    }
}

/// The webhook id of the path.
const WEBHOOK_ID: &str = "The outgoing webhook's id";

/// What a write reveals once.
#[derive(Default)]
struct Revealed {
    headers: Option<Vec<(String, String)>>,
    secret: Option<String>,
    warnings: Vec<String>,
}

fn pairs_object(pairs: Vec<(String, String)>) -> serde_json::Map<String, Value> {
    pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect()
}

fn view(w: OutgoingWebhook, revealed: Revealed) -> WebhookView {
    WebhookView {
        id: w.id,
        name: w.name,
        event_type: w.event_type,
        method: w.method,
        url: w.url,
        headers: revealed.headers.map(pairs_object),
        header_names: w.header_names,
        body: w.body,
        body_format: w.body_format,
        campaign_ids: w.campaign_ids,
        renderer: w.renderer.name,
        plugin_config: pairs_object(w.plugin_config),
        enabled: w.enabled,
        signed: w.secret_sealed.is_some(),
        secret: revealed.secret,
        created_at: w.created_at,
        updated_at: w.updated_at,
        warnings: revealed.warnings,
    }
}

fn event_type(body: &Body) -> ApiResult<Option<EventType>> {
    let Some(text) = body.string("event_type")? else {
        return Ok(None);
    };
    EventType::parse(&text).map(Some).ok_or_else(|| {
        let names: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
        body.invalid(
            "event_type",
            &format!(
                "expected one of {} (see GET /api/v1/event-types)",
                names.join(", ")
            ),
        )
    })
}

/// A template field: text (or, for `body`, a JSON object or array, kept as its text).
fn template(body: &Body, field: &str, max: usize) -> ApiResult<Option<String>> {
    let text = match body.value(field) {
        None => return Ok(None),
        Some(Value::String(text)) => text.clone(),
        Some(value @ (Value::Object(_) | Value::Array(_))) if field == "body" => {
            serde_json::to_string_pretty(value).unwrap_or_default()
        }
        Some(_) if field == "body" => {
            return Err(body.invalid(field, "expected a template string or a JSON object"));
        }
        Some(_) => return Err(body.invalid(field, "expected a string")),
    };
    if text.len() > max {
        return Err(body.invalid(field, &format!("at most {max} bytes")));
    }
    Ok(Some(text))
}

fn method(body: &Body) -> ApiResult<Option<String>> {
    let Some(text) = body.string("method")? else {
        return Ok(None);
    };
    let upper = text.to_ascii_uppercase();
    if METHODS.contains(&upper.as_str()) {
        Ok(Some(upper))
    } else {
        Err(body.invalid("method", "expected GET, POST, PUT, PATCH or DELETE"))
    }
}

fn headers(body: &Body) -> ApiResult<Option<Vec<(String, String)>>> {
    let Some(given) = body.object("headers")? else {
        return Ok(None);
    };
    let pairs = given.string_pairs()?;
    if pairs.len() > MAX_HEADERS {
        return Err(body.invalid("headers", &format!("at most {MAX_HEADERS} headers")));
    }
    for (name, value) in &pairs {
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return Err(invalid(
                "headers",
                format!("headers: {name:?} is not a valid HTTP header name"),
            ));
        }
        if value.len() > MAX_HEADER_VALUE {
            return Err(given.invalid(name, &format!("at most {MAX_HEADER_VALUE} bytes")));
        }
        if value.contains(['\r', '\n']) {
            return Err(given.invalid(name, "a header value cannot contain CR or LF"));
        }
    }
    Ok(Some(pairs))
}

fn body_format(body: &Body) -> ApiResult<Option<BodyFormat>> {
    match body.string("body_format")? {
        None => Ok(None),
        Some(text) => BodyFormat::parse(&text)
            .map(Some)
            .ok_or_else(|| body.invalid("body_format", "expected json or form")),
    }
}

/// `secret`: `true` generates one, a `whsec_…` string sets it, `null` or `false` removes it.
/// Returns the new secret, `Some(None)` for removal.
fn secret(body: &Body) -> ApiResult<Option<Option<String>>> {
    match body.nullable("secret", |b, f| Ok(b.value(f).cloned()))? {
        None => Ok(None),
        Some(None) | Some(Some(Value::Bool(false))) => Ok(Some(None)),
        Some(Some(Value::Bool(true))) => Ok(Some(Some(signing::generate_secret()))),
        Some(Some(Value::String(text))) => match signing::parse_secret(&text) {
            Ok(_) => Ok(Some(Some(text))),
            Err(e) => Err(body.invalid("secret", &format!("{e}; give true to have one generated"))),
        },
        Some(Some(_)) => Err(body.invalid(
            "secret",
            "expected a whsec_… secret, true to generate one, or null to remove it",
        )),
    }
}

/// The placeholder names of a template, in order, once each.
fn placeholders(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        let name = &rest[..close];
        let valid = name.starts_with(|c: char| c.is_ascii_uppercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if valid && !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// The sample tag context of `event` for an org: the sample call's tags, plus the org's custom
/// tags (with a sample value) so that they count as known.
async fn sample_tags(state: &AppState, org_id: &str, event: EventType) -> ApiResult<TagSnapshot> {
    let now = state.clock.now();
    let (mut call, campaign) = tags::sample_call(org_id, now);
    for custom in state
        .store
        .list_custom_tags(org_id)
        .await
        .map_err(store_failed)?
    {
        if call.tag(&custom.key).is_none() {
            call.set_tag(&custom.key, "sample");
        }
    }
    Ok(tags::tag_values(&call, Some(&campaign), event, now))
}

/// Renders the webhook against a sample call: a 400 naming the template at fault when it
/// cannot give a valid request; warnings for placeholders that will stay as written.
async fn check(
    state: &AppState,
    webhook: &OutgoingWebhook,
    header_templates: &[(String, String)],
) -> ApiResult<Vec<String>> {
    let sample = sample_tags(state, &webhook.org_id, webhook.event_type).await?;
    let rendered = render::render(
        &state.plugins,
        webhook,
        header_templates.to_vec(),
        webhook.event_type,
        &sample,
    )
    .await;
    match rendered {
        Ok(_) => {}
        Err(RenderFailure::Template(message)) => {
            let field = ["url", "headers", "body"]
                .into_iter()
                .find(|f| message.contains(&format!("({f}")))
                .unwrap_or("body");
            return Err(invalid(
                field,
                format!(
                    "{field}: the template does not give a valid request with sample values: {message}"
                ),
            ));
        }
        Err(other) => return Err(ApiError::internal(other)),
    }
    let mut warnings = Vec::new();
    let mut texts: Vec<&str> = vec![&webhook.url, &webhook.body];
    texts.extend(header_templates.iter().map(|(_, v)| v.as_str()));
    let mut seen: Vec<String> = Vec::new();
    for name in texts.into_iter().flat_map(placeholders) {
        if seen.contains(&name) {
            continue;
        }
        match sample.iter().find(|(tag, _)| *tag == name) {
            None => warnings.push(format!(
                "[{name}] is not a built-in or custom tag: it will be sent as written"
            )),
            Some((_, None)) => warnings.push(format!(
                "[{name}] does not apply to {}: it will be sent as written",
                webhook.event_type
            )),
            Some(_) => {}
        }
        seen.push(name);
    }
    Ok(warnings)
}

/// Applies what `body` gives (create and update alike); returns the newly set header templates
/// and secret, to show once.
async fn apply(
    state: &AppState,
    body: &Body,
    webhook: &mut OutgoingWebhook,
    header_templates: &mut Vec<(String, String)>,
) -> ApiResult<Revealed> {
    let mut revealed = Revealed::default();
    if let Some(name) = body.string("name")? {
        webhook.name = name;
    }
    if let Some(event) = event_type(body)? {
        webhook.event_type = event;
    }
    if let Some(method) = method(body)? {
        webhook.method = method;
    }
    if let Some(url) = template(body, "url", MAX_URL)? {
        webhook.url = url.trim().to_owned();
    }
    if let Some(text) = template(body, "body", MAX_BODY_TEMPLATE)? {
        webhook.body = text;
    }
    if let Some(format) = body_format(body)? {
        webhook.body_format = format;
    }
    if let Some(given) = headers(body)? {
        webhook.header_names = given.iter().map(|(n, _)| n.clone()).collect();
        webhook.headers_sealed = sealed_headers(&state.outbound.sealing, &given);
        *header_templates = given.clone();
        revealed.headers = Some(given);
    }
    if let Some(name) = plugin(
        state,
        &webhook.org_id,
        body,
        "renderer",
        PluginWorld::Renderer,
    )? {
        webhook.renderer = name;
    }
    if let Some(config) = body.object("plugin_config")? {
        webhook.plugin_config = config.string_pairs()?;
    }
    if let Some(enabled) = body.bool("enabled")? {
        webhook.enabled = enabled;
    }
    if let Some(ids) = campaign_scope(state, &webhook.org_id, body).await? {
        webhook.campaign_ids = ids;
    }
    if let Some(secret) = secret(body)? {
        webhook.secret_sealed = secret.as_deref().map(|s| state.outbound.sealing.seal(s));
        revealed.secret = secret;
    }
    if webhook.url.is_empty() {
        return Err(missing("url"));
    }
    revealed.warnings = check(state, webhook, header_templates).await?;
    Ok(revealed)
}

/// Creates an outgoing webhook; its header templates and secret are shown this once.
///
/// `event_type` and `url` are required; `method` defaults to POST, `body_format` to json,
/// `name` to the event type.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/outgoing",
    operation_id = "create_outgoing_webhook",
    tag = "outgoing-webhooks",
    request_body = CreateOutgoingWebhook,
    security(("org_api_key" = [])),
    responses(
        (status = 201, description = "The webhook, with `headers`, `secret` and `warnings` when set", body = WebhookView),
        (status = 400, description = "A field is missing or invalid, or a template does not give a valid request with sample values (`field` names it)", body = ErrorBody),
    ),
)]
async fn create(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    body: Body,
) -> ApiResult<Created<WebhookView>> {
    let event = event_type(&body)?.ok_or_else(|| missing("event_type"))?;
    if !body.has("url") {
        return Err(missing("url"));
    }
    let now = now(&state);
    let mut header_templates = Vec::new();
    let mut webhook = OutgoingWebhook {
        id: secrets::new_id(),
        org_id: org.id,
        name: event.as_str().to_owned(),
        event_type: event,
        method: "POST".into(),
        url: String::new(),
        headers_sealed: sealed_headers(&state.outbound.sealing, &[]),
        header_names: Vec::new(),
        body: String::new(),
        body_format: BodyFormat::Json,
        campaign_ids: Vec::new(),
        renderer: PluginRef::platform(STANDARD_RENDERER),
        plugin_config: Vec::new(),
        enabled: true,
        secret_sealed: None,
        created_at: now,
        updated_at: now,
    };
    let revealed = apply(&state, &body, &mut webhook, &mut header_templates).await?;
    state
        .store
        .create_outgoing_webhook(webhook.clone())
        .await
        .map_err(store_failed)?;
    Ok(Created(view(webhook, revealed)))
}

/// The org's outgoing webhooks (header names, not templates; no secrets).
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/outgoing",
    operation_id = "list_outgoing_webhooks",
    tag = "outgoing-webhooks",
    security(("org_api_key" = [])),
    responses((status = 200, description = "The webhooks", body = List<WebhookView>)),
)]
async fn list(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
) -> ApiResult<Json<List<WebhookView>>> {
    let webhooks = state
        .store
        .list_outgoing_webhooks(&org.id)
        .await
        .map_err(store_failed)?;
    Ok(Json(List::all(
        webhooks
            .into_iter()
            .map(|w| view(w, Revealed::default()))
            .collect(),
    )))
}

/// One outgoing webhook (header names, not templates; no secret).
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/outgoing/{id}",
    operation_id = "get_outgoing_webhook",
    tag = "outgoing-webhooks",
    params(("id" = String, Path, description = WEBHOOK_ID)),
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The webhook", body = WebhookView),
        (status = 404, description = "No such webhook in the org (`not_found`)", body = ErrorBody),
    ),
)]
async fn show(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    let webhook = found(
        state.store.get_outgoing_webhook(&org.id, &id).await,
        "Outgoing webhook",
    )?;
    Ok(Json(view(webhook, Revealed::default())))
}

/// Updates an outgoing webhook (PATCH; PUT is the same).
///
/// Any field; the templates are checked again as a whole.
#[utoipa::path(
    patch,
    path = "/api/v1/webhooks/outgoing/{id}",
    operation_id = "update_outgoing_webhook",
    tag = "outgoing-webhooks",
    params(("id" = String, Path, description = WEBHOOK_ID)),
    request_body = UpdateOutgoingWebhook,
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The webhook after the change, with `headers`, `secret` and `warnings` when set", body = WebhookView),
        (status = 400, description = "A field is invalid, or a template does not give a valid request with sample values (`field` names it)", body = ErrorBody),
        (status = 404, description = "No such webhook in the org (`not_found`)", body = ErrorBody),
    ),
)]
async fn update(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Json<WebhookView>> {
    let mut webhook = found(
        state.store.get_outgoing_webhook(&org.id, &id).await,
        "Outgoing webhook",
    )?;
    let mut header_templates =
        crate::outbound::unseal_headers(&state.outbound.sealing, &webhook.headers_sealed)
            .map_err(|e| invalid("headers", format!("headers: {e}")))?;
    let revealed = apply(&state, &body, &mut webhook, &mut header_templates).await?;
    webhook.updated_at = now(&state);
    let updated = state
        .store
        .update_outgoing_webhook(webhook.clone())
        .await
        .map_err(store_failed)?;
    let webhook = found(Ok(updated.then_some(webhook)), "Outgoing webhook")?;
    Ok(Json(view(webhook, revealed)))
}

/// Updates an outgoing webhook: the same as PATCH (members left out keep their value).
#[utoipa::path(
    put,
    path = "/api/v1/webhooks/outgoing/{id}",
    operation_id = "put_outgoing_webhook",
    tag = "outgoing-webhooks",
    params(("id" = String, Path, description = WEBHOOK_ID)),
    request_body = UpdateOutgoingWebhook,
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The webhook after the change, with `headers`, `secret` and `warnings` when set", body = WebhookView),
        (status = 400, description = "A field is invalid, or a template does not give a valid request with sample values (`field` names it)", body = ErrorBody),
        (status = 404, description = "No such webhook in the org (`not_found`)", body = ErrorBody),
    ),
)]
#[allow(
    dead_code,
    reason = "documents PUT in /openapi.json, which the router serves with `update`"
)]
fn update_put() {}

/// Deletes the webhook: its pending deliveries fail; its log stays.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/outgoing/{id}",
    operation_id = "delete_outgoing_webhook",
    tag = "outgoing-webhooks",
    params(("id" = String, Path, description = WEBHOOK_ID)),
    security(("org_api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such webhook in the org (`not_found`)", body = ErrorBody),
    ),
)]
async fn remove(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let done = state
        .store
        .delete_outgoing_webhook(&org.id, &id, now(&state))
        .await;
    deleted(done, "Outgoing webhook")
}

/// The answer to a test send.
#[derive(Serialize, utoipa::ToSchema)]
struct TestResult {
    /// The test delivery's id (also its `webhook-id` header).
    delivery_id: String,
    /// Whether a 2xx came back.
    success: bool,
    /// The attempt, also in the outgoing request log.
    #[schema(value_type = AttemptView)]
    attempt: AttemptRecord,
}

/// Sends the webhook once, rendered from a sample call (optionally for another `event_type`),
/// through the same guard and logging as real deliveries.
///
/// The body is optional. The test delivery is never retried nor resent.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/outgoing/{id}/test",
    operation_id = "test_outgoing_webhook",
    tag = "outgoing-webhooks",
    params(("id" = String, Path, description = WEBHOOK_ID)),
    request_body(
        content = TestSend,
        description = "Optional: an empty body sends the webhook's own event",
    ),
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "Sent (see `success`: a failed send is still a 200)", body = TestResult),
        (status = 400, description = "The body is not a JSON object (`invalid_json`), or `event_type` is invalid (`invalid_parameter`)", body = ErrorBody),
        (status = 404, description = "No such webhook in the org (`not_found`)", body = ErrorBody),
    ),
)]
async fn test(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> ApiResult<Json<TestResult>> {
    let body = Body::optional(&raw)?;
    let webhook = found(
        state.store.get_outgoing_webhook(&org.id, &id).await,
        "Outgoing webhook",
    )?;
    let event = event_type(&body)?.unwrap_or(webhook.event_type);
    let sample = sample_tags(&state, &org.id, event).await?;
    let delivery_id = secrets::new_id();
    let now = now(&state);
    let result = send_once(
        &state.outbound,
        &state.plugins,
        crate::outbound::AttemptInput {
            webhook: &webhook,
            delivery_id: &delivery_id,
            attempt: 1,
            event_type: event,
            call_id: None,
            tags: &sample,
            now,
        },
    )
    .await;
    let success = matches!(result.verdict, Verdict::Success);
    let mut attempt = result.record;
    attempt.outcome = if success { "succeeded" } else { "failed" }.into();
    crate::metrics::delivery_attempt(&attempt.outcome, attempt.latency_us as f64 / 1e6);
    let delivery = Delivery {
        id: delivery_id.clone(),
        org_id: org.id,
        webhook_id: webhook.id,
        event_id: None,
        call_id: None,
        event_type: event,
        state: if success {
            DeliveryState::Succeeded
        } else {
            DeliveryState::Failed
        },
        attempts: 1,
        retries_used: 0,
        next_attempt_at: None,
        created_at: now,
        updated_at: now,
        last_status: attempt.response_status,
        last_error: attempt.error.clone(),
    };
    state
        .store
        .record_test_attempt(delivery, attempt.clone())
        .await
        .map_err(store_failed)?;
    Ok(Json(TestResult {
        delivery_id,
        success,
        attempt,
    }))
}
