//! The standard plugins as real components through the host runtime, on the examples of the
//! product documents (`shared/seeds/`): every documented request shape maps to the right command,
//! every documented error case gives the right message, the documented templates render.

use moja_webhooks_host::plugins::{
    PluginKey, PluginLimits, PluginRuntime, PluginWorld, standard, wit,
};
use serde_json::{Value, json};

use crate::support::{request, runtime_with_bundled};

use wit::CallSelector::{CallLogId, CallLogIds, PhoneNumber};
use wit::WebhookKind::{CallData, UpdateFields, UpdateRevenue, UpdateTags};

fn runtime() -> std::sync::Arc<PluginRuntime> {
    runtime_with_bundled(PluginLimits::default())
}

/// Runs the real pipeline of the plugins: normalizer, then mapper with its tags.
fn pipeline(
    runtime: &PluginRuntime,
    kind: wit::WebhookKind,
    request: &wit::HttpRequest,
) -> Result<wit::Command, wit::PluginError> {
    let normalizer = runtime
        .get(&PluginKey::platform(standard::NORMALIZER))
        .unwrap();
    let tags = runtime
        .normalize_blocking(&normalizer, request, &Vec::new())
        .expect("normalizer runs")
        .value?
        .tags;
    let mapper = runtime.get(&PluginKey::platform(standard::MAPPER)).unwrap();
    runtime
        .map_blocking(&mapper, kind, request, &tags.into(), &Vec::new())
        .expect("mapper runs")
        .value
}

/// Posts `body` exactly as written (the documents' numbers like `150.00` keep their text).
fn post(kind: wit::WebhookKind, path: &str, body: &str) -> Result<wit::Command, wit::PluginError> {
    pipeline(&runtime(), kind, &request("POST", path, &[], body))
}

fn adds(pairs: &[(&str, &str)]) -> Vec<wit::TagOp> {
    pairs
        .iter()
        .map(|(k, v)| wit::TagOp::Add((k.to_string(), v.to_string())))
        .collect()
}

fn removes(keys: &[&str]) -> Vec<wit::TagOp> {
    keys.iter()
        .map(|k| wit::TagOp::Remove(k.to_string()))
        .collect()
}

fn money(value: &str) -> Option<Option<String>> {
    Some(Some(value.to_owned()))
}

#[test]
fn revenue_postback_release_note_examples() {
    // seeds/000: the older path form, with `revenue_amount` and a transaction id.
    let command = post(
        UpdateRevenue,
        "/api/v1/webhooks/incoming/wh_1/update-revenue",
        r#"{ "phone_number": "+15555551234", "revenue_amount": 2500.00, "transaction_id": "order-12345" }"#,
    )
    .unwrap();
    assert_eq!(command.calls, PhoneNumber("+15555551234".into()));
    assert_eq!(command.fields.revenue_paid_out, money("2500.00"));
    assert!(command.fields.revenue_converts);
    assert_eq!(command.transaction_id.as_deref(), Some("order-12345"));
    assert!(command.ignored_fields.is_empty());

    // seeds/000: tags as a plain object mean "add", `call_id` is the id.
    let command = post(
        UpdateTags,
        "/api/v1/webhooks/incoming/wh_2/update-tags",
        r#"{ "call_id": "abc123", "tags": { "conversion_status": "qualified", "sale_amount": "2500" }}"#,
    )
    .unwrap();
    assert_eq!(command.calls, CallLogId("abc123".into()));
    assert_eq!(
        command.tag_ops,
        adds(&[("conversion_status", "qualified"), ("sale_amount", "2500")])
    );
}

#[test]
fn inbound_guide_call_data_example() {
    let command = post(
        CallData,
        "/call-data",
        r#"{ "caller_id": "+13105559876", "lead_source": "google_ads", "ad_campaign": "medicare_q1", "landing_page": "medicare-info"}"#,
    )
    .unwrap();
    assert_eq!(command.calls, wit::CallSelector::None);
    assert_eq!(command.caller_id.as_deref(), Some("+13105559876"));
    let data: Vec<(&str, &str)> = command
        .call_data
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        data,
        vec![
            ("lead_source", "google_ads"),
            ("ad_campaign", "medicare_q1"),
            ("landing_page", "medicare-info"),
        ]
    );

    // The cURL example: `campaign_name`, and the caller id as `from` in the query.
    let runtime = runtime();
    let request = request(
        "POST",
        "/call-data",
        &[("from", "+13105559876")],
        r#"{ "lead_source": "google_ads", "campaign_name": "medicare_q1" }"#,
    );
    let command = pipeline(&runtime, CallData, &request).unwrap();
    assert_eq!(command.caller_id.as_deref(), Some("+13105559876"));
    assert!(
        command
            .call_data
            .contains(&("campaign_name".into(), "medicare_q1".into()))
    );
}

