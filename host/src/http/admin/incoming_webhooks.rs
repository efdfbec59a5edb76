//! `/api/v1/webhooks/incoming` (SPEC §7, §9): an org's incoming webhooks: create (the `auth_key`
//! and the full `url` shown once), list, get, update, delete, and key rotation.
//!
//! The key is stored only as its SHA-256, so reads cannot show it: there `url` is the bare
//! endpoint (`https://host/update-revenue`), to which the sender adds `?moja_auth_key=<key>`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use moja_core::rate_limit::{Period, RateLimit};
use moja_core::secrets::{self, SecretKind};
use moja_store::{IncomingWebhook, MatchPolicy, WebhookKind};
use serde::Serialize;

use super::input::{Body, missing};
use super::{ApiResult, deleted, found, now, store_failed};
use crate::app::AppState;
use crate::http::{Created, List, OrgAuth};
use crate::plugins::{PluginKey, PluginWorld, standard};

const DAY: i64 = 86_400;
/// `lifespan_seconds` bounds: one minute to 30 days.
const LIFESPAN: std::ops::RangeInclusive<i64> = 60..=30 * DAY;
/// The highest rate limit accepted per period.
const MAX_RATE_LIMIT: u32 = 1_000_000;
/// The most campaigns one webhook may be scoped to.
const MAX_CAMPAIGNS: usize = 100;

/// The incoming webhook routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks/incoming", get(list).post(create))
        .route(
            "/api/v1/webhooks/incoming/{id}",
            get(show).patch(update).delete(remove),
        )
        .route("/api/v1/webhooks/incoming/{id}/rotate-key", post(rotate))
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
#[derive(Serialize)]
struct WebhookView {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: WebhookKind,
    campaign_ids: Vec<String>,
    lookback_seconds: i64,
    /// `null` when the lookback is not a whole number of days (`lifespan_seconds` was given).
    lookback_days: Option<i64>,
    match_policy: MatchPolicy,
    rate_limit: RateLimit,
    normalizer: String,
    mapper: String,
    plugin_config: serde_json::Map<String, serde_json::Value>,
    enabled: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_key: Option<String>,
}

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
        normalizer: w.normalizer,
        mapper: w.mapper,
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

fn kind(body: &Body) -> ApiResult<Option<WebhookKind>> {
    let Some(text) = body.string("type")? else {
        return Ok(None);
    };
    WebhookKind::parse(&text).map(Some).ok_or_else(|| {
        body.invalid(
            "type",
            "expected call_data, update_revenue, update_tags or update_fields",
        )
    })
}

/// The lookback in seconds, from `lookback_days` (bounded by kind) or `lifespan_seconds`.
fn lookback(body: &Body, kind: WebhookKind) -> ApiResult<Option<i64>> {
    match (body.has("lookback_days"), body.has("lifespan_seconds")) {
        (true, true) => Err(body.invalid(
            "lifespan_seconds",
            "give either lookback_days or lifespan_seconds, not both",
        )),
        (true, false) => {
            let days = body.int("lookback_days", 1..=max_lookback_days(kind))?;
            Ok(days.map(|d| d * DAY))
        }
        (false, _) => body.int("lifespan_seconds", LIFESPAN),
    }
}

fn match_policy(body: &Body) -> ApiResult<Option<MatchPolicy>> {
    match body.string("match_policy")?.as_deref() {
        None => Ok(None),
        Some("all") => Ok(Some(MatchPolicy::All)),
        Some("most_recent") => Ok(Some(MatchPolicy::MostRecent)),
        Some(_) => Err(body.invalid("match_policy", "expected all or most_recent")),
    }
}

/// `rate_limit: {limit, period}`; a member left out keeps its current value.
fn rate_limit(body: &Body, current: RateLimit) -> ApiResult<RateLimit> {
    let Some(given) = body.object("rate_limit")? else {
        return Ok(current);
    };
    let limit = match given.int("limit", 1..=i64::from(MAX_RATE_LIMIT))? {
        Some(n) => u32::try_from(n).unwrap_or(MAX_RATE_LIMIT),
        None => current.limit,
    };
    let period = match given.string("period")? {
        Some(text) => text
            .parse::<Period>()
            .map_err(|e| given.invalid("period", &e.to_string()))?,
        None => current.period,
    };
    Ok(RateLimit { limit, period })
}

