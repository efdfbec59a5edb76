//! `/api/v1/webhooks/incoming/requests` (SPEC §7, §9): the org's incoming request log, newest
//! first, filtered and paged by cursor, and one entry by id (bodies as text, credentials already
//! redacted when logged).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use moja_store::{RequestFilter, RequestLogEntry};
use serde::Deserialize;

use super::input::{flag, invalid, list_query};
use super::{ApiResult, found, store_failed};
use crate::http::error::ErrorBody;
use crate::http::{List, OrgAuth, PageQuery};
use crate::state::AppState;

/// The request log routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks/incoming/requests", get(list))
        .route("/api/v1/webhooks/incoming/requests/{id}", get(show))
}

/// The filters, as text so that a bad value gets an error naming its field.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Filters {
    /// Requests to this incoming webhook.
    webhook_id: Option<String>,
    /// Requests answered with this HTTP status.
    status: Option<String>,
    /// `true`: only requests answered with a 4xx or 5xx.
    failed: Option<String>,
}

/// One entry of the incoming request log; credentials were redacted before it was logged.
#[derive(utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "documents `moja_store::RequestLogEntry` in /openapi.json"
)]
struct RequestLogView {
    /// The request id (`x-request-id` of its answer).
    id: String,
    /// The org, when auth succeeded.
    org_id: Option<String>,
    /// The webhook, when auth succeeded.
    webhook_id: Option<String>,
    #[schema(format = DateTime)]
    received_at: String,
    method: String,
    path: String,
    /// The query string, `moja_auth_key` redacted.
    query: String,
    /// Header pairs `[name, value]`, credentials replaced by `REDACTED`.
    headers: Vec<Vec<String>>,
    /// The raw body as text (at most 4 KiB before auth succeeded).
    body: String,
    /// Whether the body was cut.
    body_truncated: bool,
    /// The response status.
    status: u16,
    /// The response body.
    response: serde_json::Value,
    /// Time to answer, in microseconds.
    latency_us: i64,
    /// Plugin versions and logs, match result, idempotency outcome, error code, `replay_of`.
    details: serde_json::Value,
}

impl Filters {
    fn into_filter(self, page: PageQuery) -> ApiResult<RequestFilter> {
        let status = match self.status.as_deref() {
            None | Some("") => None,
            Some(text) => Some(
                text.parse::<u16>()
                    .ok()
                    .filter(|s| (100..=599).contains(s))
                    .ok_or_else(|| invalid("status", "status: expected an HTTP status code"))?,
            ),
        };
        let failed = flag(self.failed.as_deref(), "failed")?;
        let (cursor, limit) = page.cursor_and_limit();
        Ok(RequestFilter {
            webhook_id: self.webhook_id.filter(|id| !id.is_empty()),
            status,
            failed,
            cursor,
            limit,
        })
    }
}

/// The org's incoming request log, newest first, filtered and paged by cursor.
///
/// `?webhook_id=&status=&failed=true&cursor=&limit=`.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/incoming/requests",
    operation_id = "list_incoming_requests",
    tag = "request-log",
    params(PageQuery, Filters),
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "A page of logged requests", body = List<RequestLogView>),
        (status = 400, description = "A filter is invalid (`field` names it)", body = ErrorBody),
    ),
)]
async fn list(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    page: Result<Query<PageQuery>, QueryRejection>,
    filters: Result<Query<Filters>, QueryRejection>,
) -> ApiResult<Json<List<RequestLogEntry>>> {
    let (page, filters) = list_query(page, filters)?;
    let result = state
        .store
        .list_requests(&org.id, filters.into_filter(page)?)
        .await
        .map_err(store_failed)?;
    Ok(Json(List::from(result)))
}

/// One logged request.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/incoming/requests/{id}",
    operation_id = "get_incoming_request",
    tag = "request-log",
    params(("id" = String, Path, description = "The request id")),
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The logged request", body = RequestLogView),
        (status = 404, description = "No such request in the org's log (`not_found`)", body = ErrorBody),
    ),
)]
async fn show(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestLogEntry>> {
    let entry = found(state.store.get_request(&org.id, &id).await, "Request")?;
    Ok(Json(entry))
}