#[test]
fn inbound_guide_update_revenue_examples() {
    let command = post(
        UpdateRevenue,
        "/update-revenue",
        r#"{ "call_log_id": "abc123-def456-ghi789", "revenue_paid_out": 150.00}"#,
    )
    .unwrap();
    assert_eq!(command.calls, CallLogId("abc123-def456-ghi789".into()));
    assert_eq!(command.fields.revenue_paid_out, money("150.00"));

    let command = post(
        UpdateRevenue,
        "/update-revenue",
        r#"{ "phone_number": "+13105559876", "revenue_paid_out": 150.00}"#,
    )
    .unwrap();
    assert_eq!(command.calls, PhoneNumber("+13105559876".into()));

    // The cURL/Python example with an idempotency key.
    let command = post(
        UpdateRevenue,
        "/update-revenue",
        r#"{ "call_log_id": "abc123-def456-ghi789", "revenue_paid_out": 150.00, "transaction_id": "txn_20260206_001" }"#,
    )
    .unwrap();
    assert_eq!(command.transaction_id.as_deref(), Some("txn_20260206_001"));
}

#[test]
fn inbound_guide_update_tags_examples() {
    let command = post(
        UpdateTags,
        "/update-tags",
        r#"{ "call_log_id": "abc123-def456-ghi789", "add": { "lead_quality": "high", "disposition": "sale_completed" }}"#,
    )
    .unwrap();
    assert_eq!(
        command.tag_ops,
        adds(&[("lead_quality", "high"), ("disposition", "sale_completed")])
    );

    let command = post(
        UpdateTags,
        "/update-tags",
        r#"{ "call_log_id": "abc123-def456-ghi789", "remove": ["pending_review", "needs_callback"]}"#,
    )
    .unwrap();
    assert_eq!(
        command.tag_ops,
        removes(&["pending_review", "needs_callback"])
    );

    let command = post(
        UpdateTags,
        "/update-tags",
        r#"{ "phone_number": "+13105559876", "add": { "disposition": "sale_completed" }, "remove": ["pending_review"]}"#,
    )
    .unwrap();
    assert_eq!(command.calls, PhoneNumber("+13105559876".into()));
    let mut expected = adds(&[("disposition", "sale_completed")]);
    expected.extend(removes(&["pending_review"]));
    assert_eq!(command.tag_ops, expected);
}

#[test]
fn inbound_guide_update_fields_examples() {
    let command = post(
        UpdateFields,
        "/update-fields",
        r#"{ "call_log_id": "abc123-def456-ghi789", "converted": true, "revenue_paid_out": 25.50, "reason": "Qualified lead"}"#,
    )
    .unwrap();
    assert_eq!(command.fields.converted, Some(true));
    assert_eq!(command.fields.revenue_paid_out, money("25.50"));
    assert!(!command.fields.revenue_converts);
    assert_eq!(command.fields.reason, Some(Some("Qualified lead".into())));

    // The `tags` wrapper form.
    let command = post(
        UpdateFields,
        "/update-fields",
        r#"{ "call_log_id": "abc123-def456-ghi789", "converted": true, "tags": { "add": { "lead_quality": "high", "disposition": "sale_completed" }, "remove": ["pending_review"] }}"#,
    )
    .unwrap();
    let mut expected = adds(&[("lead_quality", "high"), ("disposition", "sale_completed")]);
    expected.extend(removes(&["pending_review"]));
    assert_eq!(command.tag_ops, expected);

    // The GET example: strings coerced.
    let runtime = runtime();
    let request = request(
        "GET",
        "/update-fields",
        &[
            ("call_log_id", "abc123-def456-ghi789"),
            ("converted", "true"),
            ("revenue_paid_out", "25.50"),
        ],
        "",
    );
    let command = pipeline(&runtime, UpdateFields, &request).unwrap();
    assert_eq!(command.calls, CallLogId("abc123-def456-ghi789".into()));
    assert_eq!(command.fields.converted, Some(true));
    assert_eq!(command.fields.revenue_paid_out, money("25.50"));

    // `fields` wrapper and `no_payout_reason` / `publisher_paid_out`.
    let command = post(
        UpdateFields,
        "/update-fields",
        r#"{ "call_log_id": "abc-123", "fields": { "publisher_paid_out": "12.5", "no_payout_reason": "Caps exceeded" }}"#,
    )
    .unwrap();
    assert_eq!(command.fields.publisher_paid_out, money("12.5"));
    assert_eq!(
        command.fields.no_payout_reason,
        Some(Some("Caps exceeded".into()))
    );
}

