//! The values the mapper reads, borrowed from the request where possible, and a single-pass
//! reader of a JSON object body into them.
//!
//! The reader takes the body exactly as `serde_json` (with `preserve_order` and
//! `arbitrary_precision`) would read it into a `Value`, without building that tree: strings
//! without escapes and numbers are slices of the body, and the values of top-level fields the
//! mapper never reads are checked but not kept. Whenever the body is anything but plain, valid
//! JSON as this reader knows it (invalid JSON, deep nesting, invalid UTF-8, a top level that is not
//! an object, serde_json's private keys), it gives up and the caller reads the body with
//! `serde_json` instead, so that every error message and every corner case stays serde_json's.

use std::borrow::Cow;
use std::collections::HashMap;

/// A value: JSON, or a form / query value (strings, arrays of strings, objects of them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json's `arbitrary_precision` keeps its text (`25.50` stays `25.50`;
    /// an exponent is written `e` with its sign: `1E3` is `1e+3`).
    Number(Cow<'a, str>),
    /// A string, unescaped.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Val<'a>>),
    /// An object: keys unique, in order of first appearance, a repeated key keeping its last
    /// value (as serde_json's `preserve_order` map does).
    Object(Vec<(Cow<'a, str>, Val<'a>)>),
    /// The value of a top-level field the mapper never reads: checked, not kept.
    Skipped,
}

/// The members of an object value.
pub(crate) type Members<'a> = Vec<(Cow<'a, str>, Val<'a>)>;

/// Objects with more members than this get a hash index for their repeated-key checks.
const INDEX_FROM: usize = 16;

impl<'a> Val<'a> {
    /// The string, if this is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Val::String(s) => Some(s),
            _ => None,
        }
    }

    /// The same value from a `serde_json::Value` (the body when serde_json read it).
    pub(crate) fn from_json(value: serde_json::Value) -> Val<'static> {
        match value {
            serde_json::Value::Null => Val::Null,
            serde_json::Value::Bool(b) => Val::Bool(b),
            serde_json::Value::Number(n) => Val::Number(Cow::Owned(n.to_string())),
            serde_json::Value::String(s) => Val::String(Cow::Owned(s)),
            serde_json::Value::Array(items) => {
                Val::Array(items.into_iter().map(Val::from_json).collect())
            }
            serde_json::Value::Object(map) => Val::Object(
                map.into_iter()
                    .map(|(key, value)| (Cow::Owned(key), Val::from_json(value)))
                    .collect(),
            ),
        }
    }

    /// Compact JSON text, exactly as serde_json writes the same value.
    pub(crate) fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Val::Null | Val::Skipped => out.push_str("null"),
            Val::Bool(true) => out.push_str("true"),
            Val::Bool(false) => out.push_str("false"),
            Val::Number(n) => out.push_str(n),
            Val::String(s) => write_json_string(s, out),
            Val::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Val::Object(members) => {
                out.push('{');
                for (index, (key, value)) in members.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write_json_string(key, out);
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

#[cfg(test)]
impl PartialEq<serde_json::Value> for Val<'_> {
    fn eq(&self, other: &serde_json::Value) -> bool {
        *self == Val::from_json(other.clone())
    }
}

/// `s` as a JSON string literal, escaped as serde_json escapes it.
pub(crate) fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (index, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\x08' => "\\b",
            b'\x0c' => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..index]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = index + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Builds an object's members, a repeated key replacing the value in place.
#[derive(Debug)]
pub(crate) struct MembersBuilder<'a, V> {
    members: Vec<(Cow<'a, str>, V)>,
    /// Key → position, once the object is large enough for a linear search to cost.
    index: Option<HashMap<Cow<'a, str>, usize>>,
}

impl<V> Default for MembersBuilder<'_, V> {
    fn default() -> Self {
        Self {
            members: Vec::new(),
            index: None,
        }
    }
}

