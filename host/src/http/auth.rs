//! Who is calling the admin API: the operator (`/api/v1/orgs`) or an org (its API key).
//! Keys are compared by SHA-256 in constant time and never logged.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use moja_core::secrets;
use moja_store::Org;

use super::ApiError;
use crate::bootstrap::OPERATOR_TOKEN_HASH;
use crate::state::AppState;

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn unauthorized(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        format!("Unauthorized: send `Authorization: Bearer <{what}>`"),
    )
}

/// The platform operator.
#[derive(Debug)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(|| unauthorized("operator token"))?;
        let stored = state
            .store
            .setting(OPERATOR_TOKEN_HASH)
            .await
            .map_err(ApiError::internal)?;
        match stored {
            Some(hash) if secrets::verify(token, &hash) => Ok(Operator),
            _ => Err(unauthorized("operator token")),
        }
    }
}

/// An org, authenticated by one of its API keys.
#[derive(Debug)]
pub struct OrgAuth {
    /// The org.
    pub org: Org,
}

impl FromRequestParts<AppState> for OrgAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = bearer(parts).ok_or_else(|| unauthorized("org API key"))?;
        let found = state
            .store
            .find_api_key(&secrets::hash(key))
            .await
            .map_err(ApiError::internal)?;
        let Some((_, org)) = found else {
            return Err(unauthorized("org API key"));
        };
        if org.disabled {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "org_disabled",
                "This organization is disabled; contact the platform operator",
            ));
        }
        Ok(OrgAuth { org })
    }
}
