//! `/api/v1/campaigns` (SPEC §9): create, list, get, update and delete an org's campaigns. Money
//! is read exactly and shown with two decimals; deleting a campaign never deletes its calls.

use axum::Json;
use axum::extract::{Path, State};
use jiff::Timestamp;
use moja_core::{money, secrets};
use moja_store::Campaign;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::fields;
use super::input::{Body, Check, required, within};
use super::orgs::currency;
use super::{ApiResult, deleted, found, now, store_failed};
use crate::http::error::ErrorBody;
use crate::http::openapi::{Amount, ResponseAmount};
use crate::http::{Created, List, OrgAuth};
use crate::state::AppState;

/// The longest conversion rule accepted: a day of connected time.
const MAX_CONVERSION_SECONDS: i64 = 86_400;

/// The campaign routes.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
}

/// A campaign as the API shows it: amounts as JSON numbers with two decimals.
#[derive(Serialize, utoipa::ToSchema)]
struct CampaignView {
    id: String,
    name: String,
    /// Connected seconds that convert a call; `null`: no rule.
    conversion_min_duration_s: Option<i64>,
    /// Revenue of a converted call.
    #[schema(value_type = Option<ResponseAmount>)]
    buyer_revenue: Option<serde_json::Number>,
    /// Payout of a converted call.
    #[schema(value_type = Option<ResponseAmount>)]
    publisher_payout: Option<serde_json::Number>,
    /// ISO 4217 code of the amounts.
    currency: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
}

/// A campaign's settings, on create and update: members left out keep their value (at creation:
/// no conversion rule, no amounts, the org's currency); `null` clears the conversion rule and the
/// amounts.
#[derive(Deserialize, utoipa::ToSchema)]
struct CampaignSettings {
    /// 1–500 characters; required at creation.
    #[serde(default, deserialize_with = "fields::optional_text")]
    name: Option<String>,
    /// Connected seconds (0–86400) that convert a call; `null`: no rule.
    #[serde(default, deserialize_with = "fields::nullable_whole")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 86400)]
    conversion_min_duration_s: Option<Option<i64>>,
    /// Revenue of a converted call.
    #[serde(default, deserialize_with = "fields::nullable_amount")]
    #[schema(value_type = Option<Amount>)]
    buyer_revenue: Option<Option<Decimal>>,
    /// Payout of a converted call.
    #[serde(default, deserialize_with = "fields::nullable_amount")]
    #[schema(value_type = Option<Amount>)]
    publisher_payout: Option<Option<Decimal>>,
    /// ISO 4217 code; default the org's currency.
    #[serde(default, deserialize_with = "currency")]
    currency: Option<String>,
}

impl Check for CampaignSettings {
    fn check(&self) -> ApiResult<()> {
        if let Some(Some(seconds)) = self.conversion_min_duration_s {
            within(
                "conversion_min_duration_s",
                seconds,
                0..=MAX_CONVERSION_SECONDS,
            )?;
        }
        Ok(())
    }
}

impl CampaignSettings {
    /// Applies the members given to `campaign` (create and PATCH alike).
    fn apply(self, campaign: &mut Campaign) {
        if let Some(name) = self.name {
            campaign.name = name;
        }
        if let Some(seconds) = self.conversion_min_duration_s {
            campaign.conversion_min_duration_s = seconds;
        }
        if let Some(amount) = self.buyer_revenue {
            campaign.buyer_revenue = amount;
        }
        if let Some(amount) = self.publisher_payout {
            campaign.publisher_payout = amount;
        }
        if let Some(currency) = self.currency {
            campaign.currency = currency;
        }
    }
}

/// The campaign id of the path.
const CAMPAIGN_ID: &str = "The campaign's id";

