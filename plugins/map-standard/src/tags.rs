//! Tag operations in request order: `add` (an object, or an array of objects), `remove` (a key,
//! comma-separated keys, or an array of them), the older `tags: {k: v}` form, and the
//! `tags: {add, remove}` wrapper.

use std::borrow::Cow;
use std::collections::HashMap;

use moja_plugin_sdk::keys::normalize_key;
use moja_plugin_sdk::{PluginError, TagOp};

use crate::coerce;
use crate::input::Entry;
use crate::json::{Members, Val};
use crate::lookup::Name;

/// The top-level keys that hold tag operations.
pub(crate) const TAG_KEYS: &[Name] = &[Name::Add, Name::Remove, Name::Tags];

/// Tag operations collected from one request.
#[derive(Debug, Default)]
pub(crate) struct TagOps {
    ops: Vec<TagOp>,
    /// The container (`add`, `tags.add`, …) every add so far came from, while there is one.
    only_container: Option<String>,
    /// Once adds come from several containers: normalized key → the value added last and where
    /// it was added. Only adds in different containers can conflict, so a request whose adds all
    /// sit in one container never builds it.
    added: Option<HashMap<String, (String, String)>>,
}

impl TagOps {
    /// The operations in request order.
    pub(crate) fn into_ops(self) -> Vec<TagOp> {
        self.ops
    }

    /// Whether no operation was collected.
    pub(crate) fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Reads the operations of `entry` if its key is `add`, `remove` or `tags`.
    pub(crate) fn read(&mut self, entry: &Entry<'_>) -> Result<(), PluginError> {
        let Some(name @ (Name::Add | Name::Remove | Name::Tags)) = entry.name else {
            return Ok(());
        };
        // Over GET and forms the string "null" means no operation, as it means null elsewhere.
        if entry.text && entry.value.as_str() == Some("null") {
            return Ok(());
        }
        let path = entry.path();
        match name {
            Name::Add => self.add(entry.value, &path, entry.text),
            Name::Remove => self.remove(entry.value, &path),
            _ => self.tags(entry.value, &path, entry.text),
        }
    }

    /// `add`: `{k: v, …}` or `[{k: v}, …]`. Null adds nothing.
    fn add(&mut self, value: &Val<'_>, path: &str, text: bool) -> Result<(), PluginError> {
        match value {
            Val::Null => Ok(()),
            Val::Object(map) => self.add_pairs(map, path),
            Val::Array(items) if !text => {
                for (index, item) in items.iter().enumerate() {
                    let Val::Object(map) = item else {
                        return Err(PluginError::invalid(
                            path,
                            format!(
                                "{path}[{index}] must be an object such as \
                                 {{\"lead_quality\": \"high\"}}, got {}",
                                coerce::shown(item)
                            ),
                        ));
                    };
                    self.add_pairs(map, path)?;
                }
                Ok(())
            }
            other if text => Err(PluginError::invalid(
                path,
                format!(
                    "{path} must be sent as key=value pairs in brackets, such as \
                     add[lead_quality]=high, got {}",
                    coerce::shown(other)
                ),
            )),
            other => Err(PluginError::invalid(
                path,
                format!(
                    "{path} must be an object of tag keys and values such as \
                     {{\"lead_quality\": \"high\"}}, or an array of such objects, got {}",
                    coerce::shown(other)
                ),
            )),
        }
    }

    /// Adds every pair of `map` (an `add` object, one element of an `add` array, or the older
    /// plain `tags` object), checking it against what other containers added.
    fn add_pairs(&mut self, map: &Members<'_>, container: &str) -> Result<(), PluginError> {
        // Room for a few removes too: one allocation for a typical request.
        self.ops.reserve(map.len() + 4);
        for (raw, value) in map {
            let key = tag_key(raw, container)?;
            let value = tag_value(value, raw, container)?;
            self.check_added(&key, &value, container)?;
            self.ops.push(TagOp::Add((key, value)));
        }
        Ok(())
    }

    /// Refuses `key` added with `value` under `container` when the last add of that key was in
    /// another container with another value, and records this add.
    fn check_added(&mut self, key: &str, value: &str, container: &str) -> Result<(), PluginError> {
        if self.added.is_none() {
            match &self.only_container {
                None => {
                    self.only_container = Some(container.to_owned());
                    return Ok(());
                }
                Some(only) if only == container => return Ok(()),
                Some(only) => {
                    // A second container: what the first added, the last value of each key.
                    let mut added = HashMap::new();
                    for op in &self.ops {
                        if let TagOp::Add((key, value)) = op {
                            added.insert(key.clone(), (value.clone(), only.clone()));
                        }
                    }
                    self.added = Some(added);
                }
            }
        }
        let added = self.added.get_or_insert_with(HashMap::new);
        if let Some((earlier, where_earlier)) = added.get(key)
            && where_earlier != container
            && earlier != value
        {
            return Err(PluginError::invalid(
                container,
                format!(
                    "Tag {key} is added with different values under {where_earlier} ({}) and \
                     under {container} ({}); send it once",
                    coerce::shown(&Val::String(Cow::Borrowed(earlier))),
                    coerce::shown(&Val::String(Cow::Borrowed(value)))
                ),
            ));
        }
        added.insert(key.to_owned(), (value.to_owned(), container.to_owned()));
        Ok(())
    }

