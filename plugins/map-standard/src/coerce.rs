//! Reading one parameter as the type its field expects, coercing the strings of GET queries and
//! form bodies (`"true"`, `"25.50"`, `"null"`), and the error messages that name what was expected.
//!
//! Every reader returns `Ok(None)` for "not given / null" where the field allows it, so that
//! `lookup` can tell a given value from an absent one.

use std::borrow::Cow;

use moja_plugin_sdk::PluginError;

use crate::input::Entry;
use crate::json::Val;

/// The values `no_payout_reason` accepts besides null (SPEC §5), spelled exactly.
pub(crate) const NO_PAYOUT_REASONS: [&str; 3] = [
    "Campaign preconversion",
    "Condition not met",
    "Caps exceeded",
];

/// Longest excerpt of a refused string quoted back in an error message, in characters.
const SHOWN_CHARS: usize = 60;

/// The JSON type of `value` with its article, for messages: `a string`, `an array`.
pub(crate) fn describe(value: &Val<'_>) -> &'static str {
    match value {
        Val::Null | Val::Skipped => "null",
        Val::Bool(_) => "a boolean",
        Val::Number(_) => "a number",
        Val::String(_) => "a string",
        Val::Array(_) => "an array",
        Val::Object(_) => "an object",
    }
}

/// `value` as an error message quotes it: scalars as JSON text (long strings cut), containers by
/// their type.
pub(crate) fn shown(value: &Val<'_>) -> String {
    match value {
        Val::String(s) if s.chars().count() > SHOWN_CHARS => {
            let cut: String = s.chars().take(SHOWN_CHARS).collect();
            format!("{}…", quoted(&cut))
        }
        Val::String(s) => quoted(s),
        Val::Array(_) | Val::Object(_) | Val::Null | Val::Skipped => describe(value).to_owned(),
        Val::Bool(b) => b.to_string(),
        Val::Number(n) => n.to_string(),
    }
}

/// `s` as a JSON string literal.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    crate::json::write_json_string(s, &mut out);
    out
}

/// A parameter name as a message quotes it: cut to [`SHOWN_CHARS`] characters.
pub(crate) fn short(name: &str) -> Cow<'_, str> {
    if name.chars().count() <= SHOWN_CHARS {
        return Cow::Borrowed(name);
    }
    let cut: String = name.chars().take(SHOWN_CHARS).collect();
    Cow::Owned(format!("{cut}…"))
}

fn invalid(entry: &Entry<'_>, expected: &str, value: &Val<'_>) -> PluginError {
    let path = entry.path();
    PluginError::invalid(
        &path,
        format!("{path} must be {expected}, got {}", shown(value)),
    )
}

/// The one value of `entry`. Form and query values are coerced here: the string `"null"` is null,
/// and a key repeated with the same value counts once (a repeated key with different values is an
/// error: which one was meant cannot be told).
pub(crate) fn single<'p>(entry: &Entry<'p>) -> Result<Cow<'p, Val<'p>>, PluginError> {
    if !entry.text {
        return Ok(Cow::Borrowed(entry.value));
    }
    let value = match entry.value {
        Val::Array(items) => match items.first() {
            Some(first) if items.iter().all(|item| item == first) => first,
            _ => {
                let path = entry.path();
                return Err(PluginError::invalid(
                    &path,
                    format!(
                        "{path} is given {} times with different values; send it once",
                        items.len()
                    ),
                ));
            }
        },
        other => other,
    };
    if value.as_str() == Some("null") {
        return Ok(Cow::Owned(Val::Null));
    }
    Ok(Cow::Borrowed(value))
}

