//! Tag key normalization, shared by the normalizer, the mapper and the host.
//!
//! A key is lower-cased; every run of characters other than ASCII letters and digits becomes one
//! `_`; leading and trailing `_` are trimmed. ASCII only on purpose: a key must be usable as an
//! outbound placeholder (`lead_type` → `[LEAD_TYPE]`), whose names are `[A-Z0-9_]`.
//!
//! Also which header names carry credentials, so that the normalizer never turns them into tags
//! and the host redacts them in its logs. `no_std` with `alloc` and no dependencies, so that
//! plugins pay nothing for it; the host reaches it as `moja_core::keys`, plugins as
//! `moja_plugin_sdk::keys`.
#![no_std]

extern crate alloc;

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

/// Substrings that mark a header name as carrying a credential: such headers never become tags
/// and are redacted in logs.
pub const CREDENTIAL_WORDS: [&str; 7] = [
    "auth",
    "token",
    "secret",
    "key",
    "signature",
    "session",
    "cookie",
];

/// Whether a header name carries a credential (`Authorization`, `X-Api-Key`, `Cookie`, …).
pub fn is_credential_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    CREDENTIAL_WORDS.iter().any(|word| name.contains(word))
}

/// `headers` with the value of every credential header replaced by `marker`, for logs.
pub fn redact_credentials(headers: &[(String, String)], marker: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let value = if is_credential_header(name) {
                marker
            } else {
                value
            };
            (name.clone(), value.to_owned())
        })
        .collect()
}

/// Normalizes a tag key: `"Lead Source!"` → `"lead_source"`.
pub fn normalize_key(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_separator = false;
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            if pending_separator && !out.is_empty() {
                out.push('_');
            }
            pending_separator = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending_separator = true;
        }
    }
    out
}

/// Normalizes a header name into a tag key, dropping a leading `x_`: `X-Lead-Source` → `lead_source`.
pub fn normalize_header_key(name: &str) -> String {
    let key = normalize_key(name);
    match key.strip_prefix("x_") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(normalize_key("Lead Source!"), "lead_source");
        assert_eq!(normalize_key("__a--b__"), "a_b");
        assert_eq!(normalize_key("utm.source"), "utm_source");
        assert_eq!(normalize_key("ÄgeGroup"), "gegroup");
        assert_eq!(normalize_key("tags[source]"), "tags_source");
        assert_eq!(normalize_key("!!!"), "");
        assert_eq!(normalize_header_key("X-Lead-Source"), "lead_source");
        assert_eq!(normalize_header_key("x-"), "x");
        assert_eq!(normalize_header_key("Referer"), "referer");
    }

    proptest! {
        #[test]
        fn normalized_keys_are_placeholder_safe(raw in "\\PC{0,40}") {
            let key = normalize_key(&raw);
            prop_assert!(key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
            prop_assert!(!key.starts_with('_') && !key.ends_with('_'));
            prop_assert!(!key.contains("__"));
        }

        #[test]
        fn normalization_is_idempotent(raw in "\\PC{0,40}") {
            let once = normalize_key(&raw);
            prop_assert_eq!(normalize_key(&once), once);
        }
    }
}
