//! The plugins serving now, swapped atomically; calls in flight keep the version they started on.
//!
//! Keyed by owner and name: platform plugins (bundled or from `MOJA_PLUGIN_DIR`) have no owner;
//! tenant plugins are keyed by their org. Each key holds every loaded version (what a webhook may
//! pin) and which of them is active (what serves unpinned webhooks).

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

/// Versions kept per plugin: the active one and the most recently loaded others (what a webhook
/// may pin, or roll back to). Each holds compiled code, so the count is bounded.
const MAX_VERSIONS: usize = 16;

/// The loaded versions of one plugin.
#[derive(Debug, Clone)]
pub(crate) struct Versions {
    /// The version serving unpinned webhooks.
    pub(crate) active: Arc<LoadedPlugin>,
    /// Every loaded version, by version.
    pub(crate) all: HashMap<String, Arc<LoadedPlugin>>,
}

#[derive(Default)]
pub(crate) struct Registry {
    current: ArcSwap<HashMap<PluginKey, Versions>>,
    /// Serializes writers; readers never take it.
    write: Mutex<()>,
    reloads: AtomicU64,
    failures_total: AtomicU64,
    failures: Mutex<HashMap<PluginKey, LoadFailureReport>>,
}

impl Registry {
    /// The active version of `key`.
    pub(crate) fn get(&self, key: &PluginKey) -> Option<Arc<LoadedPlugin>> {
        self.current.load().get(key).map(|v| v.active.clone())
    }

    /// Version `version` of `key`, if it is loaded.
    pub(crate) fn get_version(&self, key: &PluginKey, version: &str) -> Option<Arc<LoadedPlugin>> {
        self.current.load().get(key)?.all.get(version).cloned()
    }

    /// The active version of every plugin.
    pub(crate) fn all(&self) -> Vec<Arc<LoadedPlugin>> {
        let mut plugins: Vec<_> = self
            .current
            .load()
            .values()
            .map(|v| v.active.clone())
            .collect();
        plugins.sort_by(|a, b| a.key.cmp(&b.key));
        plugins
    }

    /// Adds `plugin` to its key's versions and makes it the active one. Returns the version that
    /// was active before.
    pub(crate) fn install(&self, plugin: Arc<LoadedPlugin>) -> Option<Arc<LoadedPlugin>> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = HashMap::clone(&self.current.load());
        let key = plugin.key.clone();
        let previous = match next.get_mut(&key) {
            Some(versions) => {
                versions.all.insert(plugin.version.clone(), plugin.clone());
                let previous = std::mem::replace(&mut versions.active, plugin);
                while versions.all.len() > MAX_VERSIONS {
                    let oldest = versions
                        .all
                        .values()
                        .filter(|v| v.version != versions.active.version)
                        .min_by_key(|v| v.loaded_at)
                        .map(|v| v.version.clone());
                    match oldest {
                        Some(version) => versions.all.remove(&version),
                        None => break,
                    };
                }
                Some(previous)
            }
            None => {
                let all = HashMap::from([(plugin.version.clone(), plugin.clone())]);
                next.insert(
                    key.clone(),
                    Versions {
                        active: plugin,
                        all,
                    },
                );
                None
            }
        };
        self.current.store(Arc::new(next));
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        previous
    }

    /// Removes a plugin with all its versions. Returns the version that was active.
    pub(crate) fn remove(&self, key: &PluginKey) -> Option<Arc<LoadedPlugin>> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = HashMap::clone(&self.current.load());
        let previous = next.remove(key).map(|v| v.active);
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
