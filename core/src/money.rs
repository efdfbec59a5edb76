//! Money (SPEC §5): exact decimal amounts, parsed from text without binary floating point, rounded
//! and rendered with two decimals; ISO 4217 currency codes.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

/// The most digits a `Decimal` mantissa can always hold (its 96 bits hold any 28-digit number).
const MAX_DIGITS: usize = 28;

/// Why a text is not an amount; the message tells the sender what to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Nothing but whitespace.
    #[error("the amount is empty: expected a decimal number like 35.00")]
    Empty,
    /// Not digits with an optional decimal point.
    #[error(
        "{0:?} is not an amount: expected a non-negative decimal number like 35.00 \
         (digits and an optional decimal point; no sign, exponent or thousands separator)"
    )]
    Invalid(String),
    /// More digits than can be kept exactly.
    #[error("{0:?} has more than 28 significant digits: amounts are kept exactly, up to 28 digits")]
    TooManyDigits(String),
    /// More decimal places than can be kept exactly.
    #[error("{0:?} has more than 28 decimal places: amounts are kept exactly, up to 28 decimals")]
    TooManyDecimals(String),
}

/// Quotes at most 40 characters of the sender's text, so a huge value cannot bloat an error body.
fn shown(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Digits of the mantissa `int` followed by `frac` would need, leading zeros not counted.
fn mantissa_digits(int: &str, frac: &str) -> usize {
    let int = int.trim_start_matches('0');
    if int.is_empty() {
        frac.trim_start_matches('0').len()
    } else {
        int.len() + frac.len()
    }
}

/// Parses a non-negative amount written as `^[0-9]+(\.[0-9]+)?$`, optionally surrounded by
/// whitespace, exactly (digit by digit, never through `f64`).
///
/// The scale written is kept (`"150.00"` has two decimals), except that trailing fractional zeros
/// are dropped when that is what makes a long value fit in 28 digits.
pub fn parse_amount(text: &str) -> Result<Decimal, MoneyError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(MoneyError::Empty);
    }
    let (int, frac) = match t.split_once('.') {
        Some((int, frac)) if all_digits(frac) => (int, frac),
        Some(_) => return Err(MoneyError::Invalid(shown(t))),
        None => (t, ""),
    };
    if !all_digits(int) {
        return Err(MoneyError::Invalid(shown(t)));
    }
    let mut frac = frac;
    if mantissa_digits(int, frac) > MAX_DIGITS || frac.len() > MAX_DIGITS {
        frac = frac.trim_end_matches('0');
    }
    if mantissa_digits(int, frac) > MAX_DIGITS {
        return Err(MoneyError::TooManyDigits(shown(t)));
    }
    if frac.len() > MAX_DIGITS {
        return Err(MoneyError::TooManyDecimals(shown(t)));
    }
    // At most 28 significant digits: fits an i128 and a Decimal mantissa.
    let mantissa = int
        .bytes()
        .chain(frac.bytes())
        .fold(0i128, |m, b| m * 10 + i128::from(b - b'0'));
    Ok(Decimal::from_i128_with_scale(mantissa, frac.len() as u32))
}

/// Rounds to two decimals, halves away from zero (`0.125` → `0.13`), as people expect of money.
pub fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The sign and the integer and two-digit fractional parts of `d` rounded to cents.
fn cents_parts(d: &Decimal) -> (bool, String, u8) {
    let r = round2(*d);
    // Scale is at most 2 after rounding, so the mantissa scaled to cents fits easily in an i128
    // (96 bits times 100).
    let cents = r.mantissa().unsigned_abs() * 10u128.pow(2 - r.scale());
    let negative = r.is_sign_negative() && cents != 0;
    (negative, (cents / 100).to_string(), (cents % 100) as u8)
}

/// The amount with exactly two decimals and no grouping: `"1234.50"`, `"0.30"`.
pub fn format_plain(d: &Decimal) -> String {
    let (negative, int, frac) = cents_parts(d);
    format!("{}{int}.{frac:02}", if negative { "-" } else { "" })
}

/// The amount for people: currency symbol or code, thousands separators, two decimals
/// (`"$1,234.50"`, `"€0.30"`, `"JPY 1,234.50"`).
pub fn format_display(d: &Decimal, currency: &str) -> String {
    let (negative, int, frac) = cents_parts(d);
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let code = currency.trim().to_ascii_uppercase();
    let prefix = match code.as_str() {
        "USD" | "CAD" | "AUD" | "NZD" => "$".to_owned(),
        "EUR" => "€".to_owned(),
        "GBP" => "£".to_owned(),
        _ => format!("{code} "),
    };
    format!(
        "{}{prefix}{grouped}.{frac:02}",
        if negative { "-" } else { "" }
    )
}

/// The amount as a JSON number with exactly two decimals, so responses print `150.00` (the
/// workspace enables serde_json's `arbitrary_precision`, which keeps the number's text).
pub fn json_number(d: &Decimal) -> serde_json::Number {
    serde_json::Number::from_str(&format_plain(d))
        .expect("format_plain always yields a valid JSON number")
}

