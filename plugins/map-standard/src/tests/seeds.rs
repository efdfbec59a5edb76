//! Every request example of the product documents (`seeds/000_…`, `001_…`, `002_…`), sent as
//! written, mapped to the exact command.

use moja_plugin_sdk::testing::RequestBuilder;

use super::*;

// --- seeds/000: Revenue Postback release note -------------------------------------------------

#[test]
fn s000_post_revenue_by_phone_on_the_older_path() {
    let request = RequestBuilder::post("/api/v1/webhooks/incoming/wh_1/update-revenue")
        .query("moja_auth_key", "mwk_secret")
        .body(
            r#"{ "phone_number": "+15555551234", "revenue_amount": 2500.00, "transaction_id": "order-12345"}"#,
            Some("application/json"),
        )
        .build();
    let expected = with_transaction(
        with_revenue(by_phone("+15555551234"), "2500.00"),
        "order-12345",
    );
    assert_command(map(UpdateRevenue, request), expected);
}

#[test]
fn s000_update_tags_with_the_older_tags_object() {
    let request = RequestBuilder::post("/api/v1/webhooks/incoming/wh_2/update-tags")
        .body(
            r#"{ "call_id": "abc123", "tags": { "conversion_status": "qualified", "sale_amount": "2500" }}"#,
            Some("application/json"),
        )
        .build();
    let expected = with_ops(
        by_id("abc123"),
        vec![
            add("conversion_status", "qualified"),
            add("sale_amount", "2500"),
        ],
    );
    assert_command(map(UpdateTags, request), expected);
}

// --- seeds/001: Inbound Webhooks Guide --------------------------------------------------------

fn call_data_command(caller_id: &str, data: &[(&str, &str)]) -> Command {
    let mut command = Command::new(CallSelector::None);
    command.caller_id = Some(caller_id.to_owned());
    command.call_data = pairs(data);
    command
}

#[test]
fn s001_call_data_request_body() {
    let request = RequestBuilder::post("/call-data")
        .body(
            r#"{ "caller_id": "+13105559876", "lead_source": "google_ads", "ad_campaign": "medicare_q1", "landing_page": "medicare-info"}"#,
            Some("application/json"),
        )
        .build();
    // What the standard normalizer extracts from that body.
    let tags = pairs(&[
        ("caller_id", "+13105559876"),
        ("lead_source", "google_ads"),
        ("ad_campaign", "medicare_q1"),
        ("landing_page", "medicare-info"),
    ]);
    let expected = call_data_command(
        "+13105559876",
        &[
            ("lead_source", "google_ads"),
            ("ad_campaign", "medicare_q1"),
            ("landing_page", "medicare-info"),
        ],
    );
    assert_command(map_with_tags(CallData, request, tags), expected);
}

#[test]
fn s001_update_revenue_by_call_log_id() {
    let outcome = post_json(
        UpdateRevenue,
        r#"{ "call_log_id": "abc123-def456-ghi789", "revenue_paid_out": 150.00}"#,
    );
    assert_command(
        outcome,
        with_revenue(by_id("abc123-def456-ghi789"), "150.00"),
    );
}

#[test]
fn s001_update_revenue_by_phone_number() {
    let outcome = post_json(
        UpdateRevenue,
        r#"{ "phone_number": "+13105559876", "revenue_paid_out": 150.00}"#,
    );
    assert_command(outcome, with_revenue(by_phone("+13105559876"), "150.00"));
}

#[test]
fn s001_update_tags_adding() {
    let outcome = post_json(
        UpdateTags,
        r#"{ "call_log_id": "abc123-def456-ghi789", "add": { "lead_quality": "high", "disposition": "sale_completed" }}"#,
    );
    let expected = with_ops(
        by_id("abc123-def456-ghi789"),
        vec![
            add("lead_quality", "high"),
            add("disposition", "sale_completed"),
        ],
    );
    assert_command(outcome, expected);
}

