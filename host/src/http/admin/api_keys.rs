//! `/api/v1/api-keys` (SPEC §4): an org creates keys (the secret shown once), lists them without
//! secrets, and revokes them (a revoked key gets 401 at once).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use moja_store::ApiKey;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::fields;
use super::input::{Body, Check};
use super::{ApiResult, deleted, now, store_failed};
use crate::bootstrap::new_api_key;
use crate::http::error::ErrorBody;
use crate::http::{Created, List, OrgAuth};
use crate::state::AppState;

/// The API key routes.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

/// An API key as the API shows it: never the secret, except `key` right after creation.
#[derive(Serialize, utoipa::ToSchema)]
struct KeyView {
    id: String,
    /// A label.
    name: String,
    /// The first characters of the key, to recognise it (`mok_AbCd`).
    key_prefix: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    /// When it was revoked; `null` while active.
    #[schema(value_type = Option<String>, format = DateTime)]
    revoked_at: Option<Timestamp>,
    /// The secret (`mok_…`), only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    key: Option<String>,
}

/// A new API key.
#[derive(Deserialize, utoipa::ToSchema)]
struct CreateApiKey {
    /// A label, 1–500 characters.
    #[serde(deserialize_with = "fields::text")]
    name: String,
}

impl Check for CreateApiKey {}

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

/// Creates an API key of the org; the secret is shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/api-keys",
    operation_id = "create_api_key",
    tag = "api-keys",
    request_body = CreateApiKey,
    security(("org_api_key" = [])),
    responses(
        (status = 201, description = "The key, with its secret `key`", body = KeyView),
        (status = 400, description = "A field is missing or invalid (`field` names it)", body = ErrorBody),
    ),
)]
async fn create(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Body(body): Body<CreateApiKey>,
) -> ApiResult<Created<KeyView>> {
    let (key, secret) = new_api_key(&org.id, &body.name, now(&state));
    let record = key.key.clone();
    state
        .store
        .create_api_key(key)
        .await
        .map_err(store_failed)?;
    Ok(Created(KeyView::new(record, Some(secret))))
}

/// All the org's keys, revoked ones included (with `revoked_at`), oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/api-keys",
    operation_id = "list_api_keys",
    tag = "api-keys",
    security(("org_api_key" = [])),
    responses((status = 200, description = "The keys, without secrets", body = List<KeyView>)),
)]
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
#[utoipa::path(
    delete,
    path = "/api/v1/api-keys/{id}",
    operation_id = "revoke_api_key",
    tag = "api-keys",
    params(("id" = String, Path, description = "The key's id")),
    security(("org_api_key" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No active key with this id in the org (`not_found`)", body = ErrorBody),
    ),
)]
async fn revoke(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let done = state.store.revoke_api_key(&org.id, &id, now(&state)).await;
    deleted(done, "Active API key")
}
