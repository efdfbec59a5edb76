//! Standard Webhooks signatures (<https://www.standardwebhooks.com/>).
//!
//! A secret is `whsec_` followed by the base64 of the key. The signed content is
//! `"{msg_id}.{timestamp}.{body}"`, signed with HMAC-SHA256 and sent as
//! `webhook-signature: v1,<base64>` beside `webhook-id` and `webhook-timestamp`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// The prefix of every secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Why a secret or message could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    /// The secret does not start with `whsec_`.
    #[error("a signing secret must start with \"whsec_\" followed by base64")]
    MissingPrefix,
    /// The part after `whsec_` is not base64.
    #[error("the signing secret is not valid base64 after \"whsec_\": {0}")]
    InvalidBase64(#[from] base64::DecodeError),
    /// The secret decodes to no bytes.
    #[error("the signing secret is empty after \"whsec_\"")]
    EmptyKey,
    /// The message id cannot be sent as the `webhook-id` header.
    #[error("invalid message id {0:?}: it must be non-empty visible ASCII without '.'")]
    InvalidMessageId(String),
}

/// A new random secret: `whsec_` followed by the base64 of 32 random bytes.
pub fn generate_secret() -> String {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The key bytes of a `whsec_<base64>` secret.
pub fn parse_secret(secret: &str) -> Result<Vec<u8>, SigningError> {
    let encoded = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or(SigningError::MissingPrefix)?;
    let key = STANDARD.decode(encoded)?;
    if key.is_empty() {
        return Err(SigningError::EmptyKey);
    }
    Ok(key)
}

/// The `webhook-signature` value for one message: `v1,<base64 HMAC-SHA256>`.
///
/// The message id must be non-empty visible ASCII without `.`, so that it is a valid header value
/// and the signed content `"{msg_id}.{timestamp}.{body}"` cannot be read two ways.
pub fn sign(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SigningError> {
    let key = parse_secret(secret)?;
    let valid_id = !msg_id.is_empty()
        && msg_id
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && byte != b'.');
    if !valid_id {
        return Err(SigningError::InvalidMessageId(msg_id.to_owned()));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts keys of any length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let signature = mac.finalize().into_bytes();
    Ok(format!("v1,{}", STANDARD.encode(signature)))
}

/// The three Standard Webhooks headers: `webhook-id`, `webhook-timestamp` (Unix seconds) and
/// `webhook-signature`.
pub fn headers(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<[(&'static str, String); 3], SigningError> {
    let signature = sign(secret, msg_id, timestamp, body)?;
    Ok([
        ("webhook-id", msg_id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const PAYLOAD: &[u8] = br#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn official_test_vector() {
        assert_eq!(sign(SECRET, MSG_ID, TIMESTAMP, PAYLOAD).unwrap(), EXPECTED);
    }

    #[test]
    fn headers_carry_id_timestamp_and_signature() {
        let headers = headers(SECRET, MSG_ID, TIMESTAMP, PAYLOAD).unwrap();
        assert_eq!(
            headers,
            [
                ("webhook-id", MSG_ID.to_owned()),
                ("webhook-timestamp", "1614265330".to_owned()),
                ("webhook-signature", EXPECTED.to_owned()),
            ]
        );
    }

    #[test]
    fn generated_secrets_parse_to_32_bytes() {
        let secret = generate_secret();
        assert!(secret.starts_with("whsec_"), "{secret}");
        assert_eq!(parse_secret(&secret).unwrap().len(), 32);
        assert_ne!(generate_secret(), secret);
    }

    #[test]
    fn secret_errors_are_clear() {
        assert_eq!(
            parse_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(SigningError::MissingPrefix)
        );
        assert_eq!(parse_secret("whsec_"), Err(SigningError::EmptyKey));
        let error = parse_secret("whsec_not*base64").unwrap_err();
        assert!(matches!(error, SigningError::InvalidBase64(_)));
        assert!(
            error
                .to_string()
                .starts_with("the signing secret is not valid base64 after \"whsec_\": "),
            "{error}"
        );
        assert_eq!(
            sign("secret", MSG_ID, TIMESTAMP, PAYLOAD),
            Err(SigningError::MissingPrefix)
        );
    }

    #[test]
    fn message_ids_must_be_header_safe() {
        for id in ["", "msg 1", "msg\r\n1", "msg.1", "msg_é"] {
            assert_eq!(
                sign(SECRET, id, TIMESTAMP, PAYLOAD),
                Err(SigningError::InvalidMessageId(id.to_owned())),
                "{id:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn the_signature_covers_id_timestamp_and_body(
            body in proptest::collection::vec(any::<u8>(), 0..256),
            timestamp in any::<i64>(),
            flip in any::<usize>(),
        ) {
            let signature = sign(SECRET, MSG_ID, timestamp, &body).unwrap();
            prop_assert!(signature.starts_with("v1,"));
            prop_assert_eq!(STANDARD.decode(&signature[3..]).unwrap().len(), 32);
            prop_assert_eq!(&sign(SECRET, MSG_ID, timestamp, &body).unwrap(), &signature);
            prop_assert_ne!(&sign(SECRET, "msg_other", timestamp, &body).unwrap(), &signature);
            prop_assert_ne!(
                &sign(SECRET, MSG_ID, timestamp.wrapping_add(1), &body).unwrap(),
                &signature
            );
            if !body.is_empty() {
                let mut changed = body.clone();
                let index = flip % changed.len();
                changed[index] ^= 1;
                prop_assert_ne!(&sign(SECRET, MSG_ID, timestamp, &changed).unwrap(), &signature);
            }
        }
    }
}
