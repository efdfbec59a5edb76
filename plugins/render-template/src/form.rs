//! Rendering a form body template: a JSON object template becomes form fields (`a[b][c]=…`,
//! `list[]=…`); any other template is a literal `a=[X]&b=[Y]` form string.

use moja_plugin_sdk::{ErrorCode, PluginError};
use serde_json::{Map, Value};

use crate::json;
use crate::scan::{Piece, Tags, pieces};

/// Renders the form body template `template`.
pub(crate) fn render(template: &str, tags: &Tags<'_>) -> Result<String, PluginError> {
    if template.trim_start().starts_with('{') {
        let (_, value) = json::render(template, tags)?;
        let Value::Object(map) = value else {
            return Err(PluginError::field(
                ErrorCode::InvalidTemplate,
                "body",
                "a form body template that starts with '{' must be a JSON object",
            ));
        };
        let mut fields = Vec::new();
        flatten_object(&map, None, &mut fields);
        Ok(fields
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode(&v)))
            .collect::<Vec<_>>()
            .join("&"))
    } else {
        Ok(literal(template, tags))
    }
}

/// `application/x-www-form-urlencoded` encoding of one component (space → `+`).
fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Appends the fields of `map`. Keys are encoded here; the structural brackets stay literal, so
/// `{"tags": {"source": "x"}}` gives `tags[source]=x`.
fn flatten_object(map: &Map<String, Value>, prefix: Option<&str>, out: &mut Vec<(String, String)>) {
    for (key, value) in map {
        let name = match prefix {
            None => encode(key),
            Some(prefix) => format!("{prefix}[{}]", encode(key)),
        };
        flatten_value(value, name, out);
    }
}

/// Appends `value` under the (already encoded) field name `name`. Arrays give `name[]=v` per
/// scalar element and `name[i][…]` for an element that is itself an object or an array; empty
/// objects and arrays give no field.
fn flatten_value(value: &Value, name: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(inner) => flatten_object(inner, Some(&name), out),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if item.is_object() || item.is_array() {
                    flatten_value(item, format!("{name}[{i}]"), out);
                } else {
                    flatten_value(item, format!("{name}[]"), out);
                }
            }
        }
        Value::Null => out.push((name, String::new())),
        Value::Bool(b) => out.push((name, b.to_string())),
        Value::Number(n) => out.push((name, n.to_string())),
        Value::String(s) => out.push((name, s.clone())),
    }
}

/// A literal form template: the text is kept as written, each value is form-encoded, and a
/// placeholder left as written stays `[NAME]`.
fn literal(template: &str, tags: &Tags<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    for piece in pieces(template) {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Placeholder(name) => match tags.value(name) {
                Some(value) => out.push_str(&encode(value)),
                None => out.push_str(&piece.raw()),
            },
        }
    }
    out
}
