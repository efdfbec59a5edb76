//! Background upkeep: completes calls left live too long, purges old idempotency records,
//! request log entries and expired call data, prunes idle rate-limit state.

use std::time::Duration;

use jiff::SignedDuration;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(60);

/// Runs [`tick`] every minute until `shutdown`.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
        if let Err(error) = tick(&state).await {
            tracing::warn!(%error, "maintenance failed; retrying next minute");
        }
    }
}

/// One round of upkeep at the state's clock time.
pub async fn tick(state: &AppState) -> anyhow::Result<()> {
    let now = state.clock.now();
    let ago = |d: Duration| now - SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX);
    let swept = state
        .store
        .sweep_live_calls(ago(state.settings.max_call_duration), now)
        .await?;
    if !swept.is_empty() {
        tracing::info!(calls = swept.len(), "completed calls left live too long");
    }
    let purged = state
        .store
        .purge(
            ago(state.settings.idempotency_retention),
            ago(state.settings.request_log_retention),
            now,
        )
        .await?;
    if purged > 0 {
        tracing::info!(rows = purged, "purged expired records");
    }
    state.limiter.prune(now);
    Ok(())
}