/// An identifier (`call_log_id`, `phone_number`, `caller_id`, `transaction_id`): a string, trimmed,
/// or a number taken as its text. Null and blank mean not given. `expected` completes the message
/// `<field> must be …`.
pub(crate) fn id(entry: &Entry<'_>, expected: &str) -> Result<Option<String>, PluginError> {
    let value = single(entry)?;
    let text = match value.as_ref() {
        Val::Null => return Ok(None),
        Val::String(s) => s.trim(),
        Val::Number(n) => n,
        other => return Err(invalid(entry, expected, other)),
    };
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// A boolean: JSON `true`/`false`, or the strings `true`, `false`, `1`, `0` (any case, from any
/// source: some JSON senders quote their booleans).
pub(crate) fn boolean(entry: &Entry<'_>) -> Result<Option<bool>, PluginError> {
    let value = single(entry)?;
    let parsed = match value.as_ref() {
        Val::Bool(b) => Some(*b),
        Val::String(s) => {
            let s = s.trim();
            if s.eq_ignore_ascii_case("true") || s == "1" {
                Some(true)
            } else if s.eq_ignore_ascii_case("false") || s == "0" {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    };
    match parsed {
        Some(b) => Ok(Some(b)),
        None => Err(invalid(entry, "true or false", &value)),
    }
}

/// Whether `text` is a non-negative decimal written plainly: `^\d+(\.\d+)?$`.
pub(crate) fn is_decimal(text: &str) -> bool {
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

/// A money amount: a JSON number or a numeric string, kept exactly as written (`25.50` stays
/// `"25.50"`; never through binary floating point). Non-negative plain decimals only: no sign, no
/// exponent. `Ok(Some(None))` is null, allowed only when `nullable`.
pub(crate) fn money(
    entry: &Entry<'_>,
    nullable: bool,
) -> Result<Option<Option<String>>, PluginError> {
    let value = single(entry)?;
    let text = match value.as_ref() {
        Val::Null if nullable => return Ok(Some(None)),
        Val::Number(n) => n,
        Val::String(s) => s.trim(),
        _ => "",
    };
    if is_decimal(text) {
        return Ok(Some(Some(text.to_owned())));
    }
    // Quote what was sent: a refused `"null"` string over GET reads better than `null`.
    let sent = match value.as_ref() {
        Val::Null if entry.text => &Val::String(Cow::Borrowed("null")),
        other => other,
    };
    Err(invalid(entry, "a non-negative decimal number", sent))
}

/// A string field that may be set to null (`reason`, `state`): `Some(None)` is null. Numbers are
/// taken as their text when `numbers` (a ZIP code sent as `90210`).
pub(crate) fn nullable_text(
    entry: &Entry<'_>,
    numbers: bool,
) -> Result<Option<Option<String>>, PluginError> {
    let value = single(entry)?;
    match value.as_ref() {
        Val::Null => Ok(Some(None)),
        Val::String(s) => Ok(Some(Some(s.to_string()))),
        Val::Number(n) if numbers => Ok(Some(Some(n.to_string()))),
        other => Err(invalid(entry, "a string or null", other)),
    }
}

/// `call_converted_at`: an RFC 3339 string, passed through (the host validates it), or null.
pub(crate) fn timestamp(entry: &Entry<'_>) -> Result<Option<Option<String>>, PluginError> {
    let value = single(entry)?;
    match value.as_ref() {
        Val::Null => Ok(Some(None)),
        Val::String(s) => Ok(Some(Some(s.trim().to_owned()))),
        other => Err(invalid(
            entry,
            "an RFC 3339 timestamp such as \"2026-04-03T14:30:00Z\", or null",
            other,
        )),
    }
}

/// `no_payout_reason`: one of [`NO_PAYOUT_REASONS`], spelled exactly, or null.
pub(crate) fn no_payout_reason(entry: &Entry<'_>) -> Result<Option<Option<String>>, PluginError> {
    let value = single(entry)?;
    let expected =
        "one of \"Campaign preconversion\", \"Condition not met\", \"Caps exceeded\" or null";
    match value.as_ref() {
        Val::Null => Ok(Some(None)),
        Val::String(s) if NO_PAYOUT_REASONS.contains(&s.as_ref()) => Ok(Some(Some(s.to_string()))),
        other => Err(invalid(entry, expected, other)),
    }
}

/// `currency`: a three-letter ISO 4217 code, upper-cased. Null means not given (the default, USD).
pub(crate) fn currency(entry: &Entry<'_>) -> Result<Option<String>, PluginError> {
    let value = single(entry)?;
    match value.as_ref() {
        Val::Null => Ok(None),
        Val::String(s) => {
            let code = s.trim();
            if code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()) {
                Ok(Some(code.to_ascii_uppercase()))
            } else {
                Err(invalid(
                    entry,
                    "a three-letter ISO 4217 currency code such as USD",
                    &value,
                ))
            }
        }
        other => Err(invalid(
            entry,
            "a three-letter ISO 4217 currency code such as USD",
            other,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Source;
    use serde_json::{Value, json};

    fn entry(value: Value, text: bool) -> Entry<'static> {
        Entry {
            key: "f",
            parent: None,
            name: None,
            value: Box::leak(Box::new(Val::from_json(value))),
            source: Source::Body,
            text,
        }
    }

    #[test]
    fn decimals() {
        for ok in ["0", "0.1", "25.50", "007.5", "1234567890123.45"] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in [
            "", ".5", "5.", "-5", "+5", "1e3", "1.2.3", "abc", " 1", "1,5", "١٢",
        ] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }

    #[test]
    fn single_merges_equal_repeats_only() {
        let same = entry(json!(["a", "a"]), true);
        assert_eq!(single(&same).unwrap().as_ref(), &json!("a"));
        let differ = entry(json!(["a", "b"]), true);
        assert_eq!(
            single(&differ).unwrap_err().message,
            "f is given 2 times with different values; send it once"
        );
        let json_array = entry(json!(["a", "b"]), false);
        assert_eq!(single(&json_array).unwrap().as_ref(), &json!(["a", "b"]));
    }

    #[test]
    fn null_string_is_null_only_in_text() {
        assert_eq!(
            nullable_text(&entry(json!("null"), true), false).unwrap(),
            Some(None)
        );
        assert_eq!(
            nullable_text(&entry(json!("null"), false), false).unwrap(),
            Some(Some("null".to_owned()))
        );
    }

    #[test]
    fn long_strings_are_cut_in_messages() {
        let long = "x".repeat(500);
        let err = money(&entry(json!(long), false), false).unwrap_err();
        assert!(err.message.len() < 150, "{}", err.message);
        assert!(err.message.ends_with("…"), "{}", err.message);
    }
}
