//! Runs the driver as a library against small axum servers on 127.0.0.1:0 (no timing checks).

use std::collections::{BTreeMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use bytes::Bytes;
use moja_loadgen::driver::{self, LoadSpec};
use moja_loadgen::template::Template;
use moja_loadgen::{BaselineMode, Config};
use serde_json::Value;

type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// Starts `app` on 127.0.0.1:0.
async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Records the URI and parsed body of every request.
async fn record(State(seen): State<Seen>, uri: axum::http::Uri, body: Bytes) -> impl IntoResponse {
    let body: Value = serde_json::from_slice(&body).expect("body is JSON");
    seen.lock().unwrap().push((uri.to_string(), body));
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"success":true}"#,
    )
}

/// A loopback address on which nothing listens (a listener bound, then dropped).
async fn dead_addr() -> SocketAddr {
    tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap()
        .local_addr()
        .unwrap()
}

fn spec(addr: SocketAddr, path: &str, requests: u64) -> LoadSpec {
    let mut spec = LoadSpec::new(&format!("http://{addr}{path}")).unwrap();
    spec.body = Template::parse(r#"{"call_log_id":"{id}","transaction_id":"t-{seq}","n":{seq}}"#);
    spec.ids = Arc::from(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]);
    spec.concurrency = 4;
    spec.duration = None;
    spec.requests = Some(requests);
    spec.timeout = Duration::from_secs(30);
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_the_requested_count_with_unique_seqs() {
    let seen = Seen::default();
    let app = Router::new().fallback(record).with_state(Arc::clone(&seen));
    let addr = serve(app).await;

    let stats = driver::run(&spec(addr, "/update-revenue?k=K&seq={seq}", 300))
        .await
        .unwrap();

    assert_eq!(stats.requests(), 300);
    assert_eq!(stats.responses(), 300);
    assert_eq!(stats.statuses, BTreeMap::from([(200, 300)]));
    assert_eq!(stats.errors.total(), 0);
    assert_eq!(stats.latency_us.len(), 300);

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 300);
    let seqs: HashSet<u64> = seen.iter().map(|(_, b)| b["n"].as_u64().unwrap()).collect();
    assert_eq!(seqs.len(), 300, "every request body had a unique {{seq}}");
    assert_eq!(seqs, (1..=300).collect(), "no warm-up, so seqs are 1..=300");
    let mut per_id = BTreeMap::<String, u32>::new();
    for (uri, body) in seen.iter() {
        let n = body["n"].as_u64().unwrap();
        assert_eq!(body["transaction_id"], format!("t-{n}"));
        assert_eq!(uri, &format!("/update-revenue?k=K&seq={n}"));
        let id = body["call_log_id"].as_str().unwrap();
        assert_eq!(
            id,
            ["a", "b", "c"][((n - 1) % 3) as usize],
            "ids cycle round-robin"
        );
        *per_id.entry(id.to_owned()).or_default() += 1;
    }
    assert_eq!(per_id.into_values().collect::<Vec<_>>(), [100, 100, 100]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_when_the_server_closes_and_counts_unexpected_statuses() {
    let seen = Seen::default();
    // Answers 503 to every fifth seq, and closes the connection after every response.
    let closing = |State(seen): State<Seen>, body: Bytes| async move {
        let body: Value = serde_json::from_slice(&body).unwrap();
        let n = body["n"].as_u64().unwrap();
        seen.lock().unwrap().push((String::new(), body));
        let status = if n.is_multiple_of(5) {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        };
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, "close".parse().unwrap());
        (status, headers, "{}")
    };
    let app = Router::new()
        .fallback(closing)
        .with_state(Arc::clone(&seen));
    let addr = serve(app).await;

    let stats = driver::run(&spec(addr, "/", 100)).await.unwrap();

    assert_eq!(stats.requests(), 100);
    assert_eq!(stats.statuses, BTreeMap::from([(200, 80), (503, 20)]));
    assert_eq!(stats.failed(200), 20);
    assert_eq!(seen.lock().unwrap().len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_are_errors_and_the_run_still_ends() {
    let addr = dead_addr().await;
    let stats = driver::run(&spec(addr, "/", 20)).await.unwrap();
    assert_eq!(stats.requests(), 20);
    assert_eq!(stats.errors.connect, 20);
    assert_eq!(stats.failed(200), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baseline_mode_runs_both_and_reports_a_ratio() {
    let seen = Seen::default();
    let app = Router::new().fallback(record).with_state(Arc::clone(&seen));
    let addr = serve(app).await;
    let config = Config {
        spec: spec(addr, "/x", 200),
        baseline: BaselineMode::WithTarget,
        expect_status: 200,
        max_error_rate: 0.0,
        threads: None,
        json: true,
    };

    let report = moja_loadgen::execute(&config).await.unwrap();

    assert!(report.passed(), "{:?}", report.problems());
    assert_eq!(report.baseline.as_ref().unwrap().requests, 200);
    assert_eq!(report.target.as_ref().unwrap().statuses["200"], 200);
    assert!(report.ratio.is_some());
    assert_eq!(
        seen.lock().unwrap().len(),
        200,
        "the baseline load did not reach the target"
    );
    let json = report.to_json();
    assert_eq!(json["baseline"]["statuses"]["200"], 200);
    assert_eq!(json["target"]["requests"], 200);

    // Nothing listening at the target: baseline only, said so.
    let mut config = config;
    config.spec.target = config.spec.target.with_addr(dead_addr().await);
    let report = moja_loadgen::execute(&config).await.unwrap();
    assert!(report.target.is_none());
    assert!(report.target_skipped.is_some());
    assert_eq!(report.baseline.unwrap().requests, 200);
}
