//! The baseline: a trivial axum server on 127.0.0.1:0 that reads the body and answers
//! `{"success":true}` to every method and path.
//!
//! It runs inside the load generator's own process, on the same tokio runtime as the load, so
//! the two compete for the same cores exactly as they do when the generator loads the real
//! server on this machine. That is what makes "target / baseline" a fair same-machine ratio,
//! but it also means the baseline figure is not the throughput of axum alone.

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The reply of the baseline handler.
pub const BASELINE_REPLY: &str = r#"{"success":true}"#;

/// A running baseline server; it stops when dropped.
#[derive(Debug)]
pub struct BaselineServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl BaselineServer {
    /// Binds 127.0.0.1:0 and starts serving on the current tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(handler);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, task })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for BaselineServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handler(body: Bytes) -> impl IntoResponse {
    // The body has been read in full by the extractor; it is not otherwise used.
    drop(body);
    ([(CONTENT_TYPE, "application/json")], BASELINE_REPLY)
}
