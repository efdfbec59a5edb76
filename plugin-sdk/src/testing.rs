//! Building requests for native unit tests of a plugin.

use crate::HttpRequest;

/// Builds an [`HttpRequest`] the way the host would hand it to a plugin.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    request: HttpRequest,
}

impl RequestBuilder {
    /// A request with `method` (upper case) to `path`.
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            request: HttpRequest {
                method: method.to_ascii_uppercase(),
                path: path.to_owned(),
                query: Vec::new(),
                headers: Vec::new(),
                body: Vec::new(),
                content_type: None,
            },
        }
    }

    /// A GET request to `path`.
    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    /// A POST request to `path`.
    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }

    /// Appends a query parameter (already decoded).
    pub fn query(mut self, key: &str, value: &str) -> Self {
        self.request.query.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Appends the parameters of a raw query string (`a=1&b=2`), percent-decoding them.
    pub fn query_string(mut self, raw: &str) -> Self {
        self.request
            .query
            .extend(form_urlencoded::parse(raw.as_bytes()).into_owned());
        self
    }

    /// Appends a header; the name is lower-cased as the host does.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request
            .headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Sets a JSON body and `content-type: application/json`.
    pub fn json(self, value: &serde_json::Value) -> Self {
        self.body(value.to_string(), Some("application/json"))
    }

    /// Sets a form body and `content-type: application/x-www-form-urlencoded`.
    pub fn form(self, fields: &[(&str, &str)]) -> Self {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.body(body, Some("application/x-www-form-urlencoded"))
    }

    /// Sets a raw body and its declared content type (if any).
    pub fn body(mut self, body: impl Into<Vec<u8>>, content_type: Option<&str>) -> Self {
        self.request.body = body.into();
        self.request.content_type = content_type.map(str::to_owned);
        if let Some(ct) = content_type {
            self.request.headers.retain(|(k, _)| k != "content-type");
            self.request
                .headers
                .push(("content-type".to_owned(), ct.to_owned()));
        }
        self
    }

    /// The request.
    pub fn build(self) -> HttpRequest {
        self.request
    }
}
