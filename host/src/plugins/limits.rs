//! Per-call limits of a plugin: CPU (fuel), wall clock (epoch), memory, output sizes, pool size.

use std::time::Duration;

/// Limits applied to every plugin call. Defaults follow SPEC §6.2.
#[derive(Debug, Clone)]
pub struct PluginLimits {
    /// Deterministic CPU budget per call, in wasmtime fuel units (~1 unit per instruction).
    pub fuel: u64,
    /// Wall-clock backstop per call.
    pub deadline: Duration,
    /// Linear memory ceiling per call, in bytes.
    pub max_memory_bytes: usize,
    /// Ceiling of a call's output (all strings and bytes of the result), in bytes.
    pub max_output_bytes: usize,
    /// Ceiling of the number of tags (or tag operations) in a result.
    pub max_tags: usize,
    /// Captured stdout, stderr and log lines per call; past this they are truncated, not failed.
    pub max_log_bytes: usize,
    /// Plugin calls running at once; also sizes the instance pool.
    pub max_concurrent_calls: u32,
    /// Component size accepted at load.
    pub max_component_bytes: usize,
    /// Use the `PAGEMAP_SCAN` ioctl to reset pooled memory (Linux ≥ 6.7).
    pub pagemap_scan: bool,
}

/// How often the engine's epoch advances; the deadline is counted in these ticks.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            // ~100 ms of straight-line work on this machine class.
            fuel: 100_000_000,
            deadline: Duration::from_secs(1),
            max_memory_bytes: 16 << 20,
            max_output_bytes: 1 << 20,
            max_tags: 1_000,
            max_log_bytes: 64 << 10,
            max_concurrent_calls: 64,
            max_component_bytes: 10 << 20,
            pagemap_scan: true,
        }
    }
}

impl PluginLimits {
    /// The epoch deadline in ticks (at least one).
    pub(crate) fn deadline_ticks(&self) -> u64 {
        (self.deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
    }
}
