//! Inbound webhooks end to end: the real server on port 0, real SQLite, the real plugins, the
//! product documents' requests sent as written, and the clock under the test's control.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use moja_core::clock::ManualClock;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::TestServer;

/// A server with the bootstrap org's key and a controlled clock.
struct Tenant {
    server: TestServer,
    key: String,
    clock: Arc<ManualClock>,
}

struct Sent {
    status: u16,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

impl Tenant {
    async fn start() -> Self {
        let clock = Arc::new(ManualClock::new(
            "2026-04-03T12:00:00Z".parse::<Timestamp>().unwrap(),
        ));
        let server = TestServer::spawn_with_clock(clock.clone()).await;
        let key = server.bootstrap("MOJA_API_KEY").await;
        Self { server, key, clock }
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.server.api(&self.key, method, path, body).await
    }

    /// Creates an incoming webhook; returns `(id, auth_key)`.
    async fn webhook(&self, kind: &str, extra: Value) -> (String, String) {
        let mut body = json!({"name": format!("{kind} hook"), "type": kind});
        if let Value::Object(extra) = extra {
            body.as_object_mut().unwrap().extend(extra);
        }
        let (status, created) = self
            .admin(Method::POST, "/api/v1/webhooks/incoming", Some(body))
            .await;
        assert_eq!(status, 201, "{created}");
        (
            created["id"].as_str().unwrap().to_owned(),
            created["auth_key"].as_str().unwrap().to_owned(),
        )
    }

    async fn call(&self, body: Value) -> Value {
        let (status, call) = self.admin(Method::POST, "/api/v1/calls", Some(body)).await;
        assert_eq!(status, 201, "{call}");
        call
    }

    async fn get_call(&self, id: &str) -> Value {
        let (status, call) = self
            .admin(Method::GET, &format!("/api/v1/calls/{id}"), None)
            .await;
        assert_eq!(status, 200, "{call}");
        call
    }

