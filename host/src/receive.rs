//! `moja-webhooks receive`: a webhook receiver for trying outbound webhooks on one machine. It
//! prints every request it gets (method, target, headers, body) and answers with a fixed status.

use std::net::SocketAddr;

use anyhow::Context;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use clap::Args;

/// Configuration of `moja-webhooks receive`.
#[derive(Debug, Clone, Args)]
pub struct ReceiveConfig {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9000")]
    pub listen: SocketAddr,

    /// Status to answer every request with (try 500 to watch retries).
    #[arg(long, default_value_t = 200)]
    pub status: u16,
}

/// Serves until Ctrl-C.
pub async fn run(config: ReceiveConfig) -> anyhow::Result<()> {
    let status = StatusCode::from_u16(config.status)
        .with_context(|| format!("{} is not an HTTP status", config.status))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    println!(
        "receiving webhooks on http://{} (answering {status}); Ctrl-C to stop",
        listener.local_addr()?
    );
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| async move {
            println!("\n{method} {uri}");
            for (name, value) in &headers {
                println!("{name}: {}", String::from_utf8_lossy(value.as_bytes()));
            }
            if !body.is_empty() {
                println!("\n{}", String::from_utf8_lossy(&body));
            }
            status
        },
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving")
}
