//! Body fields: JSON objects (flattened) and form bodies, as raw key/value pairs in order.

use moja_plugin_sdk::request::{self, BodyKind};
use moja_plugin_sdk::{HttpRequest, PluginError, log};
use serde_json::{Map, Value};

/// Nested objects are flattened down to key paths of this many segments; an object deeper than
/// that is kept as compact JSON text.
pub(crate) const MAX_DEPTH: usize = 8;

/// The body's fields as raw (not yet normalized) keys and values, in order. Flattened JSON keys
/// are the path segments joined with `_`.
pub(crate) fn fields(request: &HttpRequest) -> Result<Vec<(String, String)>, PluginError> {
    match request::body_kind(request) {
        BodyKind::Empty => Ok(Vec::new()),
        BodyKind::Unsupported(content_type) => {
            log::debug(&format!(
                "body of content type {content_type:?} skipped: only JSON and form bodies give tags"
            ));
            Ok(Vec::new())
        }
        BodyKind::Form => Ok(request::form_body(request)),
        BodyKind::Json => {
            let mut out = Vec::new();
            if let Value::Object(map) = request::json_body(request)? {
                flatten(&map, "", 1, &mut out);
            }
            Ok(out)
        }
    }
}

/// Flattens the object `map` found at depth `depth` (the top level is depth 1) under `prefix`.
fn flatten(map: &Map<String, Value>, prefix: &str, depth: usize, out: &mut Vec<(String, String)>) {
    for (key, value) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}_{key}")
        };
        match value {
            Value::Null => {}
            Value::Object(inner) if depth < MAX_DEPTH => flatten(inner, &path, depth + 1, out),
            Value::String(s) => out.push((path, s.clone())),
            // Numbers keep their exact text (arbitrary_precision); booleans, arrays and objects
            // past the depth limit are their compact JSON text.
            other => out.push((path, other.to_string())),
        }
    }
}
