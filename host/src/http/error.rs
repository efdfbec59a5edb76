//! The one API error type, rendered as SPEC §7.5's JSON body with a stable `code`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::plugins::{CallFailure, wit};

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

    /// A 400 carrying a plugin's refusal.
    pub(crate) fn plugin_refusal(error: &wit::PluginError) -> Self {
        let code = match error.code {
            wit::ErrorCode::MissingParameter => "missing_parameter",
            wit::ErrorCode::InvalidParameter => "invalid_parameter",
            wit::ErrorCode::InvalidJson => "invalid_json",
            wit::ErrorCode::BatchRequiresPost => "batch_requires_post",
            wit::ErrorCode::BatchTooLarge => "batch_too_large",
            wit::ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            wit::ErrorCode::InvalidTemplate => "invalid_template",
        };
        let status = if code == "unsupported_media_type" {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        } else {
            StatusCode::BAD_REQUEST
        };
        let mut api = Self::new(status, code, error.message.clone());
        api.field = error.field.clone();
        api
    }

    /// A 500 naming the plugin and the kind of failure: the tenant's plugin failed, not the platform.
    pub(crate) fn plugin_failure(failure: &CallFailure) -> Self {
        tracing::warn!(error = %failure, kind = failure.kind(), "plugin call failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "plugin_failed",
            failure.to_string(),
        )
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
