//! The application state every handler, the dispatcher and maintenance reach: defined apart from
//! the wiring in `app` so that handler modules depend on this small module, not on the whole
//! start-up.

use std::sync::Arc;
use std::time::Duration;

use moja_core::clock::SharedClock;
use moja_core::rate_limit::RateLimiter;
use moja_store::{Store, StoreError};

use crate::outbound::Outbound;
use crate::plugins::PluginRuntime;
use crate::webhook_keys::WebhookKeys;

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
    /// This node's id in delivery leases.
    pub node_id: String,
}

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The plugin runtime and registry.
    pub plugins: Arc<PluginRuntime>,
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Incoming webhooks by key hash: every public request looks one up.
    pub webhook_keys: Arc<WebhookKeys>,
    /// The clock every time-dependent rule reads (tests control it).
    pub clock: SharedClock,
    /// Inbound rate limits (in memory on one node; behind core's trait so a shared one can
    /// replace it).
    pub limiter: Arc<dyn RateLimiter>,
    /// Fixed settings.
    pub settings: Arc<Settings>,
    /// Outbound delivery: client, sealing key, settings.
    pub outbound: Arc<Outbound>,
}

impl AppState {
    /// The keys of the org's custom tags: call-data fields with these keys become call tags.
    pub async fn custom_tag_keys(&self, org_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .store
            .list_custom_tags(org_id)
            .await?
            .into_iter()
            .map(|t| t.key)
            .collect())
    }
}
