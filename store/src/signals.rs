//! What a store signals after its commits, for the layers above it that keep state in memory.
//!
//! A backend raises a signal only after the commit it stands for. On SQLite (one process) the
//! store raises them itself; a clustered backend also raises them when the database tells it of
//! another node's commit (PostgreSQL: LISTEN/NOTIFY), which is what keeps every node's caches and
//! dispatchers in step without anything in process memory having to agree.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// The store's signals.
#[derive(Debug, Default)]
pub struct Signals {
    deliveries_queued: Notify,
    webhooks_generation: AtomicU64,
}

impl Signals {
    /// Raised after a commit that queued deliveries (new events, resends): the dispatcher claims
    /// at once instead of at its next poll.
    pub fn deliveries_queued(&self) -> &Notify {
        &self.deliveries_queued
    }

    /// Raises [`Signals::deliveries_queued`].
    pub fn raise_deliveries_queued(&self) {
        self.deliveries_queued.notify_one();
    }

    /// A counter bumped after every commit that may change what a webhook key authenticates
    /// (a webhook or an org changed): a cache entry read under another generation is stale.
    pub fn webhooks_generation(&self) -> u64 {
        self.webhooks_generation.load(Ordering::Acquire)
    }

    /// Bumps [`Signals::webhooks_generation`].
    pub fn raise_webhooks_changed(&self) {
        self.webhooks_generation.fetch_add(1, Ordering::AcqRel);
    }
}
