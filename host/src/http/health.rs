//! `/healthz` (the process is up) and `/readyz` (the database answers and takes writes, the
//! standard plugins are loaded; with plugin versions and the reload count).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::plugins::{RuntimeStatus, standard};
use crate::state::AppState;

/// The process is up.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    status: &'static str,
}

/// The process is up.
///
/// Answers as long as the process serves HTTP; it checks nothing else.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "health",
    responses((status = 200, description = "The process is up", body = Health)),
)]
pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Whether the server is ready, and the plugin runtime's status.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Readiness {
    /// `ready` or `not_ready`.
    #[schema(example = "ready")]
    status: &'static str,
    /// `ok`, or why the database cannot be used (`unavailable: …`).
    #[schema(example = "ok")]
    database: String,
    #[serde(flatten)]
    plugins: RuntimeStatus,
}

/// Ready when the database answers and takes writes and the standard plugins every webhook
/// defaults to are serving.
///
/// Lists the plugins serving now (name, world, version, source), the hot-reload count and the
/// loads that failed.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "health",
    responses(
        (status = 200, description = "The database answers and the standard plugins are serving", body = Readiness),
        (status = 503, description = "The database is unavailable or a standard plugin is not loaded", body = Readiness),
    ),
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let status = state.plugins.status();
    let ready = [standard::NORMALIZER, standard::MAPPER, standard::RENDERER]
        .iter()
        .all(|name| {
            status
                .plugins
                .iter()
                .any(|p| p.name == *name && p.org.is_none())
        });
    let database = match state.store.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(error) => {
            tracing::warn!(%error, "readiness: the database is unavailable");
            format!("unavailable: {error}")
        }
    };
    let ready = ready && database == "ok";
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(Readiness {
            status: if ready { "ready" } else { "not_ready" },
            database,
            plugins: status,
        }),
    )
}
