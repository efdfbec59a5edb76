//! Secrets and identifiers (SPEC §4, §5): generating prefixed API keys, hashing and verifying them,
//! keeping them out of logged URLs; new call-log ids and their accepted shape.

use rand::Rng;
use rand::distr::Alphanumeric;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a secret grants; its prefix makes a leaked key recognisable (and greppable by scanners).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// An organisation's admin API key (`mok_…`).
    OrgApiKey,
    /// An incoming webhook's `moja_auth_key` (`mwk_…`).
    WebhookKey,
    /// The operator token (`mop_…`).
    OperatorToken,
}

impl SecretKind {
    /// The prefix every secret of this kind starts with.
    pub fn prefix(self) -> &'static str {
        match self {
            SecretKind::OrgApiKey => "mok_",
            SecretKind::WebhookKey => "mwk_",
            SecretKind::OperatorToken => "mop_",
        }
    }

    /// The kind a secret claims by its prefix, so the host can tell a key used in the wrong place
    /// without a database lookup.
    pub fn of(secret: &str) -> Option<SecretKind> {
        [
            SecretKind::OrgApiKey,
            SecretKind::WebhookKey,
            SecretKind::OperatorToken,
        ]
        .into_iter()
        .find(|k| secret.starts_with(k.prefix()))
    }
}

/// Random characters after the prefix: 32 base62 characters are about 190 bits.
const SECRET_CHARS: usize = 32;

/// A new secret: the kind's prefix and 32 base62 characters from a cryptographically secure RNG.
pub fn generate(kind: SecretKind) -> String {
    // `rand::rng()` is a ChaCha-based CSPRNG seeded, and periodically reseeded, from the OS.
    let random: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(SECRET_CHARS)
        .map(char::from)
        .collect();
    format!("{}{random}", kind.prefix())
}

/// The stored form of a secret: SHA-256, lower-case hex.
///
/// A fast hash is right here: the secrets are ~190 random bits, beyond brute force, so a slow
/// password hash would add nothing but cost on every authenticated request.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `secret` hashes to `stored_hash_hex`, compared in constant time so response timing does
/// not reveal how much of a guess matched.
pub fn verify(secret: &str, stored_hash_hex: &str) -> bool {
    let Ok(stored) = hex::decode(stored_hash_hex.trim()) else {
        return false;
    };
    let actual = Sha256::digest(secret.as_bytes());
    // The length is not secret (always 32 for a hash we stored); `ct_eq` returns false on a
    // mismatch of lengths.
    actual.as_slice().ct_eq(&stored).into()
}

/// A new id for a call log (or anything else the server names): a lower-case UUIDv7, so ids sort
/// roughly by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().hyphenated().to_string()
}

/// Whether `s` has the shape of a telephony-supplied call-log id: `[A-Za-z0-9_-]{1,64}`.
pub fn is_valid_call_log_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The query parameter that carries a webhook key.
const AUTH_PARAM: &str = "moja_auth_key";
const REDACTED: &str = "REDACTED";

/// The raw query string with the value of every `moja_auth_key` parameter replaced by `REDACTED`,
/// everything else kept byte for byte, so keys never reach logs.
///
/// Parameter names are compared after form-decoding (`moja%5Fauth_key` is the same parameter to
/// the server), ignoring ASCII case and with array forms (`moja_auth_key[]`): a key sent under a
/// variant the server refuses is still a key, and over-redacting a log line costs nothing. A
/// leading `?` is tolerated.
pub fn redact_query(query: &str) -> String {
    let (lead, rest) = match query.strip_prefix('?') {
        Some(rest) => ("?", rest),
        None => ("", query),
    };
    let mut out = String::with_capacity(query.len());
    out.push_str(lead);
    for (i, pair) in rest.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, _)) if is_auth_param(name) => {
                out.push_str(name);
                out.push('=');
                out.push_str(REDACTED);
            }
            _ => out.push_str(pair),
        }
    }
    out
}

