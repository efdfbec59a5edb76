//! `/api/v1/orgs` (operator only, SPEC §4): create an org with its first API key, list, get,
//! rename and disable or enable.

use axum::Json;
use axum::extract::{Path, State};
use jiff::Timestamp;
use moja_core::{money, phone, secrets};
use moja_store::Org;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::fields;
use super::input::{Body, Check};
use super::{ApiResult, found, now, store_failed};
use crate::bootstrap::new_api_key;
use crate::http::error::ErrorBody;
use crate::http::{Created, List, Operator};
use crate::state::AppState;

/// The org routes.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
}

/// An org as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
struct OrgView {
    id: String,
    name: String,
    /// Region for phone numbers without a country code (`US`).
    default_region: String,
    /// Default currency (`USD`).
    currency: String,
    /// A disabled org gets 401 on public endpoints and 403 `org_disabled` on the admin API.
    disabled: bool,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
}

impl From<Org> for OrgView {
    fn from(o: Org) -> Self {
        Self {
            id: o.id,
            name: o.name,
            default_region: o.default_region,
            currency: o.currency,
            disabled: o.disabled,
            created_at: o.created_at,
        }
    }
}

/// A new org and its first API key, shown this once.
#[derive(Serialize, utoipa::ToSchema)]
struct CreatedOrg {
    #[serde(flatten)]
    org: OrgView,
    /// The org's first API key (`mok_…`): shown this once.
    api_key: String,
}

/// A new org.
#[derive(Deserialize, utoipa::ToSchema)]
struct CreateOrg {
    /// 1–500 characters.
    #[serde(deserialize_with = "fields::text")]
    name: String,
    /// A two-letter region code; default `US`.
    #[serde(default, deserialize_with = "region")]
    default_region: Option<String>,
    /// An ISO 4217 code; default `USD`.
    #[serde(default, deserialize_with = "currency")]
    currency: Option<String>,
}

impl Check for CreateOrg {}

/// Changes to an org; either member may be left out.
#[derive(Deserialize, utoipa::ToSchema)]
struct UpdateOrg {
    /// A new name.
    #[serde(default, deserialize_with = "fields::optional_text")]
    name: Option<String>,
    /// Disable (or enable again); takes effect on the next request.
    disabled: Option<bool>,
}

impl Check for UpdateOrg {}

/// A region member, checked against the phone-number metadata and upper-cased (`US`).
fn region<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    fields::parsed(
        d,
        phone::normalize_region,
        "expected a two-letter region code such as US",
    )
}

/// A currency member: an ISO 4217 code, upper-cased (`USD`).
pub(super) fn currency<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    fields::parsed(
        d,
        money::normalize_currency,
        "expected an ISO 4217 code such as USD",
    )
}

/// Creates an org and its first API key (shown once).
#[utoipa::path(
    post,
    path = "/api/v1/orgs",
    operation_id = "create_org",
    tag = "orgs",
    request_body = CreateOrg,
    security(("operator_token" = [])),
    responses(
        (status = 201, description = "The org and its first API key", body = CreatedOrg),
        (status = 400, description = "A field is missing or invalid (`field` names it)", body = ErrorBody),
    ),
)]
async fn create(
    _: Operator,
    State(state): State<AppState>,
    Body(body): Body<CreateOrg>,
) -> ApiResult<Created<CreatedOrg>> {
    let now = now(&state);
    let org = Org {
        id: secrets::new_id(),
        name: body.name,
        default_region: body.default_region.unwrap_or_else(|| "US".to_owned()),
        currency: body.currency.unwrap_or_else(|| "USD".to_owned()),
        disabled: false,
        created_at: now,
    };
    let (key, api_key) = new_api_key(&org.id, "default", now);
    state
        .store
        .create_org(org.clone(), key)
        .await
        .map_err(store_failed)?;
    Ok(Created(CreatedOrg {
        org: org.into(),
        api_key,
    }))
}

/// Every org.
#[utoipa::path(
    get,
    path = "/api/v1/orgs",
    operation_id = "list_orgs",
    tag = "orgs",
    security(("operator_token" = [])),
    responses((status = 200, description = "All orgs", body = List<OrgView>)),
)]
async fn list(_: Operator, State(state): State<AppState>) -> ApiResult<Json<List<OrgView>>> {
    let orgs = state.store.list_orgs().await.map_err(store_failed)?;
    Ok(Json(List::all(orgs.into_iter().map(Into::into).collect())))
}

/// One org.
#[utoipa::path(
    get,
    path = "/api/v1/orgs/{id}",
    operation_id = "get_org",
    tag = "orgs",
    params(("id" = String, Path, description = "The org's id")),
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "The org", body = OrgView),
        (status = 404, description = "No such org (`not_found`)", body = ErrorBody),
    ),
)]
async fn show(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<OrgView>> {
    Ok(Json(found(state.store.get_org(&id).await, "Org")?.into()))
}

/// Renames, disables or enables an org.
///
/// `{disabled, name}`; either may be left out. Disabling takes effect on the next request.
#[utoipa::path(
    patch,
    path = "/api/v1/orgs/{id}",
    operation_id = "update_org",
    tag = "orgs",
    params(("id" = String, Path, description = "The org's id")),
    request_body = UpdateOrg,
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "The org after the change", body = OrgView),
        (status = 400, description = "A field is invalid (`field` names it)", body = ErrorBody),
        (status = 404, description = "No such org (`not_found`)", body = ErrorBody),
    ),
)]
async fn update(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<UpdateOrg>,
) -> ApiResult<Json<OrgView>> {
    let mut org = found(state.store.get_org(&id).await, "Org")?;
    if let Some(name) = body.name {
        org = found(state.store.rename_org(&id, &name).await, "Org")?;
    }
    if let Some(disabled) = body.disabled {
        org = found(state.store.set_org_disabled(&id, disabled).await, "Org")?;
    }
    Ok(Json(org.into()))
}
