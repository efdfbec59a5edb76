//! One plugin call: a fresh store and instance under limits, the call, failure classification.

use std::time::{Duration, Instant};

use wasmtime::component::{Instance, InstancePre, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, Trap};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::moja::webhooks::{log as log_import, types};
use super::capture::{PluginOutput, TruncatingPipe};
use super::error::CallFailure;
use super::limits::PluginLimits;

/// The store data of one call.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryLimiter,
    log: LogLines,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for CallState {}

impl log_import::Host for CallState {
    fn log(&mut self, level: types::LogLevel, message: String) {
        let level = match level {
            types::LogLevel::Trace => "trace",
            types::LogLevel::Debug => "debug",
            types::LogLevel::Info => "info",
            types::LogLevel::Warn => "warn",
            types::LogLevel::Error => "error",
        };
        self.log.push(level, &message);
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
    let stdout = TruncatingPipe::new(limits.max_log_bytes);
    let stderr = TruncatingPipe::new(limits.max_log_bytes);
    let wasi = WasiCtxBuilder::new()
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    let state = CallState {
        wasi,
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

    let (stdout_text, stdout_dropped) = stdout.take();
    let (stderr_text, stderr_dropped) = stderr.take();
    let state = store.into_data();
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