#[test]
fn s001_update_tags_removing() {
    let outcome = post_json(
        UpdateTags,
        r#"{ "call_log_id": "abc123-def456-ghi789", "remove": ["pending_review", "needs_callback"]}"#,
    );
    let expected = with_ops(
        by_id("abc123-def456-ghi789"),
        vec![remove("pending_review"), remove("needs_callback")],
    );
    assert_command(outcome, expected);
}

#[test]
fn s001_update_tags_adding_and_removing_by_phone() {
    let outcome = post_json(
        UpdateTags,
        r#"{ "phone_number": "+13105559876", "add": { "disposition": "sale_completed" }, "remove": ["pending_review"]}"#,
    );
    let expected = with_ops(
        by_phone("+13105559876"),
        vec![
            add("disposition", "sale_completed"),
            remove("pending_review"),
        ],
    );
    assert_command(outcome, expected);
}

#[test]
fn s001_update_fields_top_level() {
    let outcome = post_json(
        UpdateFields,
        r#"{ "call_log_id": "abc123-def456-ghi789", "converted": true, "revenue_paid_out": 25.50, "reason": "Qualified lead"}"#,
    );
    let mut expected = by_id("abc123-def456-ghi789");
    expected.fields.converted = Some(true);
    expected.fields.revenue_paid_out = set("25.50");
    expected.fields.reason = set("Qualified lead");
    assert_command(outcome, expected);
}

#[test]
fn s001_update_fields_tags_wrapper() {
    let outcome = post_json(
        UpdateFields,
        r#"{ "call_log_id": "abc123-def456-ghi789", "converted": true, "tags": { "add": { "lead_quality": "high", "disposition": "sale_completed" }, "remove": ["pending_review"] }}"#,
    );
    let mut expected = with_ops(
        by_id("abc123-def456-ghi789"),
        vec![
            add("lead_quality", "high"),
            add("disposition", "sale_completed"),
            remove("pending_review"),
        ],
    );
    expected.fields.converted = Some(true);
    assert_command(outcome, expected);
}

fn seed_get_expected() -> Command {
    let mut expected = by_id("abc123-def456-ghi789");
    expected.fields.converted = Some(true);
    expected.fields.revenue_paid_out = set("25.50");
    expected
}

#[test]
fn s001_update_fields_get_request() {
    // As written, key included: the host strips it, and the mapper ignores it anyway.
    let outcome = get(
        UpdateFields,
        "moja_auth_key=your_key&call_log_id=abc123-def456-ghi789&converted=true&revenue_paid_out=25.50",
    );
    assert_command(outcome, seed_get_expected());
    // As the host hands it over.
    let outcome = get(
        UpdateFields,
        "call_log_id=abc123-def456-ghi789&converted=true&revenue_paid_out=25.50",
    );
    assert_command(outcome, seed_get_expected());
}

fn converted_with_revenue(mut command: Command) -> Command {
    command.fields.converted = Some(true);
    command.fields.revenue_paid_out = set("25.50");
    command
}

#[test]
fn s001_batch_single_call_unchanged() {
    let outcome = post_json(
        UpdateFields,
        r#"{ "call_log_id": "abc-123", "converted": true, "revenue_paid_out": 25.50}"#,
    );
    assert_command(outcome, converted_with_revenue(by_id("abc-123")));
}

#[test]
fn s001_batch_update_fields_without_disposition() {
    let outcome = post_json(
        UpdateFields,
        r#"{ "call_log_id": ["abc-123", "def-456", "ghi-789"], "converted": true, "revenue_paid_out": 25.50}"#,
    );
    let expected = converted_with_revenue(by_ids(&["abc-123", "def-456", "ghi-789"]));
    assert_command(outcome, expected);
}

