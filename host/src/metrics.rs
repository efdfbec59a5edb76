//! Prometheus metrics: one recorder per process, rendered at `GET /metrics`.
//!
//! Names: `moja_http_requests_total{route,method,status}`,
//! `moja_http_request_duration_seconds{route,method}`,
//! `moja_plugin_calls_total{plugin,world,outcome}`, `moja_plugin_call_duration_seconds{plugin,world}`,
//! `moja_delivery_attempts_total{outcome}` (`succeeded`, `retrying`, `failed`),
//! `moja_delivery_attempt_duration_seconds`, and, read from the store at each scrape,
//! `moja_delivery_queue_depth`, `moja_delivery_queue_due` and `moja_delivery_oldest_due_seconds`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

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

/// Records a plugin that failed to load (the version before it, if any, keeps serving).
pub fn plugin_load_failure(plugin: &str) {
    metrics::counter!("moja_plugin_load_failures_total", "plugin" => plugin.to_owned())
        .increment(1);
}

/// Records one delivery attempt.
pub fn delivery_attempt(outcome: &str, seconds: f64) {
    metrics::counter!("moja_delivery_attempts_total", "outcome" => outcome.to_owned()).increment(1);
    metrics::histogram!("moja_delivery_attempt_duration_seconds").record(seconds);
}

/// Prometheus metrics.
///
/// Requests and latencies, plugin calls and failures, deliveries and the delivery queue, in the
/// Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "health",
    responses((
        status = 200,
        description = "The Prometheus text exposition format",
        body = String,
        content_type = "text/plain; version=0.0.4",
    )),
)]
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let now = state.clock.now();
    match state.store.queue_stats(now).await {
        Ok(stats) => {
            metrics::gauge!("moja_delivery_queue_depth").set(stats.pending as f64);
            metrics::gauge!("moja_delivery_queue_due").set(stats.due as f64);
            let oldest = stats
                .oldest_due
                .map(|t| now.duration_since(t).as_secs_f64().max(0.0))
                .unwrap_or(0.0);
            metrics::gauge!("moja_delivery_oldest_due_seconds").set(oldest);
        }
        Err(error) => tracing::warn!(%error, "reading the delivery queue for metrics"),
    }
    (
        [("content-type", "text/plain; version=0.0.4")],
        handle().render(),
    )
}
