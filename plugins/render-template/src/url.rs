//! Rendering the URL template: placeholders in the path, query and fragment only, each value
//! percent-encoded for where it stands; the result is an absolute `http`/`https` URL.

use moja_plugin_sdk::{ErrorCode, PluginError};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::scan::{Piece, Tags, has_placeholder, pieces};

/// Everything but the RFC 3986 unreserved characters is encoded in a substituted value, so a
/// value can never add a path segment, a query parameter or a fragment.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The part of the URL a piece of template text stands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Path,
    Query,
    Fragment,
}

fn error(message: impl Into<String>) -> PluginError {
    PluginError::field(ErrorCode::InvalidTemplate, "url", message)
}

fn host_error() -> PluginError {
    error(
        "placeholders are not allowed in the URL's scheme or host: a tag must not redirect a delivery",
    )
}

fn not_absolute(template: &str) -> PluginError {
    error(format!(
        "the URL {template:?} is not an absolute http or https URL (like https://example.com/hook)"
    ))
}

/// Renders the URL template `template` with `tags`.
pub(crate) fn render(template: &str, tags: &Tags<'_>) -> Result<String, PluginError> {
    let template = template.trim();
    let Some(scheme_end) = template.find("://") else {
        let head_end = template.find(['/', '?', '#']).unwrap_or(template.len());
        if has_placeholder(&template[..head_end]) {
            return Err(host_error());
        }
        return Err(not_absolute(template));
    };
    let scheme = &template[..scheme_end];
    let rest = &template[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if has_placeholder(scheme) || has_placeholder(authority) {
        return Err(host_error());
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(not_absolute(template));
    }
    check_authority(authority)?;

    let tail = &rest[authority_end..];
    let (before_fragment, fragment) = match tail.find('#') {
        Some(i) => (&tail[..i], Some(&tail[i + 1..])),
        None => (tail, None),
    };
    let (path, query) = match before_fragment.find('?') {
        Some(i) => (&before_fragment[..i], Some(&before_fragment[i + 1..])),
        None => (before_fragment, None),
    };

    let mut out = String::with_capacity(template.len() + 32);
    out.push_str(&scheme);
    out.push_str("://");
    out.push_str(authority);
    render_part(path, Part::Path, tags, &mut out);
    if let Some(query) = query {
        out.push('?');
        render_part(query, Part::Query, tags, &mut out);
    }
    if let Some(fragment) = fragment {
        out.push('#');
        render_part(fragment, Part::Fragment, tags, &mut out);
    }
    Ok(out)
}

/// Renders one part: literal text is made valid (characters RFC 3986 does not allow there are
/// percent-encoded, existing `%XX` escapes kept); values are percent-encoded as data; a
/// placeholder left as written becomes `%5BNAME%5D`, which decodes to the raw `[NAME]`.
fn render_part(text: &str, part: Part, tags: &Tags<'_>, out: &mut String) {
    for piece in pieces(text) {
        match piece {
            Piece::Text(literal) => push_literal(literal, part, out),
            Piece::Placeholder(name) => match tags.value(name) {
                Some(value) => out.extend(utf8_percent_encode(value, VALUE)),
                None => {
                    out.push_str("%5B");
                    out.push_str(name);
                    out.push_str("%5D");
                }
            },
        }
    }
}

fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

fn is_sub_delim(c: char) -> bool {
    matches!(
        c,
        '!' | '$' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | ';' | '='
    )
}

fn push_literal(literal: &str, part: Part, out: &mut String) {
    let bytes = literal.as_bytes();
    for (i, c) in literal.char_indices() {
        let allowed = is_unreserved(c)
            || is_sub_delim(c)
            || matches!(c, ':' | '@' | '/')
            || (c == '?' && part != Part::Path)
            || (c == '%'
                && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit));
        if allowed {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
}

/// Whether `c` may appear in a URL authority as written in a template (non-ASCII letters are
/// allowed for internationalized host names).
fn is_authority_char(c: char) -> bool {
    if c.is_ascii() {
        is_unreserved(c) || is_sub_delim(c) || matches!(c, ':' | '@' | '[' | ']' | '%')
    } else {
        !c.is_control() && !c.is_whitespace()
    }
}

/// Checks the literal authority (`user@host:port`): a host is required, the characters must be
/// ones a URL authority can hold, and a port must be a number up to 65535.
fn check_authority(authority: &str) -> Result<(), PluginError> {
    if let Some(c) = authority.chars().find(|&c| !is_authority_char(c)) {
        return Err(error(format!(
            "the URL's host part {authority:?} contains the character {c:?}"
        )));
    }
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = if let Some(inner) = host_port.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return Err(error("the URL's IPv6 host is missing its closing ']'"));
        };
        let after = &inner[close + 1..];
        let port = if after.is_empty() {
            None
        } else if let Some(port) = after.strip_prefix(':') {
            Some(port)
        } else {
            return Err(error(format!("the URL's host {host_port:?} is not valid")));
        };
        (&host_port[..close + 2], port)
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(error("the URL has no host"));
    }
    if host.contains(['[', ']']) && !(host.starts_with('[') && host.ends_with(']')) {
        return Err(error(format!("the URL's host {host:?} is not valid")));
    }
    if let Some(port) = port
        && !port.is_empty()
        && (!port.bytes().all(|b| b.is_ascii_digit()) || port.parse::<u16>().is_err())
    {
        return Err(error(format!(
            "the URL's port {port:?} is not a valid port"
        )));
    }
    Ok(())
}
