//! Command line and environment: every flag has a `MOJA_…` variable (SPEC §3).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use moja_delivery::retry::RetrySchedule;

use crate::plugins::PluginLimits;

/// Moja Webhooks: a multi-tenant webhook platform for call tracking.
#[derive(Debug, Parser)]
#[command(name = "moja-webhooks", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once at start; boxing would only complicate the clap derive"
)]
pub enum Command {
    /// Runs the server.
    Serve(ServeConfig),
    /// Plays the telephony side against a running server: calls arrive, connect, convert and
    /// complete, so you can watch the platform work.
    Simulate(crate::simulate::SimulateConfig),
    /// Prints the webhooks it receives: a local endpoint for trying outbound webhooks.
    Receive(crate::receive::ReceiveConfig),
}

/// SQLite durability (`MOJA_SQLITE_SYNC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqliteSync {
    /// Durable across process crashes.
    Normal,
    /// Durable across power loss too.
    Full,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Configuration of `moja-webhooks serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "MOJA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Folder for the embedded database, compiled-plugin cache and bootstrap credentials.
    #[arg(long, env = "MOJA_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database URL: `sqlite://PATH` (default: `sqlite://<data dir>/moja.db`).
    #[arg(long, env = "MOJA_DATABASE_URL")]
    pub database_url: Option<String>,

    /// This node's id in delivery leases (a node releases only its own at start). Default: an id
    /// made at first start and kept in `<data dir>/node-id`, so restarts keep it.
    #[arg(long, env = "MOJA_NODE_ID")]
    pub node_id: Option<String>,

    /// SQLite durability: `normal` (durable across process crashes) or `full` (also power loss).
    #[arg(long, env = "MOJA_SQLITE_SYNC", value_enum, default_value = "normal")]
    pub sqlite_sync: SqliteSync,

    /// Operator token for `/api/v1/orgs`. When set, it replaces any token stored before (so it
    /// can be set after a first start). When absent, one is generated at first start and written
    /// to `<data dir>/bootstrap.txt`.
    #[arg(long, env = "MOJA_OPERATOR_TOKEN", hide_env_values = true)]
    pub operator_token: Option<String>,

    /// Base URL the API uses to build webhook URLs (`https://webhooks.example.com`).
    #[arg(long, env = "MOJA_PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,

    /// How long idempotency records are kept.
    #[arg(long, env = "MOJA_IDEMPOTENCY_RETENTION", default_value = "30d", value_parser = humantime::parse_duration)]
    pub idempotency_retention: Duration,

    /// How long the incoming request log is kept.
    #[arg(long, env = "MOJA_REQUEST_LOG_RETENTION", default_value = "30d", value_parser = humantime::parse_duration)]
    pub request_log_retention: Duration,

    /// Calls live longer than this are completed by the sweeper (`terminated_by: system`).
    #[arg(long, env = "MOJA_MAX_CALL_DURATION", default_value = "4h", value_parser = humantime::parse_duration)]
    pub max_call_duration: Duration,

    /// Requests without a valid key allowed per client address and minute.
    #[arg(long, env = "MOJA_UNAUTHENTICATED_RATE_LIMIT", default_value_t = 60)]
    pub unauthenticated_rate_limit: u32,

    /// Folder of platform plugins (`NAME.wasm`), watched and hot-reloaded. A file named like a
    /// bundled plugin replaces it.
    #[arg(long, env = "MOJA_PLUGIN_DIR")]
    pub plugin_dir: Option<PathBuf>,

    /// Key that encrypts outbound webhook secrets and header templates at rest: the standard
    /// base64 of 32 random bytes. When absent, one is generated into `<data dir>/encryption.key`.
    #[arg(long, env = "MOJA_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,

    /// Allow outbound deliveries to loopback, private and other internal addresses (for
    /// self-hosted setups and tests; never on a shared server).
    #[arg(long, env = "MOJA_ALLOW_PRIVATE_TARGETS")]
    pub allow_private_targets: bool,

    /// Timeout of one outbound delivery attempt.
    #[arg(long, env = "MOJA_DELIVERY_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub delivery_timeout: Duration,

    /// Delays between delivery attempts (±20 % jitter); after the last, the delivery fails.
    #[arg(long, env = "MOJA_RETRY_SCHEDULE", default_value = "5s,30s,2m,10m,30m,1h,3h,6h", value_parser = RetrySchedule::parse)]
    pub retry_schedule: RetrySchedule,

    /// Delivery attempts in flight at once.
    #[arg(long, env = "MOJA_DELIVERY_CONCURRENCY", default_value_t = 128)]
    pub delivery_concurrency: usize,

    /// Delivery attempts in flight at once to one webhook.
    #[arg(
        long,
        env = "MOJA_DELIVERY_CONCURRENCY_PER_WEBHOOK",
        default_value_t = 32
    )]
    pub delivery_concurrency_per_webhook: usize,

    /// How often the dispatcher looks for due deliveries and duration marks when nothing
    /// wakes it.
    #[arg(long, env = "MOJA_DISPATCH_INTERVAL", default_value = "200ms", value_parser = humantime::parse_duration)]
    pub dispatch_interval: Duration,

    /// Log format.
    #[arg(long, env = "MOJA_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    /// Plugin limits.
    #[command(flatten)]
    pub plugin_limits: PluginLimitArgs,
}

