//! Tag operations in request order: `add` (an object, or an array of objects), `remove` (a key,
//! comma-separated keys, or an array of them), the older `tags: {k: v}` form, and the
//! `tags: {add, remove}` wrapper.

use std::collections::HashMap;

use moja_plugin_sdk::keys::normalize_key;
use moja_plugin_sdk::{PluginError, TagOp};
use serde_json::{Map, Value};

use crate::coerce;
use crate::input::Entry;

/// The top-level keys that hold tag operations.
pub(crate) const TAG_KEYS: &[&str] = &["add", "remove", "tags"];

/// Tag operations collected from one request.
#[derive(Debug, Default)]
pub(crate) struct TagOps {
    ops: Vec<TagOp>,
    /// Normalized key → the value added last and where it was added (`add`, `tags.add`).
    added: HashMap<String, (String, String)>,
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
    pub(crate) fn read(&mut self, entry: &Entry) -> Result<(), PluginError> {
        // Over GET and forms the string "null" means no operation, as it means null elsewhere.
        if entry.text && entry.value.as_str() == Some("null") {
            return Ok(());
        }
        match entry.key.as_str() {
            "add" => self.add(&entry.value, &entry.path, entry.text),
            "remove" => self.remove(&entry.value, &entry.path),
            "tags" => self.tags(&entry.value, &entry.path, entry.text),
            _ => Ok(()),
        }
    }

    /// `add`: `{k: v, …}` or `[{k: v}, …]`. Null adds nothing.
    fn add(&mut self, value: &Value, path: &str, text: bool) -> Result<(), PluginError> {
        match value {
            Value::Null => Ok(()),
            Value::Object(map) => self.add_pairs(map, path),
            Value::Array(items) if !text => {
                for (index, item) in items.iter().enumerate() {
                    let Value::Object(map) = item else {
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
    fn add_pairs(&mut self, map: &Map<String, Value>, container: &str) -> Result<(), PluginError> {
        for (raw, value) in map {
            let key = tag_key(raw, container)?;
            let value = tag_value(value, raw, container)?;
            if let Some((earlier, where_earlier)) = self.added.get(&key)
                && where_earlier != container
                && *earlier != value
            {
                return Err(PluginError::invalid(
                    container,
                    format!(
                        "Tag {key} is added with different values under {where_earlier} ({}) and \
                         under {container} ({}); send it once",
                        coerce::shown(&Value::String(earlier.clone())),
                        coerce::shown(&Value::String(value))
                    ),
                ));
            }
            self.added
                .insert(key.clone(), (value.clone(), container.to_owned()));
            self.ops.push(TagOp::Add((key, value)));
        }
        Ok(())
    }

    /// `remove`: a key, comma-separated keys, or an array of them. Null removes nothing.
    fn remove(&mut self, value: &Value, path: &str) -> Result<(), PluginError> {
        match value {
            Value::Null => Ok(()),
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    match item {
                        Value::String(_) | Value::Number(_) => self.remove_keys(item, path)?,
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
            Value::String(_) | Value::Number(_) => self.remove_keys(value, path),
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
    fn remove_keys(&mut self, value: &Value, path: &str) -> Result<(), PluginError> {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        for piece in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let key = tag_key(piece, path)?;
            self.ops.push(TagOp::Remove(key));
        }
        Ok(())
    }

    /// `tags`: an object whose keys are only `add` and `remove` holds operations; any other object
    /// (or an array of objects) is the older plain add.
    fn tags(&mut self, value: &Value, path: &str, text: bool) -> Result<(), PluginError> {
        match value {
            Value::Null => Ok(()),
            Value::Object(map)
                if !map.is_empty() && map.keys().all(|k| k == "add" || k == "remove") =>
            {
                for (key, inner) in map {
                    let inner_path = format!("{path}.{key}");
                    if text && inner.as_str() == Some("null") {
                        continue;
                    }
                    if key == "add" {
                        self.add(inner, &inner_path, text)?;
                    } else {
                        self.remove(inner, &inner_path)?;
                    }
                }
                Ok(())
            }
            Value::Object(_) => self.add(value, path, text),
            Value::Array(_) if !text => self.add(value, path, text),
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

/// A tag key, normalized like the normalizer's; one with no letter or digit is refused.
fn tag_key(raw: &str, container: &str) -> Result<String, PluginError> {
    let key = normalize_key(raw);
    if key.is_empty() {
        return Err(PluginError::invalid(
            container,
            format!(
                "Tag key {} under {container} has no letter or digit; tag keys are made of \
                 letters, digits and _",
                coerce::shown(&Value::String(raw.to_owned()))
            ),
        ));
    }
    Ok(key)
}

/// A tag value: strings as they are, numbers and booleans as their JSON text, objects and arrays
/// as compact JSON. Null is refused: a tag is deleted with `remove`, not by adding null.
fn tag_value(value: &Value, raw_key: &str, container: &str) -> Result<String, PluginError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Err(PluginError::invalid(
            container,
            format!(
                "Tag {} under {container} has a null value; give it a string value, or list its \
                 key under remove to delete it",
                coerce::shown(&Value::String(raw_key.to_owned()))
            ),
        )),
        other => Ok(other.to_string()),
    }
}
