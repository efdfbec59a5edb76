//! Admin request bodies read field by field, so that every validation error is a 400 naming its
//! `field` (serde's own errors name a path in prose, not in the `field` member).
//!
//! A body is a JSON object; unknown members are ignored. `null` counts as absent, except for the
//! fields read with [`Body::nullable`], where it means "clear".

use std::ops::RangeInclusive;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Query, Request};
use axum::http::StatusCode;
use moja_core::money;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::ApiResult;
use crate::http::{ApiError, ApiJson, PageQuery};

/// The longest name, description or other free text accepted, in characters.
const MAX_TEXT: usize = 500;

/// 400 `invalid_parameter` naming `field`.
pub(super) fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", message).with_field(field)
}

/// A query flag: absent, empty, `false` or `0` is false; `true` or `1` is true; anything else a
/// 400 naming `field`.
pub(super) fn flag(text: Option<&str>, field: &str) -> ApiResult<bool> {
    match text {
        None | Some("" | "false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(invalid(field, format!("{field}: expected true or false"))),
    }
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

/// A JSON object body (or a nested object of one, whose fields are named `outer.inner`).
#[derive(Debug, Default)]
pub(super) struct Body {
    fields: Map<String, Value>,
    prefix: String,
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let ApiJson(fields) = ApiJson::<Map<String, Value>>::from_request(request, state).await?;
        Ok(Body {
            fields,
            prefix: String::new(),
        })
    }
}

impl Body {
    /// An optional body: empty (or blank) is an empty object, anything else must be a JSON
    /// object.
    pub(super) fn optional(bytes: &[u8]) -> ApiResult<Body> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body::default());
        }
        let fields: Map<String, Value> = serde_json::from_slice(bytes).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("The body must be a JSON object: {e}"),
            )
        })?;
        Ok(Body {
            fields,
            prefix: String::new(),
        })
    }

    /// The name errors give `field`: `rate_limit.period` inside `rate_limit`.
    pub(super) fn name(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    /// 400 `invalid_parameter` naming `field` of this body.
    pub(super) fn invalid(&self, field: &str, expected: &str) -> ApiError {
        let name = self.name(field);
        invalid(&name, format!("{name}: {expected}"))
    }

    /// The field's value, `None` when absent or `null`.
    pub(super) fn value(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).filter(|v| !v.is_null())
    }

    /// Whether the field is given (not absent, not `null`).
    pub(super) fn has(&self, field: &str) -> bool {
        self.value(field).is_some()
    }

    /// A trimmed, non-empty string of at most [`MAX_TEXT`] characters.
    pub(super) fn string(&self, field: &str) -> ApiResult<Option<String>> {
        let Some(value) = self.value(field) else {
            return Ok(None);
        };
        let Value::String(text) = value else {
            return Err(self.invalid(field, "expected a string"));
        };
        let text = text.trim();
        if text.is_empty() {
            return Err(self.invalid(field, "must not be empty"));
        }
        if text.chars().count() > MAX_TEXT {
            return Err(self.invalid(field, &format!("at most {MAX_TEXT} characters")));
        }
        Ok(Some(text.to_owned()))
    }

    /// [`Body::string`], required.
    pub(super) fn required_string(&self, field: &str) -> ApiResult<String> {
        self.string(field)?
            .ok_or_else(|| missing(&self.name(field)))
    }

    /// `true` or `false`.
    pub(super) fn bool(&self, field: &str) -> ApiResult<Option<bool>> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.invalid(field, "expected true or false")),
        }
    }

    /// A whole number within `range`.
    pub(super) fn int(&self, field: &str, range: RangeInclusive<i64>) -> ApiResult<Option<i64>> {
        let Some(value) = self.value(field) else {
            return Ok(None);
        };
        match value.as_i64() {
            Some(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(self.invalid(
                field,
                &format!(
                    "expected a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// An amount, as a JSON number or a numeric string, parsed exactly (never through `f64`:
    /// serde_json keeps a number's text, so `0.1` stays `0.1`).
    pub(super) fn money(&self, field: &str) -> ApiResult<Option<Decimal>> {
        let text = match self.value(field) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(self.invalid(field, "expected an amount like 35.00"));
            }
        };
        money::parse_amount(&text)
            .map(Some)
            .map_err(|e| self.invalid(field, &e.to_string()))
    }

    /// A field that `null` clears: `None` when absent, `Some(None)` when `null`, else what `read`
    /// makes of the value.
    pub(super) fn nullable<T>(
        &self,
        field: &str,
        read: impl FnOnce(&Self, &str) -> ApiResult<Option<T>>,
    ) -> ApiResult<Option<Option<T>>> {
        match self.fields.get(field) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(_) => Ok(Some(read(self, field)?)),
        }
    }

    /// A nested object, whose errors name `field.inner`.
    pub(super) fn object(&self, field: &str) -> ApiResult<Option<Body>> {
        match self.value(field) {
            None => Ok(None),
            Some(Value::Object(fields)) => Ok(Some(Body {
                fields: fields.clone(),
                prefix: format!("{}.", self.name(field)),
            })),
            Some(_) => Err(self.invalid(field, "expected an object")),
        }
    }

    /// The members of this (nested) object as text, in order; every value must be a string.
    pub(super) fn string_pairs(&self) -> ApiResult<Vec<(String, String)>> {
        self.fields
            .iter()
            .map(|(key, value)| match value {
                Value::String(text) => Ok((key.clone(), text.clone())),
                _ => Err(self.invalid(key, "expected a string")),
            })
            .collect()
    }

    /// An array of strings.
    pub(super) fn strings(&self, field: &str) -> ApiResult<Option<Vec<String>>> {
        let Some(value) = self.value(field) else {
            return Ok(None);
        };
        value
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            })
            .map(Some)
            .ok_or_else(|| self.invalid(field, "expected an array of strings"))
    }
}

