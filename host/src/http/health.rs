//! `/healthz` (the process is up) and `/readyz` (plugins loaded, with versions and reload count).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::app::AppState;
use crate::plugins::{RuntimeStatus, standard};

#[derive(Serialize)]
pub(crate) struct Health {
    status: &'static str,
}

pub(crate) async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize)]
pub(crate) struct Readiness {
    status: &'static str,
    #[serde(flatten)]
    plugins: RuntimeStatus,
}

/// Ready when the standard plugins every webhook defaults to are serving.
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
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(Readiness {
            status: if ready { "ready" } else { "not_ready" },
            plugins: status,
        }),
    )
}
