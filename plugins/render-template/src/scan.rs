//! Finding `[NAME]` placeholders in template text and looking their tags up.

use std::collections::HashMap;

use moja_plugin_sdk::Tag;

/// One piece of template text: literal text or a placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Literal template text (never contains a placeholder).
    Text(&'a str),
    /// A placeholder; the name without brackets (`CALL_ID`).
    Placeholder(&'a str),
}

impl<'a> Piece<'a> {
    /// The placeholder as written, brackets included (`[CALL_ID]`), or the text itself.
    pub(crate) fn raw(&self) -> String {
        match self {
            Piece::Text(text) => (*text).to_owned(),
            Piece::Placeholder(name) => format!("[{name}]"),
        }
    }
}

/// The name of the placeholder starting at byte `start` of `text`, if there is one there.
/// A placeholder is `[` NAME `]` with NAME matching `[A-Z][A-Z0-9_]*`.
fn placeholder_at(text: &str, start: usize) -> Option<&str> {
    let bytes = text.as_bytes();
    if bytes.get(start) != Some(&b'[') || !bytes.get(start + 1)?.is_ascii_uppercase() {
        return None;
    }
    let mut end = start + 2;
    while let Some(&b) = bytes.get(end) {
        match b {
            b'A'..=b'Z' | b'0'..=b'9' | b'_' => end += 1,
            b']' => return Some(&text[start + 1..end]),
            _ => return None,
        }
    }
    None
}

/// Splits `text` into literal text and placeholders, in order. Text pieces are never empty.
pub(crate) fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut literal_start = 0;
    let mut i = 0;
    while let Some(offset) = text[i..].find('[') {
        let at = i + offset;
        match placeholder_at(text, at) {
            Some(name) => {
                if at > literal_start {
                    out.push(Piece::Text(&text[literal_start..at]));
                }
                out.push(Piece::Placeholder(name));
                i = at + name.len() + 2;
                literal_start = i;
            }
            None => i = at + 1,
        }
    }
    if literal_start < text.len() {
        out.push(Piece::Text(&text[literal_start..]));
    }
    out
}

/// The placeholder names of `text`, in order of first appearance, without duplicates.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for piece in pieces(text) {
        if let Piece::Placeholder(name) = piece
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_owned());
        }
    }
    names
}

/// Whether `text` contains at least one placeholder.
pub(crate) fn has_placeholder(text: &str) -> bool {
    pieces(text)
        .iter()
        .any(|p| matches!(p, Piece::Placeholder(_)))
}

/// The call's tags by name. When a name is listed twice, the first entry wins.
#[derive(Debug)]
pub(crate) struct Tags<'a> {
    by_name: HashMap<&'a str, Option<&'a str>>,
}

impl<'a> Tags<'a> {
    pub(crate) fn new(tags: &'a [Tag]) -> Self {
        let mut by_name = HashMap::with_capacity(tags.len());
        for tag in tags {
            by_name
                .entry(tag.name.as_str())
                .or_insert(tag.value.as_deref());
        }
        Self { by_name }
    }

    /// The value to substitute for `name`; `None` when the placeholder stays as written (the tag
    /// does not apply to this event, or is unknown).
    pub(crate) fn value(&self, name: &str) -> Option<&'a str> {
        self.by_name.get(name).copied().flatten()
    }
}