/// The page and the filters of a list endpoint's query string, or a 400 saying what did not
/// parse: `limit` is the only page member that can fail (the others are text).
pub(super) fn list_query<F>(
    page: Result<Query<PageQuery>, QueryRejection>,
    filters: Result<Query<F>, QueryRejection>,
) -> ApiResult<(PageQuery, F)> {
    let Query(page) = page.map_err(|_| invalid("limit", "limit: expected a whole number"))?;
    let Query(filters) = filters.map_err(|e| invalid("query", e.body_text()))?;
    Ok((page, filters))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Body {
        match value {
            Value::Object(fields) => Body {
                fields,
                prefix: String::new(),
            },
            _ => Body::default(),
        }
    }

    #[test]
    fn money_is_exact_from_numbers_and_strings() {
        let b = body(json!({"a": 0.1, "b": "35", "c": -1, "d": true, "e": null}));
        assert_eq!(
            b.money("a").ok().flatten().map(|d| d.to_string()),
            Some("0.1".into())
        );
        assert_eq!(
            b.money("b").ok().flatten().map(|d| d.to_string()),
            Some("35".into())
        );
        assert_eq!(b.money("c").err().and_then(|e| e.field), Some("c".into()));
        assert_eq!(
            b.money("d").err().map(|e| e.code),
            Some("invalid_parameter")
        );
        assert_eq!(b.money("e").ok(), Some(None));
        assert_eq!(b.money("absent").ok(), Some(None));
    }

    #[test]
    fn nested_fields_are_named_with_their_parent() {
        let b = body(json!({"rate_limit": {"limit": 0}}));
        let inner = b.object("rate_limit").ok().flatten();
        let error = inner.and_then(|i| i.int("limit", 1..=10).err());
        assert_eq!(error.and_then(|e| e.field), Some("rate_limit.limit".into()));
    }

    #[test]
    fn nullable_tells_null_from_absent() {
        let b = body(json!({"n": null, "v": 3}));
        let read = |b: &Body, f: &str| b.int(f, 0..=5);
        assert_eq!(b.nullable("absent", read).ok(), Some(None));
        assert_eq!(b.nullable("n", read).ok(), Some(Some(None)));
        assert_eq!(b.nullable("v", read).ok(), Some(Some(Some(3))));
    }

    #[test]
    fn strings_are_trimmed_and_required() {
        let b = body(json!({"name": "  x  ", "blank": " ", "num": 5}));
        assert_eq!(b.required_string("name").ok(), Some("x".into()));
        assert_eq!(
            b.required_string("blank").err().map(|e| e.code),
            Some("invalid_parameter")
        );
        assert_eq!(
            b.required_string("num").err().map(|e| e.code),
            Some("invalid_parameter")
        );
        let error = b.required_string("absent").err();
        assert_eq!(error.as_ref().map(|e| e.code), Some("missing_parameter"));
        assert_eq!(error.and_then(|e| e.field), Some("absent".into()));
    }
}
