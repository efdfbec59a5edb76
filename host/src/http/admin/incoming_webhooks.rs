//! `/api/v1/webhooks/incoming` (SPEC §7, §9): an org's incoming webhooks: create (the `auth_key`
//! and the full `url` shown once), list, get, update, delete, and key rotation.
//!
//! The key is stored only as its SHA-256, so reads cannot show it: there `url` is the bare
//! endpoint (`https://host/update-revenue`), to which the sender adds `?moja_auth_key=<key>`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use moja_core::rate_limit::{Period, RateLimit};
use moja_core::secrets::{self, SecretKind};
use moja_store::{IncomingWebhook, MatchPolicy, PluginRef, WebhookKind};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::fields;
use super::input::{Body, Check, invalid, required, within};
use super::{ApiResult, campaign_scope, deleted, found, now, plugin, store_failed};
use crate::http::error::ErrorBody;
use crate::http::{Created, List, OrgAuth};
use crate::plugins::{PluginWorld, standard};
use crate::state::AppState;

const DAY: i64 = 86_400;
/// `lifespan_seconds` bounds: one minute to 30 days.
const LIFESPAN: std::ops::RangeInclusive<i64> = 60..=30 * DAY;
/// The highest rate limit accepted per period.
const MAX_RATE_LIMIT: u32 = 1_000_000;

/// The incoming webhook routes.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
        .routes(routes!(rotate))
}

/// The longest `lookback_days` a kind accepts: call data may wait a month, updates a week.
fn max_lookback_days(kind: WebhookKind) -> i64 {
    match kind {
        WebhookKind::CallData => 30,
        _ => 7,
    }
}

fn default_lookback_days(kind: WebhookKind) -> i64 {
    match kind {
        WebhookKind::CallData => 15,
        _ => 7,
    }
}

/// Tags from a repeat caller belong on every call; revenue and fields only on the latest, so a
/// second sale never overwrites the first call's revenue (SPEC §7).
fn default_match_policy(kind: WebhookKind) -> MatchPolicy {
    match kind {
        WebhookKind::UpdateTags => MatchPolicy::All,
        _ => MatchPolicy::MostRecent,
    }
}

/// An incoming webhook as the API shows it; `auth_key` only at creation and rotation.
#[derive(Serialize, utoipa::ToSchema)]
struct WebhookView {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: WebhookKind,
    /// The campaigns whose calls it may touch; empty: all of the org's.
    campaign_ids: Vec<String>,
    /// How far back calls (or, for call data, calls after the data) are matched.
    lookback_seconds: i64,
    /// `null` when the lookback is not a whole number of days (`lifespan_seconds` was given).
    lookback_days: Option<i64>,
    match_policy: MatchPolicy,
    rate_limit: RateLimit,
    /// The normalizer plugin's name.
    normalizer: String,
    /// The mapper plugin's name.
    mapper: String,
    /// Configuration handed to the plugins.
    #[schema(value_type = HashMap<String, String>)]
    plugin_config: serde_json::Map<String, serde_json::Value>,
    /// A disabled webhook's key gets 401.
    enabled: bool,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
    /// The endpoint; with `?moja_auth_key=<key>` only at creation and rotation.
    url: String,
    /// The key (`mwk_…`), only at creation and rotation: it is stored as a hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    auth_key: Option<String>,
}

/// `rate_limit` in a request: a member left out keeps its current value (100 per minute at
/// creation).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(expecting = "an object with `limit` and `period`")]
struct RateLimitInput {
    #[serde(default, deserialize_with = "fields::whole")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1_000_000)]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "fields::word")]
    period: Option<Period>,
}

impl RateLimitInput {
    /// `current` with the members given.
    fn applied_to(self, current: RateLimit) -> RateLimit {
        RateLimit {
            // Checked to be within 1..=MAX_RATE_LIMIT.
            limit: self.limit.map_or(current.limit, |n| {
                u32::try_from(n).unwrap_or(MAX_RATE_LIMIT)
            }),
            period: self.period.unwrap_or(current.period),
        }
    }
}

