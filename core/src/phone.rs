//! Phone numbers (SPEC §5, §7.5): caller ids and matching numbers parsed with the phonenumber
//! crate, accepted when *possible* for their country, and normalised to E.164.

use phonenumber::country;
use phonenumber::metadata::DATABASE;

/// A caller id as stored on a call: never refused, only classified.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallerId {
    /// A possible number, in E.164 form (`+13105559876`).
    Number(String),
    /// The caller withheld the number: `anonymous`, `restricted`, `private`, `unknown` (lower-cased
    /// as given) or `""`.
    Withheld(String),
    /// Anything else, as given but trimmed, so nothing the telephony side sent is lost.
    Unparsed(String),
}

impl CallerId {
    /// The text stored for the caller id.
    pub fn as_str(&self) -> &str {
        match self {
            CallerId::Number(s) | CallerId::Withheld(s) | CallerId::Unparsed(s) => s,
        }
    }
}

const EXAMPLE: &str = "send it in E.164 form like +13105559876";

/// Why a text does not designate a phone number; the message tells the sender what to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing but whitespace.
    #[error("the phone number is empty: {EXAMPLE}")]
    Empty,
    /// Not a phone number at all.
    #[error("{0:?} is not a phone number: {EXAMPLE}")]
    Invalid(String),
    /// Looks like a number but has a digit count no number of its country has.
    #[error("{0:?} has the wrong number of digits for a phone number of its country: {EXAMPLE}")]
    NotPossible(String),
}

const WITHHELD: [&str; 4] = ["anonymous", "restricted", "private", "unknown"];

/// Longest text handed to the phone-number parser: generous for any formatting of a 15-digit
/// E.164 number.
const MAX_INPUT: usize = 64;

/// Classifies a caller id; never fails, because a call is never refused for its caller id.
///
/// `default_region` (the org's, e.g. `"US"`) is used for numbers written without a country code.
pub fn parse_caller_id(raw: &str, default_region: &str) -> CallerId {
    let t = raw.trim();
    let lower = t.to_ascii_lowercase();
    if t.is_empty() || WITHHELD.contains(&lower.as_str()) {
        return CallerId::Withheld(lower);
    }
    match to_e164(t, default_region) {
        Ok(e164) => CallerId::Number(e164),
        Err(_) => CallerId::Unparsed(t.to_owned()),
    }
}

/// Parses a number sent to find calls by phone: E.164, or an error the sender can act on.
pub fn parse_phone(raw: &str, default_region: &str) -> Result<String, PhoneError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(PhoneError::Empty);
    }
    to_e164(t, default_region)
}

/// Whether `code` is an upper-case region code the phone-number metadata knows (`"US"`, `"GB"`).
pub fn is_valid_region(code: &str) -> bool {
    region(code).is_some()
}

/// The region code trimmed and upper-cased, if the phone-number metadata knows it.
pub fn normalize_region(code: &str) -> Option<String> {
    let code = code.trim().to_ascii_uppercase();
    is_valid_region(&code).then_some(code)
}

fn region(code: &str) -> Option<country::Id> {
    let id: country::Id = code.parse().ok()?;
    // The parser unwraps the metadata of the region it is given: only hand it known ones.
    DATABASE.by_id(id.as_ref()).map(|_| id)
}

