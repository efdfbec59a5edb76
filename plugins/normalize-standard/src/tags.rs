//! The ordered tag set: precedence between sources, exclusions, and the count and size limits.

use std::collections::{HashMap, HashSet};

use moja_plugin_sdk::Normalized;

/// At most this many tags are emitted; further new keys are dropped and counted.
pub const MAX_TAGS: usize = 1_000;

/// Values longer than this many bytes are cut (at a UTF-8 character boundary).
pub const MAX_VALUE_BYTES: usize = 4_096;

/// The key that is never a tag, whatever its source.
const AUTH_KEY: &str = "moja_auth_key";

/// Where a tag came from; a lower rank wins a collision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Source {
    Body,
    Query,
    Header,
}

#[derive(Debug)]
struct Entry {
    key: String,
    value: String,
    source: Source,
    truncated: bool,
}

/// Tags being collected, in first-insertion order.
#[derive(Debug)]
pub(crate) struct TagSet<'a> {
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    dropped: HashSet<String>,
    exclude: &'a HashSet<String>,
}

impl<'a> TagSet<'a> {
    pub(crate) fn new(exclude: &'a HashSet<String>) -> Self {
        Self {
            entries: Vec::new(),
            index: HashMap::new(),
            dropped: HashSet::new(),
            exclude,
        }
    }

    /// Inserts an already-normalized `key` from `source`. Empty and excluded keys are ignored; a
    /// key held by a higher-precedence source is kept; a key from the same source takes the new
    /// value in its first position; a new key past [`MAX_TAGS`] is dropped.
    pub(crate) fn insert(&mut self, source: Source, key: String, value: String) {
        if key.is_empty() || key == AUTH_KEY || self.exclude.contains(&key) {
            return;
        }
        let (value, truncated) = truncate(value);
        if let Some(&i) = self.index.get(&key) {
            let entry = &mut self.entries[i];
            if source <= entry.source {
                entry.value = value;
                entry.source = source;
                entry.truncated = truncated;
            }
            return;
        }
        if self.entries.len() >= MAX_TAGS {
            self.dropped.insert(key);
            return;
        }
        self.index.insert(key.clone(), self.entries.len());
        self.entries.push(Entry {
            key,
            value,
            source,
            truncated,
        });
    }

    /// The tags, the truncated keys (in tag order) and the dropped count.
    pub(crate) fn finish(self) -> Normalized {
        let truncated = self
            .entries
            .iter()
            .filter(|e| e.truncated)
            .map(|e| e.key.clone())
            .collect();
        Normalized {
            tags: self.entries.into_iter().map(|e| (e.key, e.value)).collect(),
            truncated,
            dropped: u32::try_from(self.dropped.len()).unwrap_or(u32::MAX),
        }
    }
}

/// Cuts `value` to at most [`MAX_VALUE_BYTES`] bytes at a character boundary.
fn truncate(mut value: String) -> (String, bool) {
    if value.len() <= MAX_VALUE_BYTES {
        return (value, false);
    }
    let mut end = MAX_VALUE_BYTES;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value.truncate(end);
    (value, true)
}
