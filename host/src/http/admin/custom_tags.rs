//! `/api/v1/custom-tags` (SPEC §7.1, §9): the keys whose call-data fields become call tags.
//! Keys are normalized like the normalizer's, so `Lead Type` and `lead_type` are one tag.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use moja_core::keys::normalize_key;
use moja_store::{CustomTag, StoreError};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::fields;
use super::input::{Body, Check, invalid};
use super::{ApiResult, deleted, now, store_failed};
use crate::http::error::ErrorBody;
use crate::http::{ApiError, Created, List, OrgAuth};
use crate::state::AppState;

/// The longest normalized key: keys become `[KEY]` placeholders and column-like names.
const MAX_KEY: usize = 64;

/// The custom tag routes.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(remove))
}

/// A custom tag as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
struct TagView {
    /// The normalized key (`lead_type`).
    key: String,
    display_name: String,
    description: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
}

/// A new custom tag.
#[derive(Deserialize, utoipa::ToSchema)]
struct CreateCustomTag {
    /// The key, normalized like the normalizer's (`Lead Type` → `lead_type`): at least one ASCII
    /// letter or digit, at most 64 characters once normalized.
    #[serde(deserialize_with = "fields::text")]
    key: String,
    /// Default: the key as written.
    #[serde(default, deserialize_with = "fields::optional_text")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "fields::optional_text")]
    description: Option<String>,
}

impl Check for CreateCustomTag {}

impl From<CustomTag> for TagView {
    fn from(t: CustomTag) -> Self {
        Self {
            key: t.key,
            display_name: t.display_name,
            description: t.description,
            created_at: t.created_at,
        }
    }
}

/// The normalized key, refused when nothing usable is left of it.
fn tag_key(raw: &str) -> ApiResult<String> {
    let key = normalize_key(raw);
    if key.is_empty() {
        return Err(invalid(
            "key",
            "key: needs at least one ASCII letter or digit (keys are normalized to [a-z0-9_])",
        ));
    }
    if key.len() > MAX_KEY {
        return Err(invalid(
            "key",
            format!("key: at most {MAX_KEY} characters once normalized"),
        ));
    }
    Ok(key)
}

/// Defines a custom tag: call-data fields with this key become call tags.
///
/// `{key, display_name, description}`; `display_name` defaults to the key as written.
#[utoipa::path(
    post,
    path = "/api/v1/custom-tags",
    operation_id = "create_custom_tag",
    tag = "custom-tags",
    request_body = CreateCustomTag,
    security(("org_api_key" = [])),
    responses(
        (status = 201, description = "The custom tag", body = TagView),
        (status = 400, description = "A field is missing or invalid (`field` names it)", body = ErrorBody),
        (status = 409, description = "A custom tag with this key already exists (`conflict`)", body = ErrorBody),
    ),
)]
async fn create(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Body(body): Body<CreateCustomTag>,
) -> ApiResult<Created<TagView>> {
    let tag = CustomTag {
        org_id: org.id,
        key: tag_key(&body.key)?,
        display_name: body.display_name.unwrap_or(body.key),
        description: body.description,
        created_at: now(&state),
    };
    match state.store.create_custom_tag(tag.clone()).await {
        Ok(()) => Ok(Created(tag.into())),
        Err(StoreError::Conflict(_)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("A custom tag with key {:?} already exists", tag.key),
        )
        .with_field("key")),
        Err(e) => Err(store_failed(e)),
    }
}

/// The org's custom tags.
#[utoipa::path(
    get,
    path = "/api/v1/custom-tags",
    operation_id = "list_custom_tags",
    tag = "custom-tags",
    security(("org_api_key" = [])),
    responses((status = 200, description = "The custom tags", body = List<TagView>)),
)]
async fn list(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
) -> ApiResult<Json<List<TagView>>> {
    let tags = state
        .store
        .list_custom_tags(&org.id)
        .await
        .map_err(store_failed)?;
    Ok(Json(List::all(tags.into_iter().map(Into::into).collect())))
}

/// Deletes a definition (the key in the path is normalized too); tags already on calls stay.
#[utoipa::path(
    delete,
    path = "/api/v1/custom-tags/{key}",
    operation_id = "delete_custom_tag",
    tag = "custom-tags",
    params(("key" = String, Path, description = "The tag's key (normalized before the lookup)")),
    security(("org_api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such custom tag in the org (`not_found`)", body = ErrorBody),
    ),
)]
async fn remove(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<StatusCode> {
    let key = normalize_key(&key);
    deleted(
        state.store.delete_custom_tag(&org.id, &key).await,
        "Custom tag",
    )
}
