//! `/api/v1/orgs` (operator only, SPEC §4): create an org with its first API key, list, get,
//! rename and disable or enable.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use moja_core::{money, phone, secrets};
use moja_store::Org;
use serde::Serialize;

use super::input::Body;
use super::{ApiResult, found, now, store_failed};
use crate::app::AppState;
use crate::bootstrap::new_api_key;
use crate::http::{Created, List, Operator};

/// The org routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orgs", get(list).post(create))
        .route("/api/v1/orgs/{id}", get(show).patch(update))
}

/// A new org and its first API key, shown this once.
#[derive(Serialize)]
struct CreatedOrg {
    #[serde(flatten)]
    org: Org,
    api_key: String,
}

/// The org's default region (`US`), checked against the phone-number metadata.
fn region(body: &Body) -> ApiResult<String> {
    let Some(text) = body.string("default_region")? else {
        return Ok("US".to_owned());
    };
    phone::normalize_region(&text).ok_or_else(|| {
        body.invalid(
            "default_region",
            "expected a two-letter region code such as US",
        )
    })
}

/// A currency field (`USD`), or `default` when absent.
pub(super) fn currency(body: &Body, default: &str) -> ApiResult<String> {
    let Some(text) = body.string("currency")? else {
        return Ok(default.to_owned());
    };
    money::normalize_currency(&text)
        .ok_or_else(|| body.invalid("currency", "expected an ISO 4217 code such as USD"))
}

async fn create(
    _: Operator,
    State(state): State<AppState>,
    body: Body,
) -> ApiResult<Created<CreatedOrg>> {
    let now = now(&state);
    let org = Org {
        id: secrets::new_id(),
        name: body.required_string("name")?,
        default_region: region(&body)?,
        currency: currency(&body, "USD")?,
        disabled: false,
        created_at: now,
    };
    let (key, api_key) = new_api_key(&org.id, "default", now);
    state
        .store
        .create_org(org.clone(), key)
        .await
        .map_err(store_failed)?;
    Ok(Created(CreatedOrg { org, api_key }))
}

async fn list(_: Operator, State(state): State<AppState>) -> ApiResult<Json<List<Org>>> {
    let orgs = state.store.list_orgs().await.map_err(store_failed)?;
    Ok(Json(List::all(orgs)))
}

async fn show(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Org>> {
    Ok(Json(found(state.store.get_org(&id).await, "Org")?))
}

/// `{disabled, name}`; either may be left out. Disabling takes effect on the next request.
async fn update(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Json<Org>> {
    let name = body.string("name")?;
    let disabled = body.bool("disabled")?;
    let mut org = found(state.store.get_org(&id).await, "Org")?;
    if let Some(name) = name {
        org = found(state.store.rename_org(&id, &name).await, "Org")?;
    }
    if let Some(disabled) = disabled {
        org = found(state.store.set_org_disabled(&id, disabled).await, "Org")?;
    }
    Ok(Json(org))
}
