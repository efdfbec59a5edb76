//! The load driver: `concurrency` workers, each sending requests back to back over its own
//! HTTP/1.1 keep-alive connection, until the duration or the request count is reached.
//!
//! A worker reconnects whenever its connection is closed or broken. Every attempt after warm-up
//! is recorded: a response (status and latency, measured from sending the request until its body
//! has been read; connection set-up excluded) or an error (connect, I/O, timeout). With
//! `requests`, each attempt, errors included, uses one of the `requests` slots, so a run against
//! a dead server ends too.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use crate::report::{Outcome, RunStats};
use crate::target::Target;
use crate::template::{Template, id_for};

/// Pause after a failed connect, so a refused port is not hammered in a tight loop.
const CONNECT_BACKOFF: Duration = Duration::from_millis(10);
/// Upper bound on `duration` and `warmup`, so that every run is bounded.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
/// Upper bound on `concurrency`.
pub const MAX_CONCURRENCY: usize = 10_000;

/// Everything that defines a load: where, what, how hard and for how long.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    /// Loopback target and path template.
    pub target: Target,
    /// Request method.
    pub method: Method,
    /// Extra request headers (`Host` defaults to the URL's authority).
    pub headers: HeaderMap,
    /// Body template (`{seq}`, `{id}`).
    pub body: Template,
    /// Values of `{id}`, cycled round-robin.
    pub ids: Arc<[String]>,
    /// Connections, one worker each.
    pub concurrency: usize,
    /// Stop starting requests this long after warm-up.
    pub duration: Option<Duration>,
    /// Stop after this many recorded attempts.
    pub requests: Option<u64>,
    /// Requests during this leading period are sent but not recorded.
    pub warmup: Duration,
    /// Per-request limit (connect, then send and read the response).
    pub timeout: Duration,
    /// The first `{seq}` value; each request, warm-up included, takes the next.
    pub seq_start: u64,
}

impl LoadSpec {
    /// A spec for `url` with defaults: POST, empty body, concurrency 1, 10 s, no warm-up.
    pub fn new(url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            target: Target::parse(url)?,
            method: Method::POST,
            headers: HeaderMap::new(),
            body: Template::default(),
            ids: Arc::from(Vec::new()),
            concurrency: 1,
            duration: Some(Duration::from_secs(10)),
            requests: None,
            warmup: Duration::ZERO,
            timeout: Duration::from_secs(10),
            seq_start: 1,
        })
    }

    /// Checks bounds and that every request this spec can produce is well formed.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !self.target.addr.ip().is_loopback() {
            bail!("refusing non-loopback target {}", self.target.addr);
        }
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            bail!("concurrency must be between 1 and {MAX_CONCURRENCY}");
        }
        match (self.duration, self.requests) {
            (None, None) => bail!("a run needs a duration or a request count to stop"),
            (Some(d), _) if d.is_zero() => bail!("duration must be positive"),
            (_, Some(0)) => bail!("request count must be positive"),
            _ => {}
        }
        if self.duration.is_some_and(|d| d > MAX_DURATION) || self.warmup > MAX_DURATION {
            bail!("duration and warm-up are limited to {MAX_DURATION:?} each");
        }
        if self.timeout.is_zero() {
            bail!("timeout must be positive");
        }
        let needs_ids = self.body.uses_id() || self.target.path.uses_id();
        if needs_ids && self.ids.is_empty() {
            bail!("the URL or body uses {{id}} but no ids were given (--ids-file)");
        }
        for name in [CONTENT_LENGTH, TRANSFER_ENCODING, CONNECTION] {
            if self.headers.contains_key(&name) {
                bail!("header `{name}` is managed by moja-loadgen and cannot be set");
            }
        }
        HeaderValue::from_str(&self.target.authority).context("bad Host header")?;
        // Every id must make a valid request line; {seq} is always digits.
        let check = |id: Option<&str>| -> anyhow::Result<()> {
            let path = self.target.path.render(self.seq_start, id);
            path.parse::<Uri>()
                .with_context(|| format!("the URL path renders to an invalid `{path}`"))?;
            Ok(())
        };
        if self.target.path.uses_id() {
            self.ids.iter().try_for_each(|id| check(Some(id)))?;
        } else {
            check(None)?;
        }
        Ok(())
    }
}

/// Shared state of one run.
struct Shared {
    spec: LoadSpec,
    literal_body: Option<Bytes>,
    seq: AtomicU64,
    slots: AtomicU64,
    measure_start: Instant,
    deadline: Option<Instant>,
}

/// Runs the load described by `spec` and returns what was recorded after warm-up.
pub async fn run(spec: &LoadSpec) -> anyhow::Result<RunStats> {
    spec.validate()?;
    let start = Instant::now();
    let measure_start = start + spec.warmup;
    let shared = Arc::new(Shared {
        literal_body: spec
            .body
            .as_literal()
            .map(|body| Bytes::copy_from_slice(body.as_bytes())),
        seq: AtomicU64::new(spec.seq_start),
        slots: AtomicU64::new(0),
        measure_start,
        deadline: spec.duration.map(|d| measure_start + d),
        spec: spec.clone(),
    });
    let workers: Vec<_> = (0..spec.concurrency)
        .map(|_| tokio::spawn(worker(Arc::clone(&shared))))
        .collect();
    let mut stats = RunStats::new();
    for worker in workers {
        stats.merge(&worker.await.context("a load worker panicked")?);
    }
    stats.elapsed = Instant::now().saturating_duration_since(measure_start);
    Ok(stats)
}