#[test]
fn batch_release_note_examples() {
    let ids = || CallLogIds(vec!["abc-123".into(), "def-456".into(), "ghi-789".into()]);
    let command = post(
        UpdateRevenue,
        "/update-revenue",
        r#"{ "call_log_id": ["abc-123", "def-456", "ghi-789"], "revenue_paid_out": 25.50 }"#,
    )
    .unwrap();
    assert_eq!(command.calls, ids());

    let command = post(
        UpdateTags,
        "/update-tags",
        r#"{ "call_log_id": ["abc-123", "def-456", "ghi-789"], "add": [ {"customer_type": "premium"}, {"source": "website"} ], "remove": ["old_tag"]}"#,
    )
    .unwrap();
    assert_eq!(command.calls, ids());
    let mut expected = adds(&[("customer_type", "premium"), ("source", "website")]);
    expected.extend(removes(&["old_tag"]));
    assert_eq!(command.tag_ops, expected);

    // `disposition` is the alias of `reason`.
    let command = post(
        UpdateFields,
        "/update-fields",
        r#"{ "call_log_id": ["abc-123", "def-456", "ghi-789"], "converted": true, "revenue_paid_out": 25.50, "disposition": "sale" }"#,
    )
    .unwrap();
    assert_eq!(command.calls, ids());
    assert_eq!(command.fields.reason, Some(Some("sale".into())));

    // The single-id form still works.
    let command = post(
        UpdateFields,
        "/update-fields",
        r#"{ "call_log_id": "abc-123", "converted": true, "revenue_paid_out": 25.50 }"#,
    )
    .unwrap();
    assert_eq!(command.calls, CallLogId("abc-123".into()));
}

fn error_of(
    kind: wit::WebhookKind,
    method: &str,
    query: &[(&str, &str)],
    body: &str,
) -> wit::PluginError {
    let runtime = runtime();
    pipeline(&runtime, kind, &request(method, "/x", query, body)).unwrap_err()
}

