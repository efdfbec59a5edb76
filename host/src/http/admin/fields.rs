//! How admin request members are read (`#[serde(deserialize_with = "…")]`): trimmed text, words
//! of a closed set, whole numbers, members that `null` clears, exact amounts, arrays of strings,
//! ordered string objects, and the text filters of query strings. Each reader's error says what was expected; the extractors of
//! [`super::input`] add the member's name.

use std::fmt;

use moja_core::events::EventType;
use moja_core::money;
use moja_core::rate_limit::Period;
use moja_store::{BodyFormat, MatchPolicy, WebhookKind};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// The longest name, description or other free text accepted, in characters.
const MAX_TEXT: usize = 500;

/// Free text: trimmed, non-empty, at most [`MAX_TEXT`] characters.
pub(super) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    String::deserialize(d).and_then(trimmed)
}

/// [`text`] that may be left out (or `null`).
pub(super) fn optional_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)?.map(trimmed).transpose()
}

/// `text` trimmed, if it is then non-empty and not too long.
fn trimmed<E: de::Error>(text: String) -> Result<String, E> {
    let text = text.trim();
    if text.is_empty() {
        return Err(E::custom("must not be empty"));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(E::custom(format!("at most {MAX_TEXT} characters")));
    }
    Ok(text.to_owned())
}

/// Optional text that `parse` turns into a value; `expected` says what it should have been.
pub(super) fn parsed<'de, D, T>(
    d: D,
    parse: impl FnOnce(&str) -> Option<T>,
    expected: &str,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    optional_text(d)?
        .map(|text| parse(&text).ok_or_else(|| de::Error::custom(expected)))
        .transpose()
}

/// A value of a closed set named by a word (`update_tags`, `hour`, `call.completed`).
pub(super) trait Word: Sized {
    /// The value `text` names, or what was expected instead.
    fn from_word(text: &str) -> Result<Self, String>;
}

impl Word for WebhookKind {
    fn from_word(text: &str) -> Result<Self, String> {
        WebhookKind::parse(text).ok_or_else(|| {
            "expected call_data, update_revenue, update_tags or update_fields".to_owned()
        })
    }
}

impl Word for MatchPolicy {
    fn from_word(text: &str) -> Result<Self, String> {
        [MatchPolicy::All, MatchPolicy::MostRecent]
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| "expected all or most_recent".to_owned())
    }
}

impl Word for Period {
    fn from_word(text: &str) -> Result<Self, String> {
        text.parse()
            .map_err(|e: moja_core::rate_limit::UnknownPeriod| e.to_string())
    }
}

impl Word for BodyFormat {
    fn from_word(text: &str) -> Result<Self, String> {
        BodyFormat::parse(text).ok_or_else(|| "expected json or form".to_owned())
    }
}

impl Word for EventType {
    fn from_word(text: &str) -> Result<Self, String> {
        EventType::parse(text).ok_or_else(|| {
            let names: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
            format!(
                "expected one of {} (see GET /api/v1/event-types)",
                names.join(", ")
            )
        })
    }
}

/// A [`Word`] member, trimmed; `null` counts as absent.
pub(super) fn word<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Word,
{
    named(optional_text(d)?)
}

/// The [`Word`] `text` names, if any.
fn named<T: Word, E: de::Error>(text: Option<String>) -> Result<Option<T>, E> {
    text.map(|text| T::from_word(&text).map_err(E::custom))
        .transpose()
}

/// A whole number; `null` counts as absent. Ranges are the types' [`Check`](super::input::Check).
pub(super) fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Option::<Value>::deserialize(d)?
        .map(whole_value)
        .transpose()
}

/// [`whole`] that `null` clears.
pub(super) fn nullable_whole<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<i64>>, D::Error> {
    Ok(Some(
        Option::<Value>::deserialize(d)?
            .map(whole_value)
            .transpose()?,
    ))
}

/// `1.5`, `1e3` or `"5"` are not whole numbers (serde_json keeps a number's text).
fn whole_value<E: de::Error>(value: Value) -> Result<i64, E> {
    value
        .as_i64()
        .ok_or_else(|| E::custom("expected a whole number"))
}

/// An array of strings; `null` counts as absent.
pub(super) fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let Some(value) = Option::<Value>::deserialize(d)? else {
        return Ok(None);
    };
    value
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        })
        .map(Some)
        .ok_or_else(|| de::Error::custom("expected an array of strings"))
}

/// A member that `null` clears: left out is `None`, `null` is `Some(None)`.
pub(super) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// An amount that `null` clears, as a JSON number or a numeric string, parsed exactly (never
/// through `f64`: serde_json keeps a number's text, so `0.1` stays `0.1`).
pub(super) fn nullable_amount<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<Decimal>>, D::Error> {
    let text = match Value::deserialize(d)? {
        Value::Null => return Ok(Some(None)),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s,
        _ => return Err(de::Error::custom("expected an amount like 35.00")),
    };
    money::parse_amount(&text)
        .map(|amount| Some(Some(amount)))
        .map_err(de::Error::custom)
}

/// An object whose members are all strings, kept in order; `null` counts as absent.
pub(super) fn string_pairs<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<(String, String)>>, D::Error> {
    struct Pairs(Vec<(String, String)>);

    impl<'de> Deserialize<'de> for Pairs {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_map(PairsVisitor)
        }
    }

    struct PairsVisitor;

    impl<'de> Visitor<'de> for PairsVisitor {
        type Value = Pairs;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of strings")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
            let mut pairs = Vec::new();
            while let Some(pair) = map.next_entry::<String, String>()? {
                pairs.push(pair);
            }
            Ok(Pairs(pairs))
        }
    }

    Ok(Option::<Pairs>::deserialize(d)?.map(|p| p.0))
}

/// A query filter's text; an empty value counts as absent.
pub(super) fn filter<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|text| !text.is_empty()))
}

/// A query filter naming a [`Word`]; an empty value counts as absent.
pub(super) fn filter_word<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Word,
{
    named(filter(d)?)
}

/// A query filter holding an HTTP status code; an empty value counts as absent.
pub(super) fn status<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    filter(d)?
        .map(|text| {
            text.parse::<u16>()
                .ok()
                .filter(|s| (100..=599).contains(s))
                .ok_or_else(|| de::Error::custom("expected an HTTP status code"))
        })
        .transpose()
}

/// A query flag: left out, empty, `false` or `0` is false; `true` or `1` is true.
pub(super) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Option::<String>::deserialize(d)?.as_deref() {
        None | Some("" | "false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(de::Error::custom("expected true or false")),
    }
}
