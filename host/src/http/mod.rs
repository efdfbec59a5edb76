//! The HTTP surface: router, request ids, a trace span per request, the API error type.

mod error;
mod health;

use axum::Router;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::app::AppState;

/// The response and request header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Makes a UUIDv7 request id for every request.
#[derive(Clone, Copy, Debug, Default)]
struct UuidV7;

impl MakeRequestId for UuidV7 {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let id = uuid::Uuid::now_v7().to_string();
        Some(RequestId::new(id.parse().ok()?))
    }
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    let header = HeaderName::from_static(REQUEST_ID_HEADER);
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(not_found)
        .with_state(state)
        .layer(PropagateRequestIdLayer::new(header.clone()))
        .layer(
            // The span names the path only: query strings carry `moja_auth_key` and never reach logs.
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(REQUEST_ID_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!(
                    "request",
                    request_id,
                    method = %request.method(),
                    path = %request.uri().path(),
                )
            }),
        )
        .layer(SetRequestIdLayer::new(header, UuidV7))
}

async fn not_found() -> ApiError {
    ApiError::not_found("No such endpoint: see /openapi.json for the API")
}
