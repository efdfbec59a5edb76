//! Black-box tests of the whole system: real components in wasmtime, the real server on port 0.

mod admin_api;
mod hot_reload;
mod inbound;
mod openapi;
mod outbound;
mod plugin_limits;
mod plugin_loading;
mod receiver;
mod restart;
mod server;
mod standard_plugins;
mod support;
