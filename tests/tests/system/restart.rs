//! Durability: requests acknowledged before the server process is killed with SIGKILL are all
//! there after a restart on the same data folder.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::wait_for;

struct Process {
    child: Child,
    base_url: String,
}

fn free_port() -> u16 {
    // Bind and release: the port is free for the server a moment later.
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start(data_dir: &Path) -> Process {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_moja-test-server"))
        .arg("serve")
        .env("MOJA_LISTEN", format!("127.0.0.1:{port}"))
        .env("MOJA_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server process");
    let base_url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_for(
        "the server to be ready",
        Duration::from_secs(60),
        || async {
            let response = client.get(format!("{base_url}/readyz")).send().await.ok()?;
            (response.status() == 200).then_some(())
        },
    )
    .await;
    Process { child, base_url }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = start(data.path()).await;
    let client = reqwest::Client::new();
    let text = std::fs::read_to_string(data.path().join("bootstrap.txt")).expect("bootstrap file");
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("MOJA_API_KEY="))
        .expect("an API key")
        .to_owned();
    let admin = |path: &str, body: Value| {
        client
            .post(format!("{}{path}", server.base_url))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let created: Value = admin(
        "/api/v1/webhooks/incoming",
        json!({"name": "crm", "type": "update_tags", "rate_limit": {"limit": 100000, "period": "minute"}}),
    )
    .await
    .expect("create webhook")
    .json()
    .await
    .expect("webhook JSON");
    let hook_key = created["auth_key"].as_str().expect("auth_key").to_owned();
    let status = admin(
        "/api/v1/calls",
        json!({"caller_id": "+13105559876", "call_log_id": "durable"}),
    )
    .await
    .expect("create call")
    .status();
    assert_eq!(status, 201);

    // Fire updates concurrently; remember which were acknowledged, then kill mid-stream.
    let url = format!("{}/update-tags?moja_auth_key={hook_key}", server.base_url);
    let sends: Vec<_> = (0..300)
        .map(|i| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let body = json!({"call_log_id": "durable", "add": {format!("k{i}"): "v"}});
                let response = client.post(&url).json(&body).send().await.ok()?;
                (response.status() == 200).then_some(format!("k{i}"))
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    for (i, send) in sends.into_iter().enumerate() {
        if i == 150 {
            server.child.kill().expect("SIGKILL the server");
        }
        if let Ok(Some(tag)) = send.await {
            acknowledged.push(tag);
        }
    }
    let _ = server.child.wait();
    assert!(
        !acknowledged.is_empty(),
        "some requests were acknowledged before the kill"
    );

    let mut restarted = start(data.path()).await;
    let call: Value = client
        .get(format!("{}/api/v1/calls/durable", restarted.base_url))
        .bearer_auth(&key)
        .send()
        .await
        .expect("get call")
        .json()
        .await
        .expect("call JSON");
    for tag in &acknowledged {
        assert_eq!(
            call["tags"][tag], "v",
            "acknowledged tag {tag} survived the kill"
        );
    }
    restarted.child.kill().expect("stop the server");
    let _ = restarted.child.wait();
}
