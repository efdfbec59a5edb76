//! Moja Webhooks host: the library behind the `moja-webhooks` binary.
//!
//! [`app::run`] serves a configuration on a listener until a cancellation token fires; tests call
//! it with a listener on port 0. See ARCHITECTURE.md for the code map.

pub mod app;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod http;
pub mod maintenance;
pub mod metrics;
pub mod outbound;
pub mod plugins;
pub mod receive;
pub mod simulate;
pub mod state;
pub mod telemetry;
pub mod webhook_keys;
