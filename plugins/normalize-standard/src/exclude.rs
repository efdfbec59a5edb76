//! Which request headers never become tags: transport headers and credential-like names.

use moja_plugin_sdk::keys;

/// Transport and infrastructure headers, as normalized keys (before the `x_` prefix is dropped).
const TRANSPORT: &[&str] = &[
    "host",
    "content_length",
    "content_type",
    "content_encoding",
    "connection",
    "transfer_encoding",
    "accept",
    "user_agent",
    "forwarded",
    "x_forwarded",
    "x_real_ip",
    "via",
    "te",
    "trailer",
    "upgrade",
    "keep_alive",
    "expect",
    "origin",
    "x_request_id",
    "x_amzn_trace_id",
    "traceparent",
    "tracestate",
    "priority",
    "cache_control",
    "pragma",
    "dnt",
];

/// Prefixes of transport header families (`accept-*`, `x-forwarded-*`, `proxy-*`, `sec-*`), as
/// normalized keys.
const TRANSPORT_PREFIXES: &[&str] = &["accept_", "x_forwarded_", "proxy_", "sec_"];

/// Substrings that mark a header as carrying a credential (shared with the host's log redaction).
const SENSITIVE: &[&str] = &moja_plugin_sdk::keys::CREDENTIAL_WORDS;

/// Whether the header `name` must never become a tag.
///
/// Names are compared case-insensitively and with `-`/`_` (any run of non-alphanumerics)
/// treated alike, so `X_Forwarded_For` is excluded like `x-forwarded-for`.
pub(crate) fn is_excluded_header(name: &str) -> bool {
    let key = keys::normalize_key(name);
    TRANSPORT.contains(&key.as_str())
        || TRANSPORT_PREFIXES.iter().any(|p| key.starts_with(p))
        || contains_sensitive(&key)
        || contains_sensitive(&name.to_ascii_lowercase())
}

fn contains_sensitive(lower: &str) -> bool {
    SENSITIVE.iter().any(|s| lower.contains(s))
}
