//! `/api/v1/api-keys` (SPEC §4): an org creates keys (the secret shown once), lists them without
//! secrets, and revokes them (a revoked key gets 401 at once).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use jiff::Timestamp;
use moja_store::ApiKey;
use serde::Serialize;

use super::input::Body;
use super::{ApiResult, deleted, now, store_failed};
use crate::app::AppState;
use crate::bootstrap::new_api_key;
use crate::http::{Created, List, OrgAuth};

/// The API key routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/api-keys", get(list).post(create))
        .route("/api/v1/api-keys/{id}", delete(revoke))
}

/// An API key as the API shows it: never the secret, except `key` right after creation.
#[derive(Serialize)]
struct KeyView {
    id: String,
    name: String,
    key_prefix: String,
    created_at: Timestamp,
    revoked_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

impl KeyView {
    fn new(key: ApiKey, secret: Option<String>) -> Self {
        Self {
            id: key.id,
            name: key.name,
            key_prefix: key.key_prefix,
            created_at: key.created_at,
            revoked_at: key.revoked_at,
            key: secret,
        }
    }
}

async fn create(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    body: Body,
) -> ApiResult<Created<KeyView>> {
    let name = body.required_string("name")?;
    let (key, secret) = new_api_key(&org.id, &name, now(&state));
    let record = key.key.clone();
    state
        .store
        .create_api_key(key)
        .await
        .map_err(store_failed)?;
    Ok(Created(KeyView::new(record, Some(secret))))
}

/// All the org's keys, revoked ones included (with `revoked_at`), oldest first.
async fn list(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
) -> ApiResult<Json<List<KeyView>>> {
    let keys = state
        .store
        .list_api_keys(&org.id)
        .await
        .map_err(store_failed)?;
    let items = keys.into_iter().map(|k| KeyView::new(k, None)).collect();
    Ok(Json(List::all(items)))
}

/// Revokes one of the org's active keys (the caller's own included: it stops working at once).
async fn revoke(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let done = state.store.revoke_api_key(&org.id, &id, now(&state)).await;
    deleted(done, "Active API key")
}
