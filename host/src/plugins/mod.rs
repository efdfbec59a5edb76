//! The plugin runtime: wasmtime engine, the one `bindgen!`, loading, limits, registry, hot reload.
//!
//! Every call gets a fresh store and instance from a pre-linked `InstancePre` (pooling allocator,
//! copy-on-write memory images), a fuel budget, an epoch deadline and a memory limit; a plugin
//! that fails fails one call. See ARCHITECTURE.md for the invariants.

mod bindings;
mod bundled;
mod cache;
mod call;
mod capture;
mod engine;
mod error;
mod export;
mod limits;
mod registry;
mod resolve;
mod runtime;
mod watch;
mod world;

pub use call::CallOutcome;
pub use capture::PluginOutput;
pub use error::{CallFailure, LoadError};
pub use limits::PluginLimits;
pub use registry::{LoadFailureReport, PluginKey};
pub use resolve::Unresolved;
pub use runtime::{
    LoadedPlugin, NormalizeAndMap, Pairs, PluginRuntime, PluginSource, PluginStatus, RuntimeStatus,
};
pub use watch::PluginDirWatcher;
pub use world::PluginWorld;

/// The WIT types as the host sees them.
pub mod wit {
    pub use super::bindings::map_world::{CallSelector, Command, FieldChanges, TagOp, WebhookKind};
    pub use super::bindings::normalize_world::Normalized;
    pub use super::bindings::render_world::{BodyFormat, RenderedRequest, Tag, Template};
    pub use super::bindings::types::{ErrorCode, HttpRequest, LogLevel, PluginError};
}

/// The component bytes of a bundled plugin (`map-standard`).
pub fn bundled_component(name: &str) -> Option<&'static [u8]> {
    bundled::BUNDLED
        .iter()
        .find(|(bundled, _)| *bundled == name)
        .map(|(_, bytes)| *bytes)
}

/// Names of the bundled standard plugins, the defaults of every webhook.
pub mod standard {
    /// The standard normalizer.
    pub const NORMALIZER: &str = "normalize-standard";
    /// The standard mapper.
    pub const MAPPER: &str = "map-standard";
    /// The standard renderer.
    pub const RENDERER: &str = "render-template";
}