#[test]
fn documented_errors_give_their_messages() {
    let error = error_of(CallData, "POST", &[], r#"{"lead_source": "google_ads"}"#);
    assert_eq!(error.code, wit::ErrorCode::MissingParameter);
    assert_eq!(error.message, "Missing caller_id parameter");

    let error = error_of(
        UpdateRevenue,
        "POST",
        &[],
        r#"{"revenue_paid_out": 150.00}"#,
    );
    assert_eq!(error.code, wit::ErrorCode::MissingParameter);
    assert_eq!(
        error.message,
        "Either call_log_id or phone_number must be provided"
    );

    let error = error_of(UpdateTags, "POST", &[], r#"{"call_log_id": "abc"}"#);
    assert_eq!(error.code, wit::ErrorCode::MissingParameter);
    assert_eq!(
        error.message,
        "At least one of add or remove must be provided"
    );

    let ids: Vec<String> = (0..51).map(|i| format!("id-{i}")).collect();
    let error = error_of(
        UpdateRevenue,
        "POST",
        &[],
        &json!({ "call_log_id": ids, "revenue": 1 }).to_string(),
    );
    assert_eq!(error.code, wit::ErrorCode::BatchTooLarge);

    let error = error_of(
        UpdateRevenue,
        "GET",
        &[("call_log_id", "a"), ("call_log_id", "b"), ("revenue", "1")],
        "",
    );
    assert_eq!(error.code, wit::ErrorCode::BatchRequiresPost);

    let error = error_of(
        UpdateFields,
        "POST",
        &[],
        r#"{"call_log_id": ["a", "b"], "phone_number": "+13105559876", "converted": true}"#,
    );
    assert_eq!(error.code, wit::ErrorCode::InvalidParameter);

    let error = error_of(
        UpdateFields,
        "POST",
        &[],
        r#"{"call_log_id": "a", "no_payout_reason": "Because"}"#,
    );
    assert_eq!(error.code, wit::ErrorCode::InvalidParameter);
    assert_eq!(error.field.as_deref(), Some("no_payout_reason"));
    assert!(error.message.contains("Caps exceeded"), "{}", error.message);

    let error = error_of(
        UpdateRevenue,
        "POST",
        &[],
        r#"{"call_log_id": "a", "revenue": }"#,
    );
    assert_eq!(error.code, wit::ErrorCode::InvalidJson);
}

#[test]
fn unknown_fields_are_ignored_and_listed() {
    let command = post(
        UpdateRevenue,
        "/update-revenue",
        r#"{ "call_log_id": "a", "revenue": "10", "utm_source": "x", "pixel_id": 7 }"#,
    )
    .unwrap();
    assert_eq!(command.ignored_fields, vec!["utm_source", "pixel_id"]);
}

#[test]
fn header_tags_follow_the_guide_and_never_carry_credentials() {
    let runtime = runtime();
    let normalizer = runtime
        .get(&PluginKey::platform(standard::NORMALIZER))
        .unwrap();
    assert_eq!(normalizer.world, PluginWorld::Normalizer);
    let mut request = request("POST", "/call-data", &[("moja_auth_key", "mwk_secret")], "");
    // The header block of seeds/004's request log: none of it is a tag.
    for (k, v) in [
        ("x-forwarded-for", "203.0.113.9"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-port", "443"),
        ("host", "webhooks.moja.cloud"),
        (
            "x-amzn-trace-id",
            "Root=1-69407197-3ea4f4427f01144376cb2a59",
        ),
        ("accept", "text/html"),
        ("accept-language", "en-US,en;q=0.7"),
        ("accept-encoding", "gzip, deflate, br, zstd"),
        ("priority", "u=0, i"),
        ("authorization", "Bearer abc"),
        ("x-api-key", "k"),
        ("cookie", "session=1"),
        // …while any other header is, including ones without `X-`.
        ("x-lead-source", "facebook"),
        ("referer", "https://example.com/landing"),
    ] {
        request.headers.push((k.to_owned(), v.to_owned()));
    }
    let tags = runtime
        .normalize_blocking(&normalizer, &request, &Vec::new())
        .unwrap()
        .value
        .unwrap()
        .tags;
    assert_eq!(
        tags,
        vec![
            ("lead_source".to_owned(), "facebook".to_owned()),
            (
                "referer".to_owned(),
                "https://example.com/landing".to_owned()
            ),
        ]
    );
}

fn render(
    template: wit::Template,
    event: &str,
    tags: &[(&str, Option<&str>)],
) -> Result<wit::RenderedRequest, wit::PluginError> {
    let runtime = runtime();
    let renderer = runtime
        .get(&PluginKey::platform(standard::RENDERER))
        .unwrap();
    let tags: Vec<wit::Tag> = tags
        .iter()
        .map(|(name, value)| wit::Tag {
            name: name.to_string(),
            value: value.map(str::to_owned),
        })
        .collect();
    runtime
        .render_blocking(&renderer, &template, event, &tags, &Vec::new())
        .expect("renderer runs")
        .value
}

fn template(url: &str, body: &str) -> wit::Template {
    wit::Template {
        method: "POST".into(),
        url: url.into(),
        headers: vec![("X-Call".into(), "[CALL_ID]".into())],
        body: body.into(),
        body_format: wit::BodyFormat::Json,
    }
}

const GUIDE_TEMPLATE: &str = r#"{
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

#[test]
fn outbound_guide_template_renders_the_documented_payload() {
    let rendered = render(
        template(
            "https://your-api.com/webhook?call_id=[CALL_ID]&campaign=[CAMPAIGN_ID]",
            GUIDE_TEMPLATE,
        ),
        "call.completed",
        &[
            ("CALL_ID", Some("call_abc123def456")),
            ("CALLER_ID", Some("+13105559876")),
            ("CAMPAIGN_NAME", Some("Medicare Leads Q1")),
            ("CAMPAIGN_ID", Some("cmp 1&2")),
            ("DURATION", Some("145")),
            ("CONVERTED", Some("true")),
            ("REVENUE_PAID_OUT", Some("35.00")),
            ("UTM_SOURCE", Some("google_ads")),
            ("CALLER_STATE", Some("CA")),
        ],
    )
    .unwrap();
    let body: Value = serde_json::from_slice(&rendered.body).unwrap();
    assert_eq!(
        body,
        json!({
          "call_id": "call_abc123def456",
          "caller": "+13105559876",
          "campaign": "Medicare Leads Q1",
          "duration": "145",
          "converted": "true",
          "revenue": "35.00",
          "tags": { "source": "google_ads", "state": "CA" }
        })
    );
    assert_eq!(
        rendered.url,
        "https://your-api.com/webhook?call_id=call_abc123def456&campaign=cmp%201%262"
    );
    assert_eq!(rendered.content_type.as_deref(), Some("application/json"));
    assert!(
        rendered
            .headers
            .contains(&("X-Call".into(), "call_abc123def456".into()))
    );

    // On call.incoming the conversion tags do not apply and stay as written.
    let rendered = render(
        template("https://your-api.com/webhook", GUIDE_TEMPLATE),
        "call.incoming",
        &[
            ("CALL_ID", Some("call_1")),
            ("CONVERTED", None),
            ("REVENUE_PAID_OUT", None),
            ("UTM_SOURCE", Some("")),
        ],
    )
    .unwrap();
    let body: Value = serde_json::from_slice(&rendered.body).unwrap();
    assert_eq!(body["converted"], "[CONVERTED]");
    assert_eq!(body["revenue"], "[REVENUE_PAID_OUT]");
    assert_eq!(body["tags"]["source"], "");
}

#[test]
fn telegram_template_arrives_as_valid_json() {
    let text = "✅ *Call Converted*\\n\\n📞 Call ID: `[CALL_ID]`\\n👤 From: `[FROM]`\\n📢 Campaign: *[CAMPAIGN_NAME]*\\n💰 Buyer Payout: *[REVENUE_PAID_OUT]*";
    let body = format!(r#"{{ "chat_id": -5002186479, "text": "{text}" }}"#);
    let rendered = render(
        template("https://api.telegram.org/bot123/sendMessage", &body),
        "call.converted",
        &[
            ("CALL_ID", Some("b88d2ccc")),
            ("FROM", Some("+13105559876")),
            ("CAMPAIGN_NAME", Some("Medi \"Q1\" <leads>")),
            ("REVENUE_PAID_OUT", Some("90.00")),
        ],
    )
    .unwrap();
    let body: Value = serde_json::from_slice(&rendered.body).unwrap();
    assert_eq!(body["chat_id"], json!(-5_002_186_479_i64));
    assert_eq!(
        body["text"],
        "✅ *Call Converted*\n\n📞 Call ID: `b88d2ccc`\n👤 From: `+13105559876`\n📢 Campaign: *Medi \"Q1\" <leads>*\n💰 Buyer Payout: *90.00*"
    );
}

#[test]
fn hostile_values_never_break_a_payload() {
    let hostile = "a\"b\\c\nd\r\n</script>&a=b[CALL_ID]🎉";
    let rendered = render(
        template(
            "https://example.com/hook/[LEAD]?v=[LEAD]",
            r#"{"in": "x [LEAD] y", "alone": [LEAD], "amount": [REVENUE_PAID_OUT]}"#,
        ),
        "call.completed",
        &[
            ("CALL_ID", Some("id1")),
            ("LEAD", Some(hostile)),
            ("REVENUE_PAID_OUT", Some("35.00")),
        ],
    )
    .unwrap();
    let body: Value = serde_json::from_slice(&rendered.body).unwrap();
    assert_eq!(body["in"], format!("x {hostile} y"));
    assert_eq!(body["alone"], hostile);
    assert_eq!(body["amount"].to_string(), "35.00");
    let url = reqwest::Url::parse(&rendered.url).expect("a valid URL");
    assert_eq!(url.host_str(), Some("example.com"));
    assert_eq!(url.path_segments().unwrap().count(), 2);
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(query, vec![("v".to_owned(), hostile.to_owned())]);

    let mut bad_header = template("https://example.com/", "{}");
    bad_header.headers = vec![("X-Lead".into(), "[LEAD]".into())];
    let error = render(bad_header, "call.completed", &[("LEAD", Some(hostile))]).unwrap_err();
    assert_eq!(error.code, wit::ErrorCode::InvalidTemplate);

    let error = render(
        template("https://[LEAD]/x", "{}"),
        "call.completed",
        &[("LEAD", Some("evil.example"))],
    )
    .unwrap_err();
    assert_eq!(error.code, wit::ErrorCode::InvalidTemplate);
}
