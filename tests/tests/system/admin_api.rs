//! The admin API as its clients see it: operator and org auth, orgs, API keys, campaigns, custom
//! tags, incoming webhooks (keys shown once, rotation, validation naming the field), the request
//! log, and isolation between orgs.

use moja_webhooks_host::config::ServeConfig;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::TestServer;

/// A server with the bootstrap credentials.
struct Admin {
    server: TestServer,
    operator: String,
    key: String,
    org_id: String,
}

impl Admin {
    async fn start() -> Self {
        let server = TestServer::spawn().await;
        let operator = server.bootstrap("MOJA_OPERATOR_TOKEN").await;
        let key = server.bootstrap("MOJA_API_KEY").await;
        let org_id = server.bootstrap("MOJA_ORG_ID").await;
        Self {
            server,
            operator,
            key,
            org_id,
        }
    }

    /// Sends a request with `token` (if any); returns the status and the JSON body (`null` when
    /// there is none) and the body's text.
    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value, String) {
        let mut request = self.server.client.request(method, self.server.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, json, text)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, json, _) = self.send_raw(method, path, Some(token), body).await;
        (status, json)
    }

    /// As the bootstrap org.
    async fn org(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send(method, path, &self.key, body).await
    }

    /// As the operator.
    async fn operator(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send(method, path, &self.operator, body).await
    }

    /// Creates an org; returns `(id, api_key)`.
    async fn new_org(&self, name: &str) -> (String, String) {
        let (status, org) = self
            .operator(Method::POST, "/api/v1/orgs", Some(json!({"name": name})))
            .await;
        assert_eq!(status, 201, "{org}");
        (text(&org["id"]), text(&org["api_key"]))
    }

    /// Creates a campaign as `token`'s org; returns its id.
    async fn campaign(&self, token: &str, name: &str) -> String {
        let (status, campaign) = self
            .send(
                Method::POST,
                "/api/v1/campaigns",
                token,
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, 201, "{campaign}");
        text(&campaign["id"])
    }

    /// Creates an incoming webhook as the bootstrap org; returns the 201 body.
    async fn webhook(&self, body: Value) -> Value {
        let (status, created) = self
            .org(Method::POST, "/api/v1/webhooks/incoming", Some(body))
            .await;
        assert_eq!(status, 201, "{created}");
        created
    }

    /// The status of a public `update-revenue` request with `key`.
    async fn public_status(&self, key: &str) -> u16 {
        self.server
            .client
            .post(
                self.server
                    .url(&format!("/update-revenue?moja_auth_key={key}")),
            )
            .json(&json!({"call_log_id": "nope", "revenue": 1}))
            .send()
            .await
            .expect("public request")
            .status()
            .as_u16()
    }
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
        .to_owned()
}

/// The `(status, code, field)` of an error answer.
fn error(status: u16, body: &Value) -> (u16, &str, Option<&str>) {
    assert_eq!(body["success"], false, "{body}");
    (
        status,
        body["code"].as_str().unwrap_or_default(),
        body["field"].as_str(),
    )
}

fn ids(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|item| text(&item["id"]))
        .collect()
}