/// A plugin name, which must name a loaded plugin of `world`.
fn plugin(
    state: &AppState,
    body: &Body,
    field: &str,
    world: PluginWorld,
) -> ApiResult<Option<String>> {
    let Some(name) = body.string(field)? else {
        return Ok(None);
    };
    match state.plugins.get(&PluginKey::platform(&name)) {
        Some(loaded) if loaded.world == world => Ok(Some(name)),
        Some(loaded) => Err(body.invalid(
            field,
            &format!("plugin {name:?} is a {}, not a {world}", loaded.world),
        )),
        None => Err(body.invalid(field, &format!("no plugin named {name:?} is loaded"))),
    }
}

/// `campaign_ids`, deduplicated in order; each must be a campaign of the org.
async fn campaign_ids(
    state: &AppState,
    org_id: &str,
    body: &Body,
) -> ApiResult<Option<Vec<String>>> {
    let Some(ids) = body.strings("campaign_ids")? else {
        return Ok(None);
    };
    if ids.len() > MAX_CAMPAIGNS {
        return Err(body.invalid(
            "campaign_ids",
            &format!("at most {MAX_CAMPAIGNS} campaigns"),
        ));
    }
    let known = state
        .store
        .list_campaigns(org_id)
        .await
        .map_err(store_failed)?;
    let mut unique: Vec<String> = Vec::with_capacity(ids.len());
    for (i, id) in ids.into_iter().enumerate() {
        if !known.iter().any(|c| c.id == id) {
            // The id is not echoed: it may be anything, of any length.
            return Err(body.invalid(
                "campaign_ids",
                &format!("campaign_ids[{i}] is not a campaign of this organization"),
            ));
        }
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    Ok(Some(unique))
}

/// Applies the fields `body` gives to `webhook` (create and PATCH alike).
async fn apply(state: &AppState, body: &Body, webhook: &mut IncomingWebhook) -> ApiResult<()> {
    if let Some(name) = body.string("name")? {
        webhook.name = name;
    }
    if let Some(seconds) = lookback(body, webhook.kind)? {
        webhook.lookback_seconds = seconds;
    }
    if let Some(policy) = match_policy(body)? {
        webhook.match_policy = policy;
    }
    webhook.rate_limit = rate_limit(body, webhook.rate_limit)?;
    if let Some(name) = plugin(state, body, "normalizer", PluginWorld::Normalizer)? {
        webhook.normalizer = name;
    }
    if let Some(name) = plugin(state, body, "mapper", PluginWorld::Mapper)? {
        webhook.mapper = name;
    }
    if let Some(config) = body.object("plugin_config")? {
        webhook.plugin_config = config.string_pairs()?;
    }
    if let Some(enabled) = body.bool("enabled")? {
        webhook.enabled = enabled;
    }
    if let Some(ids) = campaign_ids(state, &webhook.org_id, body).await? {
        webhook.campaign_ids = ids;
    }
    Ok(())
}

/// Only `type` is required; `name` defaults to the type's name.
async fn create(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    body: Body,
) -> ApiResult<Created<WebhookView>> {
    let kind = kind(&body)?.ok_or_else(|| missing("type"))?;
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
        normalizer: standard::NORMALIZER.to_owned(),
        mapper: standard::MAPPER.to_owned(),
        plugin_config: Vec::new(),
        enabled: true,
        created_at: now,
        updated_at: now,
    };
    apply(&state, &body, &mut webhook).await?;
    let (key, hash) = new_key();
    state
        .store
        .create_incoming_webhook(webhook.clone(), &hash)
        .await
        .map_err(store_failed)?;
    Ok(Created(view(&state, webhook, Some(key))))
}

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

/// Any field but `type`, which would change what the key's senders mean (repeating the same
/// type is accepted).
async fn update(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Json<WebhookView>> {
    let mut webhook = found(
        state.store.get_incoming_webhook(&org.id, &id).await,
        "Incoming webhook",
    )?;
    if kind(&body)?.is_some_and(|k| k != webhook.kind) {
        return Err(body.invalid(
            "type",
            "cannot be changed: create a webhook of the other type instead",
        ));
    }
    apply(&state, &body, &mut webhook).await?;
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
