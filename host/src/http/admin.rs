//! The tenant and operator admin API routes (orgs, API keys, campaigns, custom tags, incoming
//! webhooks, the incoming request log), and what their handlers share: reading bodies field by
//! field (`input`) and turning store answers into 404s and 500s.

mod api_keys;
mod campaigns;
mod custom_tags;
mod incoming_webhooks;
mod input;
mod orgs;
mod requests;

use axum::Router;
use axum::http::StatusCode;
use jiff::Timestamp;
use moja_store::StoreError;

use super::ApiError;
use crate::app::AppState;

/// What admin handlers answer.
type ApiResult<T> = Result<T, ApiError>;

/// The admin routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(orgs::routes())
        .merge(api_keys::routes())
        .merge(campaigns::routes())
        .merge(custom_tags::routes())
        // The request log's static `/requests` segment wins over the webhooks' `{id}` in matchit.
        .merge(requests::routes())
        .merge(incoming_webhooks::routes())
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
