//! Black-box tests of the whole system: real components in wasmtime, the real server on port 0.

mod hot_reload;
mod plugin_limits;
mod plugin_loading;
mod server;
mod standard_plugins;
mod support;
