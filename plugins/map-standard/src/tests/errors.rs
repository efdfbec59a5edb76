//! Identification (call ids, phone numbers, batches, `caller_id`), `transaction_id`, bodies that
//! cannot be read, and the errors each gives, with their codes and messages.

use moja_plugin_sdk::request;
use moja_plugin_sdk::testing::RequestBuilder;

use super::*;

const ALL_UPDATES: [WebhookKind; 3] = [UpdateRevenue, UpdateTags, UpdateFields];

/// A body that is complete for `kind` apart from identification.
fn payload(kind: WebhookKind) -> &'static str {
    match kind {
        UpdateRevenue => r#""revenue_paid_out": "10.00""#,
        UpdateTags => r#""add": {"a": "1"}"#,
        _ => r#""converted": true"#,
    }
}

fn post_with_ids(kind: WebhookKind, ids: &str) -> Outcome {
    post_json(kind, &format!("{{{ids}, {}}}", payload(kind)))
}

// --- call_data ---------------------------------------------------------------------------------

#[test]
fn call_data_without_caller_is_missing_caller_id() {
    let outcome = post_json(CallData, r#"{"lead_source": "google_ads"}"#);
    assert_error(
        outcome,
        ErrorCode::MissingParameter,
        Some("caller_id"),
        "Missing caller_id parameter",
    );
    for blank in [
        r#"{"caller_id": ""}"#,
        r#"{"caller_id": "  "}"#,
        r#"{"from": null}"#,
    ] {
        assert_error(
            post_json(CallData, blank),
            ErrorCode::MissingParameter,
            Some("caller_id"),
            "Missing caller_id parameter",
        );
    }
    assert_error(
        get(CallData, "lead_source=x"),
        ErrorCode::MissingParameter,
        Some("caller_id"),
        "Missing caller_id parameter",
    );
}

fn caller(outcome: Outcome) -> Option<String> {
    outcome.expect("a command").caller_id
}

#[test]
fn call_data_caller_aliases_and_sources() {
    let from = post_json(CallData, r#"{"from": "+13105559876"}"#);
    assert_eq!(caller(from).as_deref(), Some("+13105559876"));
    let query = get(CallData, "caller_id=%2B13105559876&x=1");
    assert_eq!(caller(query).as_deref(), Some("+13105559876"));
    let query_fills_in = map(
        CallData,
        RequestBuilder::post("/call-data")
            .query("caller_id", "+1310")
            .body(r#"{"lead": "x"}"#, Some("application/json"))
            .build(),
    );
    assert_eq!(caller(query_fills_in).as_deref(), Some("+1310"));
    // The body wins over the query, whatever the spelling.
    let body_wins = map(
        CallData,
        RequestBuilder::post("/call-data")
            .query("caller_id", "+1999")
            .body(r#"{"from": "+1310"}"#, Some("application/json"))
            .build(),
    );
    assert_eq!(caller(body_wins).as_deref(), Some("+1310"));
    let both = post_json(CallData, r#"{"from": "+1999", "caller_id": " +1310 "}"#);
    assert_eq!(caller(both).as_deref(), Some("+1310"));
    let number = post_json(CallData, r#"{"caller_id": 13105559876}"#);
    assert_eq!(caller(number).as_deref(), Some("13105559876"));
}

#[test]
fn call_data_keeps_every_other_tag_in_order_and_ignores_nothing() {
    let request = RequestBuilder::post("/call-data")
        .query("utm_source", "google")
        .header("X-Lead-Source", "crm")
        .body(
            r#"{"from": "+13105559876", "transaction_id": "t-1", "zip_code": "90210", "odd": {"a": 1}}"#,
            Some("application/json"),
        )
        .build();
    let tags = pairs(&[
        ("from", "+13105559876"),
        ("transaction_id", "t-1"),
        ("zip_code", "90210"),
        ("odd_a", "1"),
        ("utm_source", "google"),
        ("moja_auth_key", "leaked"),
        ("lead_source", "crm"),
    ]);
    let mut expected = with_transaction(Command::new(CallSelector::None), "t-1");
    expected.caller_id = Some("+13105559876".to_owned());
    expected.call_data = pairs(&[
        ("zip_code", "90210"),
        ("odd_a", "1"),
        ("utm_source", "google"),
        ("lead_source", "crm"),
    ]);
    assert_command(map_with_tags(CallData, request, tags), expected);
}

#[test]
fn call_data_refuses_a_caller_that_is_not_text() {
    assert_error(
        post_json(CallData, r#"{"caller_id": {"number": "+1310"}}"#),
        ErrorCode::InvalidParameter,
        Some("caller_id"),
        "caller_id must be the caller's phone number given as a string, got an object",
    );
}

// --- identification ----------------------------------------------------------------------------

#[test]
fn missing_identification() {
    for kind in ALL_UPDATES {
        assert_error(
            post_json(kind, &format!("{{{}}}", payload(kind))),
            ErrorCode::MissingParameter,
            None,
            "Either call_log_id or phone_number must be provided",
        );
        assert_error(
            post_with_ids(kind, r#""call_log_id": null, "phone_number": "  ""#),
            ErrorCode::MissingParameter,
            None,
            "Either call_log_id or phone_number must be provided",
        );
    }
}

#[test]
fn call_log_id_aliases() {
    for kind in ALL_UPDATES {
        for alias in ["call_log_id", "call_id", "callLogId"] {
            let command = post_with_ids(kind, &format!(r#""{alias}": "abc-123""#)).unwrap();
            assert_eq!(
                format!("{:?}", command.calls),
                format!("{:?}", CallSelector::CallLogId("abc-123".into())),
                "{alias}"
            );
            assert!(command.ignored_fields.is_empty(), "{alias}");
        }
    }
}

#[test]
fn phone_number_aliases() {
    for kind in ALL_UPDATES {
        for alias in ["phone_number", "caller_id", "from", "phone"] {
            let command =
                post_with_ids(kind, &format!(r#""{alias}": " +1 (310) 555-9876 ""#)).unwrap();
            assert_eq!(
                format!("{:?}", command.calls),
                format!(
                    "{:?}",
                    CallSelector::PhoneNumber("+1 (310) 555-9876".into())
                ),
                "{alias}"
            );
        }
    }
}

#[test]
fn alias_preference() {
    let command = post_with_ids(
        UpdateRevenue,
        r#""callLogId": "third", "call_id": "second", "call_log_id": "first""#,
    )
    .unwrap();
    assert_eq!(
        format!("{:?}", command.calls),
        format!("{:?}", CallSelector::CallLogId("first".into()))
    );
    let command = post_with_ids(UpdateRevenue, r#""phone": "+3", "from": "+2""#).unwrap();
    assert_eq!(
        format!("{:?}", command.calls),
        format!("{:?}", CallSelector::PhoneNumber("+2".into()))
    );
    // A null preferred spelling does not hide a given alias.
    let command = post_with_ids(UpdateRevenue, r#""call_log_id": null, "call_id": "x""#).unwrap();
    assert_eq!(
        format!("{:?}", command.calls),
        format!("{:?}", CallSelector::CallLogId("x".into()))
    );
}

#[test]
fn call_log_id_wins_over_phone_number() {
    for kind in ALL_UPDATES {
        let command = post_with_ids(
            kind,
            r#""phone_number": "+13105559876", "call_log_id": "abc""#,
        )
        .unwrap();
        assert_eq!(
            format!("{:?}", command.calls),
            format!("{:?}", CallSelector::CallLogId("abc".into()))
        );
    }
}

#[test]
fn numeric_ids_are_taken_as_text() {
    let outcome = post_json(
        UpdateRevenue,
        r#"{"call_log_id": 123, "revenue": 5, "transaction_id": 987654321987654321987}"#,
    );
    let expected = with_transaction(with_revenue(by_id("123"), "5"), "987654321987654321987");
    assert_command(outcome, expected);
}

#[test]
fn ids_of_the_wrong_type() {
    assert_error(
        post_with_ids(UpdateFields, r#""call_log_id": true"#),
        ErrorCode::InvalidParameter,
        Some("call_log_id"),
        "call_log_id must be a call log id given as a string, or an array of up to 50 of them, got true",
    );
    assert_error(
        post_with_ids(UpdateTags, r#""phone_number": ["+1310"]"#),
        ErrorCode::InvalidParameter,
        Some("phone_number"),
        "phone_number must be a phone number given as a string, got an array",
    );
    assert_error(
        post_with_ids(
            UpdateRevenue,
            r#""call_id": "a", "transaction_id": {"id": 1}"#,
        ),
        ErrorCode::InvalidParameter,
        Some("transaction_id"),
        "transaction_id must be a string such as \"order-12345\", got an object",
    );
}

// --- batches -----------------------------------------------------------------------------------

fn ids_json(ids: &[String]) -> String {
    serde_json::to_string(ids).unwrap()
}

fn numbered(count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("call-{i}")).collect()
}

#[test]
fn fifty_ids_are_a_batch() {
    let ids = numbered(50);
    for kind in ALL_UPDATES {
        let command =
            post_with_ids(kind, &format!(r#""call_log_id": {}"#, ids_json(&ids))).unwrap();
        assert_eq!(
            format!("{:?}", command.calls),
            format!("{:?}", CallSelector::CallLogIds(ids.clone()))
        );
    }
}

#[test]
fn fifty_one_ids_are_too_many() {
    let ids = numbered(51);
    for kind in ALL_UPDATES {
        assert_error(
            post_with_ids(kind, &format!(r#""call_log_id": {}"#, ids_json(&ids))),
            ErrorCode::BatchTooLarge,
            Some("call_log_id"),
            "call_log_id holds 51 different call log ids; at most 50 are allowed in one request, so split the batch",
        );
    }
}

#[test]
fn duplicates_count_once_keeping_the_first() {
    let mut sent = numbered(50);
    sent.insert(0, "call-50".to_owned());
    sent.extend(numbered(10));
    assert_eq!(sent.len(), 61);
    let mut expected = vec!["call-50".to_owned()];
    expected.extend(numbered(49));
    let command = post_with_ids(
        UpdateRevenue,
        &format!(r#""call_log_id": {}"#, ids_json(&sent)),
    )
    .unwrap();
    assert_eq!(
        format!("{:?}", command.calls),
        format!("{:?}", CallSelector::CallLogIds(expected))
    );
    let command = post_with_ids(UpdateTags, r#""call_id": [" a ", "a", "b"]"#).unwrap();
    assert_eq!(
        format!("{:?}", command.calls),
        format!(
            "{:?}",
            CallSelector::CallLogIds(vec!["a".into(), "b".into()])
        )
    );
}

#[test]
fn a_batch_over_get_requires_post() {
    let message = "call_log_id names several calls, which only a POST request with a JSON body \
                   may do; send one call_log_id per GET request";
    for kind in ALL_UPDATES {
        for query in [
            "call_log_id=a&call_log_id=b&converted=true&revenue=1&add[x]=1",
            "call_log_id=a&call_log_id=a&converted=true&revenue=1&add[x]=1",
            "call_log_id[]=a&converted=true&revenue=1&add[x]=1",
        ] {
            assert_error(
                get(kind, query),
                ErrorCode::BatchRequiresPost,
                Some("call_log_id"),
                message,
            );
        }
    }
    assert_error(
        get(UpdateFields, "call_id[]=a&call_id[]=b&converted=1"),
        ErrorCode::BatchRequiresPost,
        Some("call_id"),
        "call_id names several calls, which only a POST request with a JSON body may do; send \
         one call_log_id per GET request",
    );
}

#[test]
fn a_repeated_call_log_id_in_a_post_form_is_a_batch() {
    let request = RequestBuilder::post("/update-revenue")
        .form(&[
            ("call_log_id", "a"),
            ("call_log_id", "b"),
            ("revenue", "3.00"),
        ])
        .build();
    assert_command(
        map(UpdateRevenue, request),
        with_revenue(by_ids(&["a", "b"]), "3.00"),
    );
}

#[test]
fn a_batch_cannot_be_combined_with_a_phone_number() {
    for kind in ALL_UPDATES {
        for phone in ["phone_number", "caller_id", "from", "phone"] {
            assert_error(
                post_with_ids(
                    kind,
                    &format!(r#""call_log_id": ["a", "b"], "{phone}": "+1310""#),
                ),
                ErrorCode::InvalidParameter,
                Some("call_log_id"),
                "call_log_id as an array cannot be combined with phone_number",
            );
        }
    }
}

#[test]
fn malformed_batches() {
    assert_error(
        post_with_ids(UpdateFields, r#""call_log_id": []"#),
        ErrorCode::InvalidParameter,
        Some("call_log_id"),
        "call_log_id must hold 1 to 50 call log ids, got an empty array",
    );
    assert_error(
        post_with_ids(UpdateTags, r#""call_log_id": ["a", 2]"#),
        ErrorCode::InvalidParameter,
        Some("call_log_id"),
        "call_log_id[1] must be a call log id given as a non-empty string, got 2",
    );
    assert_error(
        post_with_ids(UpdateRevenue, r#""call_log_id": ["a", " "]"#),
        ErrorCode::InvalidParameter,
        Some("call_log_id"),
        "call_log_id[1] must be a call log id given as a non-empty string, got \" \"",
    );
    assert_error(
        post_with_ids(UpdateRevenue, r#""call_log_id": [null]"#),
        ErrorCode::InvalidParameter,
        Some("call_log_id"),
        "call_log_id[0] must be a call log id given as a non-empty string, got null",
    );
}

// --- bodies ------------------------------------------------------------------------------------

#[test]
fn unsupported_content_type() {
    let request = RequestBuilder::post("/update-revenue")
        .body("<revenue>1</revenue>", Some("application/xml"))
        .build();
    assert_error(
        map(UpdateRevenue, request),
        ErrorCode::UnsupportedMediaType,
        None,
        "Unsupported content type \"application/xml\": send application/json or \
         application/x-www-form-urlencoded",
    );
}

#[test]
fn invalid_json_is_reported_as_the_sdk_reads_it() {
    let request = RequestBuilder::post("/update-fields")
        .body(
            r#"{"call_log_id": "a", "converted": }"#,
            Some("application/json"),
        )
        .build();
    let expected = request::json_body(&request).unwrap_err();
    assert_eq!(expected.code, ErrorCode::InvalidJson);
    assert_error(
        map(UpdateFields, request),
        ErrorCode::InvalidJson,
        None,
        &expected.message,
    );
}

#[test]
fn a_json_body_must_be_an_object() {
    for (body, got) in [
        (r#"[{"call_log_id": "a"}]"#, "an array"),
        (r#""call_log_id""#, "a string"),
        ("42", "a number"),
        ("null", "null"),
    ] {
        let request = RequestBuilder::post("/update-tags")
            .body(body, Some("application/json"))
            .build();
        assert_error(
            map(UpdateTags, request),
            ErrorCode::InvalidJson,
            None,
            &format!(
                "Invalid JSON body: expected a JSON object such as {{\"call_log_id\": \"abc-123\"}} \
                 at the top level, got {got}"
            ),
        );
    }
}

#[test]
fn an_empty_post_body_reads_the_query() {
    let request = RequestBuilder::post("/update-revenue")
        .query_string("call_log_id=a&revenue_paid_out=12.30")
        .body("", Some("application/json"))
        .build();
    assert_command(
        map(UpdateRevenue, request),
        with_revenue(by_id("a"), "12.30"),
    );
}

#[test]
fn get_ignores_a_body() {
    let request = RequestBuilder::get("/update-revenue")
        .query_string("call_log_id=a&revenue=1.00")
        .body(
            r#"{"call_log_id": "b", "revenue": "2.00"}"#,
            Some("application/json"),
        )
        .build();
    assert_command(
        map(UpdateRevenue, request),
        with_revenue(by_id("a"), "1.00"),
    );
}

#[test]
fn transaction_id_for_every_kind() {
    let mut call_data = Command::new(CallSelector::None);
    call_data.caller_id = Some("+1310".into());
    call_data.transaction_id = Some("t-9".into());
    assert_command(
        post_json(
            CallData,
            r#"{"caller_id": "+1310", "transaction_id": " t-9 "}"#,
        ),
        call_data,
    );
    for kind in ALL_UPDATES {
        let command = post_with_ids(kind, r#""call_log_id": "a", "transaction_id": 77"#).unwrap();
        assert_eq!(command.transaction_id.as_deref(), Some("77"));
    }
}
