//! `/api/v1/webhooks/incoming/requests` (SPEC §7, §9): the org's incoming request log, newest
//! first, filtered and paged by cursor, and one entry by id (bodies as text, credentials already
//! redacted when logged).

use axum::Json;
use axum::extract::{Path, State};
use moja_store::{RequestFilter, RequestLogEntry};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::fields;
use super::input::Params;
use super::{ApiResult, found, store_failed};
use crate::http::error::ErrorBody;
use crate::http::{List, OrgAuth, PageQuery};
use crate::state::AppState;

/// The request log routes.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
}

/// The filters of the list; an empty value is no filter.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Filters {
    /// Requests to this incoming webhook.
    #[serde(default, deserialize_with = "fields::filter")]
    webhook_id: Option<String>,
    /// Requests answered with this HTTP status.
    #[serde(default, deserialize_with = "fields::status")]
    status: Option<u16>,
    /// `true`: only requests answered with a 4xx or 5xx.
    #[serde(default, deserialize_with = "fields::flag")]
    failed: bool,
}

impl Filters {
    fn into_filter(self, page: PageQuery) -> ApiResult<RequestFilter> {
        let (cursor, limit) = page.cursor_and_limit()?;
        Ok(RequestFilter {
            webhook_id: self.webhook_id,
            status: self.status,
            failed: self.failed,
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
        (status = 200, description = "A page of logged requests", body = List<RequestLogEntry>),
        (status = 400, description = "A filter is invalid (`field` names it)", body = ErrorBody),
    ),
)]
async fn list(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Params(page): Params<PageQuery>,
    Params(filters): Params<Filters>,
) -> ApiResult<Json<List<RequestLogEntry>>> {
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
        (status = 200, description = "The logged request", body = RequestLogEntry),
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
