//! Outbound webhooks end to end: call events rendered from the product documents' templates and
//! delivered over real HTTP to a receiver on loopback; retries, signatures, duration marks across
//! a restart, the request log, and the SSRF guard (which only ever targets this machine).

use std::sync::Arc;

use base64::Engine;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use moja_core::clock::ManualClock;
use moja_webhooks_host::config::ServeConfig;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::receiver::{Receiver, Reply};
use crate::support::{TestServer, wait_for};

const START: &str = "2026-11-23T12:00:00Z";

/// Outbound test settings: loopback allowed, short timeouts, a schedule in seconds (the clock
/// is the test's, so retries are due when the test moves it).
fn delivering(config: &mut ServeConfig) {
    config.allow_private_targets = true;
    config.delivery_timeout = std::time::Duration::from_millis(700);
    config.retry_schedule = moja_delivery::retry::RetrySchedule::parse("10s,20s").unwrap();
    config.dispatch_interval = std::time::Duration::from_millis(20);
}

struct Tenant {
    server: TestServer,
    key: String,
    clock: Arc<ManualClock>,
    receiver: Receiver,
}

impl Tenant {
    async fn start() -> Self {
        Self::start_with(delivering).await
    }

    async fn start_with(configure: fn(&mut ServeConfig)) -> Self {
        let clock = Arc::new(ManualClock::new(START.parse::<Timestamp>().unwrap()));
        let server = TestServer::spawn_configured(clock.clone(), configure).await;
        let key = server.bootstrap("MOJA_API_KEY").await;
        let receiver = Receiver::start().await;
        Self {
            server,
            key,
            clock,
            receiver,
        }
    }

    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.server.api(&self.key, method, path, body).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.api(Method::POST, path, Some(body)).await;
        assert!(
            (200..300).contains(&status),
            "POST {path}: {status} {answer}"
        );
        answer
    }

    /// Creates an outgoing webhook to the receiver (`url` is a path on it).
    async fn outgoing(&self, mut body: Value) -> Value {
        let url = body["url"].as_str().expect("url").to_owned();
        if url.starts_with('/') {
            body["url"] = json!(format!("{}{url}", self.receiver.base_url));
        }
        let (status, created) = self
            .api(Method::POST, "/api/v1/webhooks/outgoing", Some(body))
            .await;
        assert_eq!(status, 201, "{created}");
        created
    }

    fn advance(&self, seconds: i64) {
        self.clock.advance(SignedDuration::from_secs(seconds));
    }

    /// The outgoing request log entries matching `query`, oldest first.
    async fn log(&self, query: &str) -> Vec<Value> {
        let (status, page) = self
            .api(
                Method::GET,
                &format!("/api/v1/webhooks/outgoing/requests?{query}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let mut items = page["items"].as_array().cloned().unwrap_or_default();
        items.reverse();
        items
    }

    /// Waits for `count` log entries matching `query`.
    async fn wait_log(&self, query: &str, count: usize) -> Vec<Value> {
        wait_for(
            &format!("{count} outgoing log entries for {query}"),
            std::time::Duration::from_secs(30),
            || async {
                let items = self.log(query).await;
                (items.len() >= count).then_some(items)
            },
        )
        .await
    }
}

/// The body template of `seeds/003_…`, as written there.
const SEED_003_TEMPLATE: &str = r#"{
"call_id": "[CALL_ID]",
"caller": "[CALLER_ID]",
"campaign": "[CAMPAIGN_NAME]",
"duration": "[DURATION]",
"converted": "[CONVERTED]",
"revenue": "[REVENUE_PAID_OUT]",
"tags": {
"source": "[UTM_SOURCE]",
"state": "[CALLER_STATE]"
}
}"#;

