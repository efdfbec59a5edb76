//! JSON bodies in and out: a malformed body gets the API's error shape, not axum's text.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::ApiError;

/// A JSON request body, or a 4xx in the API's error shape.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Send a JSON body with `Content-Type: application/json`",
                ),
                JsonRejection::JsonDataError(e) => {
                    ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", e.body_text())
                }
                JsonRejection::JsonSyntaxError(e) => {
                    ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", e.body_text())
                }
                other => ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", other.body_text()),
            }),
        }
    }
}

/// A JSON response with a status.
#[derive(Debug)]
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, axum::Json(self.0)).into_response()
    }
}

/// `{"items": [...], "next_cursor": …}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct List<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts (`?cursor=`); `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> From<moja_store::Page<T>> for List<T> {
    fn from(page: moja_store::Page<T>) -> Self {
        Self {
            items: page.items,
            next_cursor: page.next_cursor,
        }
    }
}

impl<T> List<T> {
    /// A list with no further page.
    pub fn all(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

/// `?cursor=&limit=` of list endpoints.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Opaque cursor from `next_cursor`.
    pub cursor: Option<String>,
    /// Page size (default 50, at most 200).
    #[serde(default, deserialize_with = "page_size")]
    pub limit: Option<usize>,
}

/// `limit`: a whole number, as text.
fn page_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    text.parse()
        .map(Some)
        .map_err(|_| serde::de::Error::custom("expected a whole number"))
}

impl PageQuery {
    /// The cursor (an empty one is none; one this server did not make is a 400 naming
    /// `cursor`) and the limit as the store reads it: 0 for its default page size, the rest
    /// capped by the store.
    pub fn cursor_and_limit(self) -> Result<(Option<String>, usize), ApiError> {
        Ok((checked_cursor(self.cursor)?, self.limit.unwrap_or(0)))
    }
}

/// A list's `cursor`: none when absent or empty, a 400 naming `cursor` when it is not one that a
/// `next_cursor` gave.
pub(crate) fn checked_cursor(cursor: Option<String>) -> Result<Option<String>, ApiError> {
    match cursor.filter(|c| !c.is_empty()) {
        Some(cursor) if moja_store::Cursor::parse(&cursor).is_none() => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_parameter",
            "cursor: not a cursor this server gave; send the next_cursor of the previous page, \
             or leave cursor out for the first page",
        )
        .with_field("cursor")),
        cursor => Ok(cursor),
    }
}
