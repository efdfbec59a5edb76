//! Event-to-delivery benchmark of outbound webhooks: a receiver on loopback that answers 200 at
//! once, `--webhooks` outgoing webhooks on `call.incoming` pointing at it, and calls created at a
//! fixed rate. Reports deliveries/s, the latency from sending the call to its delivery arriving
//! (p50/p99/max) next to the latency of the call's own creation (the inbound part of it), and
//! fails when a delivery is missing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Event-to-delivery throughput and latency of outbound webhooks (loopback only).
#[derive(Debug, Parser)]
struct Args {
    /// Base URL of a running server started with MOJA_ALLOW_PRIVATE_TARGETS=true.
    #[arg(long)]
    base: String,
    /// An org API key.
    #[arg(long)]
    key: String,
    /// Calls created per second (each is one `call.incoming` event).
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// Outgoing webhooks subscribed to `call.incoming` (deliveries per event).
    #[arg(long, default_value_t = 1)]
    webhooks: u32,
    /// How long calls are created.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Prefix of the call ids (unique per run).
    #[arg(long, default_value = "ob")]
    prefix: String,
}

#[derive(Default)]
struct Book {
    sent: HashMap<String, Instant>,
    /// Time to the 201 of each created call, microseconds.
    acknowledged: Vec<u64>,
    arrivals: Vec<(String, Instant)>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let book: Arc<Mutex<Book>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let receiver_url = format!("http://{}/hook", listener.local_addr()?);
    let recorder = book.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: Bytes| {
            let recorder = recorder.clone();
            async move {
                let at = Instant::now();
                if let Ok(value) = serde_json::from_slice::<Value>(&body)
                    && let Some(id) = value["id"].as_str()
                {
                    let mut book = recorder.lock().unwrap_or_else(|e| e.into_inner());
                    book.arrivals.push((id.to_owned(), at));
                }
                "ok"
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let api = |path: &str| format!("{}{path}", args.base.trim_end_matches('/'));
    for i in 0..args.webhooks {
        let response = client
            .post(api("/api/v1/webhooks/outgoing"))
            .bearer_auth(&args.key)
            .json(&json!({"name": format!("bench {i}"), "event_type": "call.incoming",
                           "url": receiver_url, "body": r#"{"id": "[CALL_ID]", "caller": "[CALLER_ID]"}"#}))
            .send()
            .await
            .context("creating an outgoing webhook")?;
        if response.status() != 201 {
            bail!("creating an outgoing webhook: {}", response.text().await?);
        }
    }

    let total = (f64::from(args.rate) * args.duration.as_secs_f64()).round() as u64;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut sends = tokio::task::JoinSet::new();
    for seq in 0..total {
        ticker.tick().await;
        let id = format!("{}-{seq}", args.prefix);
        let (client, url, key, book) = (
            client.clone(),
            api("/api/v1/calls"),
            args.key.clone(),
            book.clone(),
        );
        sends.spawn(async move {
            let at = Instant::now();
            book.lock()
                .unwrap_or_else(|e| e.into_inner())
                .sent
                .insert(id.clone(), at);
            let body =
                json!({"call_log_id": id, "caller_id": format!("+1310555{:04}", seq % 10_000)});
            match client.post(url).bearer_auth(key).json(&body).send().await {
                Ok(response) if response.status() == 201 => {
                    let took = at.elapsed().as_micros() as u64;
                    book.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .acknowledged
                        .push(took);
                    true
                }
                _ => false,
            }
        });
    }
    let sending = started.elapsed();
    let mut created = 0u64;
    while let Some(ok) = sends.join_next().await {
        created += u64::from(ok.unwrap_or(false));
    }
    let expected = created * u64::from(args.webhooks);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = book
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .arrivals
            .len() as u64;
        if got >= expected || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let book = book.lock().unwrap_or_else(|e| e.into_inner());
    let mut latency = Histogram::<u64>::new(3)?;
    let mut last = started;
    for (id, at) in &book.arrivals {
        if let Some(sent) = book.sent.get(id) {
            latency.record(at.saturating_duration_since(*sent).as_micros() as u64)?;
        }
        last = last.max(*at);
    }
    let mut acknowledged = Histogram::<u64>::new(3)?;
    for took in &book.acknowledged {
        acknowledged.record(*took)?;
    }
    let received = book.arrivals.len() as u64;
    let window = last.duration_since(started).as_secs_f64();
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    let report = json!({
        "rate_target": args.rate,
        "webhooks": args.webhooks,
        "events_created": created,
        "events_per_s": created as f64 / sending.as_secs_f64(),
        "deliveries": received,
        "deliveries_missing": expected.saturating_sub(received),
        "deliveries_per_s": received as f64 / window,
        "latency_ms": {"p50": ms(0.5), "p99": ms(0.99), "max": latency.max() as f64 / 1000.0},
        "create_call_ms": {
            "p50": acknowledged.value_at_quantile(0.5) as f64 / 1000.0,
            "p99": acknowledged.value_at_quantile(0.99) as f64 / 1000.0,
        },
    });
    println!("{report}");
    if received < expected {
        bail!("{} deliveries never arrived", expected - received);
    }
    Ok(())
}
