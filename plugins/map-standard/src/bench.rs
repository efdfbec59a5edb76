//! A timing run of the mapper on the inputs of the host's `plugin_calls` benchmark, natively.
//! Ignored by default and never asserting on time:
//! `cargo test -p map-standard --release bench -- --ignored --nocapture`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use moja_plugin_sdk::testing::RequestBuilder;
use moja_plugin_sdk::{HttpRequest, MapInput, Mapper, Pairs, WebhookKind};

use crate::StandardMapper;

/// The ~1 KiB `update_fields` postback of `host/benches/plugin_calls.rs`.
fn postback_body() -> String {
    include_str!("../testdata/postback.json").to_owned()
}

fn postback_request() -> HttpRequest {
    RequestBuilder::post("/update-fields")
        .header("user-agent", "crm-webhooks/2.1")
        .header("x-lead-source", "crm")
        .body(postback_body(), Some("application/json"))
        .build()
}

/// What normalize-standard makes of that request: one tag per flattened body field, then the
/// `x-lead-source` header.
fn postback_tags() -> Pairs {
    let body: serde_json::Value = serde_json::from_str(&postback_body()).unwrap();
    let mut tags = Vec::new();
    flatten("", &body, &mut tags);
    tags.push(("lead_source".to_owned(), "crm".to_owned()));
    tags
}

fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Pairs) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}_{key}")
                };
                flatten(&key, value, out);
            }
        }
        serde_json::Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// The median time of one call of `f`, over batches.
fn median(mut f: impl FnMut()) -> Duration {
    const BATCH: u32 = 2_000;
    for _ in 0..BATCH {
        f();
    }
    let mut samples: Vec<Duration> = (0..41)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..BATCH {
                f();
            }
            started.elapsed() / BATCH
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

fn report(name: &str, kind: WebhookKind, request: HttpRequest, tags: Pairs) {
    // MAP_BENCH_CALLS=n: only n calls of the first case, untimed (for `perf stat`).
    if let Some(calls) = std::env::var("MAP_BENCH_CALLS")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
    {
        if name.starts_with("update_fields") {
            for _ in 0..calls {
                black_box(
                    StandardMapper::map(MapInput {
                        kind,
                        request: request.clone(),
                        tags: tags.clone().into(),
                        config: Vec::new(),
                    })
                    .unwrap(),
                );
                drop(moja_plugin_sdk::log::take_captured());
            }
        }
        return;
    }
    // As the host benchmark times its native figure: the input cloned on every call.
    let with_clone = median(|| {
        black_box(
            StandardMapper::map(MapInput {
                kind,
                request: request.clone(),
                tags: tags.clone().into(),
                config: Vec::new(),
            })
            .unwrap(),
        );
        // Natively the log lines are kept per thread: do not let them pile up.
        drop(moja_plugin_sdk::log::take_captured());
    });
    let clone_only = median(|| {
        black_box((request.clone(), tags.clone()));
    });
    println!(
        "{name:<34} map+clone {:>8.2?}   clone alone {:>8.2?}   map alone ~{:>8.2?}",
        with_clone,
        clone_only,
        with_clone.saturating_sub(clone_only)
    );
}

#[test]
#[ignore = "a timing run, not a test: run it with --ignored --nocapture"]
fn bench() {
    report(
        "update_fields 1 KiB postback",
        WebhookKind::UpdateFields,
        postback_request(),
        postback_tags(),
    );
    report(
        "update_revenue small JSON",
        WebhookKind::UpdateRevenue,
        RequestBuilder::post("/update-revenue")
            .body(
                r#"{"call_log_id": "abc-123", "revenue": 150.00, "currency": "usd"}"#,
                Some("application/json"),
            )
            .build(),
        Vec::new(),
    );
    report(
        "update_tags GET",
        WebhookKind::UpdateTags,
        RequestBuilder::get("/update-tags")
            .query_string("call_log_id=a&add[lead_quality]=high&add[x]=1&remove=a,b")
            .build(),
        Vec::new(),
    );
    report(
        "call_data 1 KiB postback",
        WebhookKind::CallData,
        RequestBuilder::post("/call-data")
            .body(
                postback_body().replacen("{", r#"{"caller_id": "+13105559876", "#, 1),
                Some("application/json"),
            )
            .build(),
        postback_tags(),
    );
}
