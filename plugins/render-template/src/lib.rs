//! The standard template renderer: an outbound template and a call's tags → a concrete HTTP
//! request (SPEC §8.2).
//!
//! # Placeholders
//!
//! A placeholder is `[NAME]` with NAME matching `[A-Z][A-Z0-9_]*` (`[CALL_ID]`, `[LEAD_TYPE]`).
//! Anything else in brackets (`[1]`, `[lower]`) is plain text. For each placeholder:
//! - a tag with a value (`Some(v)`) is substituted, encoded for where it stands;
//! - a tag with an empty value (`Some("")`) renders empty;
//! - a tag that does not apply to the event (`None`) or a name not in the tag list at all is left
//!   as its raw text `[NAME]` (encoded where it stands so the request stays valid, see below).
//!
//! When a name appears twice in the tag list the first entry wins. Substitution is a single pass
//! over the template: a value containing `[OTHER]` is never substituted again.
//!
//! # Contexts
//!
//! - **URL**: placeholders only in the path, query and fragment; one in the scheme, userinfo, host
//!   or port is an `invalid_template` error. Values are percent-encoded (everything but the
//!   unreserved `A-Z a-z 0-9 - . _ ~`, so `/ ? # & = + %`, space and non-ASCII are escaped as UTF-8
//!   `%XX`; a space is `%20`). A placeholder left as written becomes `%5BNAME%5D` (RFC 3986 does
//!   not allow bare brackets there; strict servers reject them) which decodes to `[NAME]`. Literal
//!   template characters that a URL cannot hold (space, `"`, `<`, `[`, non-ASCII…) are
//!   percent-encoded too; existing `%XX` escapes are kept. The result must be an absolute `http`
//!   or `https` URL with a host; the scheme is lower-cased.
//! - **Headers**: names are literal and must be HTTP tokens; values are substituted as is. A value
//!   containing CR, LF or another control character (tab excepted) is an `invalid_template` error
//!   naming the header.
//! - **JSON body** (`json`): inside a string literal a value is escaped as string content (`"`,
//!   `\`, control characters; emoji, other Unicode and `</` pass through). A placeholder standing
//!   alone (`"amount": [REVENUE_PAID_OUT]`) becomes the value itself when it is a JSON number
//!   literal or exactly `true`/`false`, otherwise a quoted string (`""` when empty, `"[NAME]"` when
//!   left as written). The rendered text keeps the template's formatting and must parse as JSON,
//!   else `invalid_template` with the parse error.
//! - **Form body** (`form`): a template starting with `{` is rendered as JSON and must be an object;
//!   it becomes fields: nested objects as `tags[source]=…` (recursively `a[b][c]`), arrays as
//!   `key[]=v` per scalar element and `key[i][…]` for an element that is an object or array, empty
//!   objects and arrays as no field, strings without quotes, numbers as their text, booleans as
//!   `true`/`false`, null as empty. Keys and values are form-encoded (space → `+`); the structural
//!   brackets are written literally. Any other template is a literal `a=[X]&b=[Y]` form string:
//!   text as written, each value form-encoded, a placeholder left as written stays `[NAME]`.
//!
//! # Request
//!
//! The method is trimmed and upper-cased and must be GET, POST, PUT, PATCH or DELETE. An empty (or
//! blank) body template gives an empty body and no content type. Otherwise the content type is
//! `application/json` or `application/x-www-form-urlencoded`, unless the template's headers have a
//! `Content-Type` (any case; the last one): then `content_type` is that rendered value. The
//! `Content-Type` header also stays in `headers` as written: the host must not send a second one.
//!
//! Configuration: none; unknown keys are ignored.

mod form;
mod headers;
mod json;
mod scan;
mod url;

#[cfg(test)]
mod tests;

use moja_plugin_sdk::{BodyFormat, ErrorCode, PluginError, RenderInput, RenderedRequest, Renderer};

pub use scan::placeholders;

/// The HTTP methods a delivery may use.
pub const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The standard renderer plugin (see the crate documentation for its rules).
#[derive(Debug, Clone, Copy, Default)]
pub struct TemplateRenderer;

impl Renderer for TemplateRenderer {
    fn render(input: RenderInput) -> Result<RenderedRequest, PluginError> {
        let template = &input.template;
        let tags = scan::Tags::new(&input.tags);

        let method = template.method.trim().to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(PluginError::field(
                ErrorCode::InvalidTemplate,
                "method",
                format!(
                    "the method {:?} is not supported: use GET, POST, PUT, PATCH or DELETE",
                    template.method
                ),
            ));
        }
        let url = url::render(&template.url, &tags)?;
        let headers = headers::render(&template.headers, &tags)?;

        let (body, default_type) = if template.body.trim().is_empty() {
            (String::new(), None)
        } else {
            match template.body_format {
                BodyFormat::Json => (
                    json::render(&template.body, &tags)?.0,
                    Some("application/json"),
                ),
                BodyFormat::Form => (
                    form::render(&template.body, &tags)?,
                    Some("application/x-www-form-urlencoded"),
                ),
            }
        };
        let content_type = default_type.map(|default| {
            headers
                .iter()
                .rev()
                .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
                .map_or_else(|| default.to_owned(), |(_, value)| value.clone())
        });

        Ok(RenderedRequest {
            method,
            url,
            headers,
            body: body.into_bytes(),
            content_type,
        })
    }
}

moja_plugin_sdk::export_renderer!(TemplateRenderer);
moja_plugin_sdk::call_arena!(128 * 1024);
