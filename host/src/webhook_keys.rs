//! The webhook-by-key cache: every public request finds its webhook (and org) by the hash of
//! its key, so the answer is kept in memory and dropped whenever the store signals that a
//! webhook or an org changed.
//!
//! Invalidation is the store's `webhooks_generation` signal: raised after each commit of such a
//! change on this node (SQLite), and by a clustered backend also when the database reports
//! another node's commit. An entry is kept only if no change was signalled between the moment
//! the lookup started and the moment it is stored, so a lookup that read the database before a
//! change committed can never re-insert what it read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use moja_store::{IncomingWebhook, Org, Signals, Store, StoreError};

/// Webhooks with their org, by key hash, as of one generation of the store's signal.
#[derive(Debug, Default)]
struct Entries {
    generation: u64,
    by_key: HashMap<String, (IncomingWebhook, Org)>,
}

/// The cache in front of [`Store::find_incoming_webhook`].
#[derive(Debug)]
pub struct WebhookKeys {
    store: Arc<dyn Store>,
    signals: Arc<Signals>,
    entries: Mutex<Entries>,
}

impl WebhookKeys {
    /// A cache over `store`, invalidated by its signals.
    pub fn new(store: Arc<dyn Store>) -> Self {
        let signals = store.signals();
        Self {
            entries: Mutex::new(Entries {
                generation: signals.webhooks_generation(),
                by_key: HashMap::new(),
            }),
            store,
            signals,
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The webhook whose key has this hash, and its org.
    pub async fn find(&self, key_hash: &str) -> Result<Option<(IncomingWebhook, Org)>, StoreError> {
        let generation = self.signals.webhooks_generation();
        {
            let mut entries = self.entries();
            if entries.generation != generation {
                entries.by_key.clear();
                entries.generation = generation;
            }
            if let Some(found) = entries.by_key.get(key_hash) {
                return Ok(Some(found.clone()));
            }
        }
        let found = self.store.find_incoming_webhook(key_hash).await?;
        if let Some(found) = &found {
            let mut entries = self.entries();
            if entries.generation == generation && self.signals.webhooks_generation() == generation
            {
                entries.by_key.insert(key_hash.to_owned(), found.clone());
            }
        }
        Ok(found)
    }
}
