//! Outbound webhooks: the delivery context, rendering through the renderer plugin, one attempt
//! (render, sign, send behind the SSRF guard, log), and the dispatcher that drains the outbox.

mod attempt;
mod dispatcher;
mod keys;
pub mod render;

use std::time::Duration;

use moja_core::sealed::SealingKey;
use moja_delivery::client::DeliveryClient;
use moja_delivery::retry::RetrySchedule;

pub use attempt::{AttemptInput, AttemptResult, send_once};
pub use dispatcher::Dispatcher;
pub use keys::load_or_create_sealing_key;
pub use render::{RenderFailure, sealed_headers, unseal_headers};

/// How deliveries are made, fixed at start.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Attempts in flight at once, over all webhooks.
    pub concurrency: usize,
    /// Attempts in flight at once per webhook, so one slow endpoint cannot take every slot.
    pub per_webhook_concurrency: usize,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Delays between attempts.
    pub schedule: RetrySchedule,
    /// How often the dispatcher looks for due work when nothing wakes it.
    pub poll_interval: Duration,
}

/// What outbound delivery needs, shared by the dispatcher and the API (test sends, resends).
#[derive(Debug)]
pub struct Outbound {
    /// The HTTP client behind the SSRF guard.
    pub client: DeliveryClient,
    /// Seals header templates and signing secrets at rest.
    pub sealing: SealingKey,
    /// Settings.
    pub settings: DeliverySettings,
}
