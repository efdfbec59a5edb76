//! Reading the raw request: query, headers, and JSON or form bodies.

use crate::{ErrorCode, HttpRequest, PluginError};

/// How a request body is to be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyKind {
    /// No body (or only white space).
    Empty,
    /// A JSON document.
    Json,
    /// `application/x-www-form-urlencoded` fields.
    Form,
    /// A declared content type that is neither JSON nor form.
    Unsupported(String),
}

/// The first query value of `key`.
pub fn query<'a>(request: &'a HttpRequest, key: &str) -> Option<&'a str> {
    request
        .query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The first header value of `name` (case-insensitive).
pub fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn is_json_media_type(media_type: &str) -> bool {
    let media_type = media_type.trim().to_ascii_lowercase();
    media_type == "application/json" || media_type == "text/json" || media_type.ends_with("+json")
}

fn first_non_space(body: &[u8]) -> Option<u8> {
    body.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// Decides how to read the body. A body declared as form that is a JSON object is read as JSON
/// (the habit of `curl -d '{…}'`); a body without a content type is sniffed.
pub fn body_kind(request: &HttpRequest) -> BodyKind {
    let first = first_non_space(&request.body);
    if first.is_none() {
        return BodyKind::Empty;
    }
    let looks_like_json = matches!(first, Some(b'{') | Some(b'['));
    match request.content_type.as_deref().map(str::trim) {
        None | Some("") => {
            if looks_like_json {
                BodyKind::Json
            } else {
                BodyKind::Form
            }
        }
        Some(ct) if is_json_media_type(ct) => BodyKind::Json,
        Some(ct) if ct.eq_ignore_ascii_case("application/x-www-form-urlencoded") => {
            if looks_like_json {
                BodyKind::Json
            } else {
                BodyKind::Form
            }
        }
        Some(ct) => BodyKind::Unsupported(ct.to_owned()),
    }
}

/// Parses the body as JSON. Errors say where parsing stopped; invalid UTF-8 and excessive nesting
/// (past 128 levels) are errors too.
pub fn json_body(request: &HttpRequest) -> Result<serde_json::Value, PluginError> {
    serde_json::from_slice(&request.body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Eof => "the body ended early".to_owned(),
            _ => e.to_string(),
        };
        PluginError::new(
            ErrorCode::InvalidJson,
            format!(
                "Invalid JSON body at line {} column {}: {what}",
                e.line(),
                e.column()
            ),
        )
    })
}

/// Parses the body as `application/x-www-form-urlencoded` fields, in order.
pub fn form_body(request: &HttpRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(&request.body).into_owned().collect()
}

/// The error for a body whose content type cannot be read.
pub fn unsupported_media_type(content_type: &str) -> PluginError {
    PluginError::new(
        ErrorCode::UnsupportedMediaType,
        format!(
            "Unsupported content type {content_type:?}: send application/json or application/x-www-form-urlencoded"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::RequestBuilder;

    #[test]
    fn body_kinds() {
        let json = RequestBuilder::post("/x").body("{\"a\":1}", None).build();
        assert_eq!(body_kind(&json), BodyKind::Json);
        let curl_d = RequestBuilder::post("/x")
            .body(" {\"a\":1}", Some("application/x-www-form-urlencoded"))
            .build();
        assert_eq!(body_kind(&curl_d), BodyKind::Json);
        let form = RequestBuilder::post("/x").body("a=1&b=2", None).build();
        assert_eq!(body_kind(&form), BodyKind::Form);
        let xml = RequestBuilder::post("/x")
            .body("<a/>", Some("application/xml"))
            .build();
        assert_eq!(
            body_kind(&xml),
            BodyKind::Unsupported("application/xml".into())
        );
        let empty = RequestBuilder::post("/x")
            .body("  ", Some("application/json"))
            .build();
        assert_eq!(body_kind(&empty), BodyKind::Empty);
        let vendor = RequestBuilder::post("/x")
            .body("{}", Some("application/vnd.api+json"))
            .build();
        assert_eq!(body_kind(&vendor), BodyKind::Json);
    }

    #[test]
    fn json_errors_say_where() {
        let bad = RequestBuilder::post("/x").body("{\"a\": }", None).build();
        let err = json_body(&bad).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidJson);
        assert!(err.message.contains("line 1 column 7"), "{}", err.message);
        let deep = RequestBuilder::post("/x")
            .body("[".repeat(1000) + &"]".repeat(1000), None)
            .build();
        assert_eq!(json_body(&deep).unwrap_err().code, ErrorCode::InvalidJson);
        let not_utf8 = RequestBuilder::post("/x")
            .body(vec![b'"', 0xff, b'"'], None)
            .build();
        assert_eq!(
            json_body(&not_utf8).unwrap_err().code,
            ErrorCode::InvalidJson
        );
    }
}
