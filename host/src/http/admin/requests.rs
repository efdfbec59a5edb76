//! `/api/v1/webhooks/incoming/requests` (SPEC §7, §9): the org's incoming request log, newest
//! first, filtered and paged by cursor, and one entry by id (bodies as text, credentials already
//! redacted when logged).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use moja_store::{RequestFilter, RequestLogEntry};
use serde::Deserialize;

use super::input::invalid;
use super::{ApiResult, found, store_failed};
use crate::app::AppState;
use crate::http::{List, OrgAuth, PageQuery};

/// The request log routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks/incoming/requests", get(list))
        .route("/api/v1/webhooks/incoming/requests/{id}", get(show))
}

/// The filters, as text so that a bad value gets an error naming its field.
#[derive(Debug, Default, Deserialize)]
struct Filters {
    webhook_id: Option<String>,
    status: Option<String>,
    failed: Option<String>,
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
        let failed = match self.failed.as_deref() {
            None | Some("" | "false" | "0") => false,
            Some("true" | "1") => true,
            Some(_) => return Err(invalid("failed", "failed: expected true or false")),
        };
        Ok(RequestFilter {
            webhook_id: self.webhook_id.filter(|id| !id.is_empty()),
            status,
            failed,
            cursor: page.cursor.filter(|c| !c.is_empty()),
            // The store reads 0 as its default page size and caps the rest.
            limit: page.limit.unwrap_or(0),
        })
    }
}

/// `?webhook_id=&status=&failed=true&cursor=&limit=`.
async fn list(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    page: Result<Query<PageQuery>, QueryRejection>,
    filters: Result<Query<Filters>, QueryRejection>,
) -> ApiResult<Json<List<RequestLogEntry>>> {
    // `limit` is the only member that can fail to parse (the others are text).
    let Query(page) = page.map_err(|_| invalid("limit", "limit: expected a whole number"))?;
    let Query(filters) = filters.map_err(|e| invalid("query", e.body_text()))?;
    let result = state
        .store
        .list_requests(&org.id, filters.into_filter(page)?)
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
) -> ApiResult<Json<RequestLogEntry>> {
    let entry = found(state.store.get_request(&org.id, &id).await, "Request")?;
    Ok(Json(entry))
}
