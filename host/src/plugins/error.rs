//! Host-side plugin errors: a component refused at load, or a call that failed.
//!
//! A plugin's *expected* refusals (bad input) are WIT values and are not errors here; these are
//! the failures of the plugin itself. None is retried blindly.

use super::world::PluginWorld;

/// Why a component was not loaded. The previous version, if any, keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is larger than allowed.
    #[error("plugin {name}: component is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Plugin name.
        name: String,
        /// Size of the component.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The bytes are not a valid WebAssembly component.
    #[error("plugin {name}: not a valid WebAssembly component: {reason}")]
    Invalid {
        /// Plugin name.
        name: String,
        /// What wasmtime said.
        reason: String,
    },
    /// The component implements none of the plugin worlds.
    #[error(
        "plugin {name}: the component implements no Moja plugin world (it exports {exports}); build it against wit/ with the plugin SDK"
    )]
    NotAPlugin {
        /// Plugin name.
        name: String,
        /// What it exports instead.
        exports: String,
    },
    /// The component targets a WIT package version this host does not support.
    #[error("plugin {name}: exports {export}, but this host supports moja:webhooks@{supported}")]
    UnsupportedVersion {
        /// Plugin name.
        name: String,
        /// The export found.
        export: String,
        /// The supported package version.
        supported: &'static str,
    },
    /// The component implements more than one world.
    #[error("plugin {name}: implements several worlds ({worlds}); a plugin implements exactly one")]
    SeveralWorlds {
        /// Plugin name.
        name: String,
        /// The worlds found.
        worlds: String,
    },
    /// The component was expected to implement another world.
    #[error("plugin {name}: implements the {actual} world, expected {expected}")]
    WrongWorld {
        /// Plugin name.
        name: String,
        /// What it implements.
        actual: PluginWorld,
        /// What was expected.
        expected: PluginWorld,
    },
    /// The component's imports cannot be satisfied (it wants capabilities plugins do not get).
    #[error("plugin {name}: cannot be linked: {reason}")]
    Link {
        /// Plugin name.
        name: String,
        /// What wasmtime said.
        reason: String,
    },
    /// The validation call under limits failed.
    #[error("plugin {name}: failed its validation call: {failure}")]
    SmokeCall {
        /// Plugin name.
        name: String,
        /// How it failed.
        failure: CallFailure,
    },
    /// Reading the file failed.
    #[error("plugin {name}: cannot read {path}: {source}")]
    Io {
        /// Plugin name.
        name: String,
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// How one plugin call failed. The request that made it fails; nothing else does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    /// The deterministic CPU budget (fuel) ran out.
    #[error("plugin {plugin} ran out of its CPU budget")]
    CpuBudget {
        /// Plugin name.
        plugin: String,
    },
    /// The wall-clock backstop (epoch deadline) passed.
    #[error("plugin {plugin} ran past its deadline")]
    Deadline {
        /// Plugin name.
        plugin: String,
    },
    /// The plugin tried to grow its memory past the limit.
    #[error("plugin {plugin} exceeded its memory limit of {limit_bytes} bytes")]
    MemoryLimit {
        /// Plugin name.
        plugin: String,
        /// The limit.
        limit_bytes: usize,
    },
    /// The plugin trapped (a panic, an `unreachable`, a bad memory access).
    #[error("plugin {plugin} crashed: {message}")]
    Trap {
        /// Plugin name.
        plugin: String,
        /// The trap and the tail of what the plugin wrote to stderr.
        message: String,
    },
    /// The plugin returned more than the output limits allow.
    #[error("plugin {plugin} returned too large an output: {what}")]
    OutputTooLarge {
        /// Plugin name.
        plugin: String,
        /// Which limit.
        what: String,
    },
    /// No plugin of that name is loaded (or it implements another world).
    #[error("plugin {plugin} is not available: {reason}")]
    Unavailable {
        /// Plugin name.
        plugin: String,
        /// Why.
        reason: String,
    },
}

impl CallFailure {
    /// A stable label for metrics and logs (`cpu_budget`, `deadline`, `memory`, `trap`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            CallFailure::CpuBudget { .. } => "cpu_budget",
            CallFailure::Deadline { .. } => "deadline",
            CallFailure::MemoryLimit { .. } => "memory",
            CallFailure::Trap { .. } => "trap",
            CallFailure::OutputTooLarge { .. } => "output_too_large",
            CallFailure::Unavailable { .. } => "unavailable",
        }
    }
}