/// Whether the form-encoded parameter name `raw` names the auth key; undecodable escapes are kept
/// literally, as form decoders do.
fn is_auth_param(raw: &str) -> bool {
    let raw = raw.as_bytes();
    let mut decoded = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'%'
            && let Some(byte) = raw
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            decoded.push(byte);
            i += 3;
            continue;
        }
        decoded.push(if b == b'+' { b' ' } else { b });
        i += 1;
    }
    let name = AUTH_PARAM.as_bytes();
    decoded.len() >= name.len()
        && decoded[..name.len()].eq_ignore_ascii_case(name)
        && (decoded.len() == name.len() || decoded[name.len()] == b'[')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_secrets_have_prefix_and_base62_body() {
        for kind in [
            SecretKind::OrgApiKey,
            SecretKind::WebhookKey,
            SecretKind::OperatorToken,
        ] {
            let s = generate(kind);
            assert!(s.starts_with(kind.prefix()));
            let body = &s[kind.prefix().len()..];
            assert_eq!(body.len(), 32);
            assert!(body.bytes().all(|b| b.is_ascii_alphanumeric()));
            assert_eq!(SecretKind::of(&s), Some(kind));
            assert_ne!(generate(kind), s);
        }
        assert_eq!(generate(SecretKind::OrgApiKey).len(), 36);
        assert_eq!(SecretKind::of("sk_live_x"), None);
    }

    #[test]
    fn hash_and_verify() {
        let h = hash("abc");
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(verify("abc", &h));
        assert!(verify("abc", &h.to_ascii_uppercase()));
        assert!(!verify("abd", &h));
        assert!(!verify("abc", &h[..62]));
        assert!(!verify("abc", "not hex"));
        assert!(!verify("abc", ""));
        let key = generate(SecretKind::WebhookKey);
        assert!(verify(&key, &hash(&key)));
    }

    #[test]
    fn ids() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a, a.to_ascii_lowercase());
        assert_eq!(&a[14..15], "7", "version 7");
        assert!(is_valid_call_log_id(&a));
        assert!(is_valid_call_log_id("CA_abc-123"));
        assert!(is_valid_call_log_id(&"x".repeat(64)));
        assert!(!is_valid_call_log_id(&"x".repeat(65)));
        assert!(!is_valid_call_log_id(""));
        assert!(!is_valid_call_log_id("a b"));
        assert!(!is_valid_call_log_id("a/b"));
        assert!(!is_valid_call_log_id("é"));
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact_query("moja_auth_key=mwk_secret"),
            "moja_auth_key=REDACTED"
        );
        assert_eq!(
            redact_query("a=1&moja_auth_key=mwk_secret&b=%20x+y&&c"),
            "a=1&moja_auth_key=REDACTED&b=%20x+y&&c"
        );
        assert_eq!(
            redact_query("moja_auth_key=one&moja_auth_key=two"),
            "moja_auth_key=REDACTED&moja_auth_key=REDACTED"
        );
        assert_eq!(
            redact_query(
                "moja%5Fauth%5fkey=k1&moja_auth_key[]=k2&MOJA_AUTH_KEY=k3&moja_auth_keys=k4"
            ),
            "moja%5Fauth%5fkey=REDACTED&moja_auth_key[]=REDACTED&MOJA_AUTH_KEY=REDACTED&moja_auth_keys=k4"
        );
        assert_eq!(
            redact_query("?moja_auth_key=k&x=moja_auth_key=k"),
            "?moja_auth_key=REDACTED&x=moja_auth_key=k"
        );
        assert_eq!(redact_query("moja_auth_key=a=b"), "moja_auth_key=REDACTED");
        assert_eq!(redact_query("moja_auth_key"), "moja_auth_key");
        assert_eq!(redact_query(""), "");
        assert_eq!(redact_query("q=caf%C3%A9&é=ü"), "q=caf%C3%A9&é=ü");
    }

    proptest! {
        #[test]
        fn redacted_query_never_contains_the_key(
            key in "[A-Za-z0-9]{9,40}",
            before in proptest::collection::vec("[a-z_]{1,8}=[a-z0-9%+]{0,8}", 0..4),
            after in proptest::collection::vec("[a-z_]{1,8}=[a-z0-9%+]{0,8}", 0..4),
        ) {
            let others = format!("{}&{}", before.join("&"), after.join("&"));
            prop_assume!(!others.contains(&key));
            let mut parts = before.clone();
            parts.push(format!("moja_auth_key={key}"));
            parts.extend(after.iter().cloned());
            parts.push(format!("moja_auth_key=mwk_{key}"));
            let query = parts.join("&");
            let out = redact_query(&query);
            prop_assert!(!out.contains(&key), "{out}");
            // Everything else is untouched.
            let expected: Vec<String> = parts
                .iter()
                .map(|p| if p.starts_with("moja_auth_key=") {
                    "moja_auth_key=REDACTED".to_owned()
                } else {
                    p.clone()
                })
                .collect();
            prop_assert_eq!(out, expected.join("&"));
        }

        #[test]
        fn redaction_keeps_queries_without_keys(q in "[ -~]{0,60}") {
            prop_assume!(!q.contains("moja") && !q.contains('%') && !q.starts_with('?'));
            prop_assert_eq!(redact_query(&q), q);
        }
    }
}