/// The settings of an incoming webhook, on create and update: members left out keep their value
/// (or get their default at creation).
#[derive(Deserialize, utoipa::ToSchema)]
struct IncomingWebhookSettings {
    /// Required at creation; on update accepted only if it is the webhook's type.
    #[serde(rename = "type", default, deserialize_with = "fields::word")]
    kind: Option<WebhookKind>,
    /// 1–500 characters; default the type's name.
    #[serde(default, deserialize_with = "fields::optional_text")]
    name: Option<String>,
    /// Days to look back: 1–7 for update types (default 7), 1–30 for `call_data` (default 15).
    /// Not together with `lifespan_seconds`.
    #[serde(default, deserialize_with = "fields::whole")]
    #[schema(minimum = 1, maximum = 30)]
    lookback_days: Option<i64>,
    /// The lookback in seconds, 60 s – 30 days. Not together with `lookback_days`.
    #[serde(default, deserialize_with = "fields::whole")]
    #[schema(minimum = 60, maximum = 2_592_000)]
    lifespan_seconds: Option<i64>,
    /// Default `all` for `update_tags`, `most_recent` otherwise.
    #[serde(default, deserialize_with = "fields::word")]
    match_policy: Option<MatchPolicy>,
    rate_limit: Option<RateLimitInput>,
    /// The name of a loaded normalizer plugin; default the standard one.
    #[serde(default, deserialize_with = "fields::optional_text")]
    normalizer: Option<String>,
    /// The name of a loaded mapper plugin; default the standard one.
    #[serde(default, deserialize_with = "fields::optional_text")]
    mapper: Option<String>,
    /// String values handed to the plugins.
    #[serde(default, deserialize_with = "fields::string_pairs")]
    #[schema(value_type = Option<HashMap<String, String>>)]
    plugin_config: Option<Vec<(String, String)>>,
    /// Default `true`.
    enabled: Option<bool>,
    /// Campaigns of the org (at most 100) whose calls it may touch; empty: all.
    #[serde(default, deserialize_with = "fields::strings")]
    campaign_ids: Option<Vec<String>>,
}

impl Check for IncomingWebhookSettings {
    fn check(&self) -> ApiResult<()> {
        if let Some(limit) = self.rate_limit.as_ref().and_then(|r| r.limit) {
            within("rate_limit.limit", limit, 1..=i64::from(MAX_RATE_LIMIT))?;
        }
        Ok(())
    }
}

impl IncomingWebhookSettings {
    /// The lookback in seconds, from `lookback_days` (bounded by kind) or `lifespan_seconds`.
    fn lookback(&self, kind: WebhookKind) -> ApiResult<Option<i64>> {
        match (self.lookback_days, self.lifespan_seconds) {
            (Some(_), Some(_)) => Err(invalid(
                "lifespan_seconds",
                "lifespan_seconds: give either lookback_days or lifespan_seconds, not both",
            )),
            (Some(days), None) => {
                within("lookback_days", days, 1..=max_lookback_days(kind)).map(|d| Some(d * DAY))
            }
            (None, seconds) => seconds
                .map(|s| within("lifespan_seconds", s, LIFESPAN))
                .transpose(),
        }
    }

    /// Applies the members given to `webhook` (create and PATCH alike).
    async fn apply(self, state: &AppState, webhook: &mut IncomingWebhook) -> ApiResult<()> {
        if let Some(seconds) = self.lookback(webhook.kind)? {
            webhook.lookback_seconds = seconds;
        }
        if let Some(name) = self.name {
            webhook.name = name;
        }
        if let Some(policy) = self.match_policy {
            webhook.match_policy = policy;
        }
        if let Some(given) = self.rate_limit {
            webhook.rate_limit = given.applied_to(webhook.rate_limit);
        }
        if let Some(name) = plugin(
            state,
            &webhook.org_id,
            self.normalizer,
            "normalizer",
            PluginWorld::Normalizer,
        )? {
            webhook.normalizer = name;
        }
        if let Some(name) = plugin(
            state,
            &webhook.org_id,
            self.mapper,
            "mapper",
            PluginWorld::Mapper,
        )? {
            webhook.mapper = name;
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
        Ok(())
    }
}

/// The webhook id of the path.
const WEBHOOK_ID: &str = "The incoming webhook's id";

fn view(state: &AppState, w: IncomingWebhook, auth_key: Option<String>) -> WebhookView {
    let endpoint = format!("{}{}", state.settings.public_base_url, w.kind.path());
    let url = match &auth_key {
        // Keys are base62 after their prefix: nothing to percent-encode.
        Some(key) => format!("{endpoint}?moja_auth_key={key}"),
        None => endpoint,
    };
    WebhookView {
        id: w.id,
        name: w.name,
        kind: w.kind,
        campaign_ids: w.campaign_ids,
        lookback_seconds: w.lookback_seconds,
        lookback_days: (w.lookback_seconds % DAY == 0).then_some(w.lookback_seconds / DAY),
        match_policy: w.match_policy,
        rate_limit: w.rate_limit,
        normalizer: w.normalizer.name,
        mapper: w.mapper.name,
        plugin_config: w
            .plugin_config
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect(),
        enabled: w.enabled,
        created_at: w.created_at,
        updated_at: w.updated_at,
        url,
        auth_key,
    }
}

/// A new key: the secret to show once and the hash to store.
fn new_key() -> (String, String) {
    let key = secrets::generate(SecretKind::WebhookKey);
    let hash = secrets::hash(&key);
    (key, hash)
}

/// Creates an incoming webhook; its `auth_key` and full `url` are shown this once.
///
/// Only `type` is required; `name` defaults to the type's name.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/incoming",
    operation_id = "create_incoming_webhook",
    tag = "incoming-webhooks",
    request_body(
        content = IncomingWebhookSettings,
        description = "The webhook's settings; `type` is required",
    ),
    security(("org_api_key" = [])),
    responses(
        (status = 201, description = "The webhook with `auth_key` and `url`", body = WebhookView),
        (status = 400, description = "A field is missing or invalid (`field` names it)", body = ErrorBody),
    ),
)]
async fn create(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Body(body): Body<IncomingWebhookSettings>,
) -> ApiResult<Created<WebhookView>> {
    let kind = required(body.kind, "type")?;
    let now = now(&state);
    let mut webhook = IncomingWebhook {
        id: secrets::new_id(),
        org_id: org.id,
        name: kind.as_str().to_owned(),
        kind,
        campaign_ids: Vec::new(),
        lookback_seconds: default_lookback_days(kind) * DAY,
        match_policy: default_match_policy(kind),
        rate_limit: RateLimit::default(),
        normalizer: PluginRef::platform(standard::NORMALIZER),
        mapper: PluginRef::platform(standard::MAPPER),
        plugin_config: Vec::new(),
        enabled: true,
        created_at: now,
        updated_at: now,
    };
    body.apply(&state, &mut webhook).await?;
    let (key, hash) = new_key();
    state
        .store
        .create_incoming_webhook(webhook.clone(), &hash)
        .await
        .map_err(store_failed)?;
    Ok(Created(view(&state, webhook, Some(key))))
}

