//! `/api/v1/custom-tags` (SPEC §7.1, §9): the keys whose call-data fields become call tags.
//! Keys are normalized like the normalizer's, so `Lead Type` and `lead_type` are one tag.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use jiff::Timestamp;
use moja_plugin_sdk::keys::normalize_key;
use moja_store::{CustomTag, StoreError};
use serde::Serialize;

use super::input::{Body, invalid};
use super::{ApiResult, deleted, now, store_failed};
use crate::app::AppState;
use crate::http::{ApiError, Created, List, OrgAuth};

/// The longest normalized key: keys become `[KEY]` placeholders and column-like names.
const MAX_KEY: usize = 64;

/// The custom tag routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/custom-tags", get(list).post(create))
        .route("/api/v1/custom-tags/{key}", delete(remove))
}

/// A custom tag as the API shows it.
#[derive(Serialize)]
struct TagView {
    key: String,
    display_name: String,
    description: Option<String>,
    created_at: Timestamp,
}

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

/// `{key, display_name, description}`; `display_name` defaults to the key as written.
async fn create(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    body: Body,
) -> ApiResult<Created<TagView>> {
    let raw = body.required_string("key")?;
    let tag = CustomTag {
        org_id: org.id,
        key: tag_key(&raw)?,
        display_name: body.string("display_name")?.unwrap_or(raw),
        description: body.string("description")?,
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
