//! Properties: arbitrary JSON objects and arbitrary query strings never panic the mapper, and
//! every command it returns keeps the invariants the host relies on.

use std::collections::HashSet;

use moja_plugin_sdk::testing::RequestBuilder;
use proptest::prelude::*;
use serde_json::{Map, Value};

use super::*;
use crate::coerce::is_decimal;

const KINDS: [WebhookKind; 4] = [CallData, UpdateRevenue, UpdateTags, UpdateFields];

/// Keys the mapper reads, so that generated objects reach its interesting paths.
const KNOWN_KEYS: &[&str] = &[
    "call_log_id",
    "call_id",
    "callLogId",
    "phone_number",
    "caller_id",
    "from",
    "phone",
    "transaction_id",
    "revenue_paid_out",
    "revenue",
    "revenue_amount",
    "amount",
    "currency",
    "converted",
    "call_converted_at",
    "converted_at",
    "publisher_paid_out",
    "reason",
    "disposition",
    "no_payout_reason",
    "state",
    "zip",
    "zip_code",
    "add",
    "remove",
    "tags",
    "fields",
    "moja_auth_key",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(KNOWN_KEYS).prop_map(str::to_owned),
        1 => "\\PC{0,12}",
    ]
}

fn number() -> impl Strategy<Value = Value> {
    "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,12})?([eE][+-]?[0-9]{1,3})?"
        .prop_map(|text| serde_json::from_str(&text).expect("a JSON number"))
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        "\\PC{0,16}".prop_map(Value::String),
        prop::sample::select(&["true", "null", "25.50", "Caps exceeded", "a,b", "  "][..])
            .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((key(), json_value()), 0..12)
        .prop_map(|pairs| pairs.into_iter().collect())
}

fn query_key() -> impl Strategy<Value = String> {
    prop_oneof![
        key(),
        (key(), "[a-z!]{0,4}").prop_map(|(k, sub)| format!("{k}[{sub}]")),
        (key(), "[a-z]{1,4}", "[a-z]{0,4}").prop_map(|(k, a, b)| format!("{k}[{a}][{b}]")),
        key().prop_map(|k| format!("{k}[]")),
    ]
}

fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        prop::sample::select(&["true", "0", "null", "25.50", "1e3", "-5", "a,b", ""][..])
            .prop_map(str::to_owned),
    ]
}

/// The invariants of a command the mapper returned.
fn check(kind: WebhookKind, command: &Command) -> Result<(), TestCaseError> {
    match &command.calls {
        CallSelector::None => prop_assert!(matches!(kind, CallData)),
        CallSelector::CallLogId(id) | CallSelector::PhoneNumber(id) => {
            prop_assert!(!id.trim().is_empty());
            prop_assert_eq!(id.trim(), id.as_str());
        }
        CallSelector::CallLogIds(ids) => {
            prop_assert!(!ids.is_empty() && ids.len() <= 50);
            let unique: HashSet<&String> = ids.iter().collect();
            prop_assert_eq!(unique.len(), ids.len());
        }
    }
    match kind {
        CallData => prop_assert!(command.caller_id.is_some()),
        _ => prop_assert!(command.caller_id.is_none() && command.call_data.is_empty()),
    }
    for money in [
        &command.fields.revenue_paid_out,
        &command.fields.publisher_paid_out,
    ] {
        if let Some(Some(text)) = money {
            prop_assert!(is_decimal(text), "{}", text);
        }
    }
    if matches!(kind, UpdateRevenue) {
        prop_assert!(command.fields.revenue_converts);
        prop_assert!(matches!(command.fields.revenue_paid_out, Some(Some(_))));
    }
    if matches!(kind, UpdateTags) {
        prop_assert!(!command.tag_ops.is_empty());
    }
    for op in &command.tag_ops {
        let key = match op {
            TagOp::Add((key, _)) | TagOp::Remove(key) => key,
        };
        prop_assert!(!key.is_empty());
        prop_assert_eq!(&moja_plugin_sdk::keys::normalize_key(key), key);
    }
    prop_assert!(
        !command
            .ignored_fields
            .iter()
            .any(|f| f.contains("moja_auth_key"))
    );
    Ok(())
}

fn check_outcome(kind: WebhookKind, outcome: &Outcome) -> Result<(), TestCaseError> {
    match outcome {
        Ok(command) => check(kind, command),
        Err(error) => {
            prop_assert!(!error.message.is_empty());
            prop_assert!(error.message.len() < 1024, "{}", error.message);
            Ok(())
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn json_objects_never_panic(object in json_object()) {
        let body = Value::Object(object).to_string();
        for kind in KINDS {
            let request = RequestBuilder::post(path(kind)).body(body.clone(), Some("application/json")).build();
            check_outcome(kind, &map(kind, request))?;
        }
    }

    #[test]
    fn queries_never_panic(
        pairs in prop::collection::vec((query_key(), query_value()), 0..12),
        post in any::<bool>(),
    ) {
        for kind in KINDS {
            let mut builder = RequestBuilder::new(if post { "POST" } else { "GET" }, path(kind));
            for (key, value) in &pairs {
                builder = builder.query(key, value);
            }
            check_outcome(kind, &map(kind, builder.build()))?;
        }
    }

    #[test]
    fn arbitrary_bodies_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..64),
        content_type in prop::option::of(prop::sample::select(&[
            "application/json", "application/x-www-form-urlencoded", "text/plain", ""][..])),
    ) {
        for kind in KINDS {
            let request = RequestBuilder::post(path(kind)).body(body.clone(), content_type).build();
            check_outcome(kind, &map(kind, request))?;
        }
    }
}
