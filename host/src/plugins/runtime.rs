//! The plugin runtime: loads and validates components, keeps the registry, runs calls.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use super::bindings::{self, map_world, normalize_world, render_world, types};
use super::cache;
use super::call::{self, CallOutcome, CallState};
use super::error::{CallFailure, LoadError};
use super::export::{self, Export, WorldFunc};
use super::limits::PluginLimits;
use super::registry::{LoadFailureReport, PluginKey, Registry};
use super::world::{PluginWorld, detect_world};

/// Ordered string pairs, as they cross the plugin boundary.
pub type Pairs = Vec<(String, String)>;

/// Where a loaded plugin came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "path", rename_all = "lowercase")]
pub enum PluginSource {
    /// Built from `plugins/` and bundled into the binary.
    Bundled,
    /// A file in `MOJA_PLUGIN_DIR`.
    #[schema(value_type = String)]
    File(PathBuf),
    /// Given directly (tests, uploads).
    Memory,
}

impl std::fmt::Display for PluginSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginSource::Bundled => f.write_str("bundled"),
            PluginSource::File(path) => write!(f, "{}", path.display()),
            PluginSource::Memory => f.write_str("memory"),
        }
    }
}

/// A compiled, validated plugin version, ready to instantiate.
pub struct LoadedPlugin {
    /// Owner and name.
    pub key: PluginKey,
    /// The version: the first 12 hex digits of the component's SHA-256.
    pub version: String,
    /// The full SHA-256 of the component.
    pub digest: String,
    /// The world it implements.
    pub world: PluginWorld,
    /// Where it came from.
    pub source: PluginSource,
    /// When it was loaded.
    pub loaded_at: SystemTime,
    entry: WorldEntry,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("key", &self.key)
            .field("version", &self.version)
            .field("world", &self.world)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// The pre-linked instance and the export lookups of a plugin's world, resolved once per version.
#[derive(Clone)]
enum WorldEntry {
    Normalizer(InstancePre<CallState>, Export<export::Normalize>),
    Mapper(InstancePre<CallState>, Export<export::Map>),
    Renderer(InstancePre<CallState>, Export<export::Render>),
}

#[cfg(test)]
impl LoadedPlugin {
    /// A copy, to make a second "version" of a component in tests.
    pub(crate) fn clone_for_test(&self) -> Self {
        Self {
            key: self.key.clone(),
            version: self.version.clone(),
            digest: self.digest.clone(),
            world: self.world,
            source: self.source.clone(),
            loaded_at: self.loaded_at,
            entry: self.entry.clone(),
        }
    }
}

/// One entry of the runtime's status (for `/readyz`).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PluginStatus {
    /// Plugin name.
    pub name: String,
    /// Owning org, for tenant plugins.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub org: Option<String>,
    /// The world it implements.
    pub world: PluginWorld,
    /// Content-hash version.
    pub version: String,
    /// Where it came from.
    pub source: PluginSource,
}

/// The runtime's status: what serves, how many reloads, what failed to load.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RuntimeStatus {
    /// Plugins serving now.
    pub plugins: Vec<PluginStatus>,
    /// Successful swaps since start (hot reloads).
    pub reloads: u64,
    /// Failed loads since start.
    pub load_failures: u64,
    /// The last failure of each plugin that has not loaded successfully since.
    pub failing: Vec<LoadFailureReport>,
}

/// What the inbound plugin pipeline produced: the normalizer's outcome and, when it produced tags,
/// the mapper's.
#[derive(Debug)]
pub struct NormalizeAndMap {
    /// The normalizer's call.
    pub normalized: CallOutcome<Result<normalize_world::Normalized, types::PluginError>>,
    /// The mapper's call, absent when the normalizer refused the request.
    pub mapped: Option<CallOutcome<Result<map_world::Command, types::PluginError>>>,
}

/// Compiles, validates, registers and calls plugin components.
pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<CallState>,
    limits: PluginLimits,
    cache_dir: Option<PathBuf>,
    permits: Arc<Semaphore>,
    registry: Registry,
}

impl std::fmt::Debug for PluginRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRuntime")
            .field("limits", &self.limits)
            .field("cache_dir", &self.cache_dir)
            .finish_non_exhaustive()
    }
}

impl PluginRuntime {
    /// A runtime on the process-wide engine. `cache_dir` keeps compiled artifacts across restarts.
    pub fn new(limits: PluginLimits, cache_dir: Option<PathBuf>) -> anyhow::Result<Arc<Self>> {
        let engine = super::engine::shared_engine(&limits).map_err(anyhow::Error::msg)?;
        Self::with_engine(engine, limits, cache_dir)
    }

