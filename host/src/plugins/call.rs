//! One plugin call: a fresh store and instance under limits, the call, failure classification.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Instance, InstancePre, Resource, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::moja::webhooks::{log as log_import, types};
use super::capture::{PluginOutput, TruncatingPipe};
use super::error::CallFailure;
use super::limits::PluginLimits;
use super::runtime::Pairs;

/// The store data of one call.
pub(crate) struct CallState {
    /// Built when the plugin first calls WASI (most calls never do: building it seeds a random
    /// generator and allocates, a measurable part of a small call).
    wasi: Option<Wasi>,
    output_capacity: usize,
    table: ResourceTable,
    memory: MemoryLimiter,
    log: LogLines,
}

/// The deny-all WASI context of a call, with the pipes its stdout and stderr go to.
struct Wasi {
    ctx: WasiCtx,
    stdout: TruncatingPipe,
    stderr: TruncatingPipe,
}

impl Wasi {
    fn new(output_capacity: usize) -> Self {
        let stdout = TruncatingPipe::new(output_capacity);
        let stderr = TruncatingPipe::new(output_capacity);
        let ctx = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            ctx,
            stdout,
            stderr,
        }
    }
}

impl CallState {
    /// Hands `tags` to the plugin as a `tag-set` it owns for the call.
    pub(crate) fn tag_set(&mut self, tags: Arc<Pairs>) -> wasmtime::Result<Resource<TagSet>> {
        Ok(self.table.push(TagSet(tags))?)
    }
}

/// A mapper's `tag-set`: the normalizer's tags, shared with the caller rather than copied, and
/// lowered into the plugin only when it asks.
#[allow(unreachable_pub)] // public because the generated bindings re-export it
pub struct TagSet(Arc<Pairs>);

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let capacity = self.output_capacity;
        let wasi = self.wasi.get_or_insert_with(|| Wasi::new(capacity));
        WasiCtxView {
            ctx: &mut wasi.ctx,
            table: &mut self.table,
        }
    }
}

impl types::Host for CallState {}

impl types::HostTagSet for CallState {
    fn all(&mut self, set: Resource<TagSet>) -> wasmtime::Result<Pairs> {
        Ok(self.table.get(&set)?.0.as_ref().clone())
    }

    fn get(&mut self, set: Resource<TagSet>, name: String) -> wasmtime::Result<Option<String>> {
        let tags = &self.table.get(&set)?.0;
        Ok(tags
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone()))
    }

    fn len(&mut self, set: Resource<TagSet>) -> wasmtime::Result<u32> {
        Ok(u32::try_from(self.table.get(&set)?.0.len()).unwrap_or(u32::MAX))
    }

    fn drop(&mut self, set: Resource<TagSet>) -> wasmtime::Result<()> {
        self.table.delete(set)?;
        Ok(())
    }
}

impl log_import::Host for CallState {
    fn log(&mut self, level: types::LogLevel, message: String) -> wasmtime::Result<()> {
        let level = match level {
            types::LogLevel::Trace => "trace",
            types::LogLevel::Debug => "debug",
            types::LogLevel::Info => "info",
            types::LogLevel::Warn => "warn",
            types::LogLevel::Error => "error",
        };
        self.log.push(level, &message);
        Ok(())
    }
}

/// Refuses memory growth past the per-call limit and remembers that it did, so the resulting
/// trap is reported as a memory limit rather than a crash.
struct MemoryLimiter {
    max_bytes: usize,
    hit: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.hit = true;
            return Err(wasmtime::format_err!(
                "memory limit of {} bytes reached",
                self.max_bytes
            ));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// `log` lines within a byte budget; past it lines are dropped and counted.
struct LogLines {
    lines: Vec<String>,
    bytes: usize,
    capacity: usize,
    dropped: usize,
}

impl LogLines {
    fn push(&mut self, level: &str, message: &str) {
        let line_len = level.len() + 2 + message.len();
        if self.bytes + line_len > self.capacity {
            self.dropped += message.len();
            return;
        }
        self.bytes += line_len;
        self.lines.push(format!("{level}: {message}"));
    }
}

/// The result of a call that ran to completion, with what the plugin wrote and how long it took.
#[derive(Debug, Clone)]
pub struct CallOutcome<T> {
    /// What the plugin returned.
    pub value: T,
    /// What it wrote.
    pub output: PluginOutput,
    /// Wall time of the whole call (instantiate + call).
    pub elapsed: Duration,
}

/// Runs `call` on a fresh instance of `pre` under `limits`.
pub(crate) fn run<R>(
    engine: &Engine,
    limits: &PluginLimits,
    plugin: &str,
    pre: &InstancePre<CallState>,
    call: impl FnOnce(&mut Store<CallState>, &Instance) -> wasmtime::Result<R>,
) -> Result<CallOutcome<R>, CallFailure> {
    let started = Instant::now();
    let state = CallState {
        wasi: None,
        output_capacity: limits.max_log_bytes,
        table: ResourceTable::new(),
        memory: MemoryLimiter {
            max_bytes: limits.max_memory_bytes,
            hit: false,
        },
        log: LogLines {
            lines: Vec::new(),
            bytes: 0,
            capacity: limits.max_log_bytes,
            dropped: 0,
        },
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.memory);
    let setup = store
        .set_fuel(limits.fuel)
        .map(|()| store.set_epoch_deadline(limits.deadline_ticks()));
    store.epoch_deadline_trap();

    let result = setup
        .and_then(|()| pre.instantiate(&mut store))
        .and_then(|instance| call(&mut store, &instance));

    let state = store.into_data();
    let ((stdout_text, stdout_dropped), (stderr_text, stderr_dropped)) = match &state.wasi {
        Some(wasi) => (wasi.stdout.take(), wasi.stderr.take()),
        None => Default::default(),
    };
    let output = PluginOutput {
        log: state.log.lines,
        stdout: stdout_text,
        stderr: stderr_text,
        truncated_bytes: state.log.dropped + stdout_dropped + stderr_dropped,
    };
    match result {
        Ok(value) => Ok(CallOutcome {
            value,
            output,
            elapsed: started.elapsed(),
        }),
        Err(error) => Err(classify(plugin, limits, state.memory.hit, &output, error)),
    }
}

fn classify(
    plugin: &str,
    limits: &PluginLimits,
    memory_hit: bool,
    output: &PluginOutput,
    error: wasmtime::Error,
) -> CallFailure {
    let plugin = plugin.to_owned();
    if memory_hit {
        return CallFailure::MemoryLimit {
            plugin,
            limit_bytes: limits.max_memory_bytes,
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => CallFailure::CpuBudget { plugin },
        Some(Trap::Interrupt) => CallFailure::Deadline { plugin },
        trap => {
            let mut message = match trap {
                Some(trap) => trap.to_string(),
                None => format!("{error:#}"),
            };
            // A panic's message is on stderr: the most useful part of a crash report.
            let stderr_tail = tail(output.stderr.trim(), 500);
            if !stderr_tail.is_empty() {
                message.push_str(" (stderr: ");
                message.push_str(stderr_tail);
                message.push(')');
            }
            CallFailure::Trap { plugin, message }
        }
    }
}

fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