    /// `remove`: a key, comma-separated keys, or an array of them. Null removes nothing.
    fn remove(&mut self, value: &Val<'_>, path: &str) -> Result<(), PluginError> {
        match value {
            Val::Null => Ok(()),
            Val::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    match item {
                        Val::String(s) | Val::Number(s) => self.remove_keys(s, path)?,
                        other => {
                            return Err(PluginError::invalid(
                                path,
                                format!(
                                    "{path}[{index}] must be a tag key given as a string, got {}",
                                    coerce::shown(other)
                                ),
                            ));
                        }
                    }
                }
                Ok(())
            }
            Val::String(s) | Val::Number(s) => self.remove_keys(s, path),
            other => Err(PluginError::invalid(
                path,
                format!(
                    "{path} must be a tag key or an array of tag keys such as \
                     [\"pending_review\"], got {}",
                    coerce::shown(other)
                ),
            )),
        }
    }

    /// One `remove` string, split on commas (a comma can never be part of a normalized key), or
    /// a number taken as its text. Blank pieces are skipped.
    fn remove_keys(&mut self, text: &str, path: &str) -> Result<(), PluginError> {
        for piece in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let key = tag_key(piece, path)?;
            self.ops.push(TagOp::Remove(key));
        }
        Ok(())
    }

    /// `tags`: an object whose keys are only `add` and `remove` holds operations; any other object
    /// (or an array of objects) is the older plain add.
    fn tags(&mut self, value: &Val<'_>, path: &str, text: bool) -> Result<(), PluginError> {
        match value {
            Val::Null => Ok(()),
            Val::Object(map)
                if !map.is_empty() && map.iter().all(|(k, _)| k == "add" || k == "remove") =>
            {
                for (key, inner) in map {
                    if text && inner.as_str() == Some("null") {
                        continue;
                    }
                    let mut inner_path = String::with_capacity(path.len() + 1 + key.len());
                    inner_path.push_str(path);
                    inner_path.push('.');
                    inner_path.push_str(key);
                    if key == "add" {
                        self.add(inner, &inner_path, text)?;
                    } else {
                        self.remove(inner, &inner_path)?;
                    }
                }
                Ok(())
            }
            Val::Object(_) => self.add(value, path, text),
            Val::Array(_) if !text => self.add(value, path, text),
            other => Err(PluginError::invalid(
                path,
                format!(
                    "{path} must be an object of tag keys and values such as \
                     {{\"lead_quality\": \"high\"}}, or {{\"add\": {{…}}, \"remove\": […]}}, got {}",
                    coerce::shown(other)
                ),
            )),
        }
    }
}

/// Whether `raw` is a key [`normalize_key`] leaves as it is: `[a-z0-9]` runs joined by single `_`.
fn is_normalized(raw: &str) -> bool {
    // After an `_`, or at the start: an `_` here would be leading or doubled.
    let mut after_separator = true;
    for &byte in raw.as_bytes() {
        match byte {
            b'a'..=b'z' | b'0'..=b'9' => after_separator = false,
            b'_' if !after_separator => after_separator = true,
            _ => return false,
        }
    }
    // Not empty, no trailing `_`.
    !after_separator
}

/// A tag key, normalized like the normalizer's; one with no letter or digit is refused.
fn tag_key(raw: &str, container: &str) -> Result<String, PluginError> {
    let key = if is_normalized(raw) {
        raw.to_owned()
    } else {
        normalize_key(raw)
    };
    if key.is_empty() {
        return Err(PluginError::invalid(
            container,
            format!(
                "Tag key {} under {container} has no letter or digit; tag keys are made of \
                 letters, digits and _",
                coerce::shown(&Val::String(Cow::Borrowed(raw)))
            ),
        ));
    }
    Ok(key)
}

/// A tag value: strings as they are, numbers and booleans as their JSON text, objects and arrays
/// as compact JSON. Null is refused: a tag is deleted with `remove`, not by adding null.
fn tag_value(value: &Val<'_>, raw_key: &str, container: &str) -> Result<String, PluginError> {
    match value {
        Val::String(s) | Val::Number(s) => Ok(s.to_string()),
        Val::Bool(b) => Ok(b.to_string()),
        Val::Null | Val::Skipped => Err(PluginError::invalid(
            container,
            format!(
                "Tag {} under {container} has a null value; give it a string value, or list its \
                 key under remove to delete it",
                coerce::shown(&Val::String(Cow::Borrowed(raw_key)))
            ),
        )),
        Val::Array(_) | Val::Object(_) => Ok(value.to_json()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_normalized_shortcut_agrees(raw in "[a-z0-9_A-Z .-]{0,12}") {
            if is_normalized(&raw) {
                prop_assert_eq!(normalize_key(&raw), raw);
            }
        }
    }

    #[test]
    fn normalized_keys() {
        for key in ["a", "lead_quality", "a1_b2", "0"] {
            assert!(is_normalized(key), "{key}");
        }
        for key in ["", "_a", "a_", "a__b", "Lead", "a-b", "a b", "é"] {
            assert!(!is_normalized(key), "{key}");
        }
    }
}
