//! `moja-webhooks simulate`: plays the telephony side against a running server through the calls
//! API, so a newcomer can watch calls arrive, connect, convert and complete: campaigns with short
//! conversion rules, publishers, repeat callers, failures and hang-ups.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

/// Configuration of `moja-webhooks simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateConfig {
    /// Base URL of the server.
    #[arg(
        long,
        env = "MOJA_SIMULATE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,

    /// Org API key; read from `<data dir>/bootstrap.txt` when absent.
    #[arg(long, env = "MOJA_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,

    /// Data folder whose `bootstrap.txt` holds the key.
    #[arg(long, env = "MOJA_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// How many calls to place.
    #[arg(long, default_value_t = 20)]
    pub calls: u32,

    /// Calls in progress at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: u32,
}

const CALLERS: [&str; 6] = [
    "+13105559876",
    "+13105550111",
    "+12125550142",
    "+14155550199",
    "+17185550123",
    "+13125550188",
];
const PUBLISHERS: [(&str, &str); 3] = [
    ("pub-1", "Medi-Pub"),
    ("pub-2", "Call Giant"),
    ("pub-3", "Lead Lane"),
];
const SOURCES: [&str; 4] = ["google_ads", "facebook", "bing", "organic"];

struct Client {
    http: reqwest::Client,
    url: String,
    key: String,
}

impl Client {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("POST {path}: {status} {body}");
        }
        Ok(body)
    }
}

fn api_key(config: &SimulateConfig) -> anyhow::Result<String> {
    if let Some(key) = &config.api_key {
        return Ok(key.clone());
    }
    let path = config.data_dir.join("bootstrap.txt");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("no --api-key given and {} cannot be read", path.display()))?;
    text.lines()
        .find_map(|l| l.strip_prefix("MOJA_API_KEY="))
        .map(str::to_owned)
        .with_context(|| format!("{} holds no MOJA_API_KEY", path.display()))
}

/// Runs the simulation until every call completed or failed.
pub async fn run(config: SimulateConfig) -> anyhow::Result<()> {
    let client = std::sync::Arc::new(Client {
        http: reqwest::Client::new(),
        url: config.url.trim_end_matches('/').to_owned(),
        key: api_key(&config)?,
    });
    let mut campaigns = Vec::new();
    for (name, min_duration, revenue, payout) in [
        ("Medicare Leads (sim)", 3, "35.00", "12.50"),
        ("Auto Insurance (sim)", 5, "20.00", "8.00"),
    ] {
        let campaign = client
            .post(
                "/api/v1/campaigns",
                json!({"name": name, "conversion_min_duration_s": min_duration,
                       "buyer_revenue": revenue, "publisher_payout": payout}),
            )
            .await?;
        println!(
            "campaign {} ({name}): converts at {min_duration} s",
            campaign["id"].as_str().unwrap_or("?")
        );
        campaigns.push(campaign["id"].as_str().unwrap_or_default().to_owned());
    }
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(
        config.concurrency.max(1) as usize
    ));
    let mut tasks = Vec::new();
    for n in 0..config.calls {
        let permit = semaphore.clone().acquire_owned().await?;
        let (client, campaigns) = (client.clone(), campaigns.clone());
        tasks.push(tokio::spawn(async move {
            let result = place_call(&client, &campaigns, n).await;
            drop(permit);
            if let Err(error) = result {
                eprintln!("call {n}: {error:#}");
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    println!(
        "done: {} calls; see GET /api/v1/calls and each call's /timeline",
        config.calls
    );
    Ok(())
}

async fn place_call(client: &Client, campaigns: &[String], n: u32) -> anyhow::Result<()> {
    let (caller, (publisher_id, publisher_name), source, campaign, connects, talk_ms, by) = {
        let mut rng = rand::rng();
        (
            *CALLERS.choose(&mut rng).unwrap_or(&CALLERS[0]),
            *PUBLISHERS.choose(&mut rng).unwrap_or(&PUBLISHERS[0]),
            *SOURCES.choose(&mut rng).unwrap_or(&SOURCES[0]),
            campaigns.choose(&mut rng).cloned().unwrap_or_default(),
            rng.random_bool(0.8),
            rng.random_range(500..7_000u64),
            if rng.random_bool(0.6) {
                "caller"
            } else {
                "target"
            },
        )
    };
    let call = client
        .post(
            "/api/v1/calls",
            json!({
                "caller_id": caller,
                "dialed_number": "+18005550100",
                "campaign_id": campaign,
                "publisher": {"id": publisher_id, "name": publisher_name},
                "attribution": {"utm_source": source},
                "tags": {"sim_call": n.to_string()},
            }),
        )
        .await?;
    let id = call["call_log_id"].as_str().unwrap_or_default().to_owned();
    println!("{id}: ringing from {caller} via {publisher_name}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    if !connects {
        client
            .post(
                &format!("/api/v1/calls/{id}/failure"),
                json!({"failure_reason": "no-answer"}),
            )
            .await?;
        println!("{id}: failed (no-answer)");
        return Ok(());
    }
    client
        .post(
            &format!("/api/v1/calls/{id}/connected"),
            json!({"target": {"id": "tgt-1", "name": "Sales floor", "type": "number"}, "buyer": {"id": "buyer-1", "name": "Acme Insurance"}}),
        )
        .await?;
    println!("{id}: connected");
    tokio::time::sleep(Duration::from_millis(talk_ms)).await;
    let done = client
        .post(
            &format!("/api/v1/calls/{id}/hangup"),
            json!({"terminated_by": by}),
        )
        .await?;
    println!(
        "{id}: hung up by {by} after {} s; converted: {}, revenue: {}",
        done["duration_s"], done["converted"], done["revenue_paid_out"]
    );
    Ok(())
}
