//! A webhook receiver on loopback for outbound tests: records every request and answers from a
//! script per path (a status, a 429 with `Retry-After`, a redirect, or no answer at all).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::support::wait_for;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) method: String,
    /// Path and query, as sent.
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body of {} is not JSON ({e}): {}",
                self.target,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone)]
pub(crate) enum Reply {
    Status(u16),
    RetryAfter(u16),
    /// A 429 whose `Retry-After` is an HTTP-date.
    RetryAfterDate(&'static str),
    Redirect(String),
    /// Never answers (until the client gives up).
    Hang,
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    /// Replies per path, used in order; when a path's script runs out, its last reply repeats.
    scripts: HashMap<String, Vec<Reply>>,
}

/// The receiver; dropping it stops the server.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) base_url: String,
    pub(crate) port: u16,
    inner: Arc<Mutex<Inner>>,
    _server: Arc<AbortOnDrop>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Receiver {
    pub(crate) async fn start() -> Self {
        let inner: Arc<Mutex<Inner>> = Arc::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let port = listener.local_addr().expect("addr").port();
        let shared = inner.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let shared = shared.clone();
                async move { answer(&shared, method, uri, headers, body).await }
            },
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base_url: format!("http://127.0.0.1:{port}"),
            port,
            inner,
            _server: Arc::new(AbortOnDrop(server)),
        }
    }

    /// Answers requests to `path` with `replies` in order (the last one repeats).
    pub(crate) fn script(&self, path: &str, replies: Vec<Reply>) {
        self.lock().scripts.insert(path.to_owned(), replies);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Everything received so far.
    pub(crate) fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// What arrived on `path`.
    pub(crate) fn on(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path() == path)
            .collect()
    }

    /// Waits until `path` got at least `count` requests and returns them.
    pub(crate) async fn wait_on(&self, path: &str, count: usize) -> Vec<Received> {
        wait_for(
            &format!("{count} request(s) on {path}"),
            Duration::from_secs(30),
            || async {
                let got = self.on(path);
                (got.len() >= count).then_some(got)
            },
        )
        .await
    }
}

async fn answer(
    shared: &Mutex<Inner>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let reply = {
        let mut inner = shared.lock().unwrap_or_else(|e| e.into_inner());
        inner.received.push(Received {
            method: method.to_string(),
            target: target.clone(),
            headers: headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: body.to_vec(),
        });
        let path = uri.path().to_owned();
        match inner.scripts.get_mut(&path) {
            Some(script) if script.len() > 1 => script.remove(0),
            Some(script) if !script.is_empty() => script[0].clone(),
            _ => Reply::Status(200),
        }
    };
    match reply {
        Reply::Status(status) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            format!("answer {status}"),
        )
            .into_response(),
        Reply::RetryAfter(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", seconds.to_string())],
            "slow down",
        )
            .into_response(),
        Reply::RetryAfterDate(date) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", date)],
            "slow down",
        )
            .into_response(),
        Reply::Redirect(location) => {
            (StatusCode::FOUND, [("location", location)], "moved").into_response()
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK.into_response()
        }
    }
}
