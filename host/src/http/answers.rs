//! The answers of the public inbound endpoints (SPEC §7.5): the one place a store outcome
//! becomes a status and a JSON body. The store writes what [`respond`] renders to the request log
//! and the idempotency record; the handler answers with the same rendering. The response types
//! are what `/openapi.json` documents, so the document and the bytes come from one source.

use axum::http::StatusCode;
use moja_store::{AppliedUpdate, InboundOutcome, StoredResponse, WebhookKind};
use serde::Serialize;
use serde_json::Value;

use super::ApiError;

/// The answer to `call_data`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CallDataResponse {
    /// `true`.
    success: bool,
    /// The request-log id (also the `x-request-id` header).
    request_id: String,
}

/// The answer to `update_revenue`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UpdateRevenueResponse {
    /// `true`.
    success: bool,
    /// The calls changed.
    call_log_ids: Vec<String>,
    #[schema(value_type = Option<super::openapi::ResponseAmount>)]
    revenue_paid_out: Value,
    #[serde(flatten)]
    common: UpdateAnswerDetails,
}

/// The answer to `update_tags`, in request order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UpdateTagsResponse {
    /// `true`.
    success: bool,
    /// The calls changed.
    call_log_ids: Vec<String>,
    /// Tags added, single-pair objects with normalized keys.
    #[schema(value_type = Vec<std::collections::HashMap<String, String>>)]
    added: Vec<Value>,
    /// Tag keys removed, normalized.
    removed: Vec<String>,
    #[serde(flatten)]
    common: UpdateAnswerDetails,
}

/// The answer to `update_fields`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UpdateFieldsResponse {
    /// `true`.
    success: bool,
    /// The calls changed.
    call_log_ids: Vec<String>,
    /// Field → new value.
    #[schema(value_type = std::collections::HashMap<String, Value>)]
    updated: serde_json::Map<String, Value>,
    /// Tags added; only when some were.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Option<Vec<std::collections::HashMap<String, String>>>)]
    added: Option<Vec<Value>>,
    /// Tag keys removed; only when some were.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    removed: Option<Vec<String>>,
    #[serde(flatten)]
    common: UpdateAnswerDetails,
}

/// The members every update answer may end with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UpdateAnswerDetails {
    /// The changed calls that were live; only when some were.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    active_call_log_ids: Option<Vec<String>>,
    /// Field names deferred to the call's completion; only when some were.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    queued: Option<Vec<String>>,
    /// Fields the mapper did not understand; only when some were sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    ignored_fields: Option<Vec<String>>,
    /// Batch ids not changed (not found, of another org, outside the webhook's campaigns);
    /// batches only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    failed_call_log_ids: Option<Vec<String>>,
}

fn non_empty<T>(items: &[T]) -> Option<Vec<T>>
where
    T: Clone,
{
    (!items.is_empty()).then(|| items.to_vec())
}

fn tag_objects(added: &[(String, String)]) -> Vec<Value> {
    added
        .iter()
        .map(|(k, v)| serde_json::json!({ k: v }))
        .collect()
}

/// The success body of an applied update, shaped by its webhook's type.
fn applied_body(applied: &AppliedUpdate) -> Value {
    let common = UpdateAnswerDetails {
        active_call_log_ids: non_empty(&applied.active_call_log_ids),
        queued: non_empty(&applied.queued),
        ignored_fields: non_empty(&applied.ignored_fields),
        failed_call_log_ids: applied.failed_call_log_ids.clone(),
    };
    let call_log_ids = applied.call_log_ids.clone();
    let body = match applied.kind {
        WebhookKind::UpdateRevenue => serde_json::to_value(UpdateRevenueResponse {
            success: true,
            call_log_ids,
            revenue_paid_out: applied
                .updated("revenue_paid_out")
                .cloned()
                .unwrap_or(Value::Null),
            common,
        }),
        WebhookKind::UpdateTags => serde_json::to_value(UpdateTagsResponse {
            success: true,
            call_log_ids,
            added: tag_objects(&applied.added),
            removed: applied.removed.clone(),
            common,
        }),
        WebhookKind::UpdateFields | WebhookKind::CallData => {
            serde_json::to_value(UpdateFieldsResponse {
                success: true,
                call_log_ids,
                updated: applied.updated.iter().cloned().collect(),
                added: non_empty(&applied.added).map(|added| tag_objects(&added)),
                removed: non_empty(&applied.removed),
                common,
            })
        }
    };
    body.unwrap_or(Value::Null)
}

/// The error an outcome is answered with, if it is one.
fn outcome_error(outcome: &InboundOutcome) -> Option<ApiError> {
    Some(match outcome {
        InboundOutcome::CallOfOtherOrg { .. } => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Call log does not belong to your organization",
        ),
        InboundOutcome::CallOutsideCampaigns { .. } => ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Call log belongs to a campaign this webhook may not update",
        ),
        InboundOutcome::CallNotFound { .. } => ApiError::not_found(
            "Call log not found: check the call_log_id (ids are case-sensitive)",
        ),
        InboundOutcome::NoCallForPhone { .. } => {
            ApiError::not_found("No call found for this phone number within the lookback window")
        }
        InboundOutcome::TransactionIdReused { transaction_id } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "transaction_id_reused",
            format!(
                "transaction_id {transaction_id:?} was already used for a different request; use a new transaction_id for new content"
            ),
        ),
        InboundOutcome::InFlight { transaction_id } => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "A request with transaction_id {transaction_id:?} is being applied right now; retry shortly to get its answer"
            ),
        ),
        InboundOutcome::Updated(_)
        | InboundOutcome::CallDataStored { .. }
        | InboundOutcome::Replayed(_) => return None,
    })
}

/// How the public endpoints answer a store outcome (the store's [`moja_store::Responder`]).
pub(crate) fn respond(outcome: &InboundOutcome) -> StoredResponse {
    if let Some(error) = outcome_error(outcome) {
        return StoredResponse {
            status: error.status.as_u16(),
            body: error.body(),
        };
    }
    match outcome {
        InboundOutcome::Updated(applied) => StoredResponse {
            status: 200,
            body: applied_body(applied),
        },
        InboundOutcome::CallDataStored { request_id, .. } => StoredResponse {
            status: 200,
            body: serde_json::to_value(CallDataResponse {
                success: true,
                request_id: request_id.clone(),
            })
            .unwrap_or(Value::Null),
        },
        InboundOutcome::Replayed(stored) => stored.clone(),
        _ => StoredResponse {
            status: 500,
            body: ApiError::internal("an outcome without an answer").body(),
        },
    }
}