#[test]
fn s001_batch_update_revenue() {
    let outcome = post_json(
        UpdateRevenue,
        r#"{ "call_log_id": ["abc-123", "def-456", "ghi-789"], "revenue_paid_out": 25.50}"#,
    );
    let expected = with_revenue(by_ids(&["abc-123", "def-456", "ghi-789"]), "25.50");
    assert_command(outcome, expected);
}

#[test]
fn s001_batch_update_tags() {
    let outcome = post_json(
        UpdateTags,
        r#"{ "call_log_id": ["abc-123", "def-456", "ghi-789"], "add": [ {"customer_type": "premium"}, {"source": "website"} ], "remove": ["old_tag"]}"#,
    );
    let expected = with_ops(
        by_ids(&["abc-123", "def-456", "ghi-789"]),
        vec![
            add("customer_type", "premium"),
            add("source", "website"),
            remove("old_tag"),
        ],
    );
    assert_command(outcome, expected);
}

fn batch_fields_with_disposition() -> Command {
    let mut expected = converted_with_revenue(by_ids(&["abc-123", "def-456", "ghi-789"]));
    expected.fields.reason = set("sale");
    expected
}

#[test]
fn s001_batch_update_fields_with_disposition() {
    let outcome = post_json(
        UpdateFields,
        r#"{ "call_log_id": ["abc-123", "def-456", "ghi-789"], "converted": true, "revenue_paid_out": 25.50, "disposition": "sale"}"#,
    );
    assert_command(outcome, batch_fields_with_disposition());
}

fn revenue_with_transaction() -> Command {
    with_transaction(
        with_revenue(by_id("abc123-def456-ghi789"), "150.00"),
        "txn_20260206_001",
    )
}

#[test]
fn s001_idempotency_example() {
    let outcome = post_json(
        UpdateRevenue,
        r#"{ "call_log_id": "abc123-def456-ghi789", "revenue_paid_out": 150.00, "transaction_id": "txn_20260206_001"}"#,
    );
    assert_command(outcome, revenue_with_transaction());
}

const CURL_REVENUE: &str = r#"{ "call_log_id": "abc123-def456-ghi789", "revenue_paid_out": 150.00, "transaction_id": "txn_20260206_001" }"#;
const CURL_CALL_DATA: &str = r#"{ "caller_id": "+13105559876", "lead_source": "google_ads", "campaign_name": "medicare_q1" }"#;
const CURL_TAGS: &str = r#"{ "call_log_id": "abc123-def456-ghi789", "add": {"disposition": "sale_completed"}, "remove": ["pending_review"] }"#;

/// The curl examples say `-H "Content-Type: application/json"`; without it, `curl -d` declares
/// the body as a form. Both must map the same.
fn curl(kind: WebhookKind, body: &str, content_type: &str, tags: Pairs) -> Outcome {
    let request = RequestBuilder::post(path(kind))
        .query("moja_auth_key", "your_auth_key")
        .body(body, Some(content_type))
        .build();
    map_with_tags(kind, request, tags)
}

#[test]
fn s001_curl_update_revenue() {
    for content_type in ["application/json", "application/x-www-form-urlencoded"] {
        let outcome = curl(UpdateRevenue, CURL_REVENUE, content_type, Vec::new());
        assert_command(outcome, revenue_with_transaction());
    }
}

#[test]
fn s001_curl_call_data() {
    let tags = pairs(&[
        ("caller_id", "+13105559876"),
        ("lead_source", "google_ads"),
        ("campaign_name", "medicare_q1"),
    ]);
    let expected = call_data_command(
        "+13105559876",
        &[
            ("lead_source", "google_ads"),
            ("campaign_name", "medicare_q1"),
        ],
    );
    for content_type in ["application/json", "application/x-www-form-urlencoded"] {
        let outcome = curl(CallData, CURL_CALL_DATA, content_type, tags.clone());
        assert_command(outcome, expected.clone());
    }
}

