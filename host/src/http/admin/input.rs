//! Admin request bodies and query strings read into typed structs, so that every validation
//! error is a 400 naming its `field`: serde's path of the failing member (`rate_limit.period`,
//! `plugin_config.b`), or the field a type's own [`Check`] names.
//!
//! A body is a JSON object; unknown members are ignored. `null` counts as absent (an `Option`
//! member is `None`, a required one is missing), except for the members read with
//! [`fields::nullable`](super::fields::nullable), where it means "clear".

use std::fmt::Display;
use std::ops::RangeInclusive;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::{Path, Segment};

use super::ApiResult;
use crate::http::{ApiError, ApiJson};

/// 400 `invalid_parameter` naming `field`.
pub(super) fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", message).with_field(field)
}

/// 400 `missing_parameter` naming `field`.
pub(super) fn missing(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "missing_parameter",
        format!("Missing {field} parameter"),
    )
    .with_field(field)
}

/// A member that only creation requires, or a 400 `missing_parameter` naming `field`.
pub(super) fn required<T>(value: Option<T>, field: &str) -> ApiResult<T> {
    value.ok_or_else(|| missing(field))
}

/// A whole number within `range`, or a 400 naming `field`.
pub(super) fn within<T>(field: &str, value: T, range: RangeInclusive<T>) -> ApiResult<T>
where
    T: PartialOrd + Display,
{
    if range.contains(&value) {
        return Ok(value);
    }
    Err(invalid(
        field,
        format!(
            "{field}: expected a whole number from {} to {}",
            range.start(),
            range.end()
        ),
    ))
}

/// The rules of a request type that serde cannot express (ranges, lengths, counts,
/// combinations), each in one place and naming its field. [`Body`] and [`OptionalBody`] run
/// them before the handler sees the body; rules that need the stored resource or the org's data
/// stay with the handler.
pub(super) trait Check {
    /// `Ok` when every rule holds, else the 400 of the first that does not.
    fn check(&self) -> ApiResult<()> {
        Ok(())
    }
}

/// An admin request body: a JSON object read into `T` and checked.
#[derive(Debug)]
pub(super) struct Body<T>(pub(super) T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Check,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let ApiJson(value) = ApiJson::<Value>::from_request(request, state).await?;
        read(&value).map(Body)
    }
}

/// A body that may be left out: empty (or blank) reads as `T::default()`, whatever the
/// content type; anything else must be a JSON object.
#[derive(Debug)]
pub(super) struct OptionalBody<T>(pub(super) T);

impl<S, T> FromRequest<S> for OptionalBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Check + Default,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(T::default()));
        }
        let not_an_object = |detail: String| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("The body must be a JSON object{detail}"),
            )
            .into_response()
        };
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| not_an_object(format!(": {e}")))?;
        if !value.is_object() {
            return Err(not_an_object(String::new()));
        }
        read(&value)
            .map(OptionalBody)
            .map_err(IntoResponse::into_response)
    }
}

/// An admin query string read into `T` (`?cursor=&limit=`, a list's filters); several may read
/// the same query, each ignoring the parameters it does not know.
#[derive(Debug)]
pub(crate) struct Params<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for Params<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(pairs)
            .map(Params)
            .map_err(|e| rejected(e, |_| false))
    }
}

/// `value`, which must be a JSON object, read into `T` and checked.
fn read<T: DeserializeOwned + Check>(value: &Value) -> ApiResult<T> {
    if !value.is_object() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "The body must be a JSON object",
        ));
    }
    let body: T = serde_path_to_error::deserialize(value)
        .map_err(|e| rejected(e, |path| member(value, path).is_some_and(Value::is_null)))?;
    body.check()?;
    Ok(body)
}

