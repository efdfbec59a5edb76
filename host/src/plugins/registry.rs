//! The plugins serving now, swapped atomically; calls in flight keep the version they started on.
//!
//! Keyed by owner and name: platform plugins (bundled or from `MOJA_PLUGIN_DIR`) have no owner;
//! tenant plugins (a later issue) will be keyed by their org, with versions kept per key.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use arc_swap::ArcSwap;

use super::runtime::LoadedPlugin;

/// Who owns a plugin and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PluginKey {
    /// `None` for platform plugins; the org id for tenant plugins.
    pub org: Option<String>,
    /// The plugin name (`map-standard`).
    pub name: String,
}

impl PluginKey {
    /// The key of a platform plugin.
    pub fn platform(name: &str) -> Self {
        Self {
            org: None,
            name: name.to_owned(),
        }
    }
}

/// A load that failed, kept for `/readyz` until that plugin loads successfully.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LoadFailureReport {
    /// Plugin name.
    pub plugin: String,
    /// Where it came from.
    pub source: String,
    /// The error.
    pub error: String,
    /// When it failed.
    #[serde(with = "humantime_serde_compat")]
    #[schema(value_type = String, format = DateTime)]
    pub at: SystemTime,
}

mod humantime_serde_compat {
    pub(super) fn serialize<S: serde::Serializer>(
        at: &std::time::SystemTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&humantime::format_rfc3339_millis(*at).to_string())
    }
}

#[derive(Default)]
pub(crate) struct Registry {
    current: ArcSwap<HashMap<PluginKey, Arc<LoadedPlugin>>>,
    /// Serializes writers; readers never take it.
    write: Mutex<()>,
    reloads: AtomicU64,
    failures_total: AtomicU64,
    failures: Mutex<HashMap<PluginKey, LoadFailureReport>>,
}

impl Registry {
    pub(crate) fn get(&self, key: &PluginKey) -> Option<Arc<LoadedPlugin>> {
        self.current.load().get(key).cloned()
    }

    pub(crate) fn all(&self) -> Vec<Arc<LoadedPlugin>> {
        let mut plugins: Vec<_> = self.current.load().values().cloned().collect();
        plugins.sort_by(|a, b| a.key.cmp(&b.key));
        plugins
    }

    /// Makes `plugin` the version serving under its key. Returns the version it replaced.
    pub(crate) fn install(&self, plugin: Arc<LoadedPlugin>) -> Option<Arc<LoadedPlugin>> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = HashMap::clone(&self.current.load());
        let key = plugin.key.clone();
        let previous = next.insert(key.clone(), plugin);
        self.current.store(Arc::new(next));
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        previous
    }

    pub(crate) fn remove(&self, key: &PluginKey) -> Option<Arc<LoadedPlugin>> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = HashMap::clone(&self.current.load());
        let previous = next.remove(key);
        self.current.store(Arc::new(next));
        previous
    }

    pub(crate) fn count_reload(&self) {
        self.reloads.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn record_failure(&self, key: PluginKey, report: LoadFailureReport) {
        self.failures_total.fetch_add(1, Ordering::SeqCst);
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, report);
    }

    pub(crate) fn reloads(&self) -> u64 {
        self.reloads.load(Ordering::SeqCst)
    }

    pub(crate) fn failures_total(&self) -> u64 {
        self.failures_total.load(Ordering::SeqCst)
    }

    pub(crate) fn failures(&self) -> Vec<LoadFailureReport> {
        let mut reports: Vec<_> = self
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        reports.sort_by(|a, b| a.plugin.cmp(&b.plugin));
        reports
    }
}
