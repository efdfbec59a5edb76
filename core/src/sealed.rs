//! Encryption at rest of outbound webhook secrets and header templates (SPEC §3
//! `MOJA_ENCRYPTION_KEY`, §8): the sealing key and the `v1:` sealed-text format.
//!
//! A sealed value is `v1:` followed by the standard base64 of a random 96-bit nonce and the
//! ChaCha20-Poly1305 ciphertext with its 16-byte tag. The version prefix is bound into the
//! authentication tag as associated data, so a value cannot be passed off under another format
//! version, and it leaves room to change the algorithm later while still reading old rows.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::Rng;

/// The bytes of a key.
const KEY_LEN: usize = 32;
/// The bytes of a nonce: 96 bits, random per seal.
const NONCE_LEN: usize = 12;
/// The bytes of the Poly1305 authentication tag.
const TAG_LEN: usize = 16;
/// The prefix of the only format this version writes.
const V1: &str = "v1";

/// Why a key could not be read or a sealed value could not be opened.
///
/// No message ever includes key material or plaintext: these errors end up in logs and startup
/// output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The key text is not standard base64.
    #[error(
        "the encryption key is not valid standard base64: expected 32 random bytes in standard \
         base64 (44 characters ending in '=')"
    )]
    KeyNotBase64,
    /// The key decodes to the wrong number of bytes.
    #[error(
        "the encryption key is {0} bytes long once decoded: expected exactly 32 bytes \
         (44 characters of standard base64)"
    )]
    KeyWrongLength(usize),
    /// The sealed value names a format version this build cannot read.
    #[error(
        "the sealed value has format version {0:?}, which this server cannot read: expected v1"
    )]
    UnknownVersion(String),
    /// The sealed value does not have the `v1:<base64>` shape.
    #[error("the sealed value is malformed: {0}")]
    Malformed(&'static str),
    /// Authentication failed: another key sealed it, or it was altered.
    #[error(
        "the sealed value could not be opened: it was sealed with another encryption key, \
         or it was altered"
    )]
    WrongKeyOrTampered,
}

/// The 32-byte key that seals and opens stored secrets.
///
/// `Debug` never shows the key.
#[derive(Clone)]
pub struct SealingKey([u8; KEY_LEN]);

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

impl SealingKey {
    /// A new random key from the operating system's CSPRNG (through `rand::rng()`).
    pub fn generate() -> SealingKey {
        let mut key = [0u8; KEY_LEN];
        rand::rng().fill(&mut key);
        SealingKey(key)
    }

    /// Reads a key written as standard base64 of exactly 32 bytes (what [`SealingKey::to_base64`]
    /// writes). Surrounding whitespace is ignored, since keys read from files or environment
    /// variables often end with a newline.
    pub fn from_base64(text: &str) -> Result<SealingKey, SealError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| SealError::KeyNotBase64)?;
        let key: [u8; KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SealError::KeyWrongLength(bytes.len()))?;
        Ok(SealingKey(key))
    }

    /// The key as standard base64 (44 characters), for writing it to the data folder.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&self.0))
    }

    /// Encrypts `plaintext` as `v1:` + base64(nonce || ciphertext) with ChaCha20-Poly1305 and a
    /// random 96-bit nonce, so sealing the same text twice gives different results.
    pub fn seal(&self, plaintext: &str) -> String {
        // A random 96-bit nonce is safe for far more seals than one key will ever make (the
        // collision risk stays negligible below billions of seals per key).
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: V1.as_bytes(),
                },
            )
            .expect("ChaCha20-Poly1305 encrypts any message shorter than 256 GiB");
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        format!("{V1}:{}", STANDARD.encode(sealed))
    }

    /// Decrypts a value made by [`SealingKey::seal`]; fails on another key, any alteration, an
    /// unknown format version or a value that is not sealed text at all.
    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        let Some((version, body)) = sealed.split_once(':') else {
            return Err(SealError::Malformed("expected v1:<base64>"));
        };
        if version != V1 {
            return Err(if looks_like_version(version) {
                SealError::UnknownVersion(version.to_owned())
            } else {
                SealError::Malformed("expected v1:<base64>")
            });
        }
        let bytes = STANDARD
            .decode(body)
            .map_err(|_| SealError::Malformed("the part after v1: is not standard base64"))?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Malformed("too short to hold a nonce and a tag"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plaintext = self
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: V1.as_bytes(),
                },
            )
            .map_err(|_| SealError::WrongKeyOrTampered)?;
        // Only `seal` can produce an authentic value, and it seals UTF-8; this is belt and braces.
        String::from_utf8(plaintext).map_err(|_| SealError::Malformed("the plaintext is not UTF-8"))
    }
}