/// The 400 of a member serde could not read, named by its path: `missing_parameter` when it is
/// absent or `null` (`is_null` tells), `invalid_parameter` otherwise.
fn rejected<E: Display>(
    error: serde_path_to_error::Error<E>,
    is_null: impl FnOnce(&Path) -> bool,
) -> ApiError {
    let message = error.inner().to_string();
    let path = error.path();
    let parent = path.iter().next().is_some().then(|| path.to_string());
    let named = |member: &str| match &parent {
        Some(parent) => format!("{parent}.{member}"),
        None => member.to_owned(),
    };
    // The two errors serde reports at the parent object, naming the member in the message.
    if let Some(member) = quoted(&message, "missing field `") {
        return missing(&named(member));
    }
    if let Some(member) = quoted(&message, "duplicate field `") {
        let field = named(member);
        return invalid(&field, format!("{field}: given more than once"));
    }
    let Some(field) = parent else {
        return ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", message);
    };
    if is_null(path) {
        return missing(&field);
    }
    invalid(&field, format!("{field}: {}", expected(&message)))
}

/// The member `name` of serde's "<prefix>name`".
fn quoted<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    message.strip_prefix(prefix)?.strip_suffix('`')
}

/// serde's message without the value it quotes (`invalid type: string "…", expected a boolean`
/// is `expected a boolean`): a value may be anything, of any length.
fn expected(message: &str) -> &str {
    let quotes_value = ["invalid type: ", "invalid value: ", "unknown variant "]
        .iter()
        .any(|prefix| message.starts_with(prefix));
    match message.rfind(", expected ") {
        Some(at) if quotes_value => &message[at + 2..],
        _ => message,
    }
}

/// The member of `value` at `path`.
fn member<'v>(value: &'v Value, path: &Path) -> Option<&'v Value> {
    path.iter().try_fold(value, |value, segment| match segment {
        Segment::Map { key } => value.get(key),
        Segment::Seq { index } => value.get(index),
        Segment::Enum { .. } | Segment::Unknown => None,
    })
}

#[cfg(test)]
mod tests {
    use moja_core::rate_limit::Period;
    use rust_decimal::Decimal;
    use serde::Deserialize;
    use serde_json::json;

    use super::super::fields;
    use super::*;
    use crate::http::PageQuery;

    #[derive(Debug, Deserialize)]
    struct Sample {
        #[serde(deserialize_with = "fields::text")]
        name: String,
        #[serde(default, deserialize_with = "fields::nullable_amount")]
        amount: Option<Option<Decimal>>,
        #[serde(default, deserialize_with = "fields::whole")]
        count: Option<i64>,
        enabled: Option<bool>,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    struct Inner {
        #[serde(default, deserialize_with = "fields::word")]
        period: Option<Period>,
        #[serde(default, deserialize_with = "fields::string_pairs")]
        pairs: Option<Vec<(String, String)>>,
    }

    impl Check for Sample {
        fn check(&self) -> ApiResult<()> {
            if let Some(count) = self.count {
                within("count", count, 1..=5)?;
            }
            Ok(())
        }
    }

    /// `(code, field, message)` of what `body` reads as, or `None` when it reads.
    fn refused(body: Value) -> Option<(&'static str, Option<String>, String)> {
        read::<Sample>(&body)
            .err()
            .map(|e| (e.code, e.field, e.message))
    }

    #[test]
    fn members_read_into_their_types() {
        let body = json!({"name": "  x  ", "amount": 0.1, "count": 3, "enabled": null,
                          "inner": {"period": " HOUR ", "pairs": {"b": "2", "a": "1"}}, "other": 1});
        let sample = read::<Sample>(&body).expect("reads");
        assert_eq!(sample.name, "x");
        assert_eq!(
            sample.amount.flatten().map(|d| d.to_string()),
            Some("0.1".into())
        );
        assert_eq!((sample.count, sample.enabled), (Some(3), None));
        let inner = sample.inner.expect("inner");
        assert_eq!(inner.period, Some(Period::Hour));
        let pairs = inner.pairs.expect("pairs");
        assert_eq!(pairs, [("b".into(), "2".into()), ("a".into(), "1".into())]);
    }

