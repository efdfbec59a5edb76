//! The tenant and operator admin API routes (orgs, API keys, campaigns, custom tags, incoming
//! webhooks, the incoming request log, outgoing webhooks and their log, event types), and what
//! their handlers share: typed bodies and query strings whose errors name the field (`input`,
//! `fields`), campaign scopes, plugin names, and turning store answers into 404s and 500s.

mod api_keys;
mod campaigns;
mod custom_tags;
mod event_types;
mod fields;
mod incoming_webhooks;
mod input;
mod orgs;
mod outgoing_requests;
mod outgoing_webhooks;
mod requests;

use axum::http::StatusCode;
use jiff::Timestamp;
use moja_store::{PluginRef, StoreError};
use utoipa_axum::router::OpenApiRouter;

use self::input::invalid;
use super::ApiError;
use crate::plugins::PluginWorld;
use crate::state::AppState;

pub(crate) use self::input::Params;

/// What admin handlers answer.
type ApiResult<T> = Result<T, ApiError>;

/// The admin routes, each listed once with its `#[utoipa::path]`: the router serves them and
/// `/openapi.json` documents them (a new admin handler goes into its module's `routes()`).
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(orgs::routes())
        .merge(api_keys::routes())
        .merge(campaigns::routes())
        .merge(custom_tags::routes())
        // The request log's static `/requests` segment wins over the webhooks' `{id}` in matchit.
        .merge(requests::routes())
        .merge(incoming_webhooks::routes())
        .merge(event_types::routes())
        // As above: `/outgoing/requests` before `/outgoing/{id}`.
        .merge(outgoing_requests::routes())
        .merge(outgoing_webhooks::routes())
}

/// Now, at the store's precision (microseconds), so that what a write answers equals what a
/// later read returns.
fn now(state: &AppState) -> Timestamp {
    let now = state.clock.now();
    Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now)
}

/// A store failure the client cannot act on: a 500 that reveals nothing.
fn store_failed(error: StoreError) -> ApiError {
    ApiError::internal(error)
}

/// The org's resource, or 404 naming `what` (another org's resource is simply not found).
fn found<T>(lookup: Result<Option<T>, StoreError>, what: &str) -> ApiResult<T> {
    lookup
        .map_err(store_failed)?
        .ok_or_else(|| ApiError::not_found(format!("{what} not found")))
}

/// 204 when a delete (or revocation) touched the org's resource, 404 naming `what` otherwise.
fn deleted(done: Result<bool, StoreError>, what: &str) -> ApiResult<StatusCode> {
    if done.map_err(store_failed)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("{what} not found")))
    }
}

/// The most campaigns one webhook may be scoped to.
const MAX_CAMPAIGNS: usize = 100;

/// `campaign_ids` of a webhook body, deduplicated in order; each must be a campaign of the org.
async fn campaign_scope(
    state: &AppState,
    org_id: &str,
    ids: Option<Vec<String>>,
) -> ApiResult<Option<Vec<String>>> {
    let Some(ids) = ids else {
        return Ok(None);
    };
    if ids.len() > MAX_CAMPAIGNS {
        return Err(invalid(
            "campaign_ids",
            format!("campaign_ids: at most {MAX_CAMPAIGNS} campaigns"),
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
            return Err(invalid(
                "campaign_ids",
                format!("campaign_ids: campaign_ids[{i}] is not a campaign of this organization"),
            ));
        }
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    Ok(Some(unique))
}

/// A plugin name (the member `field` of a body), which must name a loaded plugin of `world`
/// that the org can use: the reference the webhook stores (the org's own plugin of that name,
/// else the platform's).
fn plugin(
    state: &AppState,
    org_id: &str,
    name: Option<String>,
    field: &str,
    world: PluginWorld,
) -> ApiResult<Option<PluginRef>> {
    let Some(name) = name else {
        return Ok(None);
    };
    state
        .plugins
        .resolve(org_id, &name, world)
        .map(Some)
        .map_err(|unresolved| invalid(field, format!("{field}: {unresolved}")))
}