/// `v` and up to 4 digits: short enough to quote in an error without echoing stored data.
fn looks_like_version(text: &str) -> bool {
    text.strip_prefix('v')
        .is_some_and(|n| (1..=4).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip() {
        let key = SealingKey::generate();
        for text in [
            "",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "Bearer [API_TOKEN] 🚀 ünïcödé",
            "line\nbreak",
        ] {
            let sealed = key.seal(text);
            assert!(sealed.starts_with("v1:"), "{sealed}");
            assert!(!sealed.contains(text) || text.is_empty());
            assert_eq!(key.open(&sealed).unwrap(), text);
        }
    }

    #[test]
    fn sealing_twice_differs() {
        let key = SealingKey::generate();
        let a = key.seal("same text");
        let b = key.seal("same text");
        assert_ne!(a, b);
        assert_eq!(key.open(&a).unwrap(), key.open(&b).unwrap());
    }

    #[test]
    fn another_key_cannot_open() {
        let sealed = SealingKey::generate().seal("secret");
        let err = SealingKey::generate().open(&sealed).unwrap_err();
        assert_eq!(err, SealError::WrongKeyOrTampered);
        assert!(err.to_string().contains("another encryption key"), "{err}");
    }

    #[test]
    fn any_flipped_byte_is_detected() {
        let key = SealingKey::generate();
        let sealed = key.seal("whsec_secret");
        let bytes = STANDARD.decode(&sealed[3..]).unwrap();
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 0x01;
            let text = format!("v1:{}", STANDARD.encode(&altered));
            assert_eq!(
                key.open(&text),
                Err(SealError::WrongKeyOrTampered),
                "byte {i}"
            );
        }
        let truncated = format!("v1:{}", STANDARD.encode(&bytes[..bytes.len() - 1]));
        assert_eq!(key.open(&truncated), Err(SealError::WrongKeyOrTampered));
    }

    #[test]
    fn versions_and_shapes() {
        let key = SealingKey::generate();
        let sealed = key.seal("x");
        let v2 = sealed.replacen("v1:", "v2:", 1);
        let err = key.open(&v2).unwrap_err();
        assert_eq!(err, SealError::UnknownVersion("v2".into()));
        assert!(err.to_string().contains("expected v1"), "{err}");
        for bad in [
            "",
            "plain text",
            "v1",
            "v1:not base64!",
            "v1:",
            "v1:AAAA",
            "whsec_abc:def",
        ] {
            assert!(
                matches!(key.open(bad), Err(SealError::Malformed(_))),
                "{bad:?} gave {:?}",
                key.open(bad)
            );
        }
    }

    #[test]
    fn keys_round_trip_through_base64() {
        let key = SealingKey::generate();
        let text = key.to_base64();
        assert_eq!(text.len(), 44);
        let again = SealingKey::from_base64(&format!("{text}\n")).unwrap();
        assert_eq!(again.open(&key.seal("hello")).unwrap(), "hello");
        assert_ne!(SealingKey::generate().to_base64(), text);
    }

    #[test]
    fn bad_keys_are_refused_clearly() {
        let err = SealingKey::from_base64("not base64 at all!").unwrap_err();
        assert_eq!(err, SealError::KeyNotBase64);
        assert!(err.to_string().contains("standard base64"), "{err}");
        assert_eq!(
            SealingKey::from_base64("").unwrap_err(),
            SealError::KeyWrongLength(0)
        );
        let short = STANDARD.encode([7u8; 16]);
        let err = SealingKey::from_base64(&short).unwrap_err();
        assert_eq!(err, SealError::KeyWrongLength(16));
        let message = err.to_string();
        assert!(
            message.contains("16 bytes") && message.contains("exactly 32"),
            "{message}"
        );
        let long = STANDARD.encode([7u8; 33]);
        assert_eq!(
            SealingKey::from_base64(&long).unwrap_err(),
            SealError::KeyWrongLength(33)
        );
        // URL-safe base64 is not the standard alphabet.
        let url_safe = base64::engine::general_purpose::URL_SAFE.encode([0xfbu8; 32]);
        assert_eq!(
            SealingKey::from_base64(&url_safe).unwrap_err(),
            SealError::KeyNotBase64
        );
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = SealingKey::from_base64(&STANDARD.encode([0xabu8; 32])).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(shown, "SealingKey(<redacted>)");
        assert!(!shown.contains(&key.to_base64()));
    }

    proptest! {
        #[test]
        fn any_text_round_trips(text in "\\PC{0,200}") {
            let key = SealingKey::generate();
            prop_assert_eq!(key.open(&key.seal(&text)).unwrap(), text);
        }

        #[test]
        fn open_never_panics(text in "\\PC{0,80}") {
            let _ = SealingKey::generate().open(&text);
        }
    }
}
