//! The HTTP surface: router, request ids, a trace span per request, the API error type.

mod admin;
mod answers;
mod auth;
mod calls;
mod error;
mod health;
mod json;
mod openapi;
mod public;

use axum::Router;
use axum::http::{HeaderName, Request};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::{Operator, OrgAuth};
pub use error::ApiError;
pub use json::{ApiJson, Created, List, PageQuery};

use crate::state::AppState;

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

/// The routes whose handlers carry `#[utoipa::path]`, each listed once: [`router`] serves them
/// and `/openapi.json` documents them (the public inbound endpoints are documented apart).
pub(crate) fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(crate::metrics::render))
        .routes(routes!(openapi::document))
        .routes(routes!(calls::create, calls::list))
        .routes(routes!(calls::get))
        .routes(routes!(calls::connected))
        .routes(routes!(calls::hangup))
        .routes(routes!(calls::failure))
        .routes(routes!(calls::timeline))
        .routes(routes!(public::replay))
        .merge(admin::routes())
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    let header = HeaderName::from_static(REQUEST_ID_HEADER);
    Router::new()
        .merge(documented_routes())
        .merge(public::routes())
        .fallback(not_found)
        .route_layer(axum::middleware::from_fn(crate::metrics::track))
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
        // The request id is the request log's key: a client-sent one is never trusted.
        .layer(axum::middleware::map_request(
            |mut request: Request<axum::body::Body>| async move {
                request.headers_mut().remove(REQUEST_ID_HEADER);
                request
            },
        ))
}

async fn not_found() -> ApiError {
    ApiError::not_found("No such endpoint: the API is described at /openapi.json")
}