impl<'a, V> MembersBuilder<'a, V> {
    /// A builder with room for `capacity` members.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            members: Vec::with_capacity(capacity),
            index: None,
        }
    }

    /// The slot of `key`; a new key is added as `make_key()` holding `fresh()`.
    pub(crate) fn slot(
        &mut self,
        key: &str,
        make_key: impl FnOnce() -> Cow<'a, str>,
        fresh: impl FnOnce() -> V,
    ) -> &mut V {
        let at = match self.position(key) {
            Some(at) => at,
            None => {
                let key = make_key();
                if let Some(index) = &mut self.index {
                    index.insert(key.clone(), self.members.len());
                }
                self.members.push((key, fresh()));
                self.members.len() - 1
            }
        };
        &mut self.members[at].1
    }

    /// Sets `key` to `value`: a repeated key keeps its first position and takes the last value.
    pub(crate) fn insert(&mut self, key: Cow<'a, str>, value: V) {
        match self.position(&key) {
            Some(at) => self.members[at].1 = value,
            None => {
                if let Some(index) = &mut self.index {
                    index.insert(key.clone(), self.members.len());
                }
                self.members.push((key, value));
            }
        }
    }

    fn position(&mut self, key: &str) -> Option<usize> {
        if self.index.is_none() && self.members.len() >= INDEX_FROM {
            self.index = Some(
                self.members
                    .iter()
                    .enumerate()
                    .map(|(at, (key, _))| (key.clone(), at))
                    .collect(),
            );
        }
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.members.iter().position(|(k, _)| k == key),
        }
    }

    /// The members.
    pub(crate) fn finish(self) -> Vec<(Cow<'a, str>, V)> {
        self.members
    }
}

/// The reader gave up: the body is to be read by serde_json.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct GiveUp;

/// Nesting deeper than this is left to serde_json (which refuses 128 levels).
const MAX_DEPTH: u32 = 100;

/// The top-level members of the JSON object `body`. `keep(key)` says whether the value of a
/// top-level field is read; the others are [`Val::Skipped`].
pub(crate) fn top_object<'a>(
    body: &'a [u8],
    keep: impl Fn(&str) -> bool,
) -> Result<Members<'a>, GiveUp> {
    let text = std::str::from_utf8(body).map_err(|_| GiveUp)?;
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
        depth: 0,
    };
    reader.space();
    if reader.peek() != Some(b'{') {
        return Err(GiveUp);
    }
    reader.at += 1;
    let members = reader.object_members(Some(&keep))?;
    reader.space();
    if reader.at != reader.bytes.len() {
        return Err(GiveUp);
    }
    Ok(members)
}

/// The position of the first byte from `at` on that ends a plain run of string content: `"`, `\\`
/// or a control character (or the end of `bytes`). Eight bytes at a time.
#[inline(always)]
fn plain_run_end(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const QUOTES: u64 = ONES * b'"' as u64;
    const BACKSLASHES: u64 = ONES * b'\\' as u64;
    const SPACES: u64 = ONES * 0x20;
    while let Some(&[b0, b1, b2, b3, b4, b5, b6, b7]) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]);
        // A byte is flagged when it is zero after the xor, or below 0x20. Borrows can flag bytes
        // above the first match only, so the lowest flag is exact.
        let quote = word ^ QUOTES;
        let backslash = word ^ BACKSLASHES;
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(SPACES) & !word))
            & HIGH;
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&byte) = bytes.get(at) {
        if byte == b'"' || byte == b'\\' || byte < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: u32,
}