impl From<Campaign> for CampaignView {
    fn from(c: Campaign) -> Self {
        let amount = |d: Option<Decimal>| d.as_ref().map(money::json_number);
        Self {
            id: c.id,
            name: c.name,
            conversion_min_duration_s: c.conversion_min_duration_s,
            buyer_revenue: amount(c.buyer_revenue),
            publisher_payout: amount(c.publisher_payout),
            currency: c.currency,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Creates a campaign.
#[utoipa::path(
    post,
    path = "/api/v1/campaigns",
    operation_id = "create_campaign",
    tag = "campaigns",
    request_body(
        content = CampaignSettings,
        description = "The campaign's settings; `name` is required",
    ),
    security(("org_api_key" = [])),
    responses(
        (status = 201, description = "The campaign", body = CampaignView),
        (status = 400, description = "A field is missing or invalid (`field` names it)", body = ErrorBody),
    ),
)]
async fn create(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Body(mut body): Body<CampaignSettings>,
) -> ApiResult<Created<CampaignView>> {
    let now = now(&state);
    let mut campaign = Campaign {
        id: secrets::new_id(),
        org_id: org.id,
        name: required(body.name.take(), "name")?,
        conversion_min_duration_s: None,
        buyer_revenue: None,
        publisher_payout: None,
        currency: org.currency,
        created_at: now,
        updated_at: now,
    };
    body.apply(&mut campaign);
    state
        .store
        .create_campaign(campaign.clone())
        .await
        .map_err(store_failed)?;
    Ok(Created(campaign.into()))
}

/// The org's campaigns.
#[utoipa::path(
    get,
    path = "/api/v1/campaigns",
    operation_id = "list_campaigns",
    tag = "campaigns",
    security(("org_api_key" = [])),
    responses((status = 200, description = "The campaigns", body = List<CampaignView>)),
)]
async fn list(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
) -> ApiResult<Json<List<CampaignView>>> {
    let campaigns = state
        .store
        .list_campaigns(&org.id)
        .await
        .map_err(store_failed)?;
    Ok(Json(List::all(
        campaigns.into_iter().map(Into::into).collect(),
    )))
}

/// One campaign.
#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{id}",
    operation_id = "get_campaign",
    tag = "campaigns",
    params(("id" = String, Path, description = CAMPAIGN_ID)),
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The campaign", body = CampaignView),
        (status = 404, description = "No such campaign in the org (`not_found`)", body = ErrorBody),
    ),
)]
async fn show(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    let campaign = found(state.store.get_campaign(&org.id, &id).await, "Campaign")?;
    Ok(Json(campaign.into()))
}

/// Updates a campaign; calls keep the amounts configured when they started.
#[utoipa::path(
    patch,
    path = "/api/v1/campaigns/{id}",
    operation_id = "update_campaign",
    tag = "campaigns",
    params(("id" = String, Path, description = CAMPAIGN_ID)),
    request_body = CampaignSettings,
    security(("org_api_key" = [])),
    responses(
        (status = 200, description = "The campaign after the change", body = CampaignView),
        (status = 400, description = "A field is invalid (`field` names it)", body = ErrorBody),
        (status = 404, description = "No such campaign in the org (`not_found`)", body = ErrorBody),
    ),
)]
async fn update(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<CampaignSettings>,
) -> ApiResult<Json<CampaignView>> {
    let mut campaign = found(state.store.get_campaign(&org.id, &id).await, "Campaign")?;
    body.apply(&mut campaign);
    campaign.updated_at = now(&state);
    let updated = state
        .store
        .update_campaign(campaign.clone())
        .await
        .map_err(store_failed)?;
    // Deleted between the read and the write: as gone as if it had been gone before.
    found(Ok(updated.then_some(campaign)), "Campaign").map(|c| Json(c.into()))
}

/// Soft-deletes the campaign: its calls keep their campaign id and stay listed.
#[utoipa::path(
    delete,
    path = "/api/v1/campaigns/{id}",
    operation_id = "delete_campaign",
    tag = "campaigns",
    params(("id" = String, Path, description = CAMPAIGN_ID)),
    security(("org_api_key" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such campaign in the org (`not_found`)", body = ErrorBody),
    ),
)]
async fn remove(
    OrgAuth { org }: OrgAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    let done = state.store.delete_campaign(&org.id, &id, now(&state)).await;
    deleted(done, "Campaign")
}
