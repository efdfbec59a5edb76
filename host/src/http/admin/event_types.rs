//! `GET /api/v1/event-types` (SPEC §8.1): the outbound events, the built-in tags that apply to
//! each, and the org's custom tags (which apply to every event).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use moja_core::tags;
use serde::Serialize;

use super::{ApiResult, store_failed};
use crate::app::AppState;
use crate::http::OrgAuth;

/// The event types route.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/event-types", get(list))
}

#[derive(Serialize)]
struct EventTypes {
    items: Vec<tags::EventTypeInfo>,
    /// Placeholders of the org's custom tags (`[LEAD_TYPE]`), available on every event.
    custom_tags: Vec<String>,
    /// Every built-in tag with what it holds.
    tags: Vec<TagInfo>,
}

#[derive(Serialize)]
struct TagInfo {
    name: &'static str,
    description: &'static str,
}

async fn list(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
) -> ApiResult<Json<EventTypes>> {
    let custom = state
        .store
        .list_custom_tags(&org.id)
        .await
        .map_err(store_failed)?;
    Ok(Json(EventTypes {
        items: tags::event_catalog(),
        custom_tags: custom
            .into_iter()
            .map(|t| t.key.to_ascii_uppercase())
            .collect(),
        tags: tags::BUILTIN_TAGS
            .iter()
            .map(|t| TagInfo {
                name: t.name,
                description: t.description,
            })
            .collect(),
    }))
}
