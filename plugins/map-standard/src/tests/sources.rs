//! Where fields come from: GET queries and their coercion, form bodies, JSON declared as a form
//! (`curl -d`), sniffed bodies, and the query filling in what the body lacks.

use moja_plugin_sdk::FieldChanges;
use moja_plugin_sdk::testing::RequestBuilder;

use super::*;

#[test]
fn get_values_are_coerced() {
    let outcome = get(
        UpdateFields,
        "call_log_id=a&converted=true&revenue_paid_out=25.50&publisher_paid_out=null&reason=null\
         &state=CA&zip=null&converted_at=2026-04-03T14%3A30%3A00Z&currency=cad&transaction_id=t1",
    );
    let mut expected = with_transaction(by_id("a"), "t1");
    expected.fields = FieldChanges {
        converted: Some(true),
        call_converted_at: set("2026-04-03T14:30:00Z"),
        revenue_paid_out: set("25.50"),
        publisher_paid_out: Some(None),
        currency: Some("CAD".into()),
        reason: Some(None),
        state: set("CA"),
        zip: Some(None),
        ..FieldChanges::default()
    };
    assert_command(outcome, expected);
}

#[test]
fn get_booleans() {
    for (written, value) in [
        ("true", true),
        ("false", false),
        ("1", true),
        ("0", false),
        ("TRUE", true),
        ("False", false),
    ] {
        let command = get(UpdateFields, &format!("call_log_id=a&converted={written}")).unwrap();
        assert_eq!(command.fields.converted, Some(value), "{written}");
    }
    assert_error(
        get(UpdateFields, "call_log_id=a&converted=yes"),
        ErrorCode::InvalidParameter,
        Some("converted"),
        "converted must be true or false, got \"yes\"",
    );
    assert_error(
        get(UpdateFields, "call_log_id=a&converted=null"),
        ErrorCode::InvalidParameter,
        Some("converted"),
        "converted must be true or false, got null",
    );
}

#[test]
fn null_strings_in_json_are_strings() {
    let command = post_json(UpdateFields, r#"{"call_log_id": "a", "reason": "null"}"#).unwrap();
    assert_eq!(command.fields.reason, set("null"));
}

#[test]
fn get_update_revenue_and_update_tags() {
    assert_command(
        get(
            UpdateRevenue,
            "phone_number=%2B13105559876&revenue=150.00&currency=usd",
        ),
        {
            let mut expected = with_revenue(by_phone("+13105559876"), "150.00");
            expected.fields.currency = Some("USD".into());
            expected
        },
    );
    assert_command(
        get(
            UpdateTags,
            "call_log_id=a&add[Lead%20Quality]=high&add[disposition]=sale&remove=pending_review,needs_callback&remove=old",
        ),
        with_ops(
            by_id("a"),
            vec![
                add("lead_quality", "high"),
                add("disposition", "sale"),
                remove("pending_review"),
                remove("needs_callback"),
                remove("old"),
            ],
        ),
    );
}

#[test]
fn a_repeated_field_needs_one_value() {
    let command = get(UpdateFields, "call_log_id=a&converted=true&converted=true").unwrap();
    assert_eq!(command.fields.converted, Some(true));
    assert_error(
        get(UpdateFields, "call_log_id=a&converted=true&converted=false"),
        ErrorCode::InvalidParameter,
        Some("converted"),
        "converted is given 2 times with different values; send it once",
    );
    assert_error(
        get(UpdateRevenue, "call_log_id=a&revenue=1&revenue=2&revenue=1"),
        ErrorCode::InvalidParameter,
        Some("revenue"),
        "revenue is given 3 times with different values; send it once",
    );
}

#[test]
fn a_key_with_and_without_brackets_is_refused() {
    assert_error(
        get(UpdateTags, "call_log_id=a&add=x&add[k]=v"),
        ErrorCode::InvalidParameter,
        Some("add"),
        "add is sent both as a single value and with brackets (add[k]); send it in one form only",
    );
}

#[test]
fn form_bodies() {
    let request = RequestBuilder::post("/update-fields")
        .form(&[
            ("call_log_id", "abc-123"),
            ("converted", "1"),
            ("revenue_paid_out", "25.50"),
            ("disposition", "Sale & upsell"),
            ("no_payout_reason", "null"),
            ("fields[state]", "NY"),
            ("add[lead]", "hot"),
            ("tags[add][score]", "9"),
            ("remove[]", "a"),
            ("remove[]", "b,c"),
            ("utm_source", "fb"),
        ])
        .build();
    let mut expected = with_ignored(
        with_ops(
            by_id("abc-123"),
            vec![
                add("lead", "hot"),
                add("score", "9"),
                remove("a"),
                remove("b"),
                remove("c"),
            ],
        ),
        &["utm_source"],
    );
    expected.fields.converted = Some(true);
    expected.fields.revenue_paid_out = set("25.50");
    expected.fields.reason = set("Sale & upsell");
    expected.fields.no_payout_reason = Some(None);
    expected.fields.state = set("NY");
    assert_command(map(UpdateFields, request), expected);
}

#[test]
fn a_form_body_without_content_type_is_sniffed() {
    let request = RequestBuilder::post("/update-revenue")
        .body("call_log_id=a&revenue=7.25", None)
        .build();
    assert_command(
        map(UpdateRevenue, request),
        with_revenue(by_id("a"), "7.25"),
    );
    let request = RequestBuilder::post("/update-revenue")
        .body(r#"{"call_log_id": "a", "revenue": 7.25}"#, None)
        .build();
    assert_command(
        map(UpdateRevenue, request),
        with_revenue(by_id("a"), "7.25"),
    );
}

#[test]
fn curl_d_json_declared_as_form_is_json() {
    let request = RequestBuilder::post("/update-fields")
        .body(
            r#"{"call_log_id": "a", "converted": true, "revenue_paid_out": 25.50, "add": [{"x": 1}]}"#,
            Some("application/x-www-form-urlencoded"),
        )
        .build();
    let mut expected = with_ops(by_id("a"), vec![add("x", "1")]);
    expected.fields.converted = Some(true);
    expected.fields.revenue_paid_out = set("25.50");
    assert_command(map(UpdateFields, request), expected);
}

#[test]
fn the_query_fills_in_what_the_body_lacks() {
    let request = RequestBuilder::post("/update-fields")
        .query_string("call_log_id=from-query&reason=query&state=TX&moja_auth_key=k")
        .body(
            r#"{"reason": "body", "converted": true}"#,
            Some("application/json"),
        )
        .build();
    let mut expected = by_id("from-query");
    expected.fields.reason = set("body");
    expected.fields.converted = Some(true);
    expected.fields.state = set("TX");
    assert_command(map(UpdateFields, request), expected);
    // Across spellings too: the body's alias beats the query's preferred name.
    let request = RequestBuilder::post("/update-fields")
        .query_string("reason=query")
        .body(
            r#"{"call_id": "a", "disposition": "body"}"#,
            Some("application/json"),
        )
        .build();
    let command = map(UpdateFields, request).unwrap();
    assert_eq!(command.fields.reason, set("body"));
}

#[test]
fn the_auth_key_is_never_data_nor_ignored() {
    let request = RequestBuilder::post("/update-tags")
        .query("moja_auth_key", "mwk_x")
        .body(
            r#"{"call_log_id": "a", "moja_auth_key": "mwk_y", "add": {"k": "v"}}"#,
            Some("application/json"),
        )
        .build();
    assert_command(
        map(UpdateTags, request),
        with_ops(by_id("a"), vec![add("k", "v")]),
    );
}
