//! Rendering header templates: names are literal, values are substituted raw and must not
//! contain line breaks or other control characters.

use moja_plugin_sdk::{ErrorCode, PluginError};

use crate::scan::{Piece, Tags, pieces};

fn error(message: String) -> PluginError {
    PluginError::field(ErrorCode::InvalidTemplate, "headers", message)
}

/// Whether `c` may not appear in a header value: a control character other than tab.
pub(crate) fn is_forbidden(c: char) -> bool {
    c.is_control() && c != '\t'
}

/// Whether `name` is an HTTP header name (an RFC 9110 token).
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

fn problem(value: &str) -> Option<&'static str> {
    let c = value.chars().find(|&c| is_forbidden(c))?;
    Some(if c == '\r' || c == '\n' {
        "a line break (CR or LF)"
    } else {
        "a control character"
    })
}

/// Renders the header templates in order.
pub(crate) fn render(
    headers: &[(String, String)],
    tags: &Tags<'_>,
) -> Result<Vec<(String, String)>, PluginError> {
    let mut out = Vec::with_capacity(headers.len());
    for (name, template) in headers {
        if !is_valid_name(name) {
            return Err(error(format!(
                "{name:?} is not a valid header name (header names are not templated)"
            )));
        }
        let mut value = String::with_capacity(template.len());
        for piece in pieces(template) {
            match piece {
                Piece::Text(text) => {
                    if let Some(what) = problem(text) {
                        return Err(error(format!(
                            "header {name} would contain {what}: the template itself has one"
                        )));
                    }
                    value.push_str(text);
                }
                Piece::Placeholder(tag) => match tags.value(tag) {
                    Some(v) => {
                        if let Some(what) = problem(v) {
                            return Err(error(format!(
                                "header {name} would contain {what} from the value of [{tag}]"
                            )));
                        }
                        value.push_str(v);
                    }
                    None => value.push_str(&piece.raw()),
                },
            }
        }
        out.push((name.clone(), value));
    }
    Ok(out)
}
