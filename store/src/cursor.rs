//! List cursors: the `(time, id)` of the last item of a page, as `"<microseconds>:<id>"`. Every
//! backend pages newest first by `(time, id)`, so the format is the store's, not a backend's;
//! the host checks a cursor it is sent before any backend reads it.

/// Where the next page of a list starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The last item's time, microseconds since the epoch.
    pub micros: i64,
    /// The last item's id.
    pub id: String,
}

impl Cursor {
    /// Reads a cursor this store made; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once(':')?;
        if id.is_empty() || !micros.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            return None;
        }
        Some(Self {
            micros: micros.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.micros, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_garbage_does_not() {
        let cursor = Cursor {
            micros: 1_790_000_000_000_000,
            id: "0193a:b".into(),
        };
        assert_eq!(Cursor::parse(&cursor.to_string()), Some(cursor));
        for garbage in ["garbage", "12:", ":id", "x1:id", "", "1.5:id"] {
            assert_eq!(Cursor::parse(garbage), None, "{garbage:?}");
        }
    }
}