fn timestamp(value: &Value) -> jiff::Timestamp {
    text(value)
        .parse()
        .unwrap_or_else(|e| panic!("RFC 3339 timestamp {value}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_auth_and_orgs() {
    let admin = Admin::start().await;
    let (status, body, _) = admin
        .send_raw(Method::GET, "/api/v1/orgs", None, None)
        .await;
    assert_eq!(error(status, &body), (401, "unauthorized", None));
    let (status, body) = admin
        .send(Method::GET, "/api/v1/orgs", "mop_wrong", None)
        .await;
    assert_eq!(error(status, &body), (401, "unauthorized", None));
    // An org key is not an operator token, nor the other way round.
    let (status, body) = admin.org(Method::GET, "/api/v1/orgs", None).await;
    assert_eq!(error(status, &body), (401, "unauthorized", None));
    let (status, body) = admin.operator(Method::GET, "/api/v1/campaigns", None).await;
    assert_eq!(error(status, &body), (401, "unauthorized", None));

    let (status, list) = admin.operator(Method::GET, "/api/v1/orgs", None).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&list), vec![admin.org_id.clone()]);
    assert_eq!(list["items"][0]["name"], "My Organization");
    assert_eq!(list["next_cursor"], Value::Null);

    let (status, acme) = admin
        .operator(
            Method::POST,
            "/api/v1/orgs",
            Some(json!({"name": " Acme ", "default_region": "gb", "currency": "eur"})),
        )
        .await;
    assert_eq!(status, 201, "{acme}");
    assert_eq!(acme["name"], "Acme");
    assert_eq!(acme["default_region"], "GB");
    assert_eq!(acme["currency"], "EUR");
    assert_eq!(acme["disabled"], false);
    timestamp(&acme["created_at"]);
    let acme_id = text(&acme["id"]);
    let acme_key = text(&acme["api_key"]);
    assert!(acme_key.starts_with("mok_"), "{acme_key}");

    let (status, defaults) = admin
        .operator(Method::POST, "/api/v1/orgs", Some(json!({"name": "B"})))
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        (&defaults["default_region"], &defaults["currency"]),
        (&json!("US"), &json!("USD"))
    );

    for (body, expected) in [
        (
            json!({"name": "X", "default_region": "XX"}),
            (400, "invalid_parameter", Some("default_region")),
        ),
        (
            json!({"name": "X", "currency": "DOLLARS"}),
            (400, "invalid_parameter", Some("currency")),
        ),
        (json!({}), (400, "missing_parameter", Some("name"))),
        (json!({"name": 5}), (400, "invalid_parameter", Some("name"))),
    ] {
        let (status, answer) = admin
            .operator(Method::POST, "/api/v1/orgs", Some(body.clone()))
            .await;
        assert_eq!(error(status, &answer), expected, "{body}");
    }

    let (status, shown) = admin
        .operator(Method::GET, &format!("/api/v1/orgs/{acme_id}"), None)
        .await;
    assert_eq!((status, &shown["name"]), (200, &json!("Acme")));
    assert!(shown.get("api_key").is_none(), "the key is shown once");
    let (status, body) = admin.operator(Method::GET, "/api/v1/orgs/nope", None).await;
    assert_eq!(error(status, &body), (404, "not_found", None));

    // The new org's key works; disabling the org refuses it with 403, and only it.
    let (status, _) = admin
        .send(Method::GET, "/api/v1/campaigns", &acme_key, None)
        .await;
    assert_eq!(status, 200);
    let (status, patched) = admin
        .operator(
            Method::PATCH,
            &format!("/api/v1/orgs/{acme_id}"),
            Some(json!({"disabled": true, "name": "Acme Ltd"})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        (&patched["disabled"], &patched["name"]),
        (&json!(true), &json!("Acme Ltd"))
    );
    let (status, body) = admin
        .send(Method::GET, "/api/v1/campaigns", &acme_key, None)
        .await;
    assert_eq!(error(status, &body), (403, "org_disabled", None));
    let (status, _) = admin.org(Method::GET, "/api/v1/campaigns", None).await;
    assert_eq!(status, 200);
    let (status, patched) = admin
        .operator(
            Method::PATCH,
            &format!("/api/v1/orgs/{acme_id}"),
            Some(json!({"disabled": false})),
        )
        .await;
    assert_eq!((status, &patched["disabled"]), (200, &json!(false)));
    assert_eq!(patched["name"], "Acme Ltd");
    let (status, _) = admin
        .send(Method::GET, "/api/v1/campaigns", &acme_key, None)
        .await;
    assert_eq!(status, 200);

    let (status, body) = admin
        .operator(
            Method::PATCH,
            &format!("/api/v1/orgs/{acme_id}"),
            Some(json!({"disabled": "yes"})),
        )
        .await;
    assert_eq!(
        error(status, &body),
        (400, "invalid_parameter", Some("disabled"))
    );
    let (status, body) = admin
        .operator(
            Method::PATCH,
            "/api/v1/orgs/nope",
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(error(status, &body), (404, "not_found", None));

    let (_, list) = admin.operator(Method::GET, "/api/v1/orgs", None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(3));
    admin.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_create_list_revoke() {
    let admin = Admin::start().await;
    let (status, created) = admin
        .org(
            Method::POST,
            "/api/v1/api-keys",
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let key = text(&created["key"]);
    assert!(key.starts_with("mok_") && key.len() == 36, "{key}");
    assert_eq!(created["key_prefix"], json!(&key[..8]));
    assert_eq!(created["name"], "ci");
    assert_eq!(created["revoked_at"], Value::Null);
    let id = text(&created["id"]);

    let (status, _) = admin
        .send(Method::GET, "/api/v1/api-keys", &key, None)
        .await;
    assert_eq!(status, 200, "the new key works");
    let (status, list, raw) = admin
        .send_raw(Method::GET, "/api/v1/api-keys", Some(&admin.key), None)
        .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["bootstrap", "ci"]);
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("key").is_none())
    );
    assert!(
        !raw.contains(&key) && !raw.contains(&admin.key),
        "no secrets: {raw}"
    );

    let (status, body) = admin
        .org(Method::POST, "/api/v1/api-keys", Some(json!({})))
        .await;
    assert_eq!(
        error(status, &body),
        (400, "missing_parameter", Some("name"))
    );

    // Another org cannot revoke it.
    let (_, other_key) = admin.new_org("Other").await;
    let (status, _) = admin
        .send(
            Method::DELETE,
            &format!("/api/v1/api-keys/{id}"),
            &other_key,
            None,
        )
        .await;
    assert_eq!(status, 404);

    let (status, body) = admin
        .org(Method::DELETE, &format!("/api/v1/api-keys/{id}"), None)
        .await;
    assert_eq!((status, body), (204, Value::Null));
    let (status, body) = admin
        .send(Method::GET, "/api/v1/api-keys", &key, None)
        .await;
    assert_eq!(error(status, &body), (401, "unauthorized", None));
    let (_, list) = admin.org(Method::GET, "/api/v1/api-keys", None).await;
    let revoked = &list["items"][1];
    assert_eq!(revoked["id"], json!(id));
    timestamp(&revoked["revoked_at"]);
    assert_eq!(list["items"][0]["revoked_at"], Value::Null);

    let (status, body) = admin
        .org(Method::DELETE, &format!("/api/v1/api-keys/{id}"), None)
        .await;
    assert_eq!(error(status, &body), (404, "not_found", None));
    let (status, _) = admin
        .org(Method::DELETE, "/api/v1/api-keys/nope", None)
        .await;
    assert_eq!(status, 404);
    admin.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn campaigns_crud_with_exact_money() {
    let admin = Admin::start().await;
    let (status, created) = admin
        .org(
            Method::POST,
            "/api/v1/campaigns",
            Some(json!({
                "name": "Solar",
                "conversion_min_duration_s": 90,
                "buyer_revenue": 35,
                "publisher_payout": 0.1,
                "currency": "usd",
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    // Money is exact and shown with two decimals, as JSON numbers.
    assert_eq!(created["buyer_revenue"].to_string(), "35.00");
    assert_eq!(created["publisher_payout"].to_string(), "0.10");
    assert_eq!(created["conversion_min_duration_s"], 90);
    assert_eq!(created["currency"], "USD");
    assert_eq!(created["name"], "Solar");
    assert_eq!(
        timestamp(&created["created_at"]),
        timestamp(&created["updated_at"])
    );
    let id = text(&created["id"]);

    // A value no binary float holds survives, whether sent as a number or a string.
    let (status, big) = admin
        .org(
            Method::POST,
            "/api/v1/campaigns",
            Some(json!({
                "name": "Big",
                "buyer_revenue": serde_json::from_str::<Value>("12345678901234567.89").unwrap(),
                "publisher_payout": "0.30",
                "conversion_min_duration_s": null,
            })),
        )
        .await;
    assert_eq!(status, 201, "{big}");
    assert_eq!(big["buyer_revenue"].to_string(), "12345678901234567.89");
    assert_eq!(big["publisher_payout"].to_string(), "0.30");
    assert_eq!(big["conversion_min_duration_s"], Value::Null);
    assert_eq!(big["currency"], "USD", "the org's currency by default");

    for (body, field) in [
        (json!({"name": "X", "buyer_revenue": -5}), "buyer_revenue"),
        (
            json!({"name": "X", "buyer_revenue": "abc"}),
            "buyer_revenue",
        ),
        (
            json!({"name": "X", "publisher_payout": "1e3"}),
            "publisher_payout",
        ),
        (
            json!({"name": "X", "publisher_payout": [1]}),
            "publisher_payout",
        ),
        (
            json!({"name": "X", "conversion_min_duration_s": -1}),
            "conversion_min_duration_s",
        ),
        (
            json!({"name": "X", "conversion_min_duration_s": 1.5}),
            "conversion_min_duration_s",
        ),
        (json!({"name": "X", "currency": "ZZZZ"}), "currency"),
    ] {
        let (status, answer) = admin
            .org(Method::POST, "/api/v1/campaigns", Some(body.clone()))
            .await;
        assert_eq!(
            error(status, &answer),
            (400, "invalid_parameter", Some(field)),
            "{body}"
        );
    }
    let (status, answer) = admin
        .org(
            Method::POST,
            "/api/v1/campaigns",
            Some(json!({"buyer_revenue": 1})),
        )
        .await;
    assert_eq!(
        error(status, &answer),
        (400, "missing_parameter", Some("name"))
    );

    let (status, shown) = admin
        .org(Method::GET, &format!("/api/v1/campaigns/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(shown, created);
    let (_, list) = admin.org(Method::GET, "/api/v1/campaigns", None).await;
    assert_eq!(ids(&list), vec![id.clone(), text(&big["id"])]);

    let (status, patched) = admin
        .org(
            Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(json!({"name": "Solar 2", "buyer_revenue": "40.5", "publisher_payout": null})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], "Solar 2");
    assert_eq!(patched["buyer_revenue"].to_string(), "40.50");
    assert_eq!(patched["publisher_payout"], Value::Null);
    assert_eq!(patched["conversion_min_duration_s"], 90, "left alone");
    assert_eq!(patched["created_at"], created["created_at"]);
    assert!(timestamp(&patched["updated_at"]) >= timestamp(&created["updated_at"]));
    let (_, shown) = admin
        .org(Method::GET, &format!("/api/v1/campaigns/{id}"), None)
        .await;
    assert_eq!(shown, patched);
    let (status, answer) = admin
        .org(
            Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(json!({"buyer_revenue": "12,50"})),
        )
        .await;
    assert_eq!(
        error(status, &answer),
        (400, "invalid_parameter", Some("buyer_revenue"))
    );

    let (status, _) = admin
        .org(Method::DELETE, &format!("/api/v1/campaigns/{id}"), None)
        .await;
    assert_eq!(status, 204);
    for method in [Method::GET, Method::DELETE] {
        let (status, answer) = admin
            .org(method, &format!("/api/v1/campaigns/{id}"), None)
            .await;
        assert_eq!(error(status, &answer), (404, "not_found", None));
    }
    let (status, _) = admin
        .org(
            Method::PATCH,
            &format!("/api/v1/campaigns/{id}"),
            Some(json!({"name": "back"})),
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = admin.org(Method::GET, "/api/v1/campaigns", None).await;
    assert_eq!(ids(&list), vec![text(&big["id"])]);
    admin.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_tags_are_normalized_and_unique() {
    let admin = Admin::start().await;
    let (status, tag) = admin
        .org(
            Method::POST,
            "/api/v1/custom-tags",
            Some(json!({"key": "Lead Type!", "display_name": "Lead type", "description": "From the form"})),
        )
        .await;
    assert_eq!(status, 201, "{tag}");
    assert_eq!(tag["key"], "lead_type");
    assert_eq!(tag["display_name"], "Lead type");
    assert_eq!(tag["description"], "From the form");
    timestamp(&tag["created_at"]);

    let (status, answer) = admin
        .org(
            Method::POST,
            "/api/v1/custom-tags",
            Some(json!({"key": "lead-type"})),
        )
        .await;
    assert_eq!(error(status, &answer), (409, "conflict", Some("key")));
    let (status, answer) = admin
        .org(
            Method::POST,
            "/api/v1/custom-tags",
            Some(json!({"key": "!!!"})),
        )
        .await;
    assert_eq!(
        error(status, &answer),
        (400, "invalid_parameter", Some("key"))
    );
    let (status, answer) = admin
        .org(
            Method::POST,
            "/api/v1/custom-tags",
            Some(json!({"display_name": "x"})),
        )
        .await;
    assert_eq!(
        error(status, &answer),
        (400, "missing_parameter", Some("key"))
    );

    let (status, zip) = admin
        .org(
            Method::POST,
            "/api/v1/custom-tags",
            Some(json!({"key": "Zip"})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        (&zip["key"], &zip["display_name"]),
        (&json!("zip"), &json!("Zip"))
    );
    assert_eq!(zip["description"], Value::Null);

    let (_, list) = admin.org(Method::GET, "/api/v1/custom-tags", None).await;
    let keys: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["lead_type", "zip"]);

    // Another org has its own namespace: it sees none of these and may define the same key.
    let (_, other_key) = admin.new_org("Other").await;
    let (_, list) = admin
        .send(Method::GET, "/api/v1/custom-tags", &other_key, None)
        .await;
    assert_eq!(list["items"], json!([]));
    let (status, _) = admin
        .send(Method::DELETE, "/api/v1/custom-tags/zip", &other_key, None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = admin
        .send(
            Method::POST,
            "/api/v1/custom-tags",
            &other_key,
            Some(json!({"key": "zip"})),
        )
        .await;
    assert_eq!(status, 201);

    // The key in the path is normalized too.
    let (status, _) = admin
        .org(Method::DELETE, "/api/v1/custom-tags/Lead%20Type", None)
        .await;
    assert_eq!(status, 204);
    let (status, answer) = admin
        .org(Method::DELETE, "/api/v1/custom-tags/lead_type", None)
        .await;
    assert_eq!(error(status, &answer), (404, "not_found", None));
    let (_, list) = admin.org(Method::GET, "/api/v1/custom-tags", None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["items"][0]["key"], "zip");
    admin.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incoming_webhooks_create_rotate_patch_delete() {
    let admin = Admin::start().await;
    let base = ServeConfig::defaults().public_base_url();
    let campaign = admin.campaign(&admin.key, "Solar").await;
    let created = admin
        .webhook(json!({
            "name": "Revenue",
            "type": "update_revenue",
            "campaign_ids": [campaign, campaign],
            "plugin_config": {"b": "2", "a": "1"},
        }))
        .await;
    let key = text(&created["auth_key"]);
    assert!(key.starts_with("mwk_") && key.len() == 36, "{key}");
    assert_eq!(
        created["url"],
        json!(format!("{base}/update-revenue?moja_auth_key={key}"))
    );
    assert_eq!(created["name"], "Revenue");
    assert_eq!(created["type"], "update_revenue");
    assert_eq!(created["campaign_ids"], json!([campaign]));
    assert_eq!(created["lookback_seconds"], 7 * 86_400);
    assert_eq!(created["lookback_days"], 7);
    assert_eq!(created["match_policy"], "most_recent");
    assert_eq!(
        created["rate_limit"],
        json!({"limit": 100, "period": "minute"})
    );
    assert_eq!(created["normalizer"], "normalize-standard");
    assert_eq!(created["mapper"], "map-standard");
    let config: Vec<&String> = created["plugin_config"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(config, vec!["b", "a"], "kept in order");
    assert_eq!(created["enabled"], true);
    timestamp(&created["created_at"]);
    let id = text(&created["id"]);

    // Defaults by type.
    let tags = admin.webhook(json!({"type": "update_tags"})).await;
    assert_eq!(
        (&tags["name"], &tags["match_policy"], &tags["lookback_days"]),
        (&json!("update_tags"), &json!("all"), &json!(7))
    );
    assert_eq!(
        tags["url"],
        json!(format!(
            "{base}/update-tags?moja_auth_key={}",
            text(&tags["auth_key"])
        ))
    );
    let data = admin
        .webhook(json!({"name": "Leads", "type": "call_data"}))
        .await;
    assert_eq!(
        (&data["lookback_days"], &data["match_policy"]),
        (&json!(15), &json!("most_recent"))
    );
    let data = admin
        .webhook(json!({"name": "Leads", "type": "call_data", "lookback_days": 30}))
        .await;
    assert_eq!(data["lookback_seconds"], 30 * 86_400);
    let fields = admin
        .webhook(json!({"type": "update_fields", "lifespan_seconds": 3600}))
        .await;
    assert_eq!(fields["lookback_seconds"], 3600);
    assert_eq!(fields["lookback_days"], Value::Null);
    assert_eq!(fields["match_policy"], "most_recent");

    // Reads never show the key.
    let (status, shown, raw) = admin
        .send_raw(
            Method::GET,
            &format!("/api/v1/webhooks/incoming/{id}"),
            Some(&admin.key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        shown.get("auth_key").is_none() && !raw.contains(&key),
        "{raw}"
    );
    assert_eq!(shown["url"], json!(format!("{base}/update-revenue")));
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("auth_key");
    expected["url"] = shown["url"].clone();
    assert_eq!(shown, expected);
    let (status, list, raw) = admin
        .send_raw(
            Method::GET,
            "/api/v1/webhooks/incoming",
            Some(&admin.key),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(5));
    assert_eq!(list["items"][0], shown);
    assert!(!raw.contains("mwk_"), "{raw}");

    // Rotation: a new key, shown once; the old one stops working at once.
    assert_ne!(admin.public_status(&key).await, 401, "the key works");
    let (status, rotated) = admin
        .org(
            Method::POST,
            &format!("/api/v1/webhooks/incoming/{id}/rotate-key"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_key = text(&rotated["auth_key"]);
    assert_ne!(new_key, key);
    assert_eq!(
        rotated["url"],
        json!(format!("{base}/update-revenue?moja_auth_key={new_key}"))
    );
    assert_eq!(rotated["id"], json!(id));
    assert_eq!(admin.public_status(&key).await, 401);
    assert_ne!(admin.public_status(&new_key).await, 401);

    // PATCH changes what it names and leaves the rest.
    let (status, patched) = admin
        .org(
            Method::PATCH,
            &format!("/api/v1/webhooks/incoming/{id}"),
            Some(json!({
                "name": "Revenue v2",
                "enabled": false,
                "rate_limit": {"limit": 5, "period": "hour"},
                "lookback_days": 3,
                "match_policy": "all",
                "campaign_ids": [],
                "type": "update_revenue",
            })),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], "Revenue v2");
    assert_eq!(patched["enabled"], false);
    assert_eq!(patched["rate_limit"], json!({"limit": 5, "period": "hour"}));
    assert_eq!(
        (&patched["lookback_seconds"], &patched["lookback_days"]),
        (&json!(3 * 86_400), &json!(3))
    );
    assert_eq!(patched["match_policy"], "all");
    assert_eq!(patched["campaign_ids"], json!([]));
    assert_eq!(patched["plugin_config"], created["plugin_config"]);
    assert!(patched.get("auth_key").is_none());
    let (status, patched) = admin
        .org(
            Method::PATCH,
            &format!("/api/v1/webhooks/incoming/{id}"),
            Some(json!({"rate_limit": {"limit": 7}, "lifespan_seconds": 120})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["rate_limit"], json!({"limit": 7, "period": "hour"}));
    assert_eq!(patched["lookback_seconds"], 120);
    for (body, field) in [
        (json!({"type": "update_tags"}), "type"),
        (
            json!({"rate_limit": {"period": "week"}}),
            "rate_limit.period",
        ),
        (json!({"lookback_days": 8}), "lookback_days"),
    ] {
        let (status, answer) = admin
            .org(
                Method::PATCH,
                &format!("/api/v1/webhooks/incoming/{id}"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            error(status, &answer),
            (400, "invalid_parameter", Some(field)),
            "{body}"
        );
    }

    // DELETE: gone, and so is its key.
    let (status, _) = admin
        .org(
            Method::DELETE,
            &format!("/api/v1/webhooks/incoming/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(admin.public_status(&new_key).await, 401);
    for (method, path) in [
        (Method::GET, format!("/api/v1/webhooks/incoming/{id}")),
        (Method::DELETE, format!("/api/v1/webhooks/incoming/{id}")),
        (
            Method::POST,
            format!("/api/v1/webhooks/incoming/{id}/rotate-key"),
        ),
    ] {
        let (status, answer) = admin.org(method, &path, None).await;
        assert_eq!(error(status, &answer), (404, "not_found", None), "{path}");
    }
    let (_, list) = admin
        .org(Method::GET, "/api/v1/webhooks/incoming", None)
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(4));
    admin.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incoming_webhook_validation_names_the_field() {
    let admin = Admin::start().await;
    let (_, other_key) = admin.new_org("Other").await;
    let foreign = admin.campaign(&other_key, "Theirs").await;
    let cases = [
        (
            json!({"type": "update_revenue", "lookback_days": 3, "lifespan_seconds": 600}),
            ("invalid_parameter", "lifespan_seconds"),
        ),
        (
            json!({"type": "update_revenue", "lookback_days": 8}),
            ("invalid_parameter", "lookback_days"),
        ),
        (
            json!({"type": "update_tags", "lookback_days": 0}),
            ("invalid_parameter", "lookback_days"),
        ),
        (
            json!({"type": "call_data", "lookback_days": 31}),
            ("invalid_parameter", "lookback_days"),
        ),
        (
            json!({"type": "call_data", "lifespan_seconds": 59}),
            ("invalid_parameter", "lifespan_seconds"),
        ),
        (
            json!({"type": "call_data", "lifespan_seconds": 30 * 86_400 + 1}),
            ("invalid_parameter", "lifespan_seconds"),
        ),
        (
            json!({"type": "update_tags", "normalizer": "no-such-plugin"}),
            ("invalid_parameter", "normalizer"),
        ),
        (
            json!({"type": "update_tags", "mapper": "normalize-standard"}),
            ("invalid_parameter", "mapper"),
        ),
        (
            json!({"type": "update_everything"}),
            ("invalid_parameter", "type"),
        ),
        (json!({"name": "x"}), ("missing_parameter", "type")),
        (
            json!({"type": "update_tags", "campaign_ids": [foreign]}),
            ("invalid_parameter", "campaign_ids"),
        ),
        (
            json!({"type": "update_tags", "campaign_ids": "abc"}),
            ("invalid_parameter", "campaign_ids"),
        ),
        (
            json!({"type": "update_tags", "match_policy": "some"}),
            ("invalid_parameter", "match_policy"),
        ),
        (
            json!({"type": "update_tags", "rate_limit": {"limit": 0}}),
            ("invalid_parameter", "rate_limit.limit"),
        ),
        (
            json!({"type": "update_tags", "rate_limit": 100}),
            ("invalid_parameter", "rate_limit"),
        ),
        (
            json!({"type": "update_tags", "plugin_config": {"a": "1", "b": 2}}),
            ("invalid_parameter", "plugin_config.b"),
        ),
        (
            json!({"type": "update_tags", "enabled": "no"}),
            ("invalid_parameter", "enabled"),
        ),
    ];
    for (body, (code, field)) in cases {
        let (status, answer) = admin
            .org(
                Method::POST,
                "/api/v1/webhooks/incoming",
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            error(status, &answer),
            (400, code, Some(field)),
            "{body}: {answer}"
        );
        let message = answer["error"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{message}");
    }

    // Bodies that are not a JSON object.
    let response = admin
        .server
        .client
        .post(admin.server.url("/api/v1/webhooks/incoming"))
        .bearer_auth(&admin.key)
        .header("content-type", "application/json")
        .body("{\"type\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["code"], "invalid_json");
    let (status, answer) = admin
        .org(Method::POST, "/api/v1/webhooks/incoming", Some(json!([1])))
        .await;
    assert_eq!(error(status, &answer).0, 400);

    let (_, list) = admin
        .org(Method::GET, "/api/v1/webhooks/incoming", None)
        .await;
    assert_eq!(list["items"], json!([]), "nothing was created");
    admin.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orgs_cannot_see_or_change_each_others_resources() {
    let admin = Admin::start().await;
    let (_, b) = admin.new_org("B").await;
    let campaign = admin.campaign(&admin.key, "A's").await;
    let webhook = admin
        .webhook(json!({"name": "A's", "type": "update_revenue", "campaign_ids": [campaign]}))
        .await;
    let webhook_id = text(&webhook["id"]);
    let campaign_path = format!("/api/v1/campaigns/{campaign}");
    let webhook_path = format!("/api/v1/webhooks/incoming/{webhook_id}");

    let attempts = [
        (Method::GET, campaign_path.clone(), None),
        (
            Method::PATCH,
            campaign_path.clone(),
            Some(json!({"name": "mine"})),
        ),
        (Method::DELETE, campaign_path.clone(), None),
        (Method::GET, webhook_path.clone(), None),
        (
            Method::PATCH,
            webhook_path.clone(),
            Some(json!({"enabled": false})),
        ),
        (Method::DELETE, webhook_path.clone(), None),
        (Method::POST, format!("{webhook_path}/rotate-key"), None),
    ];
    for (method, path, body) in attempts {
        let (status, answer) = admin.send(method.clone(), &path, &b, body).await;
        assert_eq!(
            error(status, &answer),
            (404, "not_found", None),
            "{method} {path}"
        );
    }
    for path in ["/api/v1/campaigns", "/api/v1/webhooks/incoming"] {
        let (status, list) = admin.send(Method::GET, path, &b, None).await;
        assert_eq!((status, &list["items"]), (200, &json!([])), "{path}");
    }
    // B cannot scope its own webhook to A's campaign either.
    let (status, answer) = admin
        .send(
            Method::POST,
            "/api/v1/webhooks/incoming",
            &b,
            Some(json!({"type": "update_revenue", "campaign_ids": [campaign]})),
        )
        .await;
    assert_eq!(
        error(status, &answer),
        (400, "invalid_parameter", Some("campaign_ids"))
    );

    // A's resources are untouched and its key still works.
    let (_, shown) = admin.org(Method::GET, &campaign_path, None).await;
    assert_eq!(shown["name"], "A's");
    let (_, shown) = admin.org(Method::GET, &webhook_path, None).await;
    assert_eq!(shown["enabled"], true);
    assert_ne!(admin.public_status(&text(&webhook["auth_key"])).await, 401);
    admin.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_log_is_filtered_paged_and_scoped() {
    let admin = Admin::start().await;
    let webhook = admin.webhook(json!({"type": "update_revenue"})).await;
    let webhook_id = text(&webhook["id"]);
    let key = text(&webhook["auth_key"]);
    let statuses = [
        admin.public_status(&key).await,
        admin.public_status(&key).await,
        admin.public_status(&key).await,
    ];
    assert!(
        statuses.iter().all(|s| *s >= 400),
        "unknown call ids: {statuses:?}"
    );

    let base = format!("/api/v1/webhooks/incoming/requests?webhook_id={webhook_id}");
    let (status, all) = admin.org(Method::GET, &base, None).await;
    assert_eq!(status, 200, "{all}");
    let all_ids = ids(&all);
    assert_eq!(all_ids.len(), 3);
    let first = &all["items"][0];
    assert_eq!(first["webhook_id"], json!(webhook_id));
    assert_eq!(first["path"], "/update-revenue");
    assert_eq!(first["status"], json!(statuses[2]));
    assert!(
        first["body"].as_str().unwrap().contains("call_log_id"),
        "{first}"
    );
    assert!(
        !first.to_string().contains(&key),
        "the key is redacted: {first}"
    );

    // Cursor pagination walks the same entries, newest first.
    let (_, page1) = admin
        .org(Method::GET, &format!("{base}&limit=2"), None)
        .await;
    assert_eq!(ids(&page1), all_ids[..2].to_vec());
    let cursor = text(&page1["next_cursor"]);
    let (_, page2) = admin
        .org(
            Method::GET,
            &format!("{base}&limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(ids(&page2), all_ids[2..].to_vec());
    assert_eq!(page2["next_cursor"], Value::Null);

    let (_, failed) = admin
        .org(Method::GET, &format!("{base}&failed=true"), None)
        .await;
    assert_eq!(ids(&failed).len(), 3);
    let (_, ok) = admin
        .org(Method::GET, &format!("{base}&status=200"), None)
        .await;
    assert_eq!(ok["items"], json!([]));
    let (_, other) = admin
        .org(
            Method::GET,
            "/api/v1/webhooks/incoming/requests?webhook_id=nope",
            None,
        )
        .await;
    assert_eq!(other["items"], json!([]));
    for (query, field) in [
        ("status=abc", "status"),
        ("failed=maybe", "failed"),
        ("limit=-1", "limit"),
    ] {
        let (status, answer) = admin
            .org(
                Method::GET,
                &format!("/api/v1/webhooks/incoming/requests?{query}"),
                None,
            )
            .await;
        assert_eq!(
            error(status, &answer),
            (400, "invalid_parameter", Some(field)),
            "{query}"
        );
    }

    let one = format!("/api/v1/webhooks/incoming/requests/{}", all_ids[0]);
    let (status, entry) = admin.org(Method::GET, &one, None).await;
    assert_eq!(status, 200);
    assert_eq!(&entry, first);
    let (status, answer) = admin
        .org(Method::GET, "/api/v1/webhooks/incoming/requests/nope", None)
        .await;
    assert_eq!(error(status, &answer), (404, "not_found", None));

    // Another org sees none of it.
    let (_, b) = admin.new_org("B").await;
    let (status, _) = admin.send(Method::GET, &one, &b, None).await;
    assert_eq!(status, 404);
    let (_, list) = admin
        .send(Method::GET, "/api/v1/webhooks/incoming/requests", &b, None)
        .await;
    assert_eq!(list["items"], json!([]));
    admin.server.stop().await;
}

/// A token configured after the first start (which generated one) takes effect at the next
/// start, and the generated one stops working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_operator_token_replaces_the_stored_one() {
    let server = TestServer::spawn().await;
    let generated = server.bootstrap("MOJA_OPERATOR_TOKEN").await;
    let (status, _) = server
        .api(&generated, Method::GET, "/api/v1/orgs", None)
        .await;
    assert_eq!(status, 200);
    let configured = "mop_configured_after_the_first_start_0123456789";
    let server = server
        .restart(moja_core::clock::system(), |config| {
            config.operator_token = Some(configured.into());
        })
        .await;
    let (status, _) = server
        .api(configured, Method::GET, "/api/v1/orgs", None)
        .await;
    assert_eq!(status, 200, "the configured token works");
    let (status, _) = server
        .api(&generated, Method::GET, "/api/v1/orgs", None)
        .await;
    assert_eq!(status, 401, "the generated one no longer does");
    server.stop().await;
}

/// A list's parameters are checked: a cursor this server did not give and a page size that is
/// not a number are 400s in the API's error shape, naming the parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_list_parameters_are_named() {
    let server = TestServer::spawn().await;
    let key = server.bootstrap("MOJA_API_KEY").await;
    for (path, field) in [
        ("/api/v1/calls?cursor=garbage", "cursor"),
        (
            "/api/v1/webhooks/incoming/requests?cursor=garbage",
            "cursor",
        ),
        ("/api/v1/webhooks/outgoing/requests?cursor=12:", "cursor"),
        ("/api/v1/calls?limit=abc", "limit"),
    ] {
        let (status, body) = server.api(&key, Method::GET, path, None).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["success"], false, "{path}: {body}");
        assert_eq!(body["field"], field, "{path}: {body}");
    }
    // What a page gave still reads the next one.
    let (status, _) = server
        .api(&key, Method::GET, "/api/v1/calls?cursor=&limit=5", None)
        .await;
    assert_eq!(status, 200);
    server.stop().await;
}
