//! Reading a request into named parameters: the JSON or form body first, then the query parameters
//! the body lacks; GET requests are read from the query only.
//!
//! Form bodies and query strings follow the usual bracket convention, so that the GET forms of the
//! documents work: `add[lead_quality]=high` becomes `{"add": {"lead_quality": "high"}}`,
//! `remove[]=a` and a repeated `remove=a&remove=b` become arrays, `fields[converted]=true` becomes
//! `{"fields": {"converted": "true"}}`. Their values stay strings; `coerce` reads them by the type
//! their field expects.

use std::collections::HashSet;

use moja_plugin_sdk::request::{self, BodyKind};
use moja_plugin_sdk::{ErrorCode, HttpRequest, PluginError};
use serde_json::{Map, Value};

use crate::coerce;

/// The credential of the public endpoints. The host strips it from the query; it is dropped here
/// again wherever it appears, and never reported as an ignored field.
pub(crate) const AUTH_KEY: &str = "moja_auth_key";

/// Keys with more bracket levels than this (`a[b][c]…`) are kept as plain keys.
const MAX_BRACKET_DEPTH: usize = 8;

/// Where a parameter came from. The body ranks before the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Source {
    /// The JSON or form body.
    Body,
    /// The query string.
    Query,
}

/// One named parameter.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The key as sent (`revenue_amount`).
    pub(crate) key: String,
    /// The key with its wrapper, as error messages and `ignored_fields` name it (`fields.reason`).
    pub(crate) path: String,
    /// The value. Form and query values are strings, arrays of strings (repeated keys, `key[]`) or
    /// objects of them (`key[sub]`).
    pub(crate) value: Value,
    /// Where it came from.
    pub(crate) source: Source,
    /// The value came from a form body or the query string: its strings are coerced.
    pub(crate) text: bool,
}

impl Entry {
    fn top(key: String, value: Value, source: Source, text: bool) -> Self {
        Self {
            path: key.clone(),
            key,
            value,
            source,
            text,
        }
    }

    /// A member of this entry's object value, such as `fields.reason`.
    pub(crate) fn member(&self, key: &str, value: &Value) -> Self {
        Self {
            key: key.to_owned(),
            path: format!("{}.{key}", self.path),
            value: value.clone(),
            source: self.source,
            text: self.text,
        }
    }
}

/// The parameters of one request, top level, in request order: body fields first, then the query
/// parameters whose key the body does not have.
#[derive(Debug)]
pub(crate) struct Params {
    /// The top-level parameters.
    pub(crate) entries: Vec<Entry>,
    /// The request is a POST (batches need one).
    pub(crate) is_post: bool,
}

/// Reads the parameters of `request`.
///
/// POST (and any method other than GET and HEAD): the body (a JSON object, form fields, or
/// nothing), then the query parameters it lacks. GET and HEAD: the query only; a body is not read.
pub(crate) fn read(request: &HttpRequest) -> Result<Params, PluginError> {
    let method = request.method.to_ascii_uppercase();
    let reads_body = method != "GET" && method != "HEAD";
    let mut entries = Vec::new();
    if reads_body {
        match request::body_kind(request) {
            BodyKind::Empty => {}
            BodyKind::Json => match request::json_body(request)? {
                Value::Object(map) => {
                    for (key, value) in map {
                        if key != AUTH_KEY {
                            entries.push(Entry::top(key, value, Source::Body, false));
                        }
                    }
                }
                other => {
                    return Err(PluginError::new(
                        ErrorCode::InvalidJson,
                        format!(
                            "Invalid JSON body: expected a JSON object such as \
                             {{\"call_log_id\": \"abc-123\"}} at the top level, got {}",
                            coerce::describe(&other)
                        ),
                    ));
                }
            },
            BodyKind::Form => {
                for (key, value) in text_params(request::form_body(request))? {
                    entries.push(Entry::top(key, value, Source::Body, true));
                }
            }
            BodyKind::Unsupported(content_type) => {
                return Err(request::unsupported_media_type(&content_type));
            }
        }
    }
    let body_keys: HashSet<String> = entries.iter().map(|e| e.key.clone()).collect();
    for (key, value) in text_params(request.query.iter().cloned())? {
        if !body_keys.contains(&key) {
            entries.push(Entry::top(key, value, Source::Query, true));
        }
    }
    Ok(Params {
        entries,
        is_post: method == "POST",
    })
}

