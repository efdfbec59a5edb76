//! Reading a request into named parameters: the JSON or form body first, then the query parameters
//! the body lacks; GET requests are read from the query only.
//!
//! Form bodies and query strings follow the usual bracket convention, so that the GET forms of the
//! documents work: `add[lead_quality]=high` becomes `{"add": {"lead_quality": "high"}}`,
//! `remove[]=a` and a repeated `remove=a&remove=b` become arrays, `fields[converted]=true` becomes
//! `{"fields": {"converted": "true"}}`. Their values stay strings; `coerce` reads them by the type
//! their field expects.
//!
//! Parameters borrow from the request: a JSON body is read in one pass without a `Value` tree
//! (see [`json`](crate::json)), and the values of top-level fields the mapper never reads are
//! checked but not kept.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use moja_plugin_sdk::request::{self, BodyKind};
use moja_plugin_sdk::{ErrorCode, HttpRequest, PluginError};

use crate::coerce;
use crate::json::{self, Members, MembersBuilder, Val};
use crate::lookup::Name;

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

/// One top-level parameter of a request.
#[derive(Debug)]
pub(crate) struct Param<'a> {
    /// The key as sent (`revenue_amount`).
    pub(crate) key: Cow<'a, str>,
    /// The name the key is, if the mapper reads it.
    pub(crate) name: Option<Name>,
    /// The value. Form and query values are strings, arrays of strings (repeated keys, `key[]`) or
    /// objects of them (`key[sub]`). Values of keys the mapper never reads may be `Skipped`.
    pub(crate) value: Val<'a>,
    /// Where it came from.
    pub(crate) source: Source,
    /// The value came from a form body or the query string: its strings are coerced.
    pub(crate) text: bool,
}

impl<'a> Param<'a> {
    fn new(key: Cow<'a, str>, value: Val<'a>, source: Source, text: bool) -> Self {
        Self {
            name: Name::of(&key),
            key,
            value,
            source,
            text,
        }
    }

    /// This parameter as the readers see it.
    pub(crate) fn entry(&self) -> Entry<'_> {
        Entry {
            key: &self.key,
            parent: None,
            name: self.name,
            value: &self.value,
            source: self.source,
            text: self.text,
        }
    }
}

/// One named parameter, at the top level or a member of a wrapper.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'p> {
    /// The key as sent (`revenue_amount`).
    pub(crate) key: &'p str,
    /// The key of the wrapper it sits in (`fields`), if any.
    pub(crate) parent: Option<&'p str>,
    /// The name the key is, if the mapper reads it.
    pub(crate) name: Option<Name>,
    /// The value.
    pub(crate) value: &'p Val<'p>,
    /// Where it came from.
    pub(crate) source: Source,
    /// The value came from a form body or the query string: its strings are coerced.
    pub(crate) text: bool,
}

impl<'p> Entry<'p> {
    /// The key with its wrapper, as error messages and `ignored_fields` name it (`fields.reason`).
    pub(crate) fn path(&self) -> Cow<'p, str> {
        match self.parent {
            None => Cow::Borrowed(self.key),
            Some(parent) => Cow::Owned(format!("{parent}.{}", self.key)),
        }
    }

    /// A member of this entry's object value, such as `fields.reason`.
    pub(crate) fn member(&self, key: &'p str, value: &'p Val<'p>) -> Self {
        Self {
            key,
            parent: Some(self.key),
            name: Name::of(key),
            value,
            source: self.source,
            text: self.text,
        }
    }
}

/// The parameters of one request, top level, in request order: body fields first, then the query
/// parameters whose key the body does not have.
#[derive(Debug)]
pub(crate) struct Params<'a> {
    /// The top-level parameters.
    pub(crate) entries: Vec<Param<'a>>,
    /// The request is a POST (batches need one).
    pub(crate) is_post: bool,
}

