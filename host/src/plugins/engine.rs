//! The wasmtime engine: trimmed features, pooling allocator with resident memory, fuel and epochs.
//!
//! One engine serves the whole process: the pooling allocator reserves 4 GiB of address space
//! per slot, so an engine per server (tests start many) would exhaust it. Pool sizes and the
//! memory ceiling are fixed by the first configuration; per-call limits below the ceiling are
//! enforced per store.

use std::sync::OnceLock;
use std::thread;

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::limits::{EPOCH_TICK, PluginLimits};

/// Memory ceiling of a pooled slot: a per-call limit can be lowered below it, never raised above.
const MEMORY_CEILING: usize = 64 << 20;
/// Address space reserved per linear memory: all of wasm32's.
const MEMORY_RESERVATION: u64 = 4 << 30;
/// Guard region after it, for static offsets past 4 GiB (wasmtime's default).
const MEMORY_GUARD: u64 = 32 << 20;

static SHARED: OnceLock<Engine> = OnceLock::new();

/// The process-wide engine, built from the first `limits` it is asked with.
pub(crate) fn shared_engine(limits: &PluginLimits) -> wasmtime::Result<Engine> {
    if let Some(engine) = SHARED.get() {
        return Ok(engine.clone());
    }
    let engine = build_engine(limits)?;
    Ok(SHARED.get_or_init(|| engine).clone())
}

/// A new engine with its own epoch ticker (which stops when the engine is dropped).
pub(crate) fn build_engine(limits: &PluginLimits) -> wasmtime::Result<Engine> {
    let ceiling = MEMORY_CEILING.max(limits.max_memory_bytes);
    let slots = limits.max_concurrent_calls.max(1);

    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        // A Rust wasip2 component has one memory and a handful of small core instances.
        .total_core_instances(slots * 8)
        .total_memories(slots * 2)
        .total_tables(slots * 4)
        .max_memory_size(ceiling)
        // Keeping pages resident avoids madvise/munmap on reuse, whose TLB shootdowns make two
        // threads slower than one in a VM (PLUGIN-RUNTIME-FACTS.md).
        .linear_memory_keep_resident(4 << 20)
        .table_keep_resident(1 << 20)
        .pagemap_scan(if limits.pagemap_scan {
            Enabled::Auto
        } else {
            Enabled::No
        });

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        // A 4 GiB reservation covers every 32-bit address, so compiled code needs no bounds
        // check on memory accesses (5 % of a map-standard call). It is address space, not
        // memory: slots × 4 GiB stays far below the 128 TiB of a process with one engine.
        .memory_reservation(MEMORY_RESERVATION)
        .memory_guard_size(MEMORY_GUARD)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // Profiling aid: `perf` then names plugin functions (BENCHMARKS.md, "Profiling a plugin").
    if std::env::var_os("MOJA_PLUGIN_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let engine = Engine::new(&config)?;

    let weak = engine.weak();
    thread::Builder::new()
        .name("plugin-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                thread::sleep(EPOCH_TICK);
            }
        })
        .map_err(wasmtime::Error::from)?;
    Ok(engine)
}