    async fn timeline_kinds(&self, id: &str) -> Vec<String> {
        let (_, timeline) = self
            .admin(Method::GET, &format!("/api/v1/calls/{id}/timeline"), None)
            .await;
        timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Sends a public request: `path` with the key in the query, a raw body.
    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Sent {
        let mut request = self
            .server
            .client
            .request(method, self.server.url(path_and_query));
        if let Some((content_type, body)) = body {
            if !content_type.is_empty() {
                request = request.header("content-type", content_type);
            }
            request = request.body(body);
        }
        let response = request.send().await.expect("public request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        Sent {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
            headers,
        }
    }

    async fn post_json(&self, path: &str, key: &str, body: &str) -> Sent {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.send(
            Method::POST,
            &format!("{path}{sep}moja_auth_key={key}"),
            Some(("application/json", body.as_bytes().to_vec())),
        )
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_tour_call_data_call_revenue_timeline() {
    let t = Tenant::start().await;
    let (status, _) = t
        .admin(
            Method::POST,
            "/api/v1/custom-tags",
            Some(json!({"key": "lead_source", "display_name": "Lead source"})),
        )
        .await;
    assert_eq!(status, 201);
    let (_, call_data_key) = t.webhook("call_data", json!({})).await;
    let sent = t
        .post_json(
            "/call-data",
            &call_data_key,
            r#"{ "caller_id": "+13105559876", "lead_source": "google_ads", "ad_campaign": "medicare_q1", "landing_page": "medicare-info"}"#,
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.body["success"], true);
    let request_id = sent.body["request_id"].as_str().unwrap();
    assert_eq!(
        sent.headers["x-request-id"].to_str().unwrap(),
        request_id,
        "the request id is the log id and the header"
    );

    t.clock.advance(SignedDuration::from_mins(5));
    let call = t
        .call(json!({"caller_id": "(310) 555-9876", "dialed_number": "+18005550100", "call_log_id": "abc123-def456-ghi789"}))
        .await;
    assert_eq!(call["caller_id"], "+13105559876");
    assert_eq!(call["tags"], json!({"lead_source": "google_ads"}));

    let (_, revenue_key) = t.webhook("update_revenue", json!({})).await;
    let sent = t
        .post_json(
            "/update-revenue",
            &revenue_key,
            r#"{ "call_log_id": "abc123-def456-ghi789", "revenue_paid_out": 150.00, "transaction_id": "txn_20260206_001" }"#,
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    // The guide's response, as text: 150.00 keeps its two decimals.
    let expected: Value = serde_json::from_str(
        r#"{"success": true, "call_log_ids": ["abc123-def456-ghi789"], "revenue_paid_out": 150.00, "active_call_log_ids": ["abc123-def456-ghi789"]}"#,
    )
    .unwrap();
    assert_eq!(sent.body, expected);
    let text = serde_json::to_string(&sent.body).unwrap();
    assert!(text.contains("150.00"), "{text}");
    let call = t.get_call("abc123-def456-ghi789").await;
    assert_eq!(call["converted"], true);
    assert_eq!(call["revenue_paid_out"].to_string(), "150.00");
    assert_eq!(
        t.timeline_kinds("abc123-def456-ghi789").await,
        vec![
            "call.incoming",
            "call_data.applied",
            "webhook.update_revenue"
        ]
    );

    let metrics = t.server.metrics().await;
    assert!(
        metrics.contains(
            r#"moja_http_requests_total{route="/update-revenue",method="POST",status="200"}"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"moja_plugin_calls_total{plugin="map-standard",world="mapper",outcome="ok"}"#
        )
    );
    assert!(!metrics.contains(&revenue_key), "keys never reach metrics");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_fields_get_and_the_older_path_form() {
    let t = Tenant::start().await;
    t.call(json!({"caller_id": "+13105559876", "call_log_id": "abc123"}))
        .await;
    let (_, tags_key) = t.webhook("update_tags", json!({})).await;
    let sent = t
        .post_json(
            "/update-tags",
            &tags_key,
            r#"{ "phone_number": "+13105559876", "add": { "disposition": "sale_completed" }, "remove": ["pending_review"]}"#,
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(
        sent.body,
        json!({"success": true, "call_log_ids": ["abc123"], "added": [{"disposition": "sale_completed"}], "removed": ["pending_review"], "active_call_log_ids": ["abc123"]})
    );

    // seeds/000: the older path form with `call_id` and `tags` as a plain object.
    let (tags_id, _) = (tags_key.clone(), ());
    let (hook_id, key) = t.webhook("update_tags", json!({})).await;
    let sent = t
        .post_json(
            &format!("/api/v1/webhooks/incoming/{hook_id}/update-tags"),
            &key,
            r#"{ "call_id": "abc123", "tags": { "conversion_status": "qualified", "sale_amount": "2500" }}"#,
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    // The key must belong to the webhook of the path.
    let sent = t
        .post_json(
            &format!("/api/v1/webhooks/incoming/{hook_id}/update-tags"),
            &tags_id,
            r#"{ "call_id": "abc123", "tags": { "a": "b" }}"#,
        )
        .await;
    assert_eq!(sent.status, 401);

    let (_, fields_key) = t.webhook("update_fields", json!({})).await;
    let sent = t
        .send(
            Method::GET,
            &format!("/update-fields?moja_auth_key={fields_key}&call_log_id=abc123&converted=true&revenue_paid_out=25.50"),
            None,
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.body["updated"]["converted"], true);
    assert_eq!(
        sent.body["updated"]["revenue_paid_out"].to_string(),
        "25.50"
    );

    // A live call queues the completed-calls-only fields.
    let sent = t
        .post_json(
            "/update_fields",
            &fields_key,
            r#"{"call_log_id": "abc123", "fields": {"publisher_paid_out": 12.5, "no_payout_reason": "Caps exceeded"}, "crm_note": "x"}"#,
        )
        .await;
    assert_eq!(
        sent.body["queued"],
        json!(["publisher_paid_out", "no_payout_reason"])
    );
    assert_eq!(sent.body["ignored_fields"], json!(["crm_note"]));
    let (status, hung_up) = t
        .admin(
            Method::POST,
            "/api/v1/calls/abc123/hangup",
            Some(json!({"terminated_by": "caller"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(hung_up["publisher_paid_out"].to_string(), "12.50");
    assert_eq!(hung_up["no_payout_reason"], "Caps exceeded");
    assert_eq!(
        hung_up["events"],
        json!(["call.hangup", "call.converted", "call.completed"])
    );
    let call = t.get_call("abc123").await;
    assert_eq!(
        call["tags"],
        json!({"disposition": "sale_completed", "conversion_status": "qualified", "sale_amount": "2500"})
    );
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_formats_lookback_and_match_policy() {
    let t = Tenant::start().await;
    t.call(json!({"caller_id": "3105559876", "call_log_id": "first"}))
        .await;
    t.clock.advance(SignedDuration::from_hours(2));
    t.call(json!({"caller_id": "+1 310-555-9876", "call_log_id": "second"}))
        .await;
    let (_, recent) = t
        .webhook("update_revenue", json!({"lookback_days": 1}))
        .await;
    for phone in [
        "3105559876",
        "(310) 555-9876",
        "+1 310-555-9876",
        "13105559876",
    ] {
        let body = json!({"phone_number": phone, "revenue": "10"}).to_string();
        let sent = t.post_json("/update-revenue", &recent, &body).await;
        assert_eq!(sent.status, 200, "{phone}: {}", sent.body);
        assert_eq!(
            sent.body["call_log_ids"],
            json!(["second"]),
            "{phone}: most recent only"
        );
    }
    let (_, all) = t.webhook("update_tags", json!({"lookback_days": 1})).await;
    let sent = t
        .post_json(
            "/update-tags",
            &all,
            r#"{"phone_number": "3105559876", "add": {"a": "1"}}"#,
        )
        .await;
    assert_eq!(sent.body["call_log_ids"], json!(["second", "first"]));

    // Past the one-day lookback nothing matches.
    t.clock.advance(SignedDuration::from_hours(25));
    let sent = t
        .post_json(
            "/update-revenue",
            &recent,
            r#"{"phone_number": "3105559876", "revenue": "10"}"#,
        )
        .await;
    assert_eq!(sent.status, 404);
    assert_eq!(
        sent.body["error"],
        "No call found for this phone number within the lookback window"
    );
    let sent = t
        .post_json(
            "/update-revenue",
            &recent,
            r#"{"phone_number": "call me", "revenue": "10"}"#,
        )
        .await;
    assert_eq!(sent.status, 400);
    assert_eq!(sent.body["field"], "phone_number");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_report_failed_ids() {
    let t = Tenant::start().await;
    for id in ["abc-123", "def-456"] {
        t.call(json!({"caller_id": "+13105559876", "call_log_id": id}))
            .await;
    }
    let (_, key) = t.webhook("update_fields", json!({})).await;
    let sent = t
        .post_json(
            "/update-fields",
            &key,
            r#"{ "call_log_id": ["abc-123", "def-456", "ghi-789"], "converted": true, "revenue_paid_out": 25.50, "disposition": "sale" }"#,
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert_eq!(sent.body["call_log_ids"], json!(["abc-123", "def-456"]));
    assert_eq!(sent.body["failed_call_log_ids"], json!(["ghi-789"]));
    assert_eq!(t.get_call("def-456").await["reason"], "sale");

    let ids: Vec<String> = (0..51).map(|i| format!("id-{i}")).collect();
    let sent = t
        .post_json(
            "/update-fields",
            &key,
            &json!({"call_log_id": ids, "converted": true}).to_string(),
        )
        .await;
    assert_eq!(
        (sent.status, sent.body["code"].as_str()),
        (400, Some("batch_too_large"))
    );
    let sent = t
        .post_json(
            "/update-fields",
            &key,
            r#"{"call_log_id": ["abc-123"], "phone_number": "+13105559876", "converted": true}"#,
        )
        .await;
    assert_eq!(sent.status, 400);
    let sent = t
        .send(
            Method::GET,
            &format!("/update-fields?moja_auth_key={key}&call_log_id=abc-123&call_log_id=def-456&converted=true"),
            None,
        )
        .await;
    assert_eq!(
        (sent.status, sent.body["code"].as_str()),
        (400, Some("batch_requires_post"))
    );
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_replays_conflicts_and_retries() {
    let t = Tenant::start().await;
    t.call(json!({"caller_id": "+13105559876", "call_log_id": "c1"}))
        .await;
    let (_, key) = t.webhook("update_revenue", json!({})).await;
    let body = r#"{"call_log_id": "c1", "revenue_paid_out": 150.00, "transaction_id": "txn-1"}"#;
    let first = t.post_json("/update-revenue", &key, body).await;
    let again = t.post_json("/update-revenue", &key, body).await;
    assert_eq!((first.status, &first.body), (again.status, &again.body));
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert!(first.headers.get("idempotent-replayed").is_none());
    let kinds = t.timeline_kinds("c1").await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "webhook.update_revenue")
            .count(),
        1
    );

    let other = t
        .post_json(
            "/update-revenue",
            &key,
            r#"{"call_log_id": "c1", "revenue_paid_out": 99, "transaction_id": "txn-1"}"#,
        )
        .await;
    assert_eq!(
        (other.status, other.body["code"].as_str()),
        (422, Some("transaction_id_reused"))
    );

    // A failed request does not keep its id.
    let failed = t
        .post_json(
            "/update-revenue",
            &key,
            r#"{"call_log_id": "nope", "revenue": 1, "transaction_id": "txn-2"}"#,
        )
        .await;
    assert_eq!(failed.status, 404);
    let retried = t
        .post_json(
            "/update-revenue",
            &key,
            r#"{"call_log_id": "c1", "revenue": 1, "transaction_id": "txn-2"}"#,
        )
        .await;
    assert_eq!(retried.status, 200);

    // Two at once with one id: exactly one applies, the other is a replay (or a 409).
    let racing = r#"{"call_log_id": "c1", "revenue": 7, "transaction_id": "txn-3"}"#;
    let (a, b) = tokio::join!(
        t.post_json("/update-revenue", &key, racing),
        t.post_json("/update-revenue", &key, racing)
    );
    let replays = [&a, &b]
        .iter()
        .filter(|s| s.headers.get("idempotent-replayed").is_some() || s.status == 409)
        .count();
    assert_eq!((a.status.min(b.status), replays), (200, 1));
    let kinds = t.timeline_kinds("c1").await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "webhook.update_revenue")
            .count(),
        3
    );
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_101st_request_in_a_minute_is_refused() {
    let t = Tenant::start().await;
    t.call(json!({"caller_id": "+13105559876", "call_log_id": "c1"}))
        .await;
    let (_, key) = t.webhook("update_tags", json!({})).await;
    for i in 0..100 {
        let sent = t
            .post_json(
                "/update-tags",
                &key,
                &json!({"call_log_id": "c1", "add": {format!("k{i}"): "v"}}).to_string(),
            )
            .await;
        assert_eq!(sent.status, 200, "request {i}: {}", sent.body);
    }
    let refused = t
        .post_json(
            "/update-tags",
            &key,
            r#"{"call_log_id": "c1", "add": {"k100": "v"}}"#,
        )
        .await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["code"], "rate_limited");
    let retry_after: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(refused.headers["ratelimit-remaining"], "0");
    assert!(
        t.get_call("c1").await["tags"].get("k100").is_none(),
        "nothing applied"
    );

    // A minute later the window has room again.
    t.clock.advance(SignedDuration::from_secs(61));
    let sent = t
        .post_json(
            "/update-tags",
            &key,
            r#"{"call_log_id": "c1", "add": {"k100": "v"}}"#,
        )
        .await;
    assert_eq!(sent.status, 200);
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx_changes_nothing_and_is_logged() {
    let t = Tenant::start().await;
    t.call(json!({"caller_id": "+13105559876", "call_log_id": "c1"}))
        .await;
    let (_, key) = t.webhook("update_revenue", json!({})).await;
    let path = format!("/update-revenue?moja_auth_key={key}");
    let deep = "[".repeat(1000) + &"]".repeat(1000);
    let huge = format!(
        r#"{{"call_log_id": "c1", "revenue": 1, "pad": "{}"}}"#,
        "x".repeat(2 << 20)
    );
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "malformed JSON",
            "application/json",
            b"{\"call_log_id\": ".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "wrong type",
            "application/json",
            br#"{"call_log_id": "c1", "revenue": "ten"}"#.to_vec(),
            400,
            "invalid_parameter",
        ),
        (
            "invalid UTF-8",
            "application/json",
            b"{\"call_log_id\": \"\xff\"}".to_vec(),
            400,
            "invalid_json",
        ),
        (
            "2 MiB body",
            "application/json",
            huge.into_bytes(),
            413,
            "payload_too_large",
        ),
        (
            "1,000-deep nesting",
            "application/json",
            deep.into_bytes(),
            400,
            "invalid_json",
        ),
        (
            "empty body",
            "application/json",
            Vec::new(),
            400,
            "missing_parameter",
        ),
        (
            "wrong content type",
            "application/xml",
            b"<revenue/>".to_vec(),
            415,
            "unsupported_media_type",
        ),
    ];
    for (what, content_type, body, status, code) in cases {
        let sent = t
            .send(Method::POST, &path, Some((content_type, body)))
            .await;
        assert_eq!(sent.status, status, "{what}: {}", sent.body);
        assert_eq!(sent.body["code"], code, "{what}: {}", sent.body);
        assert!(!sent.body["error"].as_str().unwrap().is_empty(), "{what}");
    }
    let sent = t
        .post_json(
            "/update-tags",
            &key,
            r#"{"call_log_id": "c1", "add": {"a": "b"}}"#,
        )
        .await;
    assert_eq!(
        (sent.status, sent.body["code"].as_str()),
        (400, Some("wrong_endpoint"))
    );
    assert!(
        sent.body["error"]
            .as_str()
            .unwrap()
            .contains("/update-revenue")
    );
    let sent = t
        .post_json(
            "/update-revenue",
            "mwk_not_a_key",
            r#"{"call_log_id": "c1", "revenue": 1}"#,
        )
        .await;
    assert_eq!(sent.status, 401);

    let call = t.get_call("c1").await;
    assert_eq!(call["revenue_paid_out"], Value::Null, "nothing changed");
    let (_, logged) = t
        .admin(
            Method::GET,
            "/api/v1/webhooks/incoming/requests?failed=true&limit=200",
            None,
        )
        .await;
    let logged = logged["items"].as_array().unwrap();
    assert_eq!(
        logged.len(),
        8,
        "every refused request of the org is logged"
    );
    for entry in logged {
        assert!(
            !entry["query"].as_str().unwrap().contains(&key),
            "keys never stored"
        );
    }
    // The deepest nesting serde_json accepts runs the plugins' deepest recursion: it fits the
    // plugins' small shadow stack (.cargo/config.toml) and is an ordinary request.
    let deepest = format!(
        r#"{{"call_log_id": "c1", "revenue": 1, "pad": {}1{}}}"#,
        "[".repeat(126),
        "]".repeat(126)
    );
    let sent = t
        .send(
            Method::POST,
            &path,
            Some(("application/json", deepest.into_bytes())),
        )
        .await;
    assert_eq!(sent.status, 200, "126-deep nesting: {}", sent.body);
    assert_eq!(sent.body["ignored_fields"], json!(["pad"]), "{}", sent.body);
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_runs_a_logged_request_again() {
    let t = Tenant::start().await;
    let (_, key) = t.webhook("update_tags", json!({})).await;
    let first = t
        .post_json(
            "/update-tags",
            &key,
            r#"{"call_log_id": "later", "add": {"x": "1"}}"#,
        )
        .await;
    assert_eq!(first.status, 404);
    let request_id = first.headers["x-request-id"].to_str().unwrap().to_owned();
    t.call(json!({"caller_id": "+13105559876", "call_log_id": "later"}))
        .await;
    let (status, replayed) = t
        .admin(
            Method::POST,
            &format!("/api/v1/webhooks/incoming/requests/{request_id}/replay"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(replayed["call_log_ids"], json!(["later"]));
    assert_eq!(t.get_call("later").await["tags"], json!({"x": "1"}));
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_org_never_reads_or_changes_another_orgs_calls() {
    let a = Tenant::start().await;
    a.call(json!({"caller_id": "+13105559876", "call_log_id": "a-call"}))
        .await;
    let operator = a.server.bootstrap("MOJA_OPERATOR_TOKEN").await;
    let created: Value = a
        .server
        .client
        .post(a.server.url("/api/v1/orgs"))
        .bearer_auth(&operator)
        .json(&json!({"name": "Org B", "default_region": "US", "currency": "USD"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b = Tenant {
        server: a.server.clone_handle(),
        key: created["api_key"].as_str().unwrap().to_owned(),
        clock: a.clock.clone(),
    };
    // B's API key cannot read A's call or its timeline, nor move it.
    for path in ["/api/v1/calls/a-call", "/api/v1/calls/a-call/timeline"] {
        assert_eq!(b.admin(Method::GET, path, None).await.0, 404, "{path}");
    }
    let (status, _) = b
        .admin(
            Method::POST,
            "/api/v1/calls/a-call/hangup",
            Some(json!({"terminated_by": "caller"})),
        )
        .await;
    assert_eq!(status, 404);
    let (_, listed) = b.admin(Method::GET, "/api/v1/calls", None).await;
    assert_eq!(listed["items"], json!([]));

    // B's webhook cannot touch A's call: by id a 403, by phone nothing matches.
    let (_, b_key) = b.webhook("update_revenue", json!({})).await;
    let sent = b
        .post_json(
            "/update-revenue",
            &b_key,
            r#"{"call_log_id": "a-call", "revenue": "5"}"#,
        )
        .await;
    assert_eq!(sent.status, 403);
    assert_eq!(
        sent.body["error"],
        "Call log does not belong to your organization"
    );
    let sent = b
        .post_json(
            "/update-revenue",
            &b_key,
            r#"{"phone_number": "+13105559876", "revenue": "5"}"#,
        )
        .await;
    assert_eq!(sent.status, 404);
    assert_eq!(a.get_call("a-call").await["revenue_paid_out"], Value::Null);
    a.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_traffic_is_limited_per_client_address() {
    let t = Tenant::start().await;
    // The default allows 60 requests a minute from one address without a valid key.
    for _ in 0..60 {
        let sent = t
            .post_json("/update-revenue", "mwk_wrong", r#"{"call_log_id": "x"}"#)
            .await;
        assert_eq!(sent.status, 401);
    }
    let sent = t
        .post_json("/update-revenue", "mwk_wrong", r#"{"call_log_id": "x"}"#)
        .await;
    assert_eq!(
        (sent.status, sent.body["code"].as_str()),
        (429, Some("rate_limited"))
    );
    assert!(sent.headers.contains_key("retry-after"));
    t.clock.advance(SignedDuration::from_secs(61));
    let sent = t
        .post_json("/update-revenue", "mwk_wrong", r#"{"call_log_id": "x"}"#)
        .await;
    assert_eq!(sent.status, 401);
    t.server.stop().await;
}

/// Sends the head of a POST that announces `length` body bytes and never sends them; returns the
/// status line the server answers with (the body is never needed to answer it).
async fn answer_without_a_body(server: &TestServer, path_and_query: &str, length: usize) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let address = server.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path_and_query} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut status_line = String::new();
    // Bounded so a regression fails instead of hanging the suite.
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        BufReader::new(stream).read_line(&mut status_line),
    )
    .await
    .expect("the server answered before any body byte arrived")
    .unwrap();
    status_line
}

/// SPEC §7's order: the key and the rate limit are checked from the request line, before any
/// body byte is read, so a stranger cannot make the server wait for (or hold) a body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_checked_before_any_body_byte_is_read() {
    let t = Tenant::start().await;
    let status = answer_without_a_body(
        &t.server,
        "/update-revenue?moja_auth_key=mwk_bogus",
        1_000_000,
    )
    .await;
    assert!(status.starts_with("HTTP/1.1 401"), "{status}");

    // A valid key with an announced body over the limit: 413 at once, nothing read.
    let (_, key) = t.webhook("update_revenue", json!({})).await;
    let status = answer_without_a_body(
        &t.server,
        &format!("/update-revenue?moja_auth_key={key}"),
        5_000_000,
    )
    .await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    t.server.stop().await;
}

/// A 401 says what went wrong: no key, a key that is not recognised (never whether a webhook
/// exists), or an org API key sent where a webhook key belongs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_is_explained() {
    let t = Tenant::start().await;
    let (_, key) = t.webhook("update_revenue", json!({})).await;
    let body = || {
        Some((
            "application/json",
            br#"{"call_log_id": "c1", "revenue": 1}"#.to_vec(),
        ))
    };
    let sent = t.send(Method::POST, "/update-revenue", body()).await;
    assert_eq!(sent.status, 401);
    assert!(
        sent.body["error"]
            .as_str()
            .unwrap()
            .contains("send the webhook's key as the moja_auth_key query parameter"),
        "{}",
        sent.body
    );
    let unknown = format!("{key}x");
    let sent = t
        .send(
            Method::POST,
            &format!("/update-revenue?moja_auth_key={unknown}"),
            body(),
        )
        .await;
    assert_eq!(sent.status, 401);
    let message = sent.body["error"].as_str().unwrap();
    assert!(message.contains("not recognised"), "{message}");
    assert!(message.contains("rotated"), "{message}");
    let sent = t
        .send(
            Method::POST,
            &format!("/update-revenue?moja_auth_key={}", t.key),
            body(),
        )
        .await;
    assert_eq!(sent.status, 401);
    let message = sent.body["error"].as_str().unwrap();
    assert!(message.contains("/api/v1"), "{message}");
    assert!(
        !message.contains(&t.key),
        "the key is never echoed: {message}"
    );
    t.server.stop().await;
}

/// A body refused for its size is logged as its first 4 KiB, marked truncated; one refused by its
/// declared size and never read is logged empty, marked truncated too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_refused_for_its_size_is_logged_cut() {
    let t = Tenant::start().await;
    let (id, key) = t.webhook("update_revenue", json!({})).await;
    let path = format!("/update-revenue?moja_auth_key={key}");
    let large = vec![b'x'; (1 << 20) + (100 << 10)];
    let sent = t
        .send(Method::POST, &path, Some(("application/json", large)))
        .await;
    assert_eq!(sent.status, 413);
    let status = answer_without_a_body(&t.server, &path, 5_000_000).await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
    let (_, logged) = t
        .admin(
            Method::GET,
            &format!("/api/v1/webhooks/incoming/requests?webhook_id={id}&status=413"),
            None,
        )
        .await;
    let entries = logged["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{logged}");
    // Newest first: the unread one, then the 1.1 MiB one.
    assert_eq!(entries[0]["body"], "");
    assert_eq!(entries[0]["body_truncated"], true);
    assert_eq!(entries[1]["body"].as_str().unwrap().len(), 4 << 10);
    assert_eq!(entries[1]["body_truncated"], true);
    t.server.stop().await;
}