/// Reads the parameters of `request`.
///
/// POST (and any method other than GET and HEAD): the body (a JSON object, form fields, or
/// nothing), then the query parameters it lacks. GET and HEAD: the query only; a body is not read.
pub(crate) fn read(request: &HttpRequest) -> Result<Params<'_>, PluginError> {
    let method = request.method.as_str();
    let reads_body = !method.eq_ignore_ascii_case("GET") && !method.eq_ignore_ascii_case("HEAD");
    let mut entries = Vec::new();
    if reads_body {
        match request::body_kind(request) {
            BodyKind::Empty => {}
            BodyKind::Json => {
                let members = match json::top_object(&request.body, |key| Name::of(key).is_some()) {
                    Ok(members) => members,
                    Err(json::GiveUp) => serde_members(request)?,
                };
                entries.reserve(members.len());
                for (key, value) in members {
                    if key != AUTH_KEY {
                        entries.push(Param::new(key, value, Source::Body, false));
                    }
                }
            }
            BodyKind::Form => {
                for (key, value) in text_params(form_urlencoded::parse(&request.body))? {
                    entries.push(Param::new(key, value, Source::Body, true));
                }
            }
            BodyKind::Unsupported(content_type) => {
                return Err(request::unsupported_media_type(&content_type));
            }
        }
    }
    let mut query = text_params(
        request
            .query
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str())),
    )?;
    if !entries.is_empty() && !query.is_empty() {
        if entries.len() * query.len() <= 256 {
            query.retain(|(key, _)| !entries.iter().any(|e| e.key == *key));
        } else {
            let body_keys: HashSet<&str> = entries.iter().map(|e| e.key.as_ref()).collect();
            query.retain(|(key, _)| !body_keys.contains(key.as_ref()));
        }
    }
    entries.reserve(query.len());
    for (key, value) in query {
        entries.push(Param::new(key, value, Source::Query, true));
    }
    Ok(Params {
        entries,
        is_post: method.eq_ignore_ascii_case("POST"),
    })
}

/// The members of a JSON body read by serde_json: the body the single-pass reader gave up on
/// (invalid JSON, whose error serde_json words; deep nesting; a top level that is not an object…).
#[cold]
fn serde_members(request: &HttpRequest) -> Result<Members<'static>, PluginError> {
    match Val::from_json(request::json_body(request)?) {
        Val::Object(members) => Ok(members),
        other => Err(PluginError::new(
            ErrorCode::InvalidJson,
            format!(
                "Invalid JSON body: expected a JSON object such as \
                 {{\"call_log_id\": \"abc-123\"}} at the top level, got {}",
                coerce::describe(&other)
            ),
        )),
    }
}

/// Groups form or query pairs into one value per top-level key, in order of first appearance.
fn text_params<'a, K, V>(
    pairs: impl IntoIterator<Item = (K, V)>,
) -> Result<Members<'a>, PluginError>
where
    K: Into<Cow<'a, str>>,
    V: Into<Cow<'a, str>>,
{
    let mut map = MembersBuilder::default();
    for (raw, value) in pairs {
        let raw: Cow<'a, str> = raw.into();
        let (base_len, segments) = split_key(&raw);
        let base = &raw[..base_len];
        if base == AUTH_KEY {
            continue;
        }
        let slot = map.slot(base, || part(&raw, 0..base_len), || None);
        if put(slot, &raw, &segments, value.into()).is_err() {
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
    Ok(map
        .finish()
        .into_iter()
        .map(|(key, text)| (key, Text::into_val(text)))
        .collect())
}

/// A form or query value being grouped.
#[derive(Debug)]
enum Text<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
    Object(MembersBuilder<'a, Option<Text<'a>>>),
}

impl<'a> Text<'a> {
    fn into_val(text: Option<Self>) -> Val<'a> {
        match text {
            // Every slot is filled, or grouping failed.
            None => Val::Null,
            Some(Text::One(s)) => Val::String(s),
            Some(Text::Many(items)) => Val::Array(items.into_iter().map(Val::String).collect()),
            Some(Text::Object(members)) => Val::Object(
                members
                    .finish()
                    .into_iter()
                    .map(|(key, text)| (key, Text::into_val(text)))
                    .collect(),
            ),
        }
    }
}

/// `raw[range]`, borrowed from the request when `raw` is.
fn part<'a>(raw: &Cow<'a, str>, range: Range<usize>) -> Cow<'a, str> {
    match raw {
        Cow::Borrowed(s) => Cow::Borrowed(&s[range]),
        Cow::Owned(s) => Cow::Owned(s[range].to_owned()),
    }
}

/// One bracket level of a form key: `[name]` (the byte range of `name` in the key) or `[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(Range<usize>),
    Push,
}

