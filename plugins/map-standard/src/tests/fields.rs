//! Call fields: money exactness, `update_revenue`, the `update_fields` field set, the `fields`
//! wrapper, `no_payout_reason`, wrong types and ignored fields.

use moja_plugin_sdk::FieldChanges;

use super::*;

fn fields_of(outcome: Outcome) -> FieldChanges {
    match outcome {
        Ok(command) => command.fields,
        Err(error) => panic!("expected a command, got {error:#?}"),
    }
}

fn assert_fields(outcome: Outcome, expected: FieldChanges) {
    assert_eq!(
        format!("{:#?}", fields_of(outcome)),
        format!("{expected:#?}")
    );
}

// --- money -------------------------------------------------------------------------------------

#[test]
fn money_passes_through_as_written() {
    for amount in ["0.1", "25.50", "1234567890123.45", "0", "2500.00", "007.10"] {
        for written in [amount.to_owned(), format!("\"{amount}\"")] {
            if written == "007.10" {
                continue; // not a JSON number
            }
            let outcome = post_json(
                UpdateRevenue,
                &format!(r#"{{"call_log_id": "a", "revenue_paid_out": {written}}}"#),
            );
            assert_command(outcome, with_revenue(by_id("a"), amount));
            let outcome = post_json(
                UpdateFields,
                &format!(r#"{{"call_log_id": "a", "publisher_paid_out": {written}}}"#),
            );
            let fields = fields_of(outcome);
            assert_eq!(fields.publisher_paid_out, set(amount), "{written}");
        }
    }
    let outcome = post_json(
        UpdateRevenue,
        r#"{"call_log_id": "a", "revenue": " 12.5 "}"#,
    );
    assert_command(outcome, with_revenue(by_id("a"), "12.5"));
}

#[test]
fn money_refuses_signs_exponents_and_words() {
    for (written, shown) in [
        // serde_json writes exponents its own way (`1e+3`); the message quotes that.
        ("1e3", "1e+3"),
        ("1E3", "1e+3"),
        ("2.5e-1", "2.5e-1"),
        ("-5", "-5"),
        ("-0.01", "-0.01"),
        (r#""abc""#, r#""abc""#),
        (r#""1e3""#, r#""1e3""#),
        (r#""+5""#, r#""+5""#),
        (r#""-5""#, r#""-5""#),
        (r#""5.""#, r#""5.""#),
        (r#"".5""#, r#"".5""#),
        (r#""1,000.00""#, r#""1,000.00""#),
        (r#""""#, r#""""#),
        ("true", "true"),
        ("[1]", "an array"),
        (r#"{"amount": 1}"#, "an object"),
    ] {
        for (kind, field) in [
            (UpdateRevenue, "revenue_paid_out"),
            (UpdateFields, "revenue_paid_out"),
            (UpdateFields, "publisher_paid_out"),
        ] {
            assert_error(
                post_json(
                    kind,
                    &format!(r#"{{"call_log_id": "a", "{field}": {written}}}"#),
                ),
                ErrorCode::InvalidParameter,
                Some(field),
                &format!("{field} must be a non-negative decimal number, got {shown}"),
            );
        }
    }
}

#[test]
fn the_error_names_the_spelling_sent() {
    assert_error(
        post_json(UpdateRevenue, r#"{"call_log_id": "a", "amount": "abc"}"#),
        ErrorCode::InvalidParameter,
        Some("amount"),
        "amount must be a non-negative decimal number, got \"abc\"",
    );
}

#[test]
fn revenue_aliases() {
    for alias in ["revenue_paid_out", "revenue", "revenue_amount", "amount"] {
        let outcome = post_json(
            UpdateRevenue,
            &format!(r#"{{"call_log_id": "a", "{alias}": 99.90}}"#),
        );
        assert_command(outcome, with_revenue(by_id("a"), "99.90"));
        let outcome = post_json(
            UpdateFields,
            &format!(r#"{{"call_log_id": "a", "{alias}": 99.90}}"#),
        );
        let expected = FieldChanges {
            revenue_paid_out: set("99.90"),
            ..FieldChanges::default()
        };
        assert_fields(outcome, expected);
    }
}

// --- update_revenue ----------------------------------------------------------------------------

#[test]
fn update_revenue_requires_revenue() {
    for body in [
        r#"{"call_log_id": "a"}"#,
        r#"{"call_log_id": "a", "currency": "EUR", "converted": true}"#,
    ] {
        assert_error(
            post_json(UpdateRevenue, body),
            ErrorCode::MissingParameter,
            Some("revenue_paid_out"),
            "Missing revenue_paid_out parameter",
        );
    }
}

#[test]
fn update_revenue_refuses_null_revenue() {
    assert_error(
        post_json(
            UpdateRevenue,
            r#"{"call_log_id": "a", "revenue_paid_out": null}"#,
        ),
        ErrorCode::InvalidParameter,
        Some("revenue_paid_out"),
        "revenue_paid_out must be a non-negative decimal number, got null",
    );
    assert_error(
        get(UpdateRevenue, "call_log_id=a&revenue=null"),
        ErrorCode::InvalidParameter,
        Some("revenue"),
        "revenue must be a non-negative decimal number, got \"null\"",
    );
}

#[test]
fn currency_is_three_letters_upper_cased() {
    let outcome = post_json(
        UpdateRevenue,
        r#"{"call_log_id": "a", "revenue": 10, "currency": " eur "}"#,
    );
    let mut expected = with_revenue(by_id("a"), "10");
    expected.fields.currency = Some("EUR".into());
    assert_command(outcome, expected);
    let outcome = post_json(
        UpdateRevenue,
        r#"{"call_log_id": "a", "revenue": 10, "currency": null}"#,
    );
    assert_command(outcome, with_revenue(by_id("a"), "10"));
    for (written, shown) in [
        (r#""dollars""#, r#""dollars""#),
        (r#""US""#, r#""US""#),
        (r#""U$D""#, r#""U$D""#),
        ("840", "840"),
    ] {
        assert_error(
            post_json(
                UpdateRevenue,
                &format!(r#"{{"call_log_id": "a", "revenue": 10, "currency": {written}}}"#),
            ),
            ErrorCode::InvalidParameter,
            Some("currency"),
            &format!(
                "currency must be a three-letter ISO 4217 currency code such as USD, got {shown}"
            ),
        );
    }
}

#[test]
fn update_revenue_lists_ignored_fields_in_request_order() {
    let request = moja_plugin_sdk::testing::RequestBuilder::post("/update-revenue")
        .query_string("pixel=1&call_log_id=ignored-too&moja_auth_key=k")
        .body(
            r#"{"utm_source": "g", "call_log_id": "a", "converted": true, "revenue": "1", "add": {"x": "1"}}"#,
            Some("application/json"),
        )
        .build();
    let expected = with_ignored(
        with_revenue(by_id("a"), "1"),
        &["utm_source", "converted", "add", "pixel"],
    );
    assert_command(map(UpdateRevenue, request), expected);
}

// --- update_fields -----------------------------------------------------------------------------

#[test]
fn every_supported_field() {
    let outcome = post_json(
        UpdateFields,
        r#"{
            "call_log_id": "a",
            "converted": false,
            "call_converted_at": "2026-04-03T14:30:00Z",
            "revenue_paid_out": "35.00",
            "publisher_paid_out": 12.5,
            "currency": "usd",
            "reason": "Qualified lead",
            "no_payout_reason": "Caps exceeded",
            "state": "CA",
            "zip": "90210"
        }"#,
    );
    let expected = FieldChanges {
        converted: Some(false),
        call_converted_at: set("2026-04-03T14:30:00Z"),
        revenue_paid_out: set("35.00"),
        revenue_converts: false,
        publisher_paid_out: set("12.5"),
        currency: Some("USD".into()),
        reason: set("Qualified lead"),
        no_payout_reason: set("Caps exceeded"),
        state: set("CA"),
        zip: set("90210"),
    };
    assert_fields(outcome, expected);
}

#[test]
fn nulls_clear_fields() {
    let outcome = post_json(
        UpdateFields,
        r#"{"call_log_id": "a", "call_converted_at": null, "revenue_paid_out": null,
            "publisher_paid_out": null, "reason": null, "no_payout_reason": null,
            "state": null, "zip": null}"#,
    );
    let expected = FieldChanges {
        call_converted_at: Some(None),
        revenue_paid_out: Some(None),
        publisher_paid_out: Some(None),
        reason: Some(None),
        no_payout_reason: Some(None),
        state: Some(None),
        zip: Some(None),
        ..FieldChanges::default()
    };
    assert_fields(outcome, expected);
}

#[test]
fn field_aliases() {
    let outcome = post_json(
        UpdateFields,
        r#"{"call_id": "a", "converted_at": "2026-04-03T14:30:00+02:00", "disposition": "sale",
            "zip_code": 90210}"#,
    );
    let expected = FieldChanges {
        call_converted_at: set("2026-04-03T14:30:00+02:00"),
        reason: set("sale"),
        zip: set("90210"),
        ..FieldChanges::default()
    };
    assert_fields(outcome, expected);
    // The preferred spelling wins over its alias.
    let outcome = post_json(
        UpdateFields,
        r#"{"call_id": "a", "disposition": "second", "reason": "first"}"#,
    );
    let expected = FieldChanges {
        reason: set("first"),
        ..FieldChanges::default()
    };
    assert_fields(outcome, expected);
}

#[test]
fn no_payout_reason_values() {
    for reason in [
        "Campaign preconversion",
        "Condition not met",
        "Caps exceeded",
    ] {
        let outcome = post_json(
            UpdateFields,
            &format!(r#"{{"call_log_id": "a", "no_payout_reason": "{reason}"}}"#),
        );
        let expected = FieldChanges {
            no_payout_reason: set(reason),
            ..FieldChanges::default()
        };
        assert_fields(outcome, expected);
    }
    for (written, shown) in [
        (r#""caps exceeded""#, r#""caps exceeded""#),
        (r#""Caps exceeded ""#, r#""Caps exceeded ""#),
        (r#""Fraud""#, r#""Fraud""#),
        (r#""""#, r#""""#),
        ("3", "3"),
        ("false", "false"),
    ] {
        assert_error(
            post_json(
                UpdateFields,
                &format!(r#"{{"call_log_id": "a", "no_payout_reason": {written}}}"#),
            ),
            ErrorCode::InvalidParameter,
            Some("no_payout_reason"),
            &format!(
                "no_payout_reason must be one of \"Campaign preconversion\", \"Condition not met\", \
                 \"Caps exceeded\" or null, got {shown}"
            ),
        );
    }
    let outcome = get(
        UpdateFields,
        "call_log_id=a&no_payout_reason=Condition%20not%20met",
    );
    let expected = FieldChanges {
        no_payout_reason: set("Condition not met"),
        ..FieldChanges::default()
    };
    assert_fields(outcome, expected);
}

#[test]
fn wrong_json_types_name_the_field_and_the_expected_type() {
    for (body, field, message) in [
        (
            r#""converted": "yes""#,
            "converted",
            r#"converted must be true or false, got "yes""#,
        ),
        (
            r#""converted": null"#,
            "converted",
            "converted must be true or false, got null",
        ),
        (
            r#""converted": 1"#,
            "converted",
            "converted must be true or false, got 1",
        ),
        (
            r#""call_converted_at": 1775226600"#,
            "call_converted_at",
            "call_converted_at must be an RFC 3339 timestamp such as \"2026-04-03T14:30:00Z\", \
             or null, got 1775226600",
        ),
        (
            r#""reason": 42"#,
            "reason",
            "reason must be a string or null, got 42",
        ),
        (
            r#""disposition": ["sale"]"#,
            "disposition",
            "disposition must be a string or null, got an array",
        ),
        (
            r#""state": true"#,
            "state",
            "state must be a string or null, got true",
        ),
        (
            r#""zip": {"code": "90210"}"#,
            "zip",
            "zip must be a string or null, got an object",
        ),
        (
            r#""fields": ["converted"]"#,
            "fields",
            "fields must be an object of call fields such as {\"converted\": true}, got an array",
        ),
    ] {
        assert_error(
            post_json(UpdateFields, &format!(r#"{{"call_log_id": "a", {body}}}"#)),
            ErrorCode::InvalidParameter,
            Some(field),
            message,
        );
    }
}

#[test]
fn quoted_booleans_are_read() {
    for (written, value) in [
        (r#""true""#, true),
        (r#""FALSE""#, false),
        (r#""1""#, true),
        (r#""0""#, false),
    ] {
        let outcome = post_json(
            UpdateFields,
            &format!(r#"{{"call_log_id": "a", "converted": {written}}}"#),
        );
        assert_eq!(fields_of(outcome).converted, Some(value), "{written}");
    }
}

#[test]
fn the_fields_wrapper_merges_with_the_top_level() {
    let outcome = post_json(
        UpdateFields,
        r#"{"call_log_id": "a", "reason": "top", "fields": {"converted": true, "revenue_paid_out": "10.00", "crm_id": 7, "fields": {}}, "utm": "x"}"#,
    );
    let mut expected = with_ignored(by_id("a"), &["fields.crm_id", "fields.fields", "utm"]);
    expected.fields.reason = set("top");
    expected.fields.converted = Some(true);
    expected.fields.revenue_paid_out = set("10.00");
    assert_command(outcome, expected);
}

#[test]
fn identification_and_tags_may_sit_under_fields() {
    let outcome = post_json(
        UpdateFields,
        r#"{"fields": {"call_log_id": "a", "transaction_id": "t", "add": {"x": "1"}, "tags": {"remove": "y"}}}"#,
    );
    let expected = with_transaction(with_ops(by_id("a"), vec![add("x", "1"), remove("y")]), "t");
    assert_command(outcome, expected);
}

#[test]
fn the_same_field_in_both_places() {
    // The same value twice is fine, whatever the spelling.
    let outcome = post_json(
        UpdateFields,
        r#"{"call_log_id": "a", "revenue": 10.00, "fields": {"revenue_paid_out": 10.00, "converted": "true"}, "converted": true}"#,
    );
    let expected = FieldChanges {
        converted: Some(true),
        revenue_paid_out: set("10.00"),
        ..FieldChanges::default()
    };
    assert_fields(outcome, expected);
    assert_error(
        post_json(
            UpdateFields,
            r#"{"call_log_id": "a", "converted": true, "fields": {"converted": false}}"#,
        ),
        ErrorCode::InvalidParameter,
        Some("fields.converted"),
        "converted is given both at the top level (converted) and under fields \
         (fields.converted) with different values; send it once",
    );
    assert_error(
        post_json(
            UpdateFields,
            r#"{"call_log_id": "a", "fields": {"amount": "2.00"}, "revenue": "1.00"}"#,
        ),
        ErrorCode::InvalidParameter,
        Some("fields.amount"),
        "revenue_paid_out is given both at the top level (revenue) and under fields \
         (fields.amount) with different values; send it once",
    );
    assert_error(
        post_json(
            UpdateFields,
            r#"{"call_log_id": "a", "converted": true, "fields": {"call_log_id": "b"}}"#,
        ),
        ErrorCode::InvalidParameter,
        Some("fields.call_log_id"),
        "call_log_id is given both at the top level (call_log_id) and under fields \
         (fields.call_log_id) with different values; send it once",
    );
}

#[test]
fn fields_is_an_ordinary_unknown_field_elsewhere() {
    let outcome = post_json(
        UpdateRevenue,
        r#"{"call_log_id": "a", "fields": {"revenue_paid_out": 1}, "revenue": 2}"#,
    );
    assert_command(
        outcome,
        with_ignored(with_revenue(by_id("a"), "2"), &["fields"]),
    );
}

#[test]
fn update_fields_must_change_something() {
    assert_error(
        post_json(
            UpdateFields,
            r#"{"call_log_id": "a", "revenu": 10, "fields": {"convertd": true}}"#,
        ),
        ErrorCode::MissingParameter,
        None,
        "Nothing to update: provide at least one of converted, call_converted_at, \
         revenue_paid_out, publisher_paid_out, currency, reason, no_payout_reason, state, zip, \
         add or remove (not understood: revenu, fields.convertd)",
    );
    assert_error(
        post_json(
            UpdateFields,
            r#"{"call_log_id": "a", "tags": {}, "remove": []}"#,
        ),
        ErrorCode::MissingParameter,
        None,
        "Nothing to update: provide at least one of converted, call_converted_at, \
         revenue_paid_out, publisher_paid_out, currency, reason, no_payout_reason, state, zip, \
         add or remove",
    );
    // A field set to null is a change.
    let outcome = post_json(UpdateFields, r#"{"call_log_id": "a", "reason": null}"#);
    let expected = FieldChanges {
        reason: Some(None),
        ..FieldChanges::default()
    };
    assert_fields(outcome, expected);
}