/// One connection's request loop.
async fn worker(shared: Arc<Shared>) -> RunStats {
    let mut stats = RunStats::new();
    let mut conn: Option<SendRequest<Full<Bytes>>> = None;
    loop {
        let now = Instant::now();
        let measured = now >= shared.measure_start;
        if measured {
            if shared.deadline.is_some_and(|deadline| now >= deadline) {
                break;
            }
            if let Some(limit) = shared.spec.requests
                && shared.slots.fetch_add(1, Ordering::Relaxed) >= limit
            {
                break;
            }
        }
        let outcome = attempt(&shared, &mut conn).await;
        if measured {
            stats.record(outcome);
        }
        if outcome == Outcome::ConnectError {
            tokio::time::sleep(CONNECT_BACKOFF).await;
        }
    }
    stats
}

/// One request on `conn`, (re)connecting first if needed.
async fn attempt(shared: &Shared, conn: &mut Option<SendRequest<Full<Bytes>>>) -> Outcome {
    let spec = &shared.spec;
    let kept = match conn.take() {
        Some(mut sender) => sender.ready().await.is_ok().then_some(sender),
        None => None,
    };
    let mut sender = match kept {
        Some(sender) => sender,
        None => match timeout(spec.timeout, connect(&spec.target)).await {
            Ok(Ok(sender)) => sender,
            Ok(Err(_)) | Err(_) => return Outcome::ConnectError,
        },
    };
    let seq = shared.seq.fetch_add(1, Ordering::Relaxed);
    let request = build_request(shared, seq);
    let started = Instant::now();
    let exchange = async {
        let response = sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        body.collect().await?;
        Ok::<_, hyper::Error>(parts)
    };
    match timeout(spec.timeout, exchange).await {
        Ok(Ok(parts)) => {
            let latency = started.elapsed();
            let closing = parts
                .headers
                .get(CONNECTION)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
            if !closing && !sender.is_closed() {
                *conn = Some(sender);
            }
            Outcome::Response {
                status: parts.status.as_u16(),
                latency,
            }
        }
        Ok(Err(_)) => Outcome::IoError,
        Err(_) => Outcome::Timeout,
    }
}

/// Opens a keep-alive HTTP/1.1 connection to the (loopback) target.
async fn connect(target: &Target) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    debug_assert!(target.addr.ip().is_loopback());
    let stream = TcpStream::connect(target.addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the server closes; errors surface on the sender.
        let _ = connection.await;
    });
    Ok(sender)
}

fn build_request(shared: &Shared, seq: u64) -> Request<Full<Bytes>> {
    let spec = &shared.spec;
    let id = id_for(&spec.ids, spec.seq_start, seq);
    let body = match &shared.literal_body {
        Some(body) => body.clone(),
        None => Bytes::from(spec.body.render(seq, id)),
    };
    let path = spec.target.path.render(seq, id);
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = spec.method.clone();
    // validate() checked every id; seq only adds digits, so this cannot fail in practice.
    *request.uri_mut() = path.parse().unwrap_or_else(|_| Uri::from_static("/"));
    let headers = request.headers_mut();
    headers.extend(spec.headers.clone());
    if !headers.contains_key(HOST)
        && let Ok(host) = HeaderValue::from_str(&spec.target.authority)
    {
        headers.insert(HOST, host);
    }
    request
}

/// Opens and closes one TCP connection to the target, to tell whether anything listens there.
pub async fn probe(target: &Target, limit: Duration) -> anyhow::Result<()> {
    match timeout(limit, TcpStream::connect(target.addr)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => Err(err).with_context(|| format!("cannot connect to {}", target.addr)),
        Err(_) => bail!("connecting to {} timed out", target.addr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_requires_a_stop_and_ids_when_used() {
        let mut spec = LoadSpec::new("http://127.0.0.1:8080/x").unwrap();
        spec.validate().unwrap();

        spec.duration = None;
        assert!(spec.validate().is_err());
        spec.requests = Some(10);
        spec.validate().unwrap();

        spec.body = Template::parse(r#"{"id":"{id}"}"#);
        assert!(
            spec.validate()
                .unwrap_err()
                .to_string()
                .contains("--ids-file")
        );
        spec.ids = Arc::from(vec!["a".to_owned()]);
        spec.validate().unwrap();

        spec.concurrency = 0;
        assert!(spec.validate().is_err());
        spec.concurrency = 4;
        spec.duration = Some(Duration::from_secs(7200));
        assert!(spec.validate().is_err());
    }

    #[test]
    fn ids_that_break_the_url_are_refused() {
        let mut spec = LoadSpec::new("http://127.0.0.1:8080/calls/{id}").unwrap();
        spec.ids = Arc::from(vec!["ok-1".to_owned(), "has space".to_owned()]);
        assert!(spec.validate().is_err());
    }

    #[test]
    fn managed_headers_are_refused() {
        let mut spec = LoadSpec::new("http://localhost:8080/").unwrap();
        spec.headers
            .insert(CONTENT_LENGTH, HeaderValue::from_static("3"));
        assert!(spec.validate().is_err());
    }
}
