//! `/api/v1/webhooks/outgoing` (SPEC §8, §9): an org's outgoing webhooks: create, list, get,
//! update, delete, and a test send rendered from a sample call.
//!
//! Header templates and the signing secret are sealed before they are stored and are shown only
//! in the answer to the request that set them; reads show the header names and whether the
//! webhook signs. Templates are checked when saved by rendering them against a sample call with
//! the webhook's renderer: a template that cannot give a valid request is a 400; placeholders
//! that are not tags, or do not apply to the event, are reported as `warnings` (they render as
//! written).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use moja_core::events::EventType;
use moja_core::secrets;
use moja_core::tags;
use moja_delivery::retry::Verdict;
use moja_delivery::signing;
use moja_store::{
    AttemptRecord, BodyFormat, Delivery, DeliveryState, OutgoingWebhook, PluginRef, TagSnapshot,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::fields::{self, Word};
use super::input::{Body, Check, OptionalBody, invalid, missing, required};
use super::{ApiResult, campaign_scope, deleted, found, now, plugin, store_failed};
use crate::http::error::ErrorBody;
use crate::http::{ApiError, Created, List, OrgAuth};
use crate::outbound::{RenderFailure, render, sealed_headers, send_once};
use crate::plugins::PluginWorld;
use crate::state::AppState;

/// The standard renderer's name.
pub(crate) const STANDARD_RENDERER: &str = "render-template";
const MAX_URL: usize = 4096;
const MAX_BODY_TEMPLATE: usize = 64 * 1024;
const MAX_HEADERS: usize = 50;
const MAX_HEADER_VALUE: usize = 8 * 1024;

/// The outgoing webhook routes.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    let mut routes = OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, update_put, remove))
        .routes(routes!(test));
    test_body_optional(routes.get_openapi_mut());
    routes
}

/// An outgoing webhook as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OutgoingWebhookView)]
struct WebhookView {
    id: String,
    name: String,
    /// The event it is sent for.
    event_type: EventType,
    #[schema(value_type = HttpMethod)]
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
#[derive(Debug, Clone, Copy, utoipa::ToSchema)]
#[schema(as = HttpMethodView)]
// The names of the schema: [`HttpMethod::as_str`].
#[serde(rename_all = "UPPERCASE")]
enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    const ALL: [HttpMethod; 5] = [
        HttpMethod::Get,
        HttpMethod::Post,
        HttpMethod::Put,
        HttpMethod::Patch,
        HttpMethod::Delete,
    ];

    /// The method as sent (`POST`).
    fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }
}

impl Word for HttpMethod {
    /// In any case (`post` is `POST`).
    fn from_word(text: &str) -> Result<Self, String> {
        HttpMethod::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| "expected GET, POST, PUT, PATCH or DELETE".to_owned())
    }
}

/// `body` in a request: a template string, or a JSON object or array kept as its (pretty-printed)
/// text; at most 64 KiB. Placeholders are tag names in brackets (`[CALLER_ID]`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged, expecting = "expected a template string or a JSON object")]
enum BodyTemplate {
    /// Template text.
    Text(String),
    /// A JSON object whose strings may hold placeholders.
    Object(serde_json::Map<String, Value>),
    /// A JSON array whose strings may hold placeholders.
    Array(Vec<Value>),
}

impl BodyTemplate {
    /// The template's text: an object or array as pretty-printed JSON.
    fn into_text(self) -> String {
        match self {
            BodyTemplate::Text(text) => text,
            BodyTemplate::Object(object) => {
                serde_json::to_string_pretty(&object).unwrap_or_default()
            }
            BodyTemplate::Array(items) => serde_json::to_string_pretty(&items).unwrap_or_default(),
        }
    }
}

/// `secret` in a request: `true` generates a secret, a `whsec_…` string sets it, `false` (or
/// `null`) removes it; a secret set is shown once, in the answer.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(
    untagged,
    expecting = "expected a whsec_… secret, true to generate one, or null to remove it"
)]
enum SecretInput {
    /// `true`: generate one (`whsec_` and the base64 of 32 random bytes); `false`: remove it.
    Generate(bool),
    /// A Standard Webhooks secret: `whsec_` and the base64 of the key.
    Given(String),
}