/// The org's incoming webhooks (no keys).
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/incoming",
    operation_id = "list_incoming_webhooks",
    tag = "incoming-webhooks",
    security(("org_api_key" = [])),
    responses((status = 200, description = "The webhooks", body = List<WebhookView>)),
)]
async fn list(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
) -> ApiResult<Json<List<WebhookView>>> {
    let webhooks = state
        .store
        .list_incoming_webhooks(&org.id)
        .await
        .map_err(store_failed)?;
    let items = webhooks
        .into_iter()
        .map(|w| view(&state, w, None))
        .collect();
    Ok(Json(List::all(items)))
}

/// One incoming webhook (no key).
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/incoming/{id}",
    operation_id = "get_incoming_webhook",
    tag = "incoming-webhooks",
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
        state.store.get_incoming_webhook(&org.id, &id).await,
        "Incoming webhook",
    )?;
    Ok(Json(view(&state, webhook, None)))
}

/// Updates an incoming webhook.
///
/// Any field but `type`, which would change what the key's senders mean (repeating the same
/// type is accepted).
#[utoipa::path(
    patch,
    path = "/api/v1/webhooks/incoming/{id}",
    operation_id = "update_incoming_webhook",
    tag = "incoming-webhooks",
    params(("id" = String, Path, description = WEBHOOK_ID)),
    request_body = IncomingWebhookSettings,
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The webhook after the change", body = WebhookView),
        (status = 400, description = "A field is invalid (`field` names it)", body = ErrorBody),
        (status = 404, description = "No such webhook in the org (`not_found`)", body = ErrorBody),
    ),
)]
async fn update(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<IncomingWebhookSettings>,
) -> ApiResult<Json<WebhookView>> {
    let mut webhook = found(
        state.store.get_incoming_webhook(&org.id, &id).await,
        "Incoming webhook",
    )?;
    if body.kind.is_some_and(|k| k != webhook.kind) {
        return Err(invalid(
            "type",
            "type: cannot be changed: create a webhook of the other type instead",
        ));
    }
    body.apply(&state, &mut webhook).await?;
    webhook.updated_at = now(&state);
    let updated = state
        .store
        .update_incoming_webhook(webhook.clone())
        .await
        .map_err(store_failed)?;
    let webhook = found(Ok(updated.then_some(webhook)), "Incoming webhook")?;
    Ok(Json(view(&state, webhook, None)))
}

/// A new key, shown once; the old one stops working with this commit.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/incoming/{id}/rotate-key",
    operation_id = "rotate_incoming_webhook_key",
    tag = "incoming-webhooks",
    params(("id" = String, Path, description = WEBHOOK_ID)),
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The webhook with its new `auth_key` and `url`", body = WebhookView),
        (status = 404, description = "No such webhook in the org (`not_found`)", body = ErrorBody),
    ),
)]
async fn rotate(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    let (key, hash) = new_key();
    let rotated = state
        .store
        .rotate_incoming_webhook_key(&org.id, &id, &hash, now(&state))
        .await
        .map_err(store_failed)?;
    let webhook = if rotated {
        state.store.get_incoming_webhook(&org.id, &id).await
    } else {
        Ok(None)
    };
    let webhook = found(webhook, "Incoming webhook")?;
    Ok(Json(view(&state, webhook, Some(key))))
}

/// Soft-deletes the webhook: its key stops working; its logged requests and calls stay.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/incoming/{id}",
    operation_id = "delete_incoming_webhook",
    tag = "incoming-webhooks",
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
        .delete_incoming_webhook(&org.id, &id, now(&state))
        .await;
    deleted(done, "Incoming webhook")
}