fn shown(text: &str) -> String {
    match text.char_indices().nth(MAX_INPUT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// `t` is trimmed and not empty.
fn to_e164(t: &str, default_region: &str) -> Result<String, PhoneError> {
    // Only the characters people write numbers with reach the parser: letters (vanity numbers,
    // extensions) are not caller ids, and keeping to ASCII keeps the parser on well-trodden paths.
    let plausible = t.len() <= MAX_INPUT
        && t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b" +-().\t/".contains(&b));
    if !plausible {
        return Err(PhoneError::Invalid(shown(t)));
    }
    // With a region, the crate applies that region's metadata even to a number carrying another
    // country code (US national-prefix stripping would eat the `1` of `+44 1632 …`, and `+61 10000`
    // fails outright), so a number in international form is parsed without one.
    let region = if t.starts_with('+') {
        None
    } else {
        region(&default_region.trim().to_ascii_uppercase())
    };
    let number = phonenumber::parse(region, t).map_err(|_| PhoneError::Invalid(shown(t)))?;
    let code = number.code().value();
    // Leading zeros are part of the national significant number (Italy), hence `to_string`.
    let national = number.national().to_string();
    if !is_possible(code, national.len()) {
        return Err(PhoneError::NotPossible(shown(t)));
    }
    Ok(format!("+{code}{national}"))
}

/// Whether a national significant number of `len` digits is possible under country code `code`.
///
/// The phonenumber crate has no public "is possible" test, so this follows libphonenumber's
/// `isPossibleNumber`: the length must be a possible length of the main region of the code. The
/// crate's metadata leaves the general description's lengths empty (libphonenumber's build step
/// fills them in), so they are taken, as that step does, from the union of the number types.
/// Unlike libphonenumber, local-only lengths (a 7-digit US number) are refused: without an area
/// code the number cannot be written in E.164. Metadata without any lengths falls back to E.164's
/// bounds for a national number, 4 to 15 digits.
fn is_possible(code: u16, len: usize) -> bool {
    let Some(meta) = DATABASE.by_code(&code).and_then(|m| m.into_iter().next()) else {
        return false;
    };
    let Ok(len) = u16::try_from(len) else {
        return false;
    };
    let d = meta.descriptors();
    let mut any = !d.general().possible_length().is_empty();
    if d.general().possible_length().contains(&len) {
        return true;
    }
    for desc in [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
    {
        let lengths = desc.possible_length();
        any |= !lengths.is_empty();
        if lengths.contains(&len) {
            return true;
        }
    }
    !any && (4..=15).contains(&len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn us_formats_all_give_e164() {
        for raw in [
            "3105559876",
            "(310) 555-9876",
            "+1 310-555-9876",
            "13105559876",
            "+13105559876",
            "310.555.9876",
            " +1 (310) 555-9876 ",
            "1-310-555-9876",
            "310 555 9876",
        ] {
            assert_eq!(
                parse_phone(raw, "US").as_deref(),
                Ok("+13105559876"),
                "{raw:?}"
            );
            assert_eq!(
                parse_caller_id(raw, "US"),
                CallerId::Number("+13105559876".to_owned()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn possible_but_invalid_numbers_are_accepted() {
        assert_eq!(
            parse_phone("+15555551234", "US").as_deref(),
            Ok("+15555551234")
        );
        assert_eq!(
            parse_phone("5555551234", "US").as_deref(),
            Ok("+15555551234")
        );
        assert_eq!(
            parse_phone("+12125550100", "US").as_deref(),
            Ok("+12125550100")
        );
    }

    #[test]
    fn region_lower_case_and_international_numbers() {
        assert_eq!(
            parse_phone("3105559876", "us").as_deref(),
            Ok("+13105559876")
        );
        // An explicit country code wins over the default region.
        assert_eq!(
            parse_phone("+13105559876", "GB").as_deref(),
            Ok("+13105559876")
        );
        // An unknown default region still allows numbers with a country code.
        assert_eq!(
            parse_phone("+13105559876", "ZZ").as_deref(),
            Ok("+13105559876")
        );
        assert!(parse_phone("3105559876", "ZZ").is_err());
    }

    #[test]
    fn other_regions() {
        for raw in [
            "020 7946 0958",
            "+44 20 7946 0958",
            "02079460958",
            "+442079460958",
        ] {
            assert_eq!(
                parse_phone(raw, "GB").as_deref(),
                Ok("+442079460958"),
                "{raw:?}"
            );
        }
        assert_eq!(
            parse_phone("07700 900123", "GB").as_deref(),
            Ok("+447700900123")
        );
        assert_eq!(
            parse_phone("030 123456", "DE").as_deref(),
            Ok("+4930123456")
        );
        // Italy keeps the leading zero of fixed lines in E.164.
        assert_eq!(
            parse_phone("06 6982 1234", "IT").as_deref(),
            Ok("+390669821234")
        );
    }

    #[test]
    fn withheld_caller_ids() {
        for (raw, stored) in [
            ("anonymous", "anonymous"),
            ("Anonymous", "anonymous"),
            (" RESTRICTED ", "restricted"),
            ("private", "private"),
            ("Unknown", "unknown"),
            ("", ""),
            ("   ", ""),
        ] {
            let id = parse_caller_id(raw, "US");
            assert_eq!(id, CallerId::Withheld(stored.to_owned()), "{raw:?}");
            assert_eq!(id.as_str(), stored);
        }
    }

    #[test]
    fn garbage_is_kept_unparsed() {
        for raw in [
            "abc",
            "555",
            "12",
            "+",
            "1-800-FLOWERS",
            "+999 123 4567",
            "31055598761234567",
        ] {
            let id = parse_caller_id(raw, "US");
            assert_eq!(id, CallerId::Unparsed(raw.to_owned()), "{raw:?}");
        }
        assert_eq!(parse_caller_id("  abc ", "US").as_str(), "abc");
        // A local-only number has no area code to write in E.164.
        assert!(matches!(
            parse_caller_id("555-9876", "US"),
            CallerId::Unparsed(_)
        ));
    }

    #[test]
    fn errors_say_what_to_send() {
        assert_eq!(parse_phone("  ", "US"), Err(PhoneError::Empty));
        let err = parse_phone("abc", "US").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#""abc" is not a phone number: send it in E.164 form like +13105559876"#
        );
        assert!(parse_phone("anonymous", "US").is_err());
        let err = parse_phone("31055598", "US").unwrap_err();
        assert!(err.to_string().contains("+13105559876"), "{err}");
        let long = "1".repeat(500);
        assert!(parse_phone(&long, "US").unwrap_err().to_string().len() < 200);
    }

    #[test]
    fn regions() {
        assert!(is_valid_region("US"));
        assert!(is_valid_region("GB"));
        assert!(is_valid_region("DE"));
        assert!(!is_valid_region("us"));
        assert!(!is_valid_region("ZZ"));
        assert!(!is_valid_region("001"));
        assert!(!is_valid_region(""));
        assert_eq!(normalize_region(" gb "), Some("GB".to_owned()));
        assert_eq!(normalize_region("XX"), None);
    }

    proptest! {
        #[test]
        fn parse_phone_never_panics(s in "\\PC*", region in "[A-Z]{2}") {
            let _ = parse_phone(&s, &region);
            let _ = parse_caller_id(&s, &region);
        }

        #[test]
        fn number_like_text_never_panics(s in "[0-9 +().\\-/]{0,40}", region in "(US|GB|DE|IT|FR|IN|BR|JP|AU|ZZ)") {
            if let Ok(e164) = parse_phone(&s, &region) {
                prop_assert!(e164.starts_with('+'));
                prop_assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()));
                // E.164 is stable: parsing it again gives itself.
                prop_assert_eq!(parse_phone(&e164, "US"), Ok(e164.clone()));
            }
        }
    }
}