/// The settings of an outgoing webhook, on create and update; a member left out keeps its
/// value (or its default at creation). Templates are checked by rendering them against a sample
/// call: one that cannot give a valid request is a 400.
#[derive(Deserialize, utoipa::ToSchema)]
struct OutgoingWebhookSettings {
    /// The event it is sent for; required at creation.
    #[serde(default, deserialize_with = "fields::word")]
    event_type: Option<EventType>,
    /// The URL template (http or https), at most 4096 bytes; trimmed. Required at creation.
    url: Option<String>,
    /// 1–500 characters; default the event type's name.
    #[serde(default, deserialize_with = "fields::optional_text")]
    name: Option<String>,
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`, in any case; default `POST`.
    #[serde(default, deserialize_with = "fields::word")]
    method: Option<HttpMethod>,
    /// Header name → value template; replaces every header. At most 50 headers, values at most
    /// 8 KiB without CR or LF. Stored sealed: reads show only `header_names`.
    #[serde(default, deserialize_with = "fields::string_pairs")]
    #[schema(value_type = Option<HashMap<String, String>>)]
    headers: Option<Vec<(String, String)>>,
    body: Option<BodyTemplate>,
    /// Default `json`.
    #[serde(default, deserialize_with = "fields::word")]
    body_format: Option<BodyFormat>,
    /// Campaigns of the org (at most 100) whose calls it is sent for; empty: all.
    #[serde(default, deserialize_with = "fields::strings")]
    campaign_ids: Option<Vec<String>>,
    /// The name of a loaded renderer plugin; default `render-template`.
    #[serde(default, deserialize_with = "fields::optional_text")]
    renderer: Option<String>,
    /// String values handed to the renderer.
    #[serde(default, deserialize_with = "fields::string_pairs")]
    #[schema(value_type = Option<HashMap<String, String>>)]
    plugin_config: Option<Vec<(String, String)>>,
    /// Default `true`.
    enabled: Option<bool>,
    /// Signing (Standard Webhooks): `true`, a `whsec_…` secret, or `false`/`null` to stop
    /// signing. Default: not signed.
    #[serde(default, deserialize_with = "fields::nullable")]
    #[schema(value_type = Option<SecretInput>)]
    secret: Option<Option<SecretInput>>,
}

impl Check for OutgoingWebhookSettings {
    fn check(&self) -> ApiResult<()> {
        if let Some(pairs) = &self.headers {
            check_headers(pairs)?;
        }
        if let Some(Some(SecretInput::Given(text))) = &self.secret {
            signing::parse_secret(text).map_err(|e| {
                invalid(
                    "secret",
                    format!("secret: {e}; give true to have one generated"),
                )
            })?;
        }
        Ok(())
    }
}

/// The optional body of a test send (an empty body is `{}`).
#[derive(Default, Deserialize, utoipa::ToSchema)]
struct TestSend {
    /// Render for this event instead of the webhook's own.
    #[serde(default, deserialize_with = "fields::word")]
    event_type: Option<EventType>,
}

impl Check for TestSend {}

/// Marks the test send's body optional: utoipa makes a body optional only for an `Option`
/// type, which would also document a `null` body (refused: the body is empty or an object).
fn test_body_optional(openapi: &mut utoipa::openapi::OpenApi) {
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

/// A template's text, at most `max` bytes.
fn template(field: &str, text: String, max: usize) -> ApiResult<String> {
    if text.len() > max {
        return Err(invalid(field, format!("{field}: at most {max} bytes")));
    }
    Ok(text)
}

/// The rules of header templates: at most [`MAX_HEADERS`], valid names, bounded values without
/// CR or LF.
fn check_headers(pairs: &[(String, String)]) -> ApiResult<()> {
    if pairs.len() > MAX_HEADERS {
        return Err(invalid(
            "headers",
            format!("headers: at most {MAX_HEADERS} headers"),
        ));
    }
    for (name, value) in pairs {
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
        let field = format!("headers.{name}");
        if value.len() > MAX_HEADER_VALUE {
            return Err(invalid(
                &field,
                format!("{field}: at most {MAX_HEADER_VALUE} bytes"),
            ));
        }
        if value.contains(['\r', '\n']) {
            return Err(invalid(
                &field,
                format!("{field}: a header value cannot contain CR or LF"),
            ));
        }
    }
    Ok(())
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

impl OutgoingWebhookSettings {
    /// Applies the members given (create and update alike), then checks the templates against a
    /// sample call; returns the newly set header templates and secret, to show once.
    async fn apply(
        self,
        state: &AppState,
        webhook: &mut OutgoingWebhook,
        header_templates: &mut Vec<(String, String)>,
    ) -> ApiResult<Revealed> {
        let mut revealed = Revealed::default();
        if let Some(name) = self.name {
            webhook.name = name;
        }
        if let Some(event) = self.event_type {
            webhook.event_type = event;
        }
        if let Some(method) = self.method {
            webhook.method = method.as_str().to_owned();
        }
        if let Some(url) = self.url {
            webhook.url = template("url", url, MAX_URL)?.trim().to_owned();
        }
        if let Some(body) = self.body {
            webhook.body = template("body", body.into_text(), MAX_BODY_TEMPLATE)?;
        }
        if let Some(format) = self.body_format {
            webhook.body_format = format;
        }
        if let Some(given) = self.headers {
            webhook.header_names = given.iter().map(|(n, _)| n.clone()).collect();
            webhook.headers_sealed = sealed_headers(&state.outbound.sealing, &given);
            *header_templates = given.clone();
            revealed.headers = Some(given);
        }
        if let Some(name) = plugin(
            state,
            &webhook.org_id,
            self.renderer,
            "renderer",
            PluginWorld::Renderer,
        )? {
            webhook.renderer = name;
        }
        if let Some(config) = self.plugin_config {
            webhook.plugin_config = config;
        }
        if let Some(enabled) = self.enabled {
            webhook.enabled = enabled;
        }
        if let Some(ids) = campaign_scope(state, &webhook.org_id, self.campaign_ids).await? {
            webhook.campaign_ids = ids;
        }
        if let Some(secret) = self.secret {
            let secret = match secret {
                None | Some(SecretInput::Generate(false)) => None,
                Some(SecretInput::Generate(true)) => Some(signing::generate_secret()),
                Some(SecretInput::Given(text)) => Some(text),
            };
            webhook.secret_sealed = secret.as_deref().map(|s| state.outbound.sealing.seal(s));
            revealed.secret = secret;
        }
        if webhook.url.is_empty() {
            return Err(missing("url"));
        }
        revealed.warnings = check(state, webhook, header_templates).await?;
        Ok(revealed)
    }
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
    request_body(
        content = OutgoingWebhookSettings,
        description = "The webhook's settings; `event_type` and `url` are required",
    ),
    security(("org_api_key" = [])),
    responses(
        (status = 201, description = "The webhook, with `headers`, `secret` and `warnings` when set", body = WebhookView),
        (status = 400, description = "A field is missing or invalid, or a template does not give a valid request with sample values (`field` names it)", body = ErrorBody),
    ),
)]
async fn create(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Body(body): Body<OutgoingWebhookSettings>,
) -> ApiResult<Created<WebhookView>> {
    let event = required(body.event_type, "event_type")?;
    if body.url.is_none() {
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
    let revealed = body
        .apply(&state, &mut webhook, &mut header_templates)
        .await?;
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
    request_body = OutgoingWebhookSettings,
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
    Body(body): Body<OutgoingWebhookSettings>,
) -> ApiResult<Json<WebhookView>> {
    let mut webhook = found(
        state.store.get_outgoing_webhook(&org.id, &id).await,
        "Outgoing webhook",
    )?;
    let mut header_templates =
        crate::outbound::unseal_headers(&state.outbound.sealing, &webhook.headers_sealed)
            .map_err(|e| invalid("headers", format!("headers: {e}")))?;
    let revealed = body
        .apply(&state, &mut webhook, &mut header_templates)
        .await?;
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
    request_body = OutgoingWebhookSettings,
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The webhook after the change, with `headers`, `secret` and `warnings` when set", body = WebhookView),
        (status = 400, description = "A field is invalid, or a template does not give a valid request with sample values (`field` names it)", body = ErrorBody),
        (status = 404, description = "No such webhook in the org (`not_found`)", body = ErrorBody),
    ),
)]
async fn update_put(
    org: OrgAuth,
    state: State<AppState>,
    id: Path<String>,
    body: Body<OutgoingWebhookSettings>,
) -> ApiResult<Json<WebhookView>> {
    update(org, state, id, body).await
}

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
    OptionalBody(body): OptionalBody<TestSend>,
) -> ApiResult<Json<TestResult>> {
    let webhook = found(
        state.store.get_outgoing_webhook(&org.id, &id).await,
        "Outgoing webhook",
    )?;
    let event = body.event_type.unwrap_or(webhook.event_type);
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
