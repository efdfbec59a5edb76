//! Finding a field among its aliases, at the top level and (for `update_fields`) under the
//! `fields` wrapper, and listing the parameters nobody read as `ignored_fields`.

use moja_plugin_sdk::PluginError;
use serde_json::Value;

use crate::coerce;
use crate::input::{AUTH_KEY, Entry, Params};

/// `call_log_id` and its aliases, in order of preference.
pub(crate) const CALL_LOG_ID: &[&str] = &["call_log_id", "call_id", "callLogId"];
/// `phone_number` and its aliases, in order of preference.
pub(crate) const PHONE_NUMBER: &[&str] = &["phone_number", "caller_id", "from", "phone"];
/// `revenue_paid_out` and its aliases, in order of preference.
pub(crate) const REVENUE: &[&str] = &["revenue_paid_out", "revenue", "revenue_amount", "amount"];
/// The caller of a `call_data` request.
pub(crate) const CALLER_ID: &[&str] = &["caller_id", "from"];
/// The idempotency key.
pub(crate) const TRANSACTION_ID: &[&str] = &["transaction_id"];
/// The wrapper `update_fields` accepts its fields under.
pub(crate) const FIELDS_WRAPPER: &str = "fields";

/// The parameters one kind reads: the top level and the members of the `fields` wrapper.
#[derive(Debug)]
pub(crate) struct Layers<'a> {
    /// Top-level parameters in request order.
    pub(crate) top: &'a [Entry],
    /// Members of the `fields` object, in order (empty unless the kind reads the wrapper).
    pub(crate) wrapped: Vec<Entry>,
}

impl<'a> Layers<'a> {
    /// The top level only: a `fields` key is an ordinary (unknown) parameter.
    pub(crate) fn flat(params: &'a Params) -> Self {
        Self {
            top: &params.entries,
            wrapped: Vec::new(),
        }
    }

    /// The top level and the members of the `fields` object. `fields` must be an object (or null,
    /// meaning none).
    pub(crate) fn with_fields_wrapper(params: &'a Params) -> Result<Self, PluginError> {
        let mut wrapped = Vec::new();
        if let Some(entry) = params.entries.iter().find(|e| e.key == FIELDS_WRAPPER) {
            match coerce::single(entry)?.as_ref() {
                Value::Null => {}
                Value::Object(map) => {
                    for (key, value) in map {
                        if key != AUTH_KEY {
                            wrapped.push(entry.member(key, value));
                        }
                    }
                }
                other => {
                    return Err(PluginError::invalid(
                        FIELDS_WRAPPER,
                        format!(
                            "fields must be an object of call fields such as \
                             {{\"converted\": true}}, got {}",
                            coerce::shown(other)
                        ),
                    ));
                }
            }
        }
        Ok(Self {
            top: &params.entries,
            wrapped,
        })
    }

    /// The value of the field known as `aliases` (preferred name first), read with `parse`.
    ///
    /// In each layer, the candidates are ranked body before query, then by alias preference; the
    /// first one `parse` reads as given (`Some`) wins. When the top level and the `fields` wrapper
    /// both give the field with different values, the request is refused: which one was meant
    /// cannot be told.
    pub(crate) fn pick<T: PartialEq>(
        &self,
        aliases: &[&str],
        parse: impl Fn(&Entry) -> Result<Option<T>, PluginError>,
    ) -> Result<Option<T>, PluginError> {
        let top = first_given(self.top, aliases, &parse)?;
        let wrapped = first_given(&self.wrapped, aliases, &parse)?;
        match (top, wrapped) {
            (Some((top, top_entry)), Some((wrapped, wrapped_entry))) => {
                if top != wrapped {
                    return Err(PluginError::invalid(
                        &wrapped_entry.path,
                        format!(
                            "{} is given both at the top level ({}) and under fields ({}) with \
                             different values; send it once",
                            aliases[0], top_entry.path, wrapped_entry.path
                        ),
                    ));
                }
                Ok(Some(top))
            }
            (Some((value, _)), None) | (None, Some((value, _))) => Ok(Some(value)),
            (None, None) => Ok(None),
        }
    }

    /// The parameters not in `known`, in request order; members of the `fields` wrapper are
    /// named `fields.<key>` where the wrapper stands.
    pub(crate) fn ignored(&self, known: &[&[&str]]) -> Vec<String> {
        let is_known = |key: &str| known.iter().any(|names| names.contains(&key));
        let reads_wrapper = is_known(FIELDS_WRAPPER);
        let mut ignored = Vec::new();
        for entry in self.top {
            if reads_wrapper && entry.key == FIELDS_WRAPPER {
                ignored.extend(
                    self.wrapped
                        .iter()
                        .filter(|w| w.key == FIELDS_WRAPPER || !is_known(&w.key))
                        .map(|w| w.path.clone()),
                );
            } else if !is_known(&entry.key) {
                ignored.push(entry.path.clone());
            }
        }
        ignored
    }
}

/// The best-ranked candidate among `entries` that `parse` reads as given.
fn first_given<'e, T>(
    entries: &'e [Entry],
    aliases: &[&str],
    parse: &impl Fn(&Entry) -> Result<Option<T>, PluginError>,
) -> Result<Option<(T, &'e Entry)>, PluginError> {
    let mut candidates: Vec<(usize, &Entry)> = entries
        .iter()
        .filter_map(|e| aliases.iter().position(|a| *a == e.key).map(|i| (i, e)))
        .collect();
    candidates.sort_by_key(|(alias, entry)| (entry.source, *alias));
    for (_, entry) in candidates {
        if let Some(value) = parse(entry)? {
            return Ok(Some((value, entry)));
        }
    }
    Ok(None)
}