/// Plugin limits (SPEC §6.2).
#[derive(Debug, Clone, Args)]
pub struct PluginLimitArgs {
    /// CPU budget per plugin call, in fuel units (about one per WebAssembly instruction).
    #[arg(long, env = "MOJA_PLUGIN_FUEL", default_value_t = PluginLimits::default().fuel)]
    pub plugin_fuel: u64,

    /// Wall-clock backstop per plugin call.
    #[arg(long, env = "MOJA_PLUGIN_TIMEOUT", default_value = "1s", value_parser = humantime::parse_duration)]
    pub plugin_timeout: Duration,

    /// Linear memory limit per plugin call, in MiB.
    #[arg(long, env = "MOJA_PLUGIN_MAX_MEMORY_MIB", default_value_t = 16)]
    pub plugin_max_memory_mib: usize,

    /// Plugin calls running at once (sizes the instance pool).
    #[arg(long, env = "MOJA_PLUGIN_CONCURRENCY", default_value_t = PluginLimits::default().max_concurrent_calls)]
    pub plugin_concurrency: u32,

    /// Reset pooled plugin memory with the PAGEMAP_SCAN ioctl where the kernel has it.
    #[arg(long, env = "MOJA_PLUGIN_PAGEMAP_SCAN", default_value_t = true, action = clap::ArgAction::Set)]
    pub plugin_pagemap_scan: bool,
}

impl PluginLimitArgs {
    /// The limits these flags describe.
    pub fn limits(&self) -> PluginLimits {
        PluginLimits {
            fuel: self.plugin_fuel,
            deadline: self.plugin_timeout,
            max_memory_bytes: self.plugin_max_memory_mib << 20,
            max_concurrent_calls: self.plugin_concurrency,
            pagemap_scan: self.plugin_pagemap_scan,
            ..PluginLimits::default()
        }
    }
}

impl ServeConfig {
    /// The database URL in force.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("moja.db").display()))
    }

    /// This node's id: `MOJA_NODE_ID`, else the one kept in the data folder (made on first use).
    pub fn node_id(&self) -> std::io::Result<String> {
        if let Some(id) = self.node_id.as_deref().filter(|id| !id.trim().is_empty()) {
            return Ok(id.trim().to_owned());
        }
        let path = self.data_dir.join("node-id");
        match std::fs::read_to_string(&path) {
            Ok(id) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
            Ok(_) | Err(_) => {
                let id = format!("node-{}", moja_core::secrets::new_id());
                std::fs::write(&path, &id)?;
                Ok(id)
            }
        }
    }

    /// The base URL of webhook URLs the API returns.
    pub fn public_base_url(&self) -> String {
        self.public_base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The defaults, as `serve` with no flags would have them (environment variables apply).
    pub fn defaults() -> Self {
        #[derive(Parser)]
        struct ServeOnly {
            #[command(flatten)]
            config: ServeConfig,
        }
        ServeOnly::parse_from(["moja-webhooks"]).config
    }
}
