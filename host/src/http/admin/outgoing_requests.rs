//! `/api/v1/webhooks/outgoing/requests` (SPEC §8.3): the outgoing request log (one entry per
//! attempt, newest first, filtered and paged by cursor), one entry, and resending the delivery
//! of an entry.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use moja_core::events::EventType;
use moja_store::{AttemptFilter, AttemptRecord, Delivery, Resend};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::fields;
use super::input::Params;
use super::{ApiResult, found, now, store_failed};
use crate::http::error::ErrorBody;
use crate::http::{ApiError, List, OrgAuth, PageQuery};
use crate::state::AppState;

/// The outgoing request log routes.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(resend))
}

/// The filters of the list; an empty value is no filter.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Filters {
    /// Attempts of this outgoing webhook.
    #[serde(default, deserialize_with = "fields::filter")]
    webhook_id: Option<String>,
    /// Attempts of this event type (a wire name such as `call.completed`).
    #[serde(default, deserialize_with = "fields::filter_word")]
    event_type: Option<EventType>,
    /// Attempts for this call.
    #[serde(default, deserialize_with = "fields::filter")]
    call_id: Option<String>,
    /// `true`: only attempts that did not succeed.
    #[serde(default, deserialize_with = "fields::flag")]
    failed: bool,
}

impl Filters {
    fn into_filter(self, page: PageQuery) -> ApiResult<AttemptFilter> {
        let (cursor, limit) = page.cursor_and_limit()?;
        Ok(AttemptFilter {
            webhook_id: self.webhook_id,
            event_type: self.event_type.map(|e| e.as_str().to_owned()),
            call_id: self.call_id,
            failed: self.failed,
            cursor,
            limit,
        })
    }
}

/// The org's outgoing request log (one entry per attempt), newest first, filtered and paged by
/// cursor.
///
/// `?webhook_id=&event_type=&call_id=&failed=true&cursor=&limit=`.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/outgoing/requests",
    operation_id = "list_outgoing_requests",
    tag = "outgoing-request-log",
    params(PageQuery, Filters),
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "A page of attempts", body = List<AttemptRecord>),
        (status = 400, description = "A filter is invalid (`field` names it)", body = ErrorBody),
    ),
)]
async fn list(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Params(page): Params<PageQuery>,
    Params(filters): Params<Filters>,
) -> ApiResult<Json<List<AttemptRecord>>> {
    let result = state
        .store
        .list_attempts(&org.id, filters.into_filter(page)?)
        .await
        .map_err(store_failed)?;
    Ok(Json(List::from(result)))
}

/// One attempt.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/outgoing/requests/{id}",
    operation_id = "get_outgoing_request",
    tag = "outgoing-request-log",
    params(("id" = String, Path, description = "The attempt's id")),
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The attempt", body = AttemptRecord),
        (status = 404, description = "No such attempt in the org's log (`not_found`)", body = ErrorBody),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/outgoing/requests/{id}/resend",
    operation_id = "resend_outgoing_request",
    tag = "outgoing-request-log",
    params(("id" = String, Path, description = "The attempt's id")),
    security(("org_api_key" = [])),
    responses(
        (status = 202, description = "Queued again, due now", body = Delivery),
        (status = 404, description = "No such attempt in the org's log, or its delivery cannot be sent again: a test send, or a deleted webhook (`not_found`)", body = ErrorBody),
        (status = 409, description = "The delivery is still pending: it will be attempted again on its schedule (`delivery_pending`)", body = ErrorBody),
    ),
)]
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
        Resend::Queued(delivery) => Ok((StatusCode::ACCEPTED, Json(*delivery))),
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