impl<'a> Reader<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Skips JSON white space.
    #[inline(always)]
    fn space(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    #[inline(always)]
    fn expect(&mut self, byte: u8) -> Result<(), GiveUp> {
        self.space();
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(GiveUp)
        }
    }

    fn enter(&mut self) -> Result<(), GiveUp> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(GiveUp);
        }
        Ok(())
    }

    /// A value. Strings, the commonest values, are read in line; containers out of line.
    // In a plugin every call pays fuel and epoch checks: measured, reading scalars without one
    // took a few percent off a whole map-standard call.
    #[inline(always)]
    fn value(&mut self) -> Result<Val<'a>, GiveUp> {
        self.space();
        if self.peek() == Some(b'"') {
            self.at += 1;
            return Ok(Val::String(self.string()?));
        }
        self.other_value()
    }

    /// A value that is not a string.
    fn other_value(&mut self) -> Result<Val<'a>, GiveUp> {
        match self.peek().ok_or(GiveUp)? {
            b'{' => {
                self.at += 1;
                self.enter()?;
                let members = self.object_members(None)?;
                self.depth -= 1;
                Ok(Val::Object(members))
            }
            b'[' => {
                self.at += 1;
                self.enter()?;
                let mut items = Vec::new();
                self.space();
                if self.peek() == Some(b']') {
                    self.at += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        if self.array_ends()? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Ok(Val::Array(items))
            }
            b't' => self.literal(b"true").map(|()| Val::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Val::Bool(false)),
            b'n' => self.literal(b"null").map(|()| Val::Null),
            _ => {
                let start = self.at;
                let exponent = self.number()?;
                Ok(Val::Number(self.number_text(start, exponent)))
            }
        }
    }

    /// Checks a value without building it. Strings in line, the rest out of line (see `value`).
    #[inline(always)]
    fn skip(&mut self) -> Result<(), GiveUp> {
        self.space();
        if self.peek() != Some(b'"') {
            return self.skip_other();
        }
        self.at += 1;
        loop {
            self.at = plain_run_end(self.bytes, self.at);
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape()?;
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// Checks a value that is not a string.
    fn skip_other(&mut self) -> Result<(), GiveUp> {
        match self.peek().ok_or(GiveUp)? {
            b'{' => {
                self.at += 1;
                self.enter()?;
                self.space();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                } else {
                    loop {
                        self.key()?;
                        self.skip()?;
                        if self.object_ends()? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            b'[' => {
                self.at += 1;
                self.enter()?;
                self.space();
                if self.peek() == Some(b']') {
                    self.at += 1;
                } else {
                    loop {
                        self.skip()?;
                        if self.array_ends()? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), GiveUp> {
        if !self.bytes[self.at..].starts_with(word) {
            return Err(GiveUp);
        }
        self.at += word.len();
        Ok(())
    }

    /// After a member: `,` (more follow, `false`) or `}` (`true`).
    #[inline(always)]
    fn object_ends(&mut self) -> Result<bool, GiveUp> {
        self.space();
        let ends = match self.peek() {
            Some(b',') => false,
            Some(b'}') => true,
            _ => return Err(GiveUp),
        };
        self.at += 1;
        Ok(ends)
    }

    /// After an item: `,` (more follow, `false`) or `]` (`true`).
    #[inline(always)]
    fn array_ends(&mut self) -> Result<bool, GiveUp> {
        self.space();
        let ends = match self.peek() {
            Some(b',') => false,
            Some(b']') => true,
            _ => return Err(GiveUp),
        };
        self.at += 1;
        Ok(ends)
    }

    /// The members of an object whose `{` was read. With `top`, the values of the keys it
    /// refuses are checked and left out ([`Val::Skipped`]); without, every value is kept.
    fn object_members(
        &mut self,
        top: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<Members<'a>, GiveUp> {
        self.space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Vec::new());
        }
        // The top level of a postback has a dozen or two fields; nested objects a few.
        let mut members = MembersBuilder::with_capacity(if top.is_some() { 16 } else { 4 });
        loop {
            let key = self.key()?;
            let value = if top.is_none_or(|keep| keep(&key)) {
                self.value()?
            } else {
                self.skip()?;
                Val::Skipped
            };
            members.insert(key, value);
            if self.object_ends()? {
                return Ok(members.finish());
            }
        }
    }

    /// `"key":`, the key unescaped. serde_json gives its private keys a meaning of their own:
    /// those are left to it.
    #[inline(always)]
    fn key(&mut self) -> Result<Cow<'a, str>, GiveUp> {
        self.expect(b'"')?;
        let key = self.string()?;
        if key.as_bytes().first() == Some(&b'$') && key.starts_with("$serde_json::private::") {
            return Err(GiveUp);
        }
        self.expect(b':')?;
        Ok(key)
    }

    /// The rest of a string whose `"` was read, unescaped.
    #[inline(always)]
    fn string(&mut self) -> Result<Cow<'a, str>, GiveUp> {
        let start = self.at;
        self.at = plain_run_end(self.bytes, self.at);
        match self.peek() {
            Some(b'"') => {
                let s = &self.text[start..self.at];
                self.at += 1;
                return Ok(Cow::Borrowed(s));
            }
            Some(b'\\') => {}
            // A control character, or the end of the body.
            _ => return Err(GiveUp),
        }
        // Escapes: build the string.
        let mut out = String::with_capacity(self.at - start + 16);
        let mut run = start;
        loop {
            match self.peek() {
                Some(b'"') => {
                    out.push_str(&self.text[run..self.at]);
                    self.at += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    if run < self.at {
                        out.push_str(&self.text[run..self.at]);
                    }
                    self.at += 1;
                    out.push(self.escape()?);
                    run = self.at;
                    // Escapes often come in runs (`\u00e9\u00e8`, `\n\n`).
                    if !matches!(self.peek(), Some(b'\\' | b'"')) {
                        self.at = plain_run_end(self.bytes, self.at);
                    }
                }
                _ => return Err(GiveUp),
            }
        }
    }

    /// The character of an escape whose `\` was read.
    #[inline]
    fn escape(&mut self) -> Result<char, GiveUp> {
        let byte = self.peek().ok_or(GiveUp)?;
        self.at += 1;
        Ok(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\x08',
            b'f' => '\x0c',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                let code = match first {
                    0xD800..=0xDBFF => {
                        if !self.bytes[self.at..].starts_with(b"\\u") {
                            return Err(GiveUp);
                        }
                        self.at += 2;
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(GiveUp);
                        }
                        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(GiveUp),
                    _ => first,
                };
                char::from_u32(code).ok_or(GiveUp)?
            }
            _ => return Err(GiveUp),
        })
    }

    fn hex4(&mut self) -> Result<u32, GiveUp> {
        let digits = self.bytes.get(self.at..self.at + 4).ok_or(GiveUp)?;
        let mut n = 0;
        for &d in digits {
            let v = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return Err(GiveUp),
            };
            n = n * 16 + u32::from(v);
        }
        self.at += 4;
        Ok(n)
    }

    /// Reads a number, checking its syntax; the position of its exponent letter, if any.
    fn number(&mut self) -> Result<Option<usize>, GiveUp> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek().ok_or(GiveUp)? {
            b'0' => {
                self.at += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(GiveUp);
                }
            }
            b'1'..=b'9' => self.digits(),
            _ => return Err(GiveUp),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(GiveUp);
            }
            self.digits();
        }
        if !matches!(self.peek(), Some(b'e' | b'E')) {
            return Ok(None);
        }
        let exponent = self.at;
        self.at += 1;
        if let Some(b'+' | b'-') = self.peek() {
            self.at += 1;
        }
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(GiveUp);
        }
        self.digits();
        Ok(Some(exponent))
    }

    /// The text of the number read from `start`, as serde_json's `arbitrary_precision` keeps
    /// it: as written, except that the exponent is written `e` followed by its sign.
    fn number_text(&self, start: usize, exponent: Option<usize>) -> Cow<'a, str> {
        let Some(e) = exponent else {
            return Cow::Borrowed(&self.text[start..self.at]);
        };
        let mut text = String::with_capacity(self.at - start + 1);
        text.push_str(&self.text[start..e]);
        text.push('e');
        let rest = &self.text[e + 1..self.at];
        if !rest.starts_with(['+', '-']) {
            text.push('+');
        }
        text.push_str(rest);
        Cow::Owned(text)
    }

    #[inline(always)]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What serde_json reads, as `Val`s: `None` when it refuses the body or it is not an object.
    fn serde(body: &[u8]) -> Option<Members<'static>> {
        match serde_json::from_slice::<serde_json::Value>(body).ok()? {
            serde_json::Value::Object(map) => {
                match Val::from_json(serde_json::Value::Object(map)) {
                    Val::Object(members) => Some(members),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn ours(body: &[u8]) -> Result<Members<'_>, GiveUp> {
        top_object(body, |_| true)
    }

    /// Whatever this reader accepts, serde_json reads the same way.
    fn agrees(body: &[u8]) {
        if let Ok(members) = ours(body) {
            assert_eq!(
                Some(members),
                serde(body),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn reads_as_serde_json_does() {
        for body in [
            r#"{}"#,
            r#" { "a" : 1 , "b" : [ ] , "c" : { } } "#,
            r#"{"a": 1, "b": 2, "a": 3}"#,
            r#"{"n": [0, -0, 1.50, -2.0e5, 3E-2, 4e+1, 18446744073709551616, -9223372036854775809]}"#,
            r#"{"s": "a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00", "k\u0041": true, "z": false, "x": null}"#,
            r#"{"nested": {"a": {"b": [1, {"c": "d", "c": "e"}]}}}"#,
            "{\"utf8\": \"héllo wörld ✓\"}",
            r#"{"$other": 1}"#,
        ] {
            let members = ours(body.as_bytes()).expect(body);
            assert_eq!(Some(members), serde(body.as_bytes()), "{body}");
        }
    }

    #[test]
    fn gives_up_where_serde_json_should_decide() {
        for body in [
            "",
            "[]",
            "1",
            r#"{"a": 1,}"#,
            r#"{"a": [1,]}"#,
            r#"{"a": 01}"#,
            r#"{"a": 1.}"#,
            r#"{"a": -}"#,
            r#"{"a": 1e}"#,
            r#"{"a": tru}"#,
            r#"{"a": "\x"}"#,
            r#"{"a": "\ud800"}"#,
            r#"{"a": "\udc00"}"#,
            r#"{"a": "\ud800\u0041"}"#,
            "{\"a\": \"\t\"}",
            r#"{"a": 1} x"#,
            r#"{"a" 1}"#,
            r#"{a: 1}"#,
            r#"{"$serde_json::private::Number": "1"}"#,
            r#"{"a": {"$serde_json::private::Number": "1"}}"#,
        ] {
            assert_eq!(ours(body.as_bytes()), Err(GiveUp), "{body}");
        }
        assert_eq!(ours(b"{\"a\": \"\xff\"}"), Err(GiveUp));
        let deep = format!("{{\"a\": {}{}}}", "[".repeat(120), "]".repeat(120));
        assert_eq!(ours(deep.as_bytes()), Err(GiveUp));
        let fine = format!("{{\"a\": {}{}}}", "[".repeat(90), "]".repeat(90));
        agrees(fine.as_bytes());
    }

    #[test]
    fn skipped_values_are_checked() {
        let keep = |key: &str| key == "a";
        let members = top_object(br#"{"a": 1, "b": {"c": [1, "x"]}}"#, keep).unwrap();
        assert_eq!(
            members,
            vec![
                (Cow::Borrowed("a"), Val::Number(Cow::Borrowed("1"))),
                (Cow::Borrowed("b"), Val::Skipped),
            ]
        );
        assert_eq!(
            top_object(br#"{"a": 1, "b": {"c": [1, x]}}"#, keep),
            Err(GiveUp)
        );
        assert_eq!(top_object(br#"{"a": 1, "b": "\q"}"#, keep), Err(GiveUp));
    }

    #[test]
    fn large_objects_keep_the_first_position_and_the_last_value() {
        let mut body = String::from("{");
        for i in 0..100 {
            body.push_str(&format!("\"k{}\": {i},", i % 40));
        }
        body.push_str("\"end\": true}");
        agrees(body.as_bytes());
        assert_eq!(ours(body.as_bytes()).unwrap().len(), 41);
    }

    #[test]
    fn writes_json_as_serde_json_does() {
        let body = "{\"v\": {\"a\": [1, 2.50, -3e4, true, null, \"q\\\"\\\\\\n\\u0001\\u007f\\u00e9/\"], \"b\": {}, \"a\": {\"x\": []}}}";
        let ours = ours(body.as_bytes()).unwrap();
        let value: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(ours[0].1.to_json(), value["v"].to_string());
    }

    fn json_text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            "-?(0|[1-9][0-9]{0,22})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,3})?",
            "\\PC{0,8}".prop_map(|s| serde_json::Value::String(s).to_string()),
            prop::sample::select(
                &[
                    r#""\u00e9\ud83d\ude00\/""#,
                    r#""\ud800""#,
                    r#""a\qb""#,
                    "01",
                    "1.",
                    "-",
                    "\"\t\"",
                ][..]
            )
            .prop_map(str::to_owned),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let key = prop_oneof![
                prop::sample::select(&["a", "b", "c", "\"a\\u0062\""][..]).prop_map(str::to_owned),
                "\\PC{0,4}",
            ]
            .prop_map(|k| {
                if k.starts_with('"') {
                    k
                } else {
                    serde_json::Value::String(k).to_string()
                }
            });
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                prop::collection::vec((key, inner), 0..6).prop_map(|pairs| {
                    let members: Vec<String> =
                        pairs.iter().map(|(k, v)| format!("{k} : {v}")).collect();
                    format!("{{ {} }}", members.join(" ,"))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn agrees_with_serde_json(value in json_text(), trailing in "[ \\t\\r\\n,x]{0,2}") {
            let body = format!("{{\"v\": {value}, \"v\": {value}, \"w\": {value}}}{trailing}");
            agrees(body.as_bytes());
            // What serde_json reads as an object, this reader reads too.
            prop_assert_eq!(serde(body.as_bytes()).is_some(), ours(body.as_bytes()).is_ok(), "{}", body);
        }
    }
}