/// The Telegram body of `seeds/004_…`, as written there.
const SEED_004_TELEGRAM: &str = r#"{
"chat_id": -5002186479,
"text": "✅ *Call Converted*\n\n📞 Call ID: `[CALL_ID]`\n🔗 Call SID: `[CALL_SID]`\n👤 From: `[FROM]`\n📢 Campaign: *[CAMPAIGN_NAME]*\n🏢 Buyer: *[BUYER_NAME]*\n💰 Buyer Payout: *[REVENUE_PAID_OUT]*\n📤 Publisher: *[PUBLISHER_NAME]*\n⏱ Duration: *[DURATION]s*\n💵 Publisher Payout: *[CONFIGURED_PUBLISHER_PAYOUT]*\n⏰ Converted At: *[CALL_CONVERTED_AT]*"
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documents_templates_arrive_rendered_for_every_method_and_format() {
    let t = Tenant::start().await;
    let campaign = t
        .post(
            "/api/v1/campaigns",
            json!({"name": "Medicare Leads Q1", "conversion_min_duration_s": 60,
                   "buyer_revenue": "35.00", "publisher_payout": "12.50"}),
        )
        .await;
    let campaign_id = campaign["id"].as_str().unwrap().to_owned();
    t.post(
        "/api/v1/custom-tags",
        json!({"key": "lead_type", "display_name": "Lead type"}),
    )
    .await;

    t.outgoing(json!({"name": "CRM", "event_type": "call.completed",
        "url": "/seed3?call_id=[CALL_ID]&campaign=[CAMPAIGN_ID]", "body": SEED_003_TEMPLATE}))
        .await;
    t.outgoing(json!({"name": "Telegram", "event_type": "call.converted",
        "url": "/telegram", "body": SEED_004_TELEGRAM}))
        .await;
    t.outgoing(json!({"name": "Early", "event_type": "call.incoming", "url": "/incoming",
        "body": r#"{"call": "[CALL_ID]", "converted": "[CONVERTED]", "revenue": [REVENUE_PAID_OUT], "lead": "[LEAD_TYPE]"}"#}))
        .await;
    t.outgoing(json!({"name": "Form", "event_type": "call.hangup", "method": "put",
        "url": "/form/[CALL_ID]?lead=[LEAD_TYPE]", "body_format": "form",
        "headers": {"X-Lead": "[LEAD_TYPE]", "Authorization": "Bearer s3cret"},
        "body": r#"{"lead": "[LEAD_TYPE]", "tags": {"source": "[UTM_SOURCE]"}, "amount": [REVENUE_PAID_OUT]}"#}))
        .await;
    t.outgoing(
        json!({"event_type": "call.connected", "url": "/form-connected", "body_format": "form",
        "body": "lead=[LEAD_TYPE]&call=[CALL_ID]"}),
    )
    .await;
    for method in ["GET", "PATCH", "DELETE"] {
        t.outgoing(json!({"event_type": "call.connected", "method": method,
            "url": format!("/{}?call=[CALL_ID]&lead=[LEAD_TYPE]", method.to_lowercase())}))
            .await;
    }

    // The seed 003 call: connected for 145 s, converted by the campaign rule.
    let call_id = "call_abc123def456";
    t.post(
        "/api/v1/calls",
        json!({"call_log_id": call_id, "caller_id": "+13105559876", "campaign_id": campaign_id,
               "call_sid": "CA123", "state": "CA",
               "publisher": {"id": "pub-1", "name": "Acme Media"},
               "attribution": {"utm_source": "google_ads"}, "tags": {"lead_type": "medicare"}}),
    )
    .await;
    t.post(
        &format!("/api/v1/calls/{call_id}/connected"),
        json!({"buyer": {"id": "b-1", "name": "Blue Cross"}}),
    )
    .await;
    t.advance(145);
    t.post(
        &format!("/api/v1/calls/{call_id}/hangup"),
        json!({"terminated_by": "caller"}),
    )
    .await;

    let seed3 = t.receiver.wait_on("/seed3", 1).await;
    assert_eq!(seed3[0].method, "POST");
    assert_eq!(seed3[0].header("content-type"), Some("application/json"));
    assert_eq!(
        seed3[0].target,
        format!("/seed3?call_id={call_id}&campaign={campaign_id}")
    );
    assert_eq!(
        seed3[0].json(),
        json!({"call_id": "call_abc123def456", "caller": "+13105559876",
               "campaign": "Medicare Leads Q1", "duration": "145", "converted": "true",
               "revenue": "35.00", "tags": {"source": "google_ads", "state": "CA"}}),
        "the documented resulting payload"
    );

    let telegram = t.receiver.wait_on("/telegram", 1).await;
    let message = telegram[0].json();
    assert_eq!(message["chat_id"], json!(-5_002_186_479_i64));
    let text = message["text"].as_str().unwrap();
    for expected in [
        "✅ *Call Converted*\n\n📞 Call ID: `call_abc123def456`",
        "🔗 Call SID: `CA123`",
        "👤 From: `+13105559876`",
        "📢 Campaign: *Medicare Leads Q1*",
        "🏢 Buyer: *Blue Cross*",
        "💰 Buyer Payout: *35.00*",
        "📤 Publisher: *Acme Media*",
        "⏱ Duration: *145s*",
        "💵 Publisher Payout: *$12.50*",
        "⏰ Converted At: *2026-11-23T12:02:25.000Z*",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text:?}");
    }

    // On call.incoming the conversion tags stay raw; the custom tag renders.
    let early = t.receiver.wait_on("/incoming", 1).await;
    assert_eq!(
        early[0].json(),
        json!({"call": call_id, "converted": "[CONVERTED]", "revenue": "[REVENUE_PAID_OUT]",
               "lead": "medicare"})
    );

    // Form body, PUT, placeholders in the path, query and headers.
    let form = t.receiver.wait_on(&format!("/form/{call_id}"), 1).await;
    assert_eq!(form[0].method, "PUT");
    assert_eq!(
        form[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(form[0].target, format!("/form/{call_id}?lead=medicare"));
    assert_eq!(form[0].header("x-lead"), Some("medicare"));
    assert_eq!(
        form[0].text(),
        "lead=medicare&tags[source]=google_ads&amount=35.00"
    );
    for method in ["GET", "PATCH", "DELETE"] {
        let path = format!("/{}", method.to_lowercase());
        let got = t.receiver.wait_on(&path, 1).await;
        assert_eq!(got[0].method, method);
        assert_eq!(
            got[0].target,
            format!("{path}?call={call_id}&lead=medicare")
        );
    }

    // The log redacts credentials; the timeline records the outcomes.
    let logged = t.wait_log("event_type=call.hangup", 1).await;
    let headers = logged[0]["request"]["headers"].to_string();
    assert!(
        headers.contains("[redacted]") && !headers.contains("s3cret"),
        "{headers}"
    );
    let (_, timeline) = t
        .api(
            Method::GET,
            &format!("/api/v1/calls/{call_id}/timeline"),
            None,
        )
        .await;
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .or(timeline.as_array())
        .map(|items| items.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(kinds.contains(&"delivery.succeeded"), "{kinds:?}");

    // Hostile values never break a JSON body, a form body, a URL; CR/LF fails the header.
    let hostile = "He said \"hi\" \\ </script> &a=b 😀\nnext";
    t.post(
        "/api/v1/calls",
        json!({"call_log_id": "hostile", "caller_id": "+13105550000", "campaign_id": campaign_id,
               "tags": {"lead_type": hostile}}),
    )
    .await;
    let early = t.receiver.wait_on("/incoming", 2).await;
    assert_eq!(early[1].json()["lead"], json!(hostile));
    t.post("/api/v1/calls/hostile/connected", json!({})).await;
    for method in ["get", "patch", "delete"] {
        let got = t.receiver.wait_on(&format!("/{method}"), 2).await;
        let query = got[1].target.split_once('?').unwrap().1.to_owned();
        let pairs: Vec<(String, String)> = url_pairs(&query);
        assert_eq!(pairs[1], ("lead".into(), hostile.into()), "{query}");
    }
    let form = t.receiver.wait_on("/form-connected", 2).await;
    assert_eq!(
        url_pairs(&form[1].text()),
        vec![
            ("lead".into(), hostile.into()),
            ("call".into(), "hostile".into())
        ],
        "a form body keeps its fields: {}",
        form[1].text()
    );
    t.post(
        "/api/v1/calls/hostile/hangup",
        json!({"terminated_by": "target"}),
    )
    .await;
    let failed = t
        .wait_log("event_type=call.hangup&call_id=hostile&failed=true", 1)
        .await;
    assert_eq!(
        failed[0]["outcome"], "failed",
        "a CR/LF header is not retried"
    );
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("X-Lead"),
        "{}",
        failed[0]
    );
    assert!(t.receiver.on("/form/hostile").is_empty());
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// When a logged attempt's retry is due.
fn next_attempt_at(attempt: &Value) -> Timestamp {
    attempt["next_attempt_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_follow_the_schedule_and_final_errors_do_not_retry() {
    let t = Tenant::start().await;
    t.receiver.script(
        "/flaky",
        vec![Reply::Status(500), Reply::Status(503), Reply::Status(200)],
    );
    t.receiver.script("/gone", vec![Reply::Status(410)]);
    t.receiver.script("/bad", vec![Reply::Status(400)]);
    t.receiver.script(
        "/moved",
        vec![Reply::Redirect(format!(
            "{}/elsewhere",
            t.receiver.base_url
        ))],
    );
    t.receiver
        .script("/slow", vec![Reply::Hang, Reply::Status(200)]);
    t.receiver
        .script("/busy", vec![Reply::RetryAfter(15), Reply::Status(200)]);
    let mut ids = std::collections::HashMap::new();
    for path in ["/flaky", "/gone", "/bad", "/moved", "/slow", "/busy"] {
        let created = t
            .outgoing(
                json!({"name": path, "event_type": "call.incoming", "url": path,
                              "body": r#"{"id": "[CALL_ID]"}"#}),
            )
            .await;
        ids.insert(path, created["id"].as_str().unwrap().to_owned());
    }
    t.post(
        "/api/v1/calls",
        json!({"call_log_id": "r1", "caller_id": "+13105550001"}),
    )
    .await;

    // First attempts: one each.
    for path in ["/flaky", "/gone", "/bad", "/moved", "/slow", "/busy"] {
        t.wait_log(&format!("webhook_id={}", ids[path]), 1).await;
    }
    let first = |path: &str| t.receiver.on(path);
    assert_eq!(first("/gone").len(), 1);
    let slow = t.wait_log(&format!("webhook_id={}", ids["/slow"]), 1).await;
    assert_eq!(slow[0]["outcome"], "retrying");
    assert!(
        slow[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("timed out"),
        "{}",
        slow[0]
    );
    let busy = t.wait_log(&format!("webhook_id={}", ids["/busy"]), 1).await;
    assert_eq!(busy[0]["response_status"], 429);
    let due = next_attempt_at(&busy[0]);
    let start: Timestamp = START.parse().unwrap();
    assert!(
        due >= start + SignedDuration::from_secs(15),
        "Retry-After honoured: {due}"
    );

    // Move the clock past each retry: 10 s ± 20 %, then 20 s ± 20 %.
    t.advance(13);
    t.wait_log(&format!("webhook_id={}", ids["/flaky"]), 2)
        .await;
    t.wait_log(&format!("webhook_id={}", ids["/slow"]), 2).await;
    t.advance(5);
    t.wait_log(&format!("webhook_id={}", ids["/busy"]), 2).await;
    t.advance(30);
    let flaky = t
        .wait_log(&format!("webhook_id={}", ids["/flaky"]), 3)
        .await;
    let outcomes: Vec<&str> = flaky
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["retrying", "retrying", "succeeded"]);
    let statuses: Vec<i64> = flaky
        .iter()
        .map(|e| e["response_status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 503, 200]);
    let received = t.receiver.on("/flaky");
    assert_eq!(received.len(), 3);
    let webhook_ids: Vec<_> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert!(
        webhook_ids
            .iter()
            .all(|id| id.is_some() && *id == webhook_ids[0]),
        "one webhook-id across retries: {webhook_ids:?}"
    );

    for path in ["/gone", "/bad", "/moved"] {
        let log = t.log(&format!("webhook_id={}", ids[path])).await;
        assert_eq!(log.len(), 1, "{path} is not retried");
        assert_eq!(log[0]["outcome"], "failed");
        assert_eq!(t.receiver.on(path).len(), 1);
    }
    assert!(
        t.receiver.on("/elsewhere").is_empty(),
        "redirects are not followed"
    );
    let failed = t.log("failed=true").await;
    assert!(failed.iter().all(|e| e["outcome"] != "succeeded"));

    // A failed delivery can be resent: same webhook-id, due at once.
    let gone = t.log(&format!("webhook_id={}", ids["/gone"])).await;
    t.receiver.script("/gone", vec![Reply::Status(204)]);
    let (status, delivery) = t
        .api(
            Method::POST,
            &format!(
                "/api/v1/webhooks/outgoing/requests/{}/resend",
                gone[0]["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 202, "{delivery}");
    let again = t.receiver.wait_on("/gone", 2).await;
    assert_eq!(again[0].header("webhook-id"), again[1].header("webhook-id"));
    let log = t.wait_log(&format!("webhook_id={}", ids["/gone"]), 2).await;
    assert_eq!(log[1]["outcome"], "succeeded");

    // Paging through the log.
    let (_, page) = t
        .api(
            Method::GET,
            "/api/v1/webhooks/outgoing/requests?limit=2",
            None,
        )
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let (_, next) = t
        .api(
            Method::GET,
            &format!("/api/v1/webhooks/outgoing/requests?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_ne!(next["items"][0]["id"], page["items"][0]["id"]);

    // Metrics report attempts by outcome and the queue.
    let metrics = t.server.metrics().await;
    assert!(
        metrics.contains("moja_delivery_attempts_total{outcome=\"retrying\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("moja_delivery_queue_depth"));
}

/// HMAC-SHA256 of `id.timestamp.body` with the secret's bytes, as the Standard Webhooks
/// specification defines it, written here without the server's code.
fn verify_standard_webhook(
    secret: &str,
    id: &str,
    timestamp: &str,
    body: &[u8],
    header: &str,
) -> bool {
    let engine = base64::engine::general_purpose::STANDARD;
    let key = engine
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC key");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = engine.encode(mac.finalize().into_bytes());
    header
        .split(' ')
        .filter_map(|sig| sig.strip_prefix("v1,"))
        .any(|sig| sig == expected)
}

/// A `Retry-After` date is read against the server's clock, like every other time rule: here
/// the manual clock of the test, 40 s before the date the receiver names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_date_is_measured_on_the_servers_clock() {
    let t = Tenant::start().await;
    t.receiver.script(
        "/busy-until",
        vec![
            Reply::RetryAfterDate("Mon, 23 Nov 2026 12:00:40 GMT"),
            Reply::Status(200),
        ],
    );
    let created = t
        .outgoing(
            json!({"name": "busy", "event_type": "call.incoming", "url": "/busy-until",
                         "body": r#"{"id": "[CALL_ID]"}"#}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    t.post(
        "/api/v1/calls",
        json!({"call_log_id": "d1", "caller_id": "+13105550001"}),
    )
    .await;
    let busy = t.wait_log(&format!("webhook_id={id}"), 1).await;
    assert_eq!(busy[0]["response_status"], 429);
    let due = next_attempt_at(&busy[0]);
    let start: Timestamp = START.parse().unwrap();
    // 40 s from the response's arrival, counted from the attempt's start: a hair under 40 s.
    assert!(
        due >= start + SignedDuration::from_secs(39),
        "the date is 40 s after the server's now: {due}"
    );
    assert!(
        due < start + SignedDuration::from_secs(3600),
        "not measured from another clock: {due}"
    );
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_deliveries_verify_and_secrets_are_shown_once() {
    let t = Tenant::start().await;
    let created = t
        .outgoing(
            json!({"event_type": "call.incoming", "url": "/signed", "secret": true,
                          "headers": {"X-Api-Key": "k-123"}, "body": r#"{"id": "[CALL_ID]"}"#}),
        )
        .await;
    let secret = created["secret"]
        .as_str()
        .expect("the secret, once")
        .to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(created["headers"]["X-Api-Key"], "k-123");
    let id = created["id"].as_str().unwrap();
    let (_, shown) = t
        .api(
            Method::GET,
            &format!("/api/v1/webhooks/outgoing/{id}"),
            None,
        )
        .await;
    assert!(
        shown.get("secret").is_none() && shown.get("headers").is_none(),
        "{shown}"
    );
    assert_eq!(shown["signed"], true);
    assert_eq!(shown["header_names"], json!(["X-Api-Key"]));

    t.post(
        "/api/v1/calls",
        json!({"call_log_id": "s1", "caller_id": "+13105550002"}),
    )
    .await;
    let got = t.receiver.wait_on("/signed", 1).await;
    let request = &got[0];
    let (msg_id, timestamp, signature) = (
        request.header("webhook-id").expect("webhook-id"),
        request
            .header("webhook-timestamp")
            .expect("webhook-timestamp"),
        request
            .header("webhook-signature")
            .expect("webhook-signature"),
    );
    assert_eq!(request.header("x-api-key"), Some("k-123"));
    assert!(verify_standard_webhook(
        &secret,
        msg_id,
        timestamp,
        &request.body,
        signature
    ));
    let mut changed = request.body.clone();
    changed.push(b' ');
    assert!(!verify_standard_webhook(
        &secret, msg_id, timestamp, &changed, signature
    ));
    assert!(!verify_standard_webhook(
        &secret,
        "other-id",
        timestamp,
        &request.body,
        signature
    ));

    // A test send renders a sample call through the same path, signed too.
    let (status, tested) = t
        .api(
            Method::POST,
            &format!("/api/v1/webhooks/outgoing/{id}/test"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{tested}");
    assert_eq!(tested["success"], true);
    let got = t.receiver.wait_on("/signed", 2).await;
    assert!(verify_standard_webhook(
        &secret,
        got[1].header("webhook-id").unwrap(),
        got[1].header("webhook-timestamp").unwrap(),
        &got[1].body,
        got[1].header("webhook-signature").unwrap(),
    ));
    assert_eq!(got[1].header("webhook-id"), tested["delivery_id"].as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_marks_fire_on_time_stop_at_hangup_and_survive_a_restart() {
    let t = Tenant::start().await;
    for seconds in [5, 15, 30, 45, 60] {
        t.outgoing(json!({"event_type": format!("call.on_{seconds}_secs_mark"),
            "url": format!("/mark{seconds}"), "body": r#"{"id": "[CALL_ID]", "duration": [DURATION]}"#}))
            .await;
    }
    // An early hang-up: the marks after it never fire.
    t.post(
        "/api/v1/calls",
        json!({"call_log_id": "short", "caller_id": "+13105550003"}),
    )
    .await;
    t.post("/api/v1/calls/short/connected", json!({})).await;
    t.advance(20);
    t.receiver.wait_on("/mark5", 1).await;
    t.receiver.wait_on("/mark15", 1).await;
    t.post(
        "/api/v1/calls/short/hangup",
        json!({"terminated_by": "caller"}),
    )
    .await;
    assert_eq!(
        t.receiver.wait_on("/mark15", 1).await[0].json(),
        json!({"id": "short", "duration": 15})
    );

    // A long call, with a restart in between: the marks are in the database.
    t.post(
        "/api/v1/calls",
        json!({"call_log_id": "long", "caller_id": "+13105550004"}),
    )
    .await;
    t.post("/api/v1/calls/long/connected", json!({})).await;
    t.advance(7);
    let five = t.receiver.wait_on("/mark5", 2).await;
    assert_eq!(five[1].json()["id"], "long");
    let Tenant {
        server,
        key,
        clock,
        receiver,
    } = t;
    let server = server.restart(clock.clone(), delivering).await;
    let t = Tenant {
        server,
        key,
        clock,
        receiver,
    };
    t.advance(60);
    for seconds in [15, 30, 45, 60] {
        // The short call's 15 s mark came before.
        let count = if seconds == 15 { 2 } else { 1 };
        let got = t.receiver.wait_on(&format!("/mark{seconds}"), count).await;
        assert_eq!(got.last().unwrap().json()["id"], "long");
    }
    t.post(
        "/api/v1/calls/long/hangup",
        json!({"terminated_by": "caller"}),
    )
    .await;
    for seconds in [30, 45, 60] {
        let got = t.receiver.on(&format!("/mark{seconds}"));
        assert!(
            got.iter().all(|r| r.json()["id"] == "long"),
            "no mark after the short call's hang-up on /mark{seconds}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_checked_when_saved_and_event_types_list_their_tags() {
    let t = Tenant::start().await;
    // Each bad field gets a 400 naming it.
    for (field, body) in [
        (
            "event_type",
            json!({"event_type": "call.sometime", "url": "https://example.com"}),
        ),
        (
            "body",
            json!({"event_type": "call.completed", "url": "https://example.com", "body": r#"{"a": "[CALL_ID]""#}),
        ),
        (
            "url",
            json!({"event_type": "call.completed", "url": "https://[CALL_ID].example.com/x"}),
        ),
        (
            "method",
            json!({"event_type": "call.completed", "url": "https://example.com", "method": "TRACE"}),
        ),
        (
            "secret",
            json!({"event_type": "call.completed", "url": "https://example.com", "secret": "nope"}),
        ),
        ("url", json!({"event_type": "call.completed"})),
        (
            "renderer",
            json!({"event_type": "call.completed", "url": "https://example.com", "renderer": "map-standard"}),
        ),
    ] {
        let (status, error) = t
            .api(
                Method::POST,
                "/api/v1/webhooks/outgoing",
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            (status, error["field"].as_str()),
            (400, Some(field)),
            "{body}: {error}"
        );
    }
    let (_, list) = t.api(Method::GET, "/api/v1/webhooks/outgoing", None).await;
    assert_eq!(list["items"], json!([]), "refused webhooks were not stored");

    let created = t
        .outgoing(
            json!({"event_type": "call.incoming", "url": "https://example.com/[CALL_ID]",
                          "body": r#"{"a": "[NOT_A_TAG]", "b": "[CONVERTED]"}"#}),
        )
        .await;
    let warnings = created["warnings"].to_string();
    assert!(
        warnings.contains("[NOT_A_TAG]") && warnings.contains("[CONVERTED]"),
        "{warnings}"
    );

    let (status, types) = t.api(Method::GET, "/api/v1/event-types", None).await;
    assert_eq!(status, 200);
    let items = types["items"].as_array().unwrap();
    assert_eq!(items.len(), 11);
    let tags_of = |event: &str| {
        items
            .iter()
            .find(|i| i["event"] == event)
            .map(|i| i["tags"].to_string())
            .unwrap_or_default()
    };
    assert!(!tags_of("call.incoming").contains("\"CONVERTED\""));
    assert!(tags_of("call.completed").contains("\"CONVERTED\""));
    assert!(tags_of("call.incoming").contains("\"CALL_ID\""));

    // Another org sees none of it.
    let (status, _) = t
        .api(
            Method::GET,
            &format!(
                "/api/v1/webhooks/outgoing/{}",
                created["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = t
        .api(
            Method::DELETE,
            &format!(
                "/api/v1/webhooks/outgoing/{}",
                created["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(status, 204);
}

/// The SSRF guard, on: every way of naming this machine is refused before a byte is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ssrf_guard_refuses_every_form_of_a_local_address() {
    fn guarded(config: &mut ServeConfig) {
        delivering(config);
        config.allow_private_targets = false;
    }
    let t = Tenant::start_with(guarded).await;
    let port = t.receiver.port;
    for host in [
        "127.0.0.1".to_owned(),
        "[::1]".to_owned(),
        "localhost".to_owned(),
        "0.0.0.0".to_owned(),
        "2130706433".to_owned(),
        "0x7f000001".to_owned(),
        "[::ffff:127.0.0.1]".to_owned(),
    ] {
        let url = format!("http://{host}:{port}/ssrf");
        let created = t
            .outgoing(json!({"event_type": "call.incoming", "url": url, "body": "{}"}))
            .await;
        let id = created["id"].as_str().unwrap();
        let (status, tested) = t
            .api(
                Method::POST,
                &format!("/api/v1/webhooks/outgoing/{id}/test"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{tested}");
        assert_eq!(tested["success"], false, "{host}: {tested}");
        let error = tested["attempt"]["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            error.contains("refused") || error.contains("not allowed") || error.contains("private"),
            "{host}: a refusal a tenant understands: {error}"
        );
        assert!(tested["attempt"]["response_status"].is_null());
    }
    assert!(
        t.receiver.received().is_empty(),
        "nothing reached the receiver"
    );
}

/// Events committed before a SIGKILL are delivered after the restart; an attempt in hand at the
/// kill is made again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_events_are_delivered_after_a_crash() {
    use std::process::{Command, Stdio};
    let data = tempfile::tempdir().expect("tempdir");
    let receiver = Receiver::start().await;
    receiver.script("/crash", vec![Reply::Hang]);
    let start = |data: &std::path::Path| {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(env!("CARGO_BIN_EXE_moja-test-server"))
            .arg("serve")
            .env("MOJA_LISTEN", format!("127.0.0.1:{port}"))
            .env("MOJA_DATA_DIR", data)
            .env("MOJA_ALLOW_PRIVATE_TARGETS", "true")
            .env("MOJA_DELIVERY_TIMEOUT", "60s")
            .env("MOJA_DISPATCH_INTERVAL", "20ms")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server process");
        (child, format!("http://127.0.0.1:{port}"))
    };
    let client = reqwest::Client::new();
    let ready = |base: String| {
        let client = client.clone();
        async move {
            wait_for(
                "the server to be ready",
                std::time::Duration::from_secs(60),
                || async {
                    let response = client.get(format!("{base}/readyz")).send().await.ok()?;
                    (response.status() == 200).then_some(())
                },
            )
            .await;
        }
    };
    let (mut child, base) = start(data.path());
    ready(base.clone()).await;
    let text = std::fs::read_to_string(data.path().join("bootstrap.txt")).expect("bootstrap");
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("MOJA_API_KEY="))
        .expect("key")
        .to_owned();
    let post = |base: &str, path: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&key)
            .json(&body)
            .send()
    };
    let status = post(
        &base,
        "/api/v1/webhooks/outgoing",
        json!({"event_type": "call.incoming", "url": format!("{}/crash", receiver.base_url),
               "body": r#"{"id": "[CALL_ID]"}"#}),
    )
    .await
    .unwrap()
    .status();
    assert_eq!(status, 201);
    let calls: Vec<String> = (0..5).map(|i| format!("crash-{i}")).collect();
    for id in &calls {
        let status = post(
            &base,
            "/api/v1/calls",
            json!({"call_log_id": id, "caller_id": "+13105550005"}),
        )
        .await
        .unwrap()
        .status();
        assert_eq!(status, 201);
    }
    // Every delivery is in hand (the receiver never answers) when the process dies.
    receiver.wait_on("/crash", calls.len()).await;
    child.kill().expect("SIGKILL");
    let _ = child.wait();

    receiver.script("/crash", vec![Reply::Status(200)]);
    let (mut child, base) = start(data.path());
    ready(base).await;
    let got = receiver.wait_on("/crash", calls.len() * 2).await;
    let mut delivered: Vec<String> = got[calls.len()..]
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect();
    delivered.sort();
    assert_eq!(delivered, calls);
    child.kill().expect("stop");
    let _ = child.wait();
}
