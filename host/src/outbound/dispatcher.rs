//! The dispatcher: materializes due scheduled events, claims due deliveries within a global and
//! a per-webhook bound, makes one attempt each, and records the outcome with the next due time.
//!
//! Shutdown stops claiming and waits for the attempts in hand. A crash leaves claims whose lease
//! lapses; on start the store releases this node's claims so they are retried at once.

use std::collections::{HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use moja_delivery::retry::Verdict;
use moja_store::{ClaimRequest, ClaimedDelivery, DeliveryNext};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::attempt::{AttemptInput, send_once};
use crate::state::AppState;

/// A claim outlives the attempt's timeout by this much before another attempt may take it.
const LEASE_MARGIN: SignedDuration = SignedDuration::from_secs(60);
/// Scheduled events materialized per round.
const FIRE_BATCH: usize = 256;

/// The background sender of outbound deliveries.
#[derive(Debug)]
pub struct Dispatcher;

impl Dispatcher {
    /// Runs until `shutdown`, then finishes the attempts in hand.
    pub async fn run(state: AppState, shutdown: CancellationToken) {
        let outbound = state.outbound.clone();
        let signals = state.store.signals();
        let settings = &outbound.settings;
        let node = state.settings.node_id.clone();
        match state.store.release_leases(&node).await {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "retrying deliveries a previous run held"),
            Err(error) => tracing::warn!(%error, "releasing delivery claims"),
        }
        let mut tasks: JoinSet<()> = JoinSet::new();
        let mut held: HashMap<tokio::task::Id, Done> = HashMap::new();
        let mut in_flight: HashMap<String, usize> = HashMap::new();
        let mut in_hand: HashSet<String> = HashSet::new();
        let lease = SignedDuration::try_from(settings.timeout).unwrap_or(SignedDuration::MAX)
            + LEASE_MARGIN;
        let mut last_fired: Option<std::time::Instant> = None;
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            let now = state.clock.now();
            // Scheduled events are looked for once per poll interval, not on every claim.
            if last_fired.is_none_or(|at| at.elapsed() >= settings.poll_interval) {
                last_fired = Some(std::time::Instant::now());
                if let Err(error) = state.store.fire_scheduled_events(now, FIRE_BATCH).await {
                    tracing::warn!(%error, "firing scheduled events");
                }
            }
            let free = settings.concurrency.saturating_sub(tasks.len());
            let mut more = false;
            if free > 0 {
                let claim = ClaimRequest {
                    node: node.clone(),
                    now,
                    lease_until: now + lease,
                    limit: free,
                    per_webhook_limit: settings.per_webhook_concurrency,
                    in_flight: in_flight.clone(),
                    in_hand: in_hand.clone(),
                };
                match state.store.claim_deliveries(claim).await {
                    Ok(claimed) => {
                        more = claimed.len() == free;
                        for delivery in claimed {
                            *in_flight.entry(delivery.webhook.id.clone()).or_default() += 1;
                            in_hand.insert(delivery.delivery.id.clone());
                            let done = (delivery.webhook.id.clone(), delivery.delivery.id.clone());
                            let task = tasks.spawn(attempt(state.clone(), delivery));
                            held.insert(task.id(), done);
                        }
                    }
                    Err(error) => tracing::warn!(%error, "claiming deliveries"),
                }
            }
            // Free the slots of finished attempts before deciding to wait.
            while let Some(done) = tasks.try_join_next_with_id() {
                release(&mut held, &mut in_flight, &mut in_hand, done);
                more = true;
            }
            if more && tasks.len() < settings.concurrency {
                continue;
            }
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                Some(done) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                    release(&mut held, &mut in_flight, &mut in_hand, done)
                }
                _ = signals.deliveries_queued().notified() => {}
                _ = tokio::time::sleep(settings.poll_interval) => {}
            }
        }
        if !tasks.is_empty() {
            tracing::info!(
                attempts = tasks.len(),
                "finishing delivery attempts in hand"
            );
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// What a finished attempt task hands back: `(webhook id, delivery id)`.
type Done = (String, String);

fn release(
    held: &mut HashMap<tokio::task::Id, Done>,
    in_flight: &mut HashMap<String, usize>,
    in_hand: &mut HashSet<String>,
    done: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
) {
    // A panicked attempt is released too: its claim lapses and the delivery is tried again.
    let task = match done {
        Ok((task, ())) => task,
        Err(error) => error.id(),
    };
    let Some((webhook_id, delivery_id)) = held.remove(&task) else {
        return;
    };
    in_hand.remove(&delivery_id);
    if let Some(count) = in_flight.get_mut(&webhook_id) {
        *count -= 1;
        if *count == 0 {
            in_flight.remove(&webhook_id);
        }
    }
}

/// One attempt of a claimed delivery, recorded with what comes next.
async fn attempt(state: AppState, claimed: ClaimedDelivery) {
    let ClaimedDelivery {
        delivery,
        event,
        webhook,
    } = claimed;
    let result = send_once(
        &state.outbound,
        &state.plugins,
        AttemptInput {
            webhook: &webhook,
            delivery_id: &delivery.id,
            attempt: delivery.attempts + 1,
            event_type: delivery.event_type,
            call_id: delivery.call_id.as_deref(),
            tags: &event.tags,
            now: state.clock.now(),
        },
    )
    .await;
    let mut record = result.record;
    let next = next_step(&state, result.verdict, delivery.retries_used);
    let (outcome, next_attempt_at) = match next {
        DeliveryNext::Succeeded => ("succeeded", None),
        DeliveryNext::RetryAt(at) => ("retrying", Some(at)),
        DeliveryNext::Failed => ("failed", None),
    };
    record.outcome = outcome.to_owned();
    record.next_attempt_at = next_attempt_at;
    crate::metrics::delivery_attempt(outcome, record.latency_us as f64 / 1e6);
    tracing::debug!(
        delivery = %delivery.id,
        webhook = %webhook.id,
        attempt = record.attempt,
        status = ?record.response_status,
        outcome,
        "delivery attempt"
    );
    if let Err(error) = state.store.finish_attempt(record, next).await {
        tracing::warn!(%error, delivery = %delivery.id, "recording a delivery attempt; it will be retried when its claim lapses");
    }
}

fn next_step(state: &AppState, verdict: Verdict, retries_used: u32) -> DeliveryNext {
    match verdict {
        Verdict::Success => DeliveryNext::Succeeded,
        Verdict::Fail => DeliveryNext::Failed,
        Verdict::Retry { retry_after } => {
            // Attempts made in this round (since the first send or a resend), this one included.
            let delay = state.outbound.settings.schedule.next_delay(
                retries_used + 1,
                retry_after,
                &mut rand::rng(),
            );
            match delay {
                Some(delay) => DeliveryNext::RetryAt(after(state.clock.now(), delay)),
                None => DeliveryNext::Failed,
            }
        }
    }
}

fn after(now: Timestamp, delay: std::time::Duration) -> Timestamp {
    SignedDuration::try_from(delay)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}