    /// A runtime on its own engine (for comparing engine settings side by side).
    pub fn with_own_engine(
        limits: PluginLimits,
        cache_dir: Option<PathBuf>,
    ) -> anyhow::Result<Arc<Self>> {
        let engine = super::engine::build_engine(&limits).map_err(anyhow::Error::msg)?;
        Self::with_engine(engine, limits, cache_dir)
    }

    fn with_engine(
        engine: Engine,
        limits: PluginLimits,
        cache_dir: Option<PathBuf>,
    ) -> anyhow::Result<Arc<Self>> {
        let mut linker = Linker::new(&engine);
        // Rust's wasip2 std imports wasi:cli and wasi:io even when the plugin uses neither; the
        // context they get grants nothing (no preopens, env, args or network).
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::msg)?;
        bindings::Host_::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |s| s)
            .map_err(anyhow::Error::msg)?;
        let permits = Arc::new(Semaphore::new(limits.max_concurrent_calls.max(1) as usize));
        Ok(Arc::new(Self {
            engine,
            linker,
            limits,
            cache_dir,
            permits,
            registry: Registry::default(),
        }))
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &PluginLimits {
        &self.limits
    }

    /// Compiles and validates a component (world detection, linking, a smoke call under limits)
    /// without registering it. CPU-heavy (tens of milliseconds): keep it off request paths.
    pub fn load(
        &self,
        key: PluginKey,
        bytes: &[u8],
        source: PluginSource,
    ) -> Result<Arc<LoadedPlugin>, LoadError> {
        let name = key.name.clone();
        if bytes.len() > self.limits.max_component_bytes {
            return Err(LoadError::TooLarge {
                name,
                size: bytes.len(),
                limit: self.limits.max_component_bytes,
            });
        }
        let digest = hex::encode(Sha256::digest(bytes));
        let component = cache::compile(&self.engine, bytes, &digest, self.cache_dir.as_deref())
            .map_err(|e| LoadError::Invalid {
                name: name.clone(),
                reason: format!("{e:#}"),
            })?;
        let world = detect_world(&name, &self.engine, &component)?;
        let link_error = |e: wasmtime::Error| LoadError::Link {
            name: name.clone(),
            reason: format!("{e:#}"),
        };
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(link_error)?;
        let entry = match world {
            PluginWorld::Normalizer => {
                let export = self.checked_export(&name, &pre)?;
                WorldEntry::Normalizer(pre, export)
            }
            PluginWorld::Mapper => {
                let export = self.checked_export(&name, &pre)?;
                WorldEntry::Mapper(pre, export)
            }
            PluginWorld::Renderer => {
                let export = self.checked_export(&name, &pre)?;
                WorldEntry::Renderer(pre, export)
            }
        };
        let plugin = Arc::new(LoadedPlugin {
            key,
            version: digest[..12].to_owned(),
            digest,
            world,
            source,
            loaded_at: SystemTime::now(),
            entry,
        });
        self.smoke_call(&plugin)
            .map_err(|failure| LoadError::SmokeCall { name, failure })?;
        Ok(plugin)
    }

    /// Loads and installs, recording a failure for `/readyz` (the previous version keeps serving).
    /// A replacement of another world than the version serving is refused.
    pub fn load_and_install(
        &self,
        key: PluginKey,
        bytes: &[u8],
        source: PluginSource,
    ) -> Result<Arc<LoadedPlugin>, LoadError> {
        let loaded = self
            .load(key.clone(), bytes, source.clone())
            .and_then(|plugin| {
                // A replacement must keep the world: webhooks bound to this name call it as such.
                match self.get(&key) {
                    Some(current) if current.world != plugin.world => Err(LoadError::WrongWorld {
                        name: key.name.clone(),
                        actual: plugin.world,
                        expected: current.world,
                    }),
                    _ => Ok(plugin),
                }
            });
        match loaded {
            Ok(plugin) => {
                self.install(plugin.clone());
                Ok(plugin)
            }
            Err(error) => {
                tracing::error!(plugin = %key.name, %source, %error, "plugin failed to load; the previous version keeps serving");
                crate::metrics::plugin_load_failure(&key.name);
                self.registry.record_failure(
                    key.clone(),
                    LoadFailureReport {
                        plugin: key.name,
                        source: source.to_string(),
                        error: error.to_string(),
                        at: SystemTime::now(),
                    },
                );
                Err(error)
            }
        }
    }

    /// Makes `plugin` the serving version of its key; calls in flight finish on the old one.
    pub fn install(&self, plugin: Arc<LoadedPlugin>) {
        tracing::info!(plugin = %plugin.key.name, version = %plugin.version, world = %plugin.world, source = %plugin.source, "plugin serving");
        if self.registry.install(plugin).is_some() {
            self.registry.count_reload();
        }
    }

    /// Stops serving `key`.
    pub fn uninstall(&self, key: &PluginKey) -> Option<Arc<LoadedPlugin>> {
        let removed = self.registry.remove(key);
        if removed.is_some() {
            self.registry.count_reload();
        }
        removed
    }

    /// Loads the standard plugins bundled into this binary.
    pub fn install_bundled(&self) -> Result<(), LoadError> {
        for (name, bytes) in super::bundled::BUNDLED {
            let plugin = self.load(PluginKey::platform(name), bytes, PluginSource::Bundled)?;
            self.install(plugin);
        }
        Ok(())
    }

    /// The serving version of `key`.
    pub fn get(&self, key: &PluginKey) -> Option<Arc<LoadedPlugin>> {
        self.registry.get(key)
    }

    /// The registry, for the resolver.
    pub(super) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// What serves now, reload count and failures.
    pub fn status(&self) -> RuntimeStatus {
        RuntimeStatus {
            plugins: self
                .registry
                .all()
                .iter()
                .map(|p| PluginStatus {
                    name: p.key.name.clone(),
                    org: p.key.org.clone(),
                    world: p.world,
                    version: p.version.clone(),
                    source: p.source.clone(),
                })
                .collect(),
            reloads: self.registry.reloads(),
            load_failures: self.registry.failures_total(),
            failing: self.registry.failures(),
        }
    }

    /// Finds the world's export and checks its type, on a first instance under limits.
    fn checked_export<F: WorldFunc>(
        &self,
        name: &str,
        pre: &InstancePre<CallState>,
    ) -> Result<Export<F>, LoadError> {
        call::run(&self.engine, &self.limits, name, pre, |store, instance| {
            Export::checked(pre, store, instance)
        })
        .map(|checked| checked.value)
        .map_err(|failure| LoadError::Link {
            name: name.to_owned(),
            reason: failure.to_string(),
        })
    }

    fn smoke_call(&self, plugin: &LoadedPlugin) -> Result<(), CallFailure> {
        let request = || types::HttpRequest {
            method: "POST".into(),
            path: "/smoke".into(),
            query: Vec::new(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: b"{}".to_vec(),
            content_type: Some("application/json".into()),
        };
        match plugin.world {
            PluginWorld::Normalizer => self
                .normalize_blocking(plugin, &request(), &Vec::new())
                .map(drop),
            PluginWorld::Mapper => self
                .map_blocking(
                    plugin,
                    map_world::WebhookKind::UpdateFields,
                    &request(),
                    &Arc::default(),
                    &Vec::new(),
                )
                .map(drop),
            PluginWorld::Renderer => {
                let template = render_world::Template {
                    method: "POST".into(),
                    url: "https://example.com/smoke".into(),
                    headers: Vec::new(),
                    body: "{}".into(),
                    body_format: render_world::BodyFormat::Json,
                };
                self.render_blocking(plugin, &template, "call.completed", &[], &Vec::new())
                    .map(drop)
            }
        }
    }

    /// Runs a normalizer on the blocking pool, at most `max_concurrent_calls` at once.
    pub async fn normalize(
        self: &Arc<Self>,
        plugin: Arc<LoadedPlugin>,
        request: types::HttpRequest,
        config: Vec<(String, String)>,
    ) -> Result<CallOutcome<Result<normalize_world::Normalized, types::PluginError>>, CallFailure>
    {
        let runtime = self.clone();
        let name = plugin.key.name.clone();
        let outcome = self
            .on_blocking_pool(name.clone(), move || {
                runtime.normalize_blocking(&plugin, &request, &config)
            })
            .await;
        record(&name, PluginWorld::Normalizer, &outcome);
        outcome
    }

    /// Runs a mapper on the blocking pool, at most `max_concurrent_calls` at once.
    pub async fn map(
        self: &Arc<Self>,
        plugin: Arc<LoadedPlugin>,
        kind: map_world::WebhookKind,
        request: types::HttpRequest,
        tags: Arc<Pairs>,
        config: Vec<(String, String)>,
    ) -> Result<CallOutcome<Result<map_world::Command, types::PluginError>>, CallFailure> {
        let runtime = self.clone();
        let name = plugin.key.name.clone();
        let outcome = self
            .on_blocking_pool(name.clone(), move || {
                runtime.map_blocking(&plugin, kind, &request, &tags, &config)
            })
            .await;
        record(&name, PluginWorld::Mapper, &outcome);
        outcome
    }

    /// Runs a normalizer and then, when it produced tags, a mapper with them: one trip to the
    /// blocking pool for the whole inbound plugin pipeline.
    pub async fn normalize_and_map(
        self: &Arc<Self>,
        normalizer: Arc<LoadedPlugin>,
        mapper: Arc<LoadedPlugin>,
        kind: map_world::WebhookKind,
        request: types::HttpRequest,
        config: Vec<(String, String)>,
    ) -> Result<NormalizeAndMap, CallFailure> {
        let runtime = self.clone();
        let (normalizer_name, mapper_name) = (normalizer.key.name.clone(), mapper.key.name.clone());
        let outcome = self
            .on_blocking_pool(normalizer_name.clone(), move || {
                let normalized = runtime.normalize_blocking(&normalizer, &request, &config);
                record(&normalizer.key.name, PluginWorld::Normalizer, &normalized);
                let mut normalized = normalized?;
                let mapped = match &mut normalized.value {
                    Ok(normalized) => {
                        // The mapper reads the tags through a handle; they come back after.
                        let tags = Arc::new(std::mem::take(&mut normalized.tags));
                        let mapped = runtime.map_blocking(&mapper, kind, &request, &tags, &config);
                        normalized.tags = Arc::unwrap_or_clone(tags);
                        record(&mapper.key.name, PluginWorld::Mapper, &mapped);
                        Some(mapped?)
                    }
                    Err(_) => None,
                };
                Ok(NormalizeAndMap { normalized, mapped })
            })
            .await;
        if outcome.is_err() {
            tracing::debug!(normalizer = %normalizer_name, mapper = %mapper_name, "inbound plugin pipeline failed");
        }
        outcome
    }

    /// Runs a renderer on the blocking pool, at most `max_concurrent_calls` at once.
    pub async fn render(
        self: &Arc<Self>,
        plugin: Arc<LoadedPlugin>,
        template: render_world::Template,
        event: String,
        tags: Vec<render_world::Tag>,
        config: Vec<(String, String)>,
    ) -> Result<CallOutcome<Result<render_world::RenderedRequest, types::PluginError>>, CallFailure>
    {
        let runtime = self.clone();
        let name = plugin.key.name.clone();
        let outcome = self
            .on_blocking_pool(name.clone(), move || {
                runtime.render_blocking(&plugin, &template, &event, &tags, &config)
            })
            .await;
        record(&name, PluginWorld::Renderer, &outcome);
        outcome
    }

    async fn on_blocking_pool<R: Send + 'static>(
        &self,
        name: String,
        work: impl FnOnce() -> Result<R, CallFailure> + Send + 'static,
    ) -> Result<R, CallFailure> {
        // The semaphore keeps calls within the instance pool, which refuses instantiation once full.
        let permit = self.permits.clone().acquire_owned().await;
        let joined = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await;
        joined.unwrap_or_else(|e| {
            Err(CallFailure::Trap {
                plugin: name,
                message: format!("host task failed: {e}"),
            })
        })
    }

    fn wrong_world(plugin: &LoadedPlugin, expected: PluginWorld) -> CallFailure {
        CallFailure::Unavailable {
            plugin: plugin.key.name.clone(),
            reason: format!("it implements {}, not {expected}", plugin.world),
        }
    }

    /// Runs a normalizer on this thread. The caller bounds concurrency (the pool has
    /// `max_concurrent_calls` slots).
    pub fn normalize_blocking(
        &self,
        plugin: &LoadedPlugin,
        request: &types::HttpRequest,
        config: &Pairs,
    ) -> Result<CallOutcome<Result<normalize_world::Normalized, types::PluginError>>, CallFailure>
    {
        let WorldEntry::Normalizer(pre, export) = &plugin.entry else {
            return Err(Self::wrong_world(plugin, PluginWorld::Normalizer));
        };
        let outcome = call::run(
            &self.engine,
            &self.limits,
            &plugin.key.name,
            pre,
            |store, instance| {
                let normalize = export.func(&mut *store, instance)?;
                let (result,) = normalize.call(&mut *store, (request, config.as_slice()))?;
                Ok(result)
            },
        )?;
        if let Ok(normalized) = &outcome.value {
            self.check_output(plugin, normalized.tags.len(), pairs_bytes(&normalized.tags))?;
        }
        Ok(outcome)
    }

    /// Runs a mapper on this thread. The caller bounds concurrency.
    pub fn map_blocking(
        &self,
        plugin: &LoadedPlugin,
        kind: map_world::WebhookKind,
        request: &types::HttpRequest,
        tags: &Arc<Pairs>,
        config: &Pairs,
    ) -> Result<CallOutcome<Result<map_world::Command, types::PluginError>>, CallFailure> {
        let WorldEntry::Mapper(pre, export) = &plugin.entry else {
            return Err(Self::wrong_world(plugin, PluginWorld::Mapper));
        };
        let outcome = call::run(
            &self.engine,
            &self.limits,
            &plugin.key.name,
            pre,
            |store, instance| {
                let tags = store.data_mut().tag_set(tags.clone())?;
                let map = export.func(&mut *store, instance)?;
                let (result,) = map.call(&mut *store, (kind, request, tags, config.as_slice()))?;
                Ok(result)
            },
        )?;
        if let Ok(command) = &outcome.value {
            let count = command
                .call_data
                .len()
                .max(command.tag_ops.len())
                .max(command.ignored_fields.len());
            self.check_output(plugin, count, command_bytes(command))?;
        }
        Ok(outcome)
    }

    /// Runs a renderer on this thread. The caller bounds concurrency.
    pub fn render_blocking(
        &self,
        plugin: &LoadedPlugin,
        template: &render_world::Template,
        event: &str,
        tags: &[render_world::Tag],
        config: &Pairs,
    ) -> Result<CallOutcome<Result<render_world::RenderedRequest, types::PluginError>>, CallFailure>
    {
        let WorldEntry::Renderer(pre, export) = &plugin.entry else {
            return Err(Self::wrong_world(plugin, PluginWorld::Renderer));
        };
        let outcome = call::run(
            &self.engine,
            &self.limits,
            &plugin.key.name,
            pre,
            |store, instance| {
                let render = export.func(&mut *store, instance)?;
                let (result,) =
                    render.call(&mut *store, (template, event, tags, config.as_slice()))?;
                Ok(result)
            },
        )?;
        if let Ok(rendered) = &outcome.value {
            let bytes = rendered.body.len() + rendered.url.len() + pairs_bytes(&rendered.headers);
            self.check_output(plugin, rendered.headers.len(), bytes)?;
        }
        Ok(outcome)
    }

    fn check_output(
        &self,
        plugin: &LoadedPlugin,
        entries: usize,
        bytes: usize,
    ) -> Result<(), CallFailure> {
        let what = if entries > self.limits.max_tags {
            format!(
                "{entries} entries, over the limit of {}",
                self.limits.max_tags
            )
        } else if bytes > self.limits.max_output_bytes {
            format!(
                "{bytes} bytes, over the limit of {}",
                self.limits.max_output_bytes
            )
        } else {
            return Ok(());
        };
        Err(CallFailure::OutputTooLarge {
            plugin: plugin.key.name.clone(),
            what,
        })
    }
}

