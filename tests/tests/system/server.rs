//! The server as a client sees it: health, readiness with plugin versions, hot reload, shutdown.

use std::time::Duration;

use serde_json::Value;

use crate::support::{TestServer, hostile_component, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_the_bundled_plugins_and_reloads() {
    let server = TestServer::spawn().await;
    let (status, health) = server.get_json("/healthz").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));

    let (status, ready) = server.get_json("/readyz").await;
    assert_eq!(status, 200);
    assert_eq!(ready["status"], "ready");
    let plugins = ready["plugins"].as_array().expect("plugins list");
    let names: Vec<(&str, &str, &str)> = plugins
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["world"].as_str().unwrap(),
                p["source"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("map-standard", "mapper", "bundled"),
            ("normalize-standard", "normalizer", "bundled"),
            ("render-template", "renderer", "bundled"),
        ]
    );
    assert!(
        plugins
            .iter()
            .all(|p| p["version"].as_str().unwrap().len() == 12)
    );
    assert_eq!(ready["reloads"], 0);

    // Dropping a plugin file in the folder reloads without restart, visible on /readyz.
    std::fs::write(
        server.plugin_dir.join(".tenant-x.partial"),
        hostile_component(),
    )
    .unwrap();
    std::fs::rename(
        server.plugin_dir.join(".tenant-x.partial"),
        server.plugin_dir.join("map-standard.wasm"),
    )
    .unwrap();
    let ready: Value = wait_for("the reload on /readyz", Duration::from_secs(30), || async {
        let (_, ready) = server.get_json("/readyz").await;
        (ready["reloads"] == 1).then_some(ready)
    })
    .await;
    let mapper = ready["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "map-standard")
        .unwrap();
    assert_eq!(mapper["source"]["kind"], "file");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_a_request_id_and_errors_are_json() {
    let server = TestServer::spawn().await;
    let response = server
        .client
        .get(server.url("/no-such-endpoint"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let request_id = response
        .headers()
        .get("x-request-id")
        .expect("x-request-id header")
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(request_id.len(), 36, "a UUID: {request_id}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "not_found");
    server.stop().await;
}

/// Readiness includes the database: a node whose database answers and takes writes says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_the_database() {
    let server = TestServer::spawn().await;
    let (status, ready) = server.get_json("/readyz").await;
    assert_eq!((status, ready["database"].as_str()), (200, Some("ok")));
    server.stop().await;
}

/// A plugin that fails to load is counted on `/metrics`, by name, besides `/readyz`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_load_failures_are_counted_in_metrics() {
    let server = TestServer::spawn().await;
    let (status, _) = server.get_json("/readyz").await;
    assert_eq!(status, 200, "serving, with its plugin folder watched");
    std::fs::write(
        server.plugin_dir.join(".broken.partial"),
        b"not a component",
    )
    .unwrap();
    std::fs::rename(
        server.plugin_dir.join(".broken.partial"),
        server.plugin_dir.join("metrics-broken.wasm"),
    )
    .unwrap();
    wait_for(
        "the failure on /readyz",
        Duration::from_secs(30),
        || async {
            let (_, ready) = server.get_json("/readyz").await;
            ready["failing"]
                .as_array()
                .is_some_and(|failing| failing.iter().any(|f| f["plugin"] == "metrics-broken"))
                .then_some(())
        },
    )
    .await;
    let metrics = server.metrics().await;
    assert!(
        metrics.contains(r#"moja_plugin_load_failures_total{plugin="metrics-broken"} 1"#),
        "{metrics}"
    );
    server.stop().await;
}
