//! The application state every handler, the dispatcher and maintenance reach: defined apart from
//! the wiring in `app` so that handler modules depend on this small module, not on the whole
//! start-up.

use std::sync::Arc;
use std::time::Duration;

use moja_core::clock::SharedClock;
use moja_core::rate_limit::InMemoryRateLimiter;
use moja_store::Store;

use crate::outbound::Outbound;
use crate::plugins::PluginRuntime;

/// Settings handlers need, fixed at start.
#[derive(Debug)]
pub struct Settings {
    /// Base of the webhook URLs the API returns.
    pub public_base_url: String,
    /// How long idempotency records live.
    pub idempotency_retention: Duration,
    /// How long the request log is kept.
    pub request_log_retention: Duration,
    /// Longest a call stays live before the sweeper completes it.
    pub max_call_duration: Duration,
    /// Keyless requests allowed per client address and minute.
    pub unauthenticated_rate_limit: u32,
}

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The plugin runtime and registry.
    pub plugins: Arc<PluginRuntime>,
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// The clock every time-dependent rule reads (tests control it).
    pub clock: SharedClock,
    /// Inbound rate limits.
    pub limiter: Arc<InMemoryRateLimiter>,
    /// Fixed settings.
    pub settings: Arc<Settings>,
    /// Outbound delivery: client, sealing key, settings.
    pub outbound: Arc<Outbound>,
}