/// Counts a call for `/metrics`: `ok`, `refused` (a plugin error value) or the failure kind.
fn record<T, E>(
    name: &str,
    world: PluginWorld,
    outcome: &Result<CallOutcome<Result<T, E>>, CallFailure>,
) {
    let (label, seconds) = match outcome {
        Ok(call) if call.value.is_ok() => ("ok", call.elapsed.as_secs_f64()),
        Ok(call) => ("refused", call.elapsed.as_secs_f64()),
        Err(failure) => (failure.kind(), 0.0),
    };
    crate::metrics::plugin_call(name, &world.to_string(), label, seconds);
}

fn pairs_bytes(pairs: &[(String, String)]) -> usize {
    pairs.iter().map(|(k, v)| k.len() + v.len()).sum()
}

fn command_bytes(command: &map_world::Command) -> usize {
    let selector = match &command.calls {
        map_world::CallSelector::None => 0,
        map_world::CallSelector::CallLogId(id) | map_world::CallSelector::PhoneNumber(id) => {
            id.len()
        }
        map_world::CallSelector::CallLogIds(ids) => ids.iter().map(String::len).sum(),
    };
    let tag_ops: usize = command
        .tag_ops
        .iter()
        .map(|op| match op {
            map_world::TagOp::Add((k, v)) => k.len() + v.len(),
            map_world::TagOp::Remove(k) => k.len(),
        })
        .sum();
    selector
        + pairs_bytes(&command.call_data)
        + tag_ops
        + command
            .ignored_fields
            .iter()
            .map(String::len)
            .sum::<usize>()
}
