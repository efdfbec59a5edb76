//! `GET /api/v1/event-types` (SPEC §8.1): the outbound events, the built-in tags that apply to
//! each, and the org's custom tags (which apply to every event).

use axum::Json;
use axum::extract::State;
use moja_core::tags;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiResult, store_failed};
use crate::http::OrgAuth;
use crate::state::AppState;

/// The event types route.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The outbound events with the tags each can use, the org's custom tags, and every built-in tag.
#[derive(Serialize, utoipa::ToSchema)]
struct EventTypes {
    /// Every event type, in the order of SPEC §8.1.
    items: Vec<tags::EventTypeInfo>,
    /// Placeholders of the org's custom tags (`[LEAD_TYPE]`), available on every event.
    custom_tags: Vec<String>,
    /// Every built-in tag with what it holds.
    tags: Vec<TagInfo>,
}

/// A built-in tag: a placeholder (`[NAME]`) of URL, header and body templates.
#[derive(Serialize, utoipa::ToSchema)]
struct TagInfo {
    /// The placeholder name, without brackets (`CALLER_ID`).
    #[schema(value_type = String)]
    name: &'static str,
    /// What it holds and on which events.
    #[schema(value_type = String)]
    description: &'static str,
}

/// The outbound events, the built-in tags that apply to each, and the org's custom tags.
///
/// Template placeholders are tag names in brackets (`[CALLER_ID]`); the org's custom tags apply
/// to every event.
#[utoipa::path(
    get,
    path = "/api/v1/event-types",
    operation_id = "list_event_types",
    tag = "event-types",
    security(("org_api_key" = [])),
    responses((status = 200, description = "The event types and tags", body = EventTypes)),
)]
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