    #[test]
    fn amounts_are_exact_and_null_clears_them() {
        let amount = |value: Value| {
            read::<Sample>(&json!({"name": "x", "amount": value}))
                .ok()
                .and_then(|s| s.amount)
                .map(|a| a.map(|d| d.to_string()))
        };
        let big: Value = serde_json::from_str("12345678901234567.89").unwrap();
        assert_eq!(amount(big), Some(Some("12345678901234567.89".into())));
        assert_eq!(amount(json!("35")), Some(Some("35".into())));
        assert_eq!(amount(json!(null)), Some(None));
        let absent = read::<Sample>(&json!({"name": "x"})).map(|s| s.amount);
        assert!(matches!(absent, Ok(None)));
        for bad in [json!(-1), json!("1e3"), json!(true)] {
            let error = refused(json!({"name": "x", "amount": bad}));
            assert_eq!(
                error.map(|e| (e.0, e.1)),
                Some(("invalid_parameter", Some("amount".into())))
            );
        }
    }

    #[test]
    fn absent_or_null_required_members_are_missing() {
        for body in [json!({}), json!({"name": null})] {
            let error = refused(body).expect("refused");
            assert_eq!(
                (error.0, error.1.as_deref()),
                ("missing_parameter", Some("name"))
            );
            assert_eq!(error.2, "Missing name parameter");
        }
        let error = refused(json!({"name": " "})).expect("refused");
        assert_eq!(
            error,
            (
                "invalid_parameter",
                Some("name".into()),
                "name: must not be empty".into()
            )
        );
    }

    #[test]
    fn errors_name_nested_members_and_never_quote_the_value() {
        let cases = [
            (json!({"name": 5}), "name", "name: expected a string"),
            (
                json!({"name": "x", "enabled": "a long value"}),
                "enabled",
                "enabled: expected a boolean",
            ),
            (
                json!({"name": "x", "count": 1.5}),
                "count",
                "count: expected a whole number",
            ),
            (
                json!({"name": "x", "count": 9}),
                "count",
                "count: expected a whole number from 1 to 5",
            ),
            (
                json!({"name": "x", "inner": {"period": "week"}}),
                "inner.period",
                "inner.period: \"week\" is not a rate-limit period: expected \"minute\", \"hour\" or \"day\"",
            ),
            (
                json!({"name": "x", "inner": {"pairs": {"a": "1", "b": 2}}}),
                "inner.pairs.b",
                "inner.pairs.b: expected a string",
            ),
            (
                json!({"name": "x", "inner": 100}),
                "inner",
                "inner: expected struct Inner",
            ),
        ];
        for (body, field, message) in cases {
            let error = refused(body.clone()).expect("refused");
            assert_eq!(
                error,
                ("invalid_parameter", Some(field.into()), message.into()),
                "{body}"
            );
        }
    }

    #[test]
    fn only_an_object_is_a_body() {
        for body in [json!([1]), json!(null), json!("x")] {
            let error = refused(body).expect("refused");
            assert_eq!((error.0, error.1), ("invalid_parameter", None));
        }
    }

    async fn page(query: &str) -> Result<PageQuery, ApiError> {
        let request = axum::http::Request::builder()
            .uri(format!("/list?{query}"))
            .body(())
            .expect("request");
        let (mut parts, ()) = request.into_parts();
        Params::<PageQuery>::from_request_parts(&mut parts, &())
            .await
            .map(|Params(page)| page)
    }

    #[tokio::test]
    async fn query_parameters_are_named_too() {
        let read = page("limit=2&cursor=c&other=x").await.expect("reads");
        assert_eq!((read.limit, read.cursor.as_deref()), (Some(2), Some("c")));
        for (query, message) in [
            ("limit=-1", "limit: expected a whole number"),
            ("limit=1&limit=2", "limit: given more than once"),
        ] {
            let error = page(query).await.expect_err(query);
            assert_eq!(
                (error.field.as_deref(), error.message.as_str()),
                (Some("limit"), message)
            );
        }
    }
}
