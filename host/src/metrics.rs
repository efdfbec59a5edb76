//! Prometheus metrics: one recorder per process, rendered at `GET /metrics`.
//!
//! Names: `moja_http_requests_total{route,method,status}`,
//! `moja_http_request_duration_seconds{route,method}`,
//! `moja_plugin_calls_total{plugin,world,outcome}`, `moja_plugin_call_duration_seconds{plugin,world}`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (once) and returns its handle.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may be installed by an embedding program; ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Counts and times every request by its route template (never the raw path: ids and keys
/// would explode the label space and leak secrets).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("moja_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("moja_http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Records one plugin call.
pub fn plugin_call(plugin: &str, world: &str, outcome: &str, seconds: f64) {
    metrics::counter!("moja_plugin_calls_total", "plugin" => plugin.to_owned(), "world" => world.to_owned(), "outcome" => outcome.to_owned())
        .increment(1);
    metrics::histogram!("moja_plugin_call_duration_seconds", "plugin" => plugin.to_owned(), "world" => world.to_owned())
        .record(seconds);
}

/// `GET /metrics`.
pub async fn render(State(_state): State<AppState>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        handle().render(),
    )
}
