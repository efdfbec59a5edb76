//! Wiring: builds the application state from a configuration and serves until shutdown.

use std::sync::Arc;

use anyhow::Context;
use moja_core::clock::{self, SharedClock};
use moja_core::rate_limit::InMemoryRateLimiter;
use moja_store::Store;
use moja_store_sqlite::{SqliteStore, SyncMode};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{ServeConfig, SqliteSync};
use crate::outbound::{DeliverySettings, Dispatcher, Outbound};
use crate::plugins::{PluginDirWatcher, PluginRuntime};
use crate::state::{AppState, Settings};
use crate::webhook_keys::WebhookKeys;

/// Opens the store a database URL names: `sqlite://PATH` (or a bare path).
pub fn open_store(url: &str, sync: SqliteSync) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        anyhow::bail!("PostgreSQL support arrives with cluster mode; use sqlite://PATH for now");
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let sync = match sync {
        SqliteSync::Normal => SyncMode::Normal,
        SqliteSync::Full => SyncMode::Full,
    };
    Ok(Arc::new(SqliteStore::open(
        std::path::Path::new(path),
        sync,
    )?))
}

/// Serves `config` on `listener` until `shutdown` is cancelled, then finishes requests in flight.
pub async fn run(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run_with_clock(config, listener, shutdown, clock::system()).await
}

/// [`run`] with a given clock (tests pass a `ManualClock`).
pub async fn run_with_clock(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
    clock: SharedClock,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data folder {}", config.data_dir.display()))?;
    crate::metrics::handle();
    let store =
        open_store(&config.database_url(), config.sqlite_sync).context("opening the database")?;
    let node_id = config
        .node_id()
        .with_context(|| format!("keeping the node id in {}", config.data_dir.display()))?;
    crate::bootstrap::first_start(&config, store.as_ref(), clock.now())
        .await
        .context("first start")?;

    let plugins = PluginRuntime::new(
        config.plugin_limits.limits(),
        Some(config.data_dir.join("plugin-cache")),
    )
    .context("starting the plugin runtime")?;
    let setup = plugins.clone();
    tokio::task::spawn_blocking(move || setup.install_bundled())
        .await
        .context("loading bundled plugins")?
        .context("loading bundled plugins")?;
    let _watcher: Option<PluginDirWatcher> = match &config.plugin_dir {
        Some(dir) => Some(
            plugins
                .watch_dir(dir)
                .with_context(|| format!("watching plugin folder {}", dir.display()))?,
        ),
        None => None,
    };

    let sealing = crate::outbound::load_or_create_sealing_key(
        config.encryption_key.as_deref(),
        &config.data_dir,
    )?;
    let client = moja_delivery::client::DeliveryClient::new(moja_delivery::client::ClientConfig {
        allow_private_targets: config.allow_private_targets,
        timeout: config.delivery_timeout,
        response_body_cap: 20 * 1024,
        user_agent: concat!("moja-webhooks/", env!("CARGO_PKG_VERSION")).to_owned(),
    })
    .context("building the delivery HTTP client")?;
    if config.allow_private_targets {
        tracing::warn!(
            "MOJA_ALLOW_PRIVATE_TARGETS is on: outbound webhooks may reach internal addresses"
        );
    }
    let outbound = Arc::new(Outbound {
        client,
        sealing,
        settings: DeliverySettings {
            concurrency: config.delivery_concurrency.max(1),
            per_webhook_concurrency: config.delivery_concurrency_per_webhook.max(1),
            timeout: config.delivery_timeout,
            schedule: config.retry_schedule.clone(),
            poll_interval: config.dispatch_interval,
        },
    });

    let state = AppState {
        plugins,
        webhook_keys: Arc::new(WebhookKeys::new(store.clone())),
        store,
        clock,
        limiter: Arc::new(InMemoryRateLimiter::new()),
        settings: Arc::new(Settings {
            public_base_url: config.public_base_url(),
            idempotency_retention: config.idempotency_retention,
            request_log_retention: config.request_log_retention,
            max_call_duration: config.max_call_duration,
            unauthenticated_rate_limit: config.unauthenticated_rate_limit,
            node_id,
        }),
        outbound,
    };
    let maintenance = tokio::spawn(crate::maintenance::run(state.clone(), shutdown.clone()));
    let dispatcher = tokio::spawn(Dispatcher::run(state.clone(), shutdown.clone()));
    let app = crate::http::router(state);
    tracing::info!(address = %listener.local_addr()?, "listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned())
    .await
    .context("serving HTTP")?;
    shutdown.cancel();
    let _ = maintenance.await;
    let _ = dispatcher.await;
    tracing::info!("shut down");
    Ok(())
}