/// Groups form or query pairs into one value per top-level key, in order of first appearance.
fn text_params(
    pairs: impl IntoIterator<Item = (String, String)>,
) -> Result<Map<String, Value>, PluginError> {
    let mut map = Map::new();
    for (raw, value) in pairs {
        let (base, segments) = split_key(&raw);
        if base == AUTH_KEY {
            continue;
        }
        let slot = map.entry(base.to_owned()).or_insert(Value::Null);
        if put(slot, &segments, value).is_err() {
            return Err(PluginError::invalid(
                base,
                format!(
                    "{} is sent both as a single value and with brackets ({}); \
                     send it in one form only",
                    coerce::short(base),
                    coerce::short(&raw)
                ),
            ));
        }
    }
    Ok(map)
}

/// One bracket level of a form key: `[name]` or `[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    Key(&'a str),
    Push,
}

/// Splits `add[lead][x]` into `add` and its bracket levels. A key that does not follow the
/// convention (`[a]`, `a[b`, `a[]x`, `a[][b]`, too deep) is a plain key.
fn split_key(raw: &str) -> (&str, Vec<Segment<'_>>) {
    let plain = (raw, Vec::new());
    let Some(open) = raw.find('[') else {
        return plain;
    };
    if open == 0 {
        return plain;
    }
    let base = &raw[..open];
    let mut rest = &raw[open..];
    let mut segments = Vec::new();
    while !rest.is_empty() {
        let Some(inner) = rest.strip_prefix('[') else {
            return plain;
        };
        let Some(close) = inner.find(']') else {
            return plain;
        };
        let name = &inner[..close];
        if name.contains('[') || segments.len() == MAX_BRACKET_DEPTH {
            return plain;
        }
        segments.push(if name.is_empty() {
            Segment::Push
        } else {
            Segment::Key(name)
        });
        rest = &inner[close + 1..];
    }
    let push_before_end = segments.iter().rev().skip(1).any(|s| *s == Segment::Push);
    if push_before_end {
        return plain;
    }
    (base, segments)
}

/// Stores `value` at `segments` below `slot` (`Null` for a fresh slot). A repeated plain key turns
/// into an array. `Err` when the key was used both with and without brackets.
fn put(slot: &mut Value, segments: &[Segment<'_>], value: String) -> Result<(), ()> {
    match segments.split_first() {
        None | Some((Segment::Push, _)) => match slot {
            Value::Null if segments.is_empty() => *slot = Value::String(value),
            Value::Null => *slot = Value::Array(vec![Value::String(value)]),
            Value::String(old) => {
                let old = std::mem::take(old);
                *slot = Value::Array(vec![Value::String(old), Value::String(value)]);
            }
            Value::Array(items) => items.push(Value::String(value)),
            _ => return Err(()),
        },
        Some((Segment::Key(key), rest)) => {
            if slot.is_null() {
                *slot = Value::Object(Map::new());
            }
            let Value::Object(map) = slot else {
                return Err(());
            };
            let inner = map.entry((*key).to_owned()).or_insert(Value::Null);
            put(inner, rest, value)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(query: &str) -> Value {
        let pairs = form_urlencoded::parse(query.as_bytes()).into_owned();
        Value::Object(text_params(pairs).unwrap())
    }

    #[test]
    fn brackets_build_objects_and_arrays() {
        assert_eq!(
            parse("add[lead_quality]=high&add[disposition]=sale&remove=a&remove=b,c"),
            json!({"add": {"lead_quality": "high", "disposition": "sale"}, "remove": ["a", "b,c"]})
        );
        assert_eq!(
            parse("call_log_id[]=a&fields[converted]=true&tags[add][x]=1"),
            json!({"call_log_id": ["a"], "fields": {"converted": "true"}, "tags": {"add": {"x": "1"}}})
        );
    }

    #[test]
    fn odd_keys_stay_plain() {
        assert_eq!(
            parse("[a]=1&b[c=2&d[]e=3&f[][g]=4"),
            json!({"[a]": "1", "b[c": "2", "d[]e": "3", "f[][g]": "4"})
        );
        let deep = format!("a{}=1", "[x]".repeat(MAX_BRACKET_DEPTH + 1));
        assert_eq!(parse(&deep), json!({deep.trim_end_matches("=1"): "1"}));
    }

    #[test]
    fn auth_key_is_dropped() {
        assert_eq!(
            parse("moja_auth_key=secret&moja_auth_key[x]=1&a=1"),
            json!({"a": "1"})
        );
    }

    #[test]
    fn mixed_forms_are_refused() {
        let pairs = form_urlencoded::parse(b"add=x&add[k]=v").into_owned();
        let err = text_params(pairs).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidParameter);
        assert_eq!(err.field.as_deref(), Some("add"));
    }
}
