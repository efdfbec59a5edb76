//! `MOJA_PLUGIN_DIR`: platform plugins loaded from `.wasm` files and hot-reloaded on change.
//!
//! A file's stem is the plugin's name; a file named like a bundled plugin replaces it. Events are
//! debounced; a polling watcher is the fallback where file events are unavailable. Compilation
//! happens on the watcher's thread, never on a request path. A file that fails to load leaves the
//! previous version serving and is reported (logs, `/readyz`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{PollWatcher, RecommendedWatcher};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer_opt};

use super::registry::PluginKey;
use super::runtime::{PluginRuntime, PluginSource};

const DEBOUNCE: Duration = Duration::from_millis(200);

/// Watches a plugin folder while it lives.
pub struct PluginDirWatcher {
    _debouncer: WatcherKind,
}

impl std::fmt::Debug for PluginDirWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginDirWatcher").finish_non_exhaustive()
    }
}

enum WatcherKind {
    Events(#[allow(dead_code)] Debouncer<RecommendedWatcher>), // held for its Drop
    Polling(#[allow(dead_code)] Debouncer<PollWatcher>),       // held for its Drop
}

impl PluginRuntime {
    /// Loads every `.wasm` in `dir`, then watches it for changes.
    pub fn watch_dir(self: &Arc<Self>, dir: &Path) -> anyhow::Result<PluginDirWatcher> {
        std::fs::create_dir_all(dir)?;
        let dir = dir.canonicalize()?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if is_plugin_file(&path) {
                self.reload_file(&path);
            }
        }
        let runtime = Arc::downgrade(self);
        let handler = move |events: DebounceEventResult| {
            let Some(runtime) = runtime.upgrade() else {
                return;
            };
            match events {
                Ok(events) => {
                    let mut paths: Vec<PathBuf> = events
                        .into_iter()
                        .map(|e| e.path)
                        .filter(|p| is_plugin_file(p))
                        .collect();
                    paths.sort();
                    paths.dedup();
                    for path in paths {
                        runtime.reload_file(&path);
                    }
                }
                Err(error) => tracing::warn!(%error, "plugin folder watch error"),
            }
        };
        let config = notify_debouncer_mini::Config::default().with_timeout(DEBOUNCE);
        let watcher =
            match new_debouncer_opt::<_, RecommendedWatcher>(config.clone(), handler.clone()) {
                Ok(mut debouncer) => {
                    debouncer
                        .watcher()
                        .watch(&dir, notify::RecursiveMode::NonRecursive)?;
                    WatcherKind::Events(debouncer)
                }
                Err(error) => {
                    tracing::warn!(%error, "file events unavailable; polling the plugin folder");
                    let polling = config.with_notify_config(
                        notify::Config::default().with_poll_interval(Duration::from_secs(1)),
                    );
                    let mut debouncer = new_debouncer_opt::<_, PollWatcher>(polling, handler)?;
                    debouncer
                        .watcher()
                        .watch(&dir, notify::RecursiveMode::NonRecursive)?;
                    WatcherKind::Polling(debouncer)
                }
            };
        tracing::info!(dir = %dir.display(), "watching plugin folder");
        Ok(PluginDirWatcher {
            _debouncer: watcher,
        })
    }

    /// Loads (or unloads, when gone) the plugin of one file.
    fn reload_file(&self, path: &Path) {
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            return;
        };
        let key = PluginKey::platform(name);
        let source = PluginSource::File(path.to_path_buf());
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                self.file_removed(&key, path);
                return;
            }
            Err(error) => {
                tracing::error!(path = %path.display(), %error, "cannot read plugin file");
                return;
            }
        };
        if let Some(current) = self.get(&key)
            && current.source == source
            && current.digest == hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))
        {
            return;
        }
        // Errors are logged and recorded by load_and_install.
        let _ = self.load_and_install(key, &bytes, source);
    }

    fn file_removed(&self, key: &PluginKey, path: &Path) {
        let Some(current) = self.get(key) else { return };
        if current.source != PluginSource::File(path.to_path_buf()) {
            return;
        }
        let bundled = super::bundled::BUNDLED
            .iter()
            .find(|(name, _)| *name == key.name);
        match bundled {
            Some((_, bytes)) => {
                let _ = self.load_and_install(key.clone(), bytes, PluginSource::Bundled);
            }
            None => {
                self.uninstall(key);
                tracing::info!(plugin = %key.name, "plugin file removed; plugin unloaded");
            }
        }
    }
}

fn is_plugin_file(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "wasm")
}
