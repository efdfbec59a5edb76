//! The one API error type, rendered as SPEC §7.5's JSON body with a stable `code`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An error answered to an API client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine code (`missing_parameter`).
    pub code: &'static str,
    /// A message a person can act on. For 5xx it reveals nothing about internals.
    pub message: String,
    /// The input field concerned, when there is one.
    pub field: Option<String>,
}

/// The JSON body of every error: `{"success": false, "error", "code", "field"?}`.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody<'a> {
    /// Always `false`.
    success: bool,
    /// A message a person can act on; for 5xx it reveals nothing about internals.
    error: &'a str,
    /// A stable machine code (`missing_parameter`, `invalid_parameter`, `unauthorized`, …).
    code: &'a str,
    /// The input field concerned, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    field: Option<&'a str>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// Names the input field concerned.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500 `internal`; the cause is logged here, once, and not revealed.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
        )
    }
}

impl ApiError {
    fn error_body(&self) -> ErrorBody<'_> {
        ErrorBody {
            success: false,
            error: &self.message,
            code: self.code,
            field: self.field.as_deref(),
        }
    }

    /// The JSON body of this error: the one place the error shape is built (responses, the
    /// request log, stored answers).
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(self.error_body()).unwrap_or(serde_json::Value::Null)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.error_body())).into_response()
    }
}
