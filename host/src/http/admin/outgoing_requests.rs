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

use super::event_types::EventTypeView;
use super::input::{flag, invalid, list_query};
use super::{ApiResult, found, now, store_failed};
use crate::http::error::ErrorBody;
use crate::http::{ApiError, List, OrgAuth, PageQuery};
use crate::state::AppState;

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
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Filters {
    /// Attempts of this outgoing webhook.
    webhook_id: Option<String>,
    /// Attempts of this event type (a wire name such as `call.completed`).
    #[param(value_type = Option<EventTypeView>)]
    event_type: Option<String>,
    /// Attempts for this call.
    call_id: Option<String>,
    /// `true`: only attempts that did not succeed.
    failed: Option<String>,
}

/// One attempt: an entry of the outgoing request log.
#[derive(utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "documents `moja_store::AttemptRecord` in /openapi.json"
)]
pub(super) struct AttemptView {
    /// The entry's id.
    id: String,
    org_id: String,
    /// The delivery (also the `webhook-id` header: the same across retries and resends).
    delivery_id: String,
    /// The outgoing webhook.
    webhook_id: String,
    event_type: EventTypeView,
    /// The call; `null` for test sends.
    call_id: Option<String>,
    /// 1 for the delivery's first attempt.
    attempt: u32,
    /// When it started.
    #[schema(format = DateTime)]
    started_at: String,
    /// The rendered request: `{method, url, headers, body}`, credentials redacted.
    request: serde_json::Value,
    /// The response status, when a response came back.
    response_status: Option<u16>,
    /// Response header pairs `[name, value]`.
    response_headers: Vec<Vec<String>>,
    /// The response body (capped).
    response_body: String,
    /// Whether the response body was cut at the cap.
    response_truncated: bool,
    /// Time from the start to the end of the response (or the error), in microseconds.
    latency_us: i64,
    /// What went wrong, if anything.
    error: Option<String>,
    /// `succeeded`, `retrying` or `failed`.
    outcome: String,
    /// When the retry is due, for `retrying`.
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
}

/// Where a delivery stands.
#[derive(utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(
    dead_code,
    reason = "documents `moja_store::DeliveryState` in /openapi.json"
)]
enum DeliveryStateView {
    /// Waiting for its next attempt (or in one).
    Pending,
    /// A 2xx came back.
    Succeeded,
    /// Gave up: a final error, or the retry schedule ran out.
    Failed,
}

/// One event to one outgoing webhook.
#[derive(utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "documents `moja_store::Delivery` in /openapi.json"
)]
struct DeliveryView {
    /// The delivery's id, also the `webhook-id` header: the same across retries and resends.
    id: String,
    org_id: String,
    webhook_id: String,
    /// The event; `null` for test sends.
    event_id: Option<String>,
    call_id: Option<String>,
    event_type: EventTypeView,
    state: DeliveryStateView,
    /// Attempts made so far.
    attempts: u32,
    /// Retries of the schedule used since it was (re)sent.
    retries_used: u32,
    /// When the next attempt is due (pending only).
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    /// The status of the last response.
    last_status: Option<u16>,
    /// The error of the last attempt.
    last_error: Option<String>,
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
        let failed = flag(self.failed.as_deref(), "failed")?;
        let (cursor, limit) = page.cursor_and_limit();
        Ok(AttemptFilter {
            webhook_id: self.webhook_id.filter(|id| !id.is_empty()),
            event_type,
            call_id: self.call_id.filter(|id| !id.is_empty()),
            failed,
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
        (status = 200, description = "A page of attempts", body = List<AttemptView>),
        (status = 400, description = "A filter is invalid (`field` names it)", body = ErrorBody),
    ),
)]
async fn list(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    page: Result<Query<PageQuery>, QueryRejection>,
    filters: Result<Query<Filters>, QueryRejection>,
) -> ApiResult<Json<List<AttemptRecord>>> {
    let (page, filters) = list_query(page, filters)?;
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
        (status = 200, description = "The attempt", body = AttemptView),
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
        (status = 202, description = "Queued again, due now", body = DeliveryView),
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
