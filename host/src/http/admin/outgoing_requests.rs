//! `/api/v1/webhooks/outgoing/requests` (SPEC §8.3): the outgoing request log (one entry per
//! attempt, newest first, filtered and paged by cursor), one entry, and resending the delivery
//! of an entry.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use moja_core::events::EventType;
use moja_store::{AttemptFilter, AttemptRecord, Delivery, Resend};
use serde::Deserialize;

use super::input::invalid;
use super::{ApiResult, found, now, store_failed};
use crate::app::AppState;
use crate::http::{ApiError, List, OrgAuth, PageQuery};

/// The outgoing request log routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks/outgoing/requests", get(list))
        .route("/api/v1/webhooks/outgoing/requests/{id}", get(show))
        .route(
            "/api/v1/webhooks/outgoing/requests/{id}/resend",
            post(resend),
        )
}

/// The filters, as text so that a bad value gets an error naming its field.
#[derive(Debug, Default, Deserialize)]
struct Filters {
    webhook_id: Option<String>,
    event_type: Option<String>,
    call_id: Option<String>,
    failed: Option<String>,
}

impl Filters {
    fn into_filter(self, page: PageQuery) -> ApiResult<AttemptFilter> {
        let event_type = match self.event_type.as_deref() {
            None | Some("") => None,
            Some(text) => Some(
                EventType::parse(text)
                    .ok_or_else(|| {
                        invalid(
                            "event_type",
                            "event_type: expected an event type such as call.completed (see GET /api/v1/event-types)",
                        )
                    })?
                    .as_str()
                    .to_owned(),
            ),
        };
        let failed = match self.failed.as_deref() {
            None | Some("" | "false" | "0") => false,
            Some("true" | "1") => true,
            Some(_) => return Err(invalid("failed", "failed: expected true or false")),
        };
        Ok(AttemptFilter {
            webhook_id: self.webhook_id.filter(|id| !id.is_empty()),
            event_type,
            call_id: self.call_id.filter(|id| !id.is_empty()),
            failed,
            cursor: page.cursor.filter(|c| !c.is_empty()),
            limit: page.limit.unwrap_or(0),
        })
    }
}

/// `?webhook_id=&event_type=&call_id=&failed=true&cursor=&limit=`.
async fn list(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    page: Result<Query<PageQuery>, QueryRejection>,
    filters: Result<Query<Filters>, QueryRejection>,
) -> ApiResult<Json<List<AttemptRecord>>> {
    let Query(page) = page.map_err(|_| invalid("limit", "limit: expected a whole number"))?;
    let Query(filters) = filters.map_err(|e| invalid("query", e.body_text()))?;
    let result = state
        .store
        .list_attempts(&org.id, filters.into_filter(page)?)
        .await
        .map_err(store_failed)?;
    Ok(Json(List {
        items: result.items,
        next_cursor: result.next_cursor,
    }))
}

async fn show(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<AttemptRecord>> {
    Ok(Json(found(
        state.store.get_attempt(&org.id, &id).await,
        "Outgoing request",
    )?))
}

/// Queues the entry's delivery again, due now, with a fresh retry schedule and the same
/// `webhook-id`. 202 with the delivery; 409 while it is still pending.
async fn resend(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let answer = state
        .store
        .resend(&org.id, &id, now(&state))
        .await
        .map_err(store_failed)?;
    match answer {
        Resend::Queued(delivery) => {
            state.outbound.wake();
            Ok((StatusCode::ACCEPTED, Json(*delivery)))
        }
        Resend::StillPending(_) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "delivery_pending",
            "This delivery is still pending: it will be attempted again on its schedule",
        )),
        Resend::NotFound => Err(ApiError::not_found(
            "Outgoing request not found, or its delivery cannot be sent again (a test send, or a deleted webhook)",
        )),
    }
}
