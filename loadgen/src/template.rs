//! Request templating: `{seq}` becomes a per-request counter, `{id}` the next id of a list.
//!
//! Only the exact tokens `{seq}` and `{id}` are placeholders; every other brace is literal, so a
//! JSON body template needs no escaping. There is no escape for a literal `{seq}`.

use std::fmt::Write as _;

/// One piece of a parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Seq,
    Id,
}

/// A parsed template; render it once per request.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`, recognising `{seq}` and `{id}`.
    pub fn parse(text: &str) -> Self {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let tail = &rest[open..];
            let token = if tail.starts_with("{seq}") {
                Some((Part::Seq, "{seq}".len()))
            } else if tail.starts_with("{id}") {
                Some((Part::Id, "{id}".len()))
            } else {
                None
            };
            match token {
                Some((part, len)) => {
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(part);
                    rest = &tail[len..];
                }
                None => {
                    literal.push('{');
                    rest = &tail[1..];
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Self { parts }
    }

    /// Whether the template contains `{id}` (and so needs an ids list).
    pub fn uses_id(&self) -> bool {
        self.parts.contains(&Part::Id)
    }

    /// Whether the template contains `{seq}`.
    pub fn uses_seq(&self) -> bool {
        self.parts.contains(&Part::Seq)
    }

    /// The text, when the template has no placeholder at all.
    pub fn as_literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Literal(text)] => Some(text),
            _ => None,
        }
    }

    /// Renders the template; `{id}` renders as `id`, or as nothing when `id` is `None`.
    pub fn render(&self, seq: u64, id: Option<&str>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Seq => {
                    let _ = write!(out, "{seq}");
                }
                Part::Id => out.push_str(id.unwrap_or_default()),
            }
        }
        out
    }
}

/// The id that request number `seq` uses: the ids are cycled round-robin from `seq_start`.
pub fn id_for(ids: &[String], seq_start: u64, seq: u64) -> Option<&str> {
    if ids.is_empty() {
        return None;
    }
    let len = ids.len() as u64;
    let index = seq.wrapping_sub(seq_start) % len;
    ids.get(usize::try_from(index).ok()?).map(String::as_str)
}

/// Parses an ids file: one id per line, surrounding whitespace trimmed, blank lines skipped.
pub fn parse_ids(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_seq_and_id_and_keeps_other_braces() {
        let t = Template::parse(
            r#"{"call_log_id":"{id}","revenue_paid_out":"{seq}.00","transaction_id":"t-{seq}"}"#,
        );
        assert!(t.uses_id() && t.uses_seq());
        assert_eq!(
            t.render(42, Some("c-7")),
            r#"{"call_log_id":"c-7","revenue_paid_out":"42.00","transaction_id":"t-42"}"#
        );
    }

    #[test]
    fn unknown_and_unbalanced_braces_are_literal() {
        let t = Template::parse("{x}{seq{id}}{");
        assert_eq!(t.render(1, Some("A")), "{x}{seqA}{");
        assert!(!t.uses_seq());
    }

    #[test]
    fn literal_templates_are_detected() {
        assert_eq!(Template::parse("").as_literal(), Some(""));
        assert_eq!(
            Template::parse(r#"{"a":1}"#).as_literal(),
            Some(r#"{"a":1}"#)
        );
        assert_eq!(Template::parse("a{seq}").as_literal(), None);
    }

    #[test]
    fn missing_id_renders_empty() {
        assert_eq!(Template::parse("/x/{id}/{seq}").render(3, None), "/x//3");
    }

    #[test]
    fn ids_cycle_round_robin_from_seq_start() {
        let ids = parse_ids("a\n\n  b \nc\n");
        assert_eq!(ids, ["a", "b", "c"]);
        let picked: Vec<_> = (10..17).map(|s| id_for(&ids, 10, s).unwrap()).collect();
        assert_eq!(picked, ["a", "b", "c", "a", "b", "c", "a"]);
        assert_eq!(id_for(&[], 0, 5), None);
    }
}
