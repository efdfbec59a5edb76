//! The standard tag normalizer: turns a raw inbound request into tags (SPEC §6.1).
//!
//! # Sources
//!
//! Three sources become tags, in this order and with this precedence when keys collide:
//! **body > query > headers**.
//!
//! - **Body** (JSON or form, as decided by [`moja_plugin_sdk::request::body_kind`]):
//!   - a JSON object gives one tag per field, in document order. Nested objects are flattened with
//!     `_`-joined keys (`{"tags": {"source": "x"}}` → `tags_source`) down to a key path of 8
//!     segments; an object deeper than that is kept as compact JSON text under its 8-segment key.
//!     An empty nested object contributes nothing.
//!   - values: strings as is; numbers as their exact JSON text (`25.50` stays `25.50`); booleans
//!     `true` / `false`; arrays as compact JSON text (`["a",1]`); **`null` is skipped** (a null
//!     carries no value, and an empty tag would look like a sent empty string).
//!   - a JSON top level that is not an object (array, scalar) contributes no fields.
//!   - JSON that does not parse (declared or sniffed as JSON) fails the request with `invalid_json`.
//!   - form bodies give one tag per field.
//!   - a body of an unsupported content type (XML, plain text…) is skipped, not an error: the
//!     mapper decides whether that is a 415.
//! - **Query** parameters, one tag each.
//! - **Headers**: every request header (not only `X-` ones), except the ones below.
//!
//! # Keys
//!
//! Body and query keys go through [`keys::normalize_key`]; header names through
//! [`keys::normalize_header_key`], which drops a leading `x_` (`X-Lead-Source` → `lead_source`).
//! Keys that normalize to nothing are dropped. Output order: body tags in order, then query tags,
//! then header tags. A key already set by a higher-precedence source is not overwritten; a key
//! repeated within one source takes the last value but keeps its first position.
//!
//! # Never tags
//!
//! - `moja_auth_key`, from any source (after normalization).
//! - Transport and infrastructure headers: `host`, `content-length`, `content-type`,
//!   `content-encoding`, `connection`, `transfer-encoding`, `accept` and every `accept-*`,
//!   `user-agent`, `x-forwarded` and every `x-forwarded-*`, `forwarded`, `x-real-ip`, `via`, `te`,
//!   `trailer`, `upgrade`, `keep-alive`, every `proxy-*`, `expect`, `origin`, `x-request-id`,
//!   `x-amzn-trace-id`, `traceparent`, `tracestate`, `priority`, `cache-control`, `pragma`, every
//!   `sec-*`, `dnt`. Names are compared case-insensitively with `-` and `_` alike. `origin` is
//!   treated as transport (a CORS header the browser sets, like `sec-fetch-*`); `referer` is kept
//!   (pixels rely on it as the landing page).
//! - Any header whose name contains `auth`, `token`, `secret`, `key`, `signature`, `session` or
//!   `cookie` (case-insensitive).
//!
//! # Limits
//!
//! At most [`MAX_TAGS`] tags: further new keys are dropped and counted in `dropped` (each distinct
//! key once). Values longer than [`MAX_VALUE_BYTES`] bytes are cut at a UTF-8 character boundary and
//! their keys listed in `truncated`.
//!
//! # Configuration (per-webhook string pairs, all optional)
//!
//! - `headers` = `all` (default) | `none`: whether request headers become tags. Any other value
//!   fails the request with `invalid_parameter` (field `headers`): a tenant who tried to turn header
//!   tags off must not silently get them.
//! - `exclude` = comma-separated keys never to emit (each normalized with
//!   [`keys::normalize_key`] and compared with the final tag key, whatever the source).
//!
//! Unknown configuration keys are ignored.

mod body;
mod config;
mod exclude;
mod tags;

#[cfg(test)]
mod tests;

use moja_plugin_sdk::{HttpRequest, Normalized, Normalizer, Pairs, PluginError, keys, log};

pub use tags::{MAX_TAGS, MAX_VALUE_BYTES};

/// The standard normalizer plugin (see the crate documentation for its rules).
#[derive(Debug, Clone, Copy, Default)]
pub struct StandardNormalizer;

impl Normalizer for StandardNormalizer {
    fn normalize(request: HttpRequest, config: Pairs) -> Result<Normalized, PluginError> {
        let config = config::Config::parse(&config)?;
        let mut out = tags::TagSet::new(&config.exclude);

        for (key, value) in body::fields(&request)? {
            out.insert(tags::Source::Body, keys::normalize_key(&key), value);
        }
        for (key, value) in &request.query {
            out.insert(tags::Source::Query, keys::normalize_key(key), value.clone());
        }
        if config.headers {
            for (name, value) in &request.headers {
                if exclude::is_excluded_header(name) {
                    continue;
                }
                out.insert(
                    tags::Source::Header,
                    keys::normalize_header_key(name),
                    value.clone(),
                );
            }
        }
        let normalized = out.finish();
        if normalized.dropped > 0 {
            log::warn(&format!(
                "{} tags dropped past the limit of {MAX_TAGS}",
                normalized.dropped
            ));
        }
        if !normalized.truncated.is_empty() {
            log::warn(&format!(
                "values cut to {MAX_VALUE_BYTES} bytes: {}",
                normalized.truncated.join(", ")
            ));
        }
        Ok(normalized)
    }
}

moja_plugin_sdk::export_normalizer!(StandardNormalizer);
moja_plugin_sdk::call_arena!(128 * 1024);