#[test]
fn s001_curl_update_tags() {
    let expected = with_ops(
        by_id("abc123-def456-ghi789"),
        vec![
            add("disposition", "sale_completed"),
            remove("pending_review"),
        ],
    );
    for content_type in ["application/json", "application/x-www-form-urlencoded"] {
        let outcome = curl(UpdateTags, CURL_TAGS, content_type, Vec::new());
        assert_command(outcome, expected.clone());
    }
}

#[test]
fn s001_python_update_revenue() {
    // `requests.post(url, params={"moja_auth_key": …}, json={…})`: json.dumps writes 150.00 as
    // 150.0, and the mapper keeps what was sent.
    let request = RequestBuilder::post("/update-revenue")
        .query("moja_auth_key", "your_auth_key")
        .body(
            r#"{"call_log_id": "abc123-def456-ghi789", "revenue_paid_out": 150.0, "transaction_id": "txn_20260206_001"}"#,
            Some("application/json"),
        )
        .build();
    let expected = with_transaction(
        with_revenue(by_id("abc123-def456-ghi789"), "150.0"),
        "txn_20260206_001",
    );
    assert_command(map(UpdateRevenue, request), expected);
}

#[test]
fn s001_javascript_update_tags() {
    // `JSON.stringify({…})` output.
    let outcome = post_json(
        UpdateTags,
        r#"{"call_log_id":"abc123-def456-ghi789","add":{"disposition":"sale_completed","lead_quality":"high"},"remove":["pending_review"]}"#,
    );
    let expected = with_ops(
        by_id("abc123-def456-ghi789"),
        vec![
            add("disposition", "sale_completed"),
            add("lead_quality", "high"),
            remove("pending_review"),
        ],
    );
    assert_command(outcome, expected);
}

// --- seeds/002: Multi-Field Postbacks and batch release note ----------------------------------

#[test]
fn s002_single_before_batch() {
    let outcome = post_json(
        UpdateFields,
        "{\n  \"call_log_id\": \"abc-123\",\n  \"converted\": true,\n  \"revenue_paid_out\": 25.50\n}",
    );
    assert_command(outcome, converted_with_revenue(by_id("abc-123")));
}

#[test]
fn s002_batch_update_fields() {
    let outcome = post_json(
        UpdateFields,
        "{\n  \"call_log_id\": [\"abc-123\", \"def-456\", \"ghi-789\"],\n  \"converted\": true,\n  \"revenue_paid_out\": 25.50\n}",
    );
    let expected = converted_with_revenue(by_ids(&["abc-123", "def-456", "ghi-789"]));
    assert_command(outcome, expected);
}

#[test]
fn s002_batch_update_revenue() {
    let outcome = post_json(
        UpdateRevenue,
        "{\n  \"call_log_id\": [\"abc-123\", \"def-456\", \"ghi-789\"],\n  \"revenue_paid_out\": 25.50\n}",
    );
    let expected = with_revenue(by_ids(&["abc-123", "def-456", "ghi-789"]), "25.50");
    assert_command(outcome, expected);
}

#[test]
fn s002_batch_update_tags() {
    let outcome = post_json(
        UpdateTags,
        "{\n  \"call_log_id\": [\"abc-123\", \"def-456\", \"ghi-789\"],\n  \"add\": [{\"customer_type\": \"premium\"}],\n  \"remove\": [\"old_tag\"]\n}",
    );
    let expected = with_ops(
        by_ids(&["abc-123", "def-456", "ghi-789"]),
        vec![add("customer_type", "premium"), remove("old_tag")],
    );
    assert_command(outcome, expected);
}

#[test]
fn s002_batch_update_fields_with_disposition() {
    let outcome = post_json(
        UpdateFields,
        "{\n  \"call_log_id\": [\"abc-123\", \"def-456\", \"ghi-789\"],\n  \"converted\": true,\n  \"revenue_paid_out\": 25.50,\n  \"disposition\": \"sale\"\n}",
    );
    assert_command(outcome, batch_fields_with_disposition());
}