/// Whether `s` has the shape of an ISO 4217 code: three ASCII upper-case letters.
pub fn is_currency_code(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// The code trimmed and upper-cased, if it then has the shape of an ISO 4217 code.
pub fn normalize_currency(s: &str) -> Option<String> {
    let code = s.trim().to_ascii_uppercase();
    is_currency_code(&code).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Decimal {
        parse_amount(s).unwrap()
    }

    #[test]
    fn point_one_plus_point_two_is_point_three() {
        assert_eq!(format_plain(&(d("0.1") + d("0.2"))), "0.30");
    }

    #[test]
    fn parses_exactly() {
        assert_eq!(d("35").to_string(), "35");
        assert_eq!(d("150.00").to_string(), "150.00");
        assert_eq!(d("  12.5\n").to_string(), "12.5");
        assert_eq!(d("007.10").to_string(), "7.10");
        assert_eq!(d("1234567890123456.78").to_string(), "1234567890123456.78");
        assert_eq!(
            format_plain(&d("1234567890123456.78")),
            "1234567890123456.78"
        );
        let max = "9999999999999999999999999999";
        assert_eq!(d(max).to_string(), max);
        assert_eq!(
            d("0.0000000000000000000000000001").to_string(),
            "0.0000000000000000000000000001"
        );
        // Trailing zeros beyond what fits are dropped rather than refused.
        assert_eq!(d("9999999999999999999999999999.00"), d(max));
    }

    #[test]
    fn refusals() {
        assert_eq!(parse_amount(""), Err(MoneyError::Empty));
        assert_eq!(parse_amount("   "), Err(MoneyError::Empty));
        for bad in [
            "-1", "+1", "1e3", "1E3", "NaN", "nan", "inf", "1.", ".5", "1.2.3", "1,000", "1 000",
            "$5", "abc", "٣", "0x10", "1_000",
        ] {
            let err = parse_amount(bad).unwrap_err();
            assert!(
                matches!(err, MoneyError::Invalid(_)),
                "{bad:?} gave {err:?}"
            );
            assert!(err.to_string().contains("like 35.00"), "{err}");
        }
        assert!(matches!(
            parse_amount("12345678901234567890123456789"),
            Err(MoneyError::TooManyDigits(_))
        ));
        assert!(matches!(
            parse_amount("0.00000000000000000000000000001"),
            Err(MoneyError::TooManyDecimals(_))
        ));
        let long = "x".repeat(1000);
        assert!(parse_amount(&long).unwrap_err().to_string().len() < 200);
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(round2(d("0.125")), d("0.13"));
        assert_eq!(round2(d("0.135")), d("0.14"));
        assert_eq!(round2(d("0.124999")), d("0.12"));
        assert_eq!(round2(-d("0.125")), -d("0.13"));
    }

    #[test]
    fn plain_format() {
        assert_eq!(format_plain(&d("1234.5")), "1234.50");
        assert_eq!(format_plain(&d("0")), "0.00");
        assert_eq!(format_plain(&d("35")), "35.00");
        assert_eq!(format_plain(&d("0.005")), "0.01");
        assert_eq!(format_plain(&-d("0.004")), "0.00");
        assert_eq!(format_plain(&-d("12.3")), "-12.30");
    }

    #[test]
    fn display_format() {
        assert_eq!(format_display(&d("1234.5"), "USD"), "$1,234.50");
        assert_eq!(format_display(&d("0.3"), "usd"), "$0.30");
        assert_eq!(format_display(&d("1234567.891"), "EUR"), "€1,234,567.89");
        assert_eq!(format_display(&d("999"), "GBP"), "£999.00");
        assert_eq!(format_display(&d("1000"), "CAD"), "$1,000.00");
        assert_eq!(format_display(&d("1234.5"), "JPY"), "JPY 1,234.50");
        assert_eq!(format_display(&-d("1234.5"), "USD"), "-$1,234.50");
        assert_eq!(format_display(&d("100000"), "AUD"), "$100,000.00");
    }

    #[test]
    fn json_numbers_keep_two_decimals() {
        let n = json_number(&d("150"));
        assert_eq!(serde_json::Value::Number(n).to_string(), "150.00");
        let v = serde_json::json!({ "amount": json_number(&d("1234567890123456.78")) });
        assert_eq!(v.to_string(), r#"{"amount":1234567890123456.78}"#);
    }

    #[test]
    fn currency_codes() {
        assert!(is_currency_code("USD"));
        assert!(!is_currency_code("usd"));
        assert!(!is_currency_code("US"));
        assert!(!is_currency_code("USDX"));
        assert!(!is_currency_code("ÜSD"));
        assert_eq!(normalize_currency(" eur "), Some("EUR".to_owned()));
        assert_eq!(normalize_currency("e1r"), None);
        assert_eq!(normalize_currency(""), None);
    }

    proptest! {
        #[test]
        fn plain_format_round_trips(
            mantissa in 0i128..1_000_000_000_000_000_000_000_000_000,
            scale in 0u32..=12,
        ) {
            let x = Decimal::from_i128_with_scale(mantissa, scale);
            let text = format_plain(&x);
            prop_assert_eq!(parse_amount(&text).unwrap(), round2(x));
        }

        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = parse_amount(&s);
        }

        #[test]
        fn parses_what_it_prints(int in "[0-9]{1,14}", frac in "[0-9]{0,14}") {
            let text = if frac.is_empty() { int.clone() } else { format!("{int}.{frac}") };
            let parsed = parse_amount(&text).unwrap();
            let printed = parsed.to_string();
            prop_assert_eq!(printed.trim_start_matches('0'), text.trim_start_matches('0'));
        }
    }
}
