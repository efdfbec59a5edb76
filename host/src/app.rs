//! Wiring: builds the application state from a configuration and serves until shutdown.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::ServeConfig;
use crate::plugins::{PluginDirWatcher, PluginRuntime};

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The plugin runtime and registry.
    pub plugins: Arc<PluginRuntime>,
}

/// Serves `config` on `listener` until `shutdown` is cancelled, then finishes requests in flight.
pub async fn run(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data folder {}", config.data_dir.display()))?;
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

    let state = AppState { plugins };
    let app = crate::http::router(state);
    tracing::info!(address = %listener.local_addr()?, "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
        .context("serving HTTP")?;
    tracing::info!("shut down");
    Ok(())
}