/// Splits `add[lead][x]` into the length of `add` and its bracket levels. A key that does not
/// follow the convention (`[a]`, `a[b`, `a[]x`, `a[][b]`, too deep) is a plain key.
fn split_key(raw: &str) -> (usize, Vec<Segment>) {
    let plain = (raw.len(), Vec::new());
    let Some(open) = raw.find('[') else {
        return plain;
    };
    if open == 0 {
        return plain;
    }
    let mut at = open;
    let mut segments = Vec::new();
    while at < raw.len() {
        let Some(inner) = raw[at..].strip_prefix('[') else {
            return plain;
        };
        let Some(close) = inner.find(']') else {
            return plain;
        };
        let name = &inner[..close];
        if name.contains('[') || segments.len() == MAX_BRACKET_DEPTH {
            return plain;
        }
        let start = at + 1;
        segments.push(if name.is_empty() {
            Segment::Push
        } else {
            Segment::Key(start..start + close)
        });
        at = start + close + 1;
    }
    let push_before_end = segments.iter().rev().skip(1).any(|s| *s == Segment::Push);
    if push_before_end {
        return plain;
    }
    (open, segments)
}

/// Stores `value` at `segments` (ranges of `raw`) below `slot` (`None` for a fresh slot). A
/// repeated plain key turns into an array. `Err` when the key was used both with and without
/// brackets.
#[allow(
    clippy::ptr_arg,
    reason = "new keys borrow from the request through the `Cow` when `raw` does"
)]
fn put<'a>(
    slot: &mut Option<Text<'a>>,
    raw: &Cow<'a, str>,
    segments: &[Segment],
    value: Cow<'a, str>,
) -> Result<(), ()> {
    match segments.split_first() {
        None | Some((Segment::Push, _)) => match slot {
            None if segments.is_empty() => *slot = Some(Text::One(value)),
            None => *slot = Some(Text::Many(vec![value])),
            Some(Text::One(old)) => {
                let old = std::mem::take(old);
                *slot = Some(Text::Many(vec![old, value]));
            }
            Some(Text::Many(items)) => items.push(value),
            Some(Text::Object(_)) => return Err(()),
        },
        Some((Segment::Key(key), rest)) => {
            let Text::Object(members) =
                slot.get_or_insert_with(|| Text::Object(MembersBuilder::default()))
            else {
                return Err(());
            };
            let inner = members.slot(&raw[key.clone()], || part(raw, key.clone()), || None);
            put(inner, raw, rest, value)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn parse(query: &str) -> Value {
        let pairs = form_urlencoded::parse(query.as_bytes()).into_owned();
        serde_json::from_str(&Val::Object(text_params(pairs).unwrap()).to_json()).unwrap()
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
    fn bodies_left_to_serde_json_read_the_same() {
        // Nesting deeper than the single-pass reader goes, and a key serde_json reads its own way.
        let deep = format!("{}1{}", "[".repeat(110), "]".repeat(110));
        for body in [
            format!(r#"{{"call_log_id": "a", "add": {{"k": {deep}}}, "x": 1E3}}"#),
            r#"{"call_log_id": "a", "x": {"$serde_json::private::Number": "5"}}"#.to_owned(),
        ] {
            let request = moja_plugin_sdk::testing::RequestBuilder::post("/x")
                .body(body.clone(), Some("application/json"))
                .build();
            assert_eq!(json::top_object(&request.body, |_| true), Err(json::GiveUp));
            let params = read(&request).unwrap();
            let expected: serde_json::Map<String, Value> = serde_json::from_str(&body).unwrap();
            assert_eq!(params.entries.len(), expected.len());
            for (param, (key, value)) in params.entries.iter().zip(&expected) {
                assert_eq!(param.key, key.as_str());
                assert_eq!(param.value, *value, "{key}");
            }
        }
        let request = moja_plugin_sdk::testing::RequestBuilder::post("/update-tags")
            .body(
                format!(r#"{{"call_log_id": "a", "add": {{"k": {deep}}}}}"#),
                Some("application/json"),
            )
            .build();
        let command =
            <crate::StandardMapper as moja_plugin_sdk::Mapper>::map(moja_plugin_sdk::MapInput {
                kind: moja_plugin_sdk::WebhookKind::UpdateTags,
                request,
                tags: Default::default(),
                config: Vec::new(),
            })
            .unwrap();
        assert_eq!(
            command.tag_ops,
            vec![moja_plugin_sdk::TagOp::Add(("k".to_owned(), deep.clone()))]
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
