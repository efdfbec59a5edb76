//! Rendering a JSON body template: placeholders inside string literals are escaped as string
//! content; a placeholder standing alone becomes a number, a boolean or a quoted string.

use moja_plugin_sdk::{ErrorCode, PluginError};

use crate::scan::{Piece, Tags, pieces};

/// Where the scanner is in the JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside any string literal.
    Outside,
    /// Inside a string literal.
    InString,
    /// Inside a string literal, right after a backslash.
    Escape,
}

/// Substitutes the placeholders of the JSON template `template` in one pass, without checking
/// that the result is JSON.
pub(crate) fn substitute(template: &str, tags: &Tags<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut state = State::Outside;
    for piece in pieces(template) {
        match piece {
            Piece::Text(text) => {
                for c in text.chars() {
                    state = match (state, c) {
                        (State::Outside, '"') => State::InString,
                        (State::Outside, _) => State::Outside,
                        (State::InString, '"') => State::Outside,
                        (State::InString, '\\') => State::Escape,
                        (State::InString, _) | (State::Escape, _) => State::InString,
                    };
                }
                out.push_str(text);
            }
            Piece::Placeholder(name) => match (state, tags.value(name)) {
                (State::InString, Some(value)) => escape_into(value, &mut out),
                (State::InString, None) => out.push_str(&piece.raw()),
                // A backslash just before the placeholder escapes its `[`: the text stays as
                // written (and is not valid JSON; the final check says so).
                (State::Escape, _) => {
                    out.push_str(&piece.raw());
                    state = State::InString;
                }
                (State::Outside, Some(value)) if is_json_number(value) => out.push_str(value),
                (State::Outside, Some(value)) if value == "true" || value == "false" => {
                    out.push_str(value);
                }
                (State::Outside, Some(value)) => quote_into(value, &mut out),
                (State::Outside, None) => quote_into(&piece.raw(), &mut out),
            },
        }
    }
    out
}

/// Renders the JSON template `template` and checks that the result is JSON; returns the text
/// (formatted as the template was) and its parsed value.
pub(crate) fn render(
    template: &str,
    tags: &Tags<'_>,
) -> Result<(String, serde_json::Value), PluginError> {
    let body = substitute(template, tags);
    match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(value) => Ok((body, value)),
        Err(e) => Err(PluginError::field(
            ErrorCode::InvalidTemplate,
            "body",
            format!("the JSON body template is not valid JSON after substitution: {e}"),
        )),
    }
}

/// Appends `value` as a quoted JSON string.
fn quote_into(value: &str, out: &mut String) {
    out.push('"');
    escape_into(value, out);
    out.push('"');
}

/// Appends `value` escaped as JSON string content: quotes, backslashes and control characters are
/// escaped; everything else (emoji, other Unicode, `</`) passes through unchanged.
fn escape_into(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
}

/// Whether `text` is exactly a JSON number literal:
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
pub(crate) fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}
