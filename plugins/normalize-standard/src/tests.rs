//! Unit and property tests of the standard normalizer.

use moja_plugin_sdk::testing::RequestBuilder;
use moja_plugin_sdk::{ErrorCode, HttpRequest, Normalized, Normalizer, PluginError};
use proptest::prelude::*;
use serde_json::json;

use crate::StandardNormalizer;

fn run(request: HttpRequest) -> Normalized {
    StandardNormalizer::normalize(request, Vec::new()).expect("normalizes")
}

fn run_with(request: HttpRequest, config: &[(&str, &str)]) -> Result<Normalized, PluginError> {
    let config = config
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    StandardNormalizer::normalize(request, config)
}

fn tags(n: &Normalized) -> Vec<(&str, &str)> {
    n.tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

#[test]
fn query_parameters_become_tags() {
    let out = run(RequestBuilder::get("/call-data")
        .query_string("caller_id=%2B13105559876&Lead%20Source=google+ads&utm.source=fb")
        .build());
    assert_eq!(
        tags(&out),
        [
            ("caller_id", "+13105559876"),
            ("lead_source", "google ads"),
            ("utm_source", "fb"),
        ]
    );
    assert!(out.truncated.is_empty());
    assert_eq!(out.dropped, 0);
}

#[test]
fn json_body_fields_become_tags() {
    let body = r#"{"caller_id": "+13105559876", "amount": 25.50, "big": 12345678901234567890.000,
        "ok": true, "no": false, "gone": null, "list": [1, "a", {"b": null}], "empty": "",
        "meta": {}}"#;
    let out = run(RequestBuilder::post("/call-data")
        .body(body, Some("application/json"))
        .build());
    assert_eq!(
        tags(&out),
        [
            ("caller_id", "+13105559876"),
            ("amount", "25.50"),
            ("big", "12345678901234567890.000"),
            ("ok", "true"),
            ("no", "false"),
            ("list", r#"[1,"a",{"b":null}]"#),
            ("empty", ""),
        ]
    );
}

#[test]
fn nested_objects_are_flattened_to_depth_eight() {
    let body = json!({
        "tags": {"source": "google_ads", "State": "CA"},
        "l1": {"l2": {"l3": {"l4": {"l5": {"l6": {"l7": {"l8": "deep", "o8": {"l9": {"x": 1}}}}}}}}},
    });
    let out = run(RequestBuilder::post("/x").json(&body).build());
    assert_eq!(
        tags(&out),
        [
            ("tags_source", "google_ads"),
            ("tags_state", "CA"),
            ("l1_l2_l3_l4_l5_l6_l7_l8", "deep"),
            ("l1_l2_l3_l4_l5_l6_l7_o8", r#"{"l9":{"x":1}}"#),
        ]
    );
}

#[test]
fn non_object_json_contributes_nothing() {
    for body in ["[1,2,3]", "[{\"a\":1}]"] {
        let out = run(RequestBuilder::post("/x")
            .body(body, Some("application/json"))
            .query("q", "1")
            .build());
        assert_eq!(tags(&out), [("q", "1")], "{body}");
    }
    let out = run(RequestBuilder::post("/x")
        .body("42", Some("application/json"))
        .build());
    assert!(out.tags.is_empty());
}

#[test]
fn invalid_json_is_an_error() {
    let declared = RequestBuilder::post("/x")
        .body("{\"a\": }", Some("application/json"))
        .build();
    let err = StandardNormalizer::normalize(declared, Vec::new()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidJson);
    assert!(err.message.contains("line 1 column 7"), "{}", err.message);

    let sniffed = RequestBuilder::post("/x").body("{\"a\": 1", None).build();
    let err = StandardNormalizer::normalize(sniffed, Vec::new()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidJson);
}

#[test]
fn unsupported_bodies_are_skipped() {
    let out = run(RequestBuilder::post("/x")
        .body("<a>1</a>", Some("application/xml"))
        .query("q", "1")
        .build());
    assert_eq!(tags(&out), [("q", "1")]);
    let lines = moja_plugin_sdk::log::take_captured();
    assert!(
        lines
            .iter()
            .any(|(_, line)| line.contains("\"application/xml\" skipped")),
        "{lines:?}"
    );
}

#[test]
fn form_bodies_become_tags() {
    let out = run(RequestBuilder::post("/x")
        .form(&[
            ("caller_id", "+13105559876"),
            ("tags[source]", "a b&c"),
            ("moja_auth_key", "mwk_x"),
        ])
        .build());
    assert_eq!(
        tags(&out),
        [("caller_id", "+13105559876"), ("tags_source", "a b&c")]
    );
    let sniffed = run(RequestBuilder::post("/x")
        .body("a=1&b=%F0%9F%93%9E", None)
        .build());
    assert_eq!(tags(&sniffed), [("a", "1"), ("b", "📞")]);
}

#[test]
fn headers_become_tags_without_x_prefix() {
    let out = run(RequestBuilder::post("/x")
        .header("X-Lead-Source", "google")
        .header("Referer", "https://lp.example/")
        .header("X-Campaign", "q1")
        .header("Lead-Type", "home")
        .header("X-", "bare")
        .build());
    assert_eq!(
        tags(&out),
        [
            ("lead_source", "google"),
            ("referer", "https://lp.example/"),
            ("campaign", "q1"),
            ("lead_type", "home"),
            ("x", "bare"),
        ]
    );
}

#[test]
fn precedence_is_body_then_query_then_headers() {
    let out = run(RequestBuilder::post("/x")
        .query("q_only", "q")
        .query("shared", "from-query")
        .query("both", "from-query")
        .header("X-Shared", "from-header")
        .header("X-Hdr-Only", "h")
        .header("X-Q-Only", "from-header")
        .json(&json!({"shared": "from-body", "b_only": "b"}))
        .build());
    assert_eq!(
        tags(&out),
        [
            ("shared", "from-body"),
            ("b_only", "b"),
            ("q_only", "q"),
            ("both", "from-query"),
            ("hdr_only", "h"),
        ]
    );
}

#[test]
fn repeated_keys_take_the_last_value_in_the_first_position() {
    let out = run(RequestBuilder::post("/x")
        .query_string("a=1&b=2&A=3&a.=4")
        .header("x-h", "1")
        .header("x-other", "o")
        .header("X-H", "2")
        .body(r#"{"k": 1, "K ": 2, "j": 0}"#, None)
        .build());
    assert_eq!(
        tags(&out),
        [
            ("k", "2"),
            ("j", "0"),
            ("a", "4"),
            ("b", "2"),
            ("h", "2"),
            ("other", "o"),
        ]
    );
}

#[test]
fn the_browser_header_block_of_seed_004_yields_no_tags() {
    let block = [
        ("x-forwarded-for", "203.0.113.7"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-port", "443"),
        ("host", "webhooks.moja.cloud"),
        (
            "x-amzn-trace-id",
            "Root=1-69407197-3ea4f4427f01144376cb2a59",
        ),
        ("user-agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)..."),
        (
            "accept",
            "text/html,application/xhtml+xml,application/xml...",
        ),
        ("accept-language", "en-US,en;q=0.7"),
        ("accept-encoding", "gzip, deflate, br, zstd"),
        ("priority", "u=0, i"),
    ];
    let mut request = RequestBuilder::get("/call-data");
    for (name, value) in block {
        request = request.header(name, value);
    }
    let out = run(request.build());
    assert_eq!(out.tags, Vec::<(String, String)>::new());
}

#[test]
fn transport_headers_are_never_tags() {
    let transport = [
        "Host",
        "Content-Length",
        "Content-Type",
        "Connection",
        "Transfer-Encoding",
        "Accept",
        "Accept-Charset",
        "User-Agent",
        "X-Forwarded-For",
        "X-Forwarded-Host",
        "X_Forwarded_Proto",
        "Forwarded",
        "X-Real-IP",
        "Via",
        "TE",
        "Trailer",
        "Upgrade",
        "Keep-Alive",
        "Proxy-Connection",
        "Expect",
        "Origin",
        "X-Request-Id",
        "X-Amzn-Trace-Id",
        "traceparent",
        "tracestate",
        "Priority",
        "Cache-Control",
        "Pragma",
        "Sec-Fetch-Mode",
        "Sec-CH-UA",
        "DNT",
    ];
    let mut request = RequestBuilder::get("/x").header("X-Kept", "yes");
    for name in transport {
        request = request.header(name, "v");
    }
    let out = run(request.build());
    assert_eq!(tags(&out), [("kept", "yes")]);
}

#[test]
fn credential_headers_are_never_tags() {
    let sensitive = [
        "Authorization",
        "Proxy-Authorization",
        "X-Api-Key",
        "Cookie",
        "Set-Cookie",
        "X-Session-Id",
        "X-Auth-Token",
        "X-Webhook-Secret",
        "X-Hub-Signature-256",
        "X-Moja-Auth-Key",
        "X-CSRF-TOKEN",
        "OAuthStuff",
    ];
    let mut request = RequestBuilder::get("/x").header("X-Lead-Source", "google");
    for name in sensitive {
        request = request.header(name, "secret-value");
    }
    let out = run(request.build());
    assert_eq!(tags(&out), [("lead_source", "google")]);
}

#[test]
fn moja_auth_key_is_never_a_tag() {
    let out = run(RequestBuilder::post("/x")
        .query("moja_auth_key", "mwk_q")
        .query("Moja-Auth-Key", "mwk_q2")
        .json(&json!({"moja_auth_key": "mwk_b", "moja": {"auth_key": "mwk_n"}, "a": "1"}))
        .build());
    assert_eq!(tags(&out), [("a", "1")]);
}

#[test]
fn keys_that_normalize_to_nothing_are_dropped() {
    let out = run(RequestBuilder::post("/x")
        .query("!!!", "1")
        .query("", "2")
        .header("---", "3")
        .json(&json!({"***": "4", "ok": "5"}))
        .build());
    assert_eq!(tags(&out), [("ok", "5")]);
}

#[test]
fn at_most_a_thousand_tags() {
    let mut body = serde_json::Map::new();
    for i in 0..1_001 {
        body.insert(format!("f{i}"), json!(i));
    }
    let out = run(RequestBuilder::post("/x")
        .json(&serde_json::Value::Object(body))
        .query("q", "extra")
        .query("f1000", "dup of a dropped key")
        .query("f0", "lower precedence")
        .build());
    assert_eq!(out.tags.len(), 1_000);
    assert_eq!(out.tags[0], ("f0".to_owned(), "0".to_owned()));
    assert_eq!(out.tags[999], ("f999".to_owned(), "999".to_owned()));
    // f1000 and q are dropped; f1000 counts once.
    assert_eq!(out.dropped, 2);

    let mut exact = serde_json::Map::new();
    for i in 0..1_001 {
        exact.insert(format!("f{i}"), json!(i));
    }
    let out = run(RequestBuilder::post("/x")
        .json(&serde_json::Value::Object(exact))
        .build());
    assert_eq!(out.tags.len(), 1_000);
    assert_eq!(out.dropped, 1);
    let lines = moja_plugin_sdk::log::take_captured();
    assert!(
        lines
            .iter()
            .any(|(_, line)| line == "1 tags dropped past the limit of 1000"),
        "{lines:?}"
    );
}

#[test]
fn long_values_are_cut_at_a_char_boundary() {
    // 4,095 ASCII bytes then 4-byte emoji: byte 4,096 falls inside the emoji.
    let long = format!("{}{}", "a".repeat(4_095), "😀".repeat(226));
    assert_eq!(long.len(), 4_095 + 904);
    let out = run(RequestBuilder::post("/x")
        .json(&json!({"short": "s", "long": long}))
        .header("X-Big", &"b".repeat(5_000))
        .build());
    assert_eq!(out.truncated, ["long", "big"]);
    let value = &out.tags[1].1;
    assert_eq!(value.len(), 4_095);
    assert_eq!(value.as_str(), "a".repeat(4_095));
    assert_eq!(out.tags[2].1.len(), 4_096);
    assert_eq!(out.tags[0].1, "s");

    let exact = run(RequestBuilder::get("/x")
        .query("v", &"é".repeat(2_048))
        .build());
    assert!(exact.truncated.is_empty());
    assert_eq!(exact.tags[0].1.len(), 4_096);
}

#[test]
fn a_later_short_value_clears_truncation() {
    let out = run(RequestBuilder::get("/x")
        .query("v", &"x".repeat(5_000))
        .query("v", "short")
        .build());
    assert_eq!(tags(&out), [("v", "short")]);
    assert!(out.truncated.is_empty());
}

#[test]
fn config_headers_none_and_exclude() {
    let request = || {
        RequestBuilder::post("/x")
            .query("utm_source", "fb")
            .query("Secret Field", "x")
            .header("X-Lead-Source", "google")
            .header("X-Other", "o")
            .json(&json!({"keep": "1", "tags": {"drop": "2"}}))
            .build()
    };
    let out = run_with(request(), &[("headers", "none")]).unwrap();
    assert_eq!(
        tags(&out),
        [
            ("keep", "1"),
            ("tags_drop", "2"),
            ("utm_source", "fb"),
            ("secret_field", "x"),
        ]
    );

    let out = run_with(
        request(),
        &[
            ("headers", "ALL"),
            ("exclude", "Secret Field, tags.drop,lead_source,,"),
            ("unknown", "ignored"),
        ],
    )
    .unwrap();
    assert_eq!(
        tags(&out),
        [("keep", "1"), ("utm_source", "fb"), ("other", "o")]
    );

    let err = run_with(request(), &[("headers", "off")]).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParameter);
    assert_eq!(err.field.as_deref(), Some("headers"));
}

fn is_normalized_key(key: &str) -> bool {
    !key.is_empty()
        && key.split('_').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "\\PC{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(10, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::vec(("\\PC{0,10}", inner), 0..6)
                .prop_map(|fields| serde_json::Value::Object(fields.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn output_keys_are_normalized_and_unique(
        query in prop::collection::vec(("\\PC{0,12}", "\\PC{0,12}"), 0..8),
        headers in prop::collection::vec(("[A-Za-z0-9_-]{0,16}", "\\PC{0,12}"), 0..8),
        body in prop::collection::vec(("\\PC{0,10}", arb_json()), 0..8),
    ) {
        let mut request = RequestBuilder::post("/x");
        for (k, v) in &query {
            request = request.query(k, v);
        }
        for (k, v) in &headers {
            request = request.header(k, v);
        }
        let body = serde_json::Value::Object(body.into_iter().collect());
        let out = run(request.json(&body).build());
        let mut seen = std::collections::HashSet::new();
        for (key, value) in &out.tags {
            prop_assert!(is_normalized_key(key), "{key:?}");
            prop_assert!(seen.insert(key.clone()), "duplicate {key:?}");
            prop_assert!(key != "moja_auth_key");
            prop_assert!(value.len() <= crate::MAX_VALUE_BYTES);
        }
    }
}
