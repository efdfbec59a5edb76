//! Which calls an update applies to (one `call_log_id`, a batch of them, or a `phone_number`) and
//! the sender's `transaction_id`.

use std::collections::HashSet;

use moja_plugin_sdk::{CallSelector, ErrorCode, PluginError};

use crate::coerce;
use crate::input::Entry;
use crate::json::Val;
use crate::lookup::{CALL_LOG_ID, Layers, PHONE_NUMBER, TRANSACTION_ID};

/// The most call log ids one request may name (SPEC §7.5).
pub(crate) const MAX_BATCH: usize = 50;

/// How `call_log_id` was given.
#[derive(Debug, PartialEq)]
enum Ids {
    Single(String),
    Batch(Vec<String>),
}

/// The calls an update names.
///
/// `call_log_id` (or `call_id`, `callLogId`) wins over `phone_number` (or `caller_id`, `from`,
/// `phone`) when both are single values. An array `call_log_id` is a batch: POST only, 1–50
/// non-empty string ids, duplicates removed keeping the first, never with a phone number. Over a
/// form body or the query string a repeated `call_log_id` (or `call_log_id[]`) is an array too.
/// A null or blank identifier counts as not given.
pub(crate) fn calls(layers: &Layers<'_>, is_post: bool) -> Result<CallSelector, PluginError> {
    let ids = layers.pick(CALL_LOG_ID, |entry| ids(entry, is_post))?;
    let phone = layers.pick(PHONE_NUMBER, |entry| {
        coerce::id(entry, "a phone number given as a string")
    })?;
    match (ids, phone) {
        (Some(Ids::Batch(_)), Some(_)) => Err(PluginError::invalid(
            "call_log_id",
            "call_log_id as an array cannot be combined with phone_number",
        )),
        (Some(Ids::Batch(ids)), None) => Ok(CallSelector::CallLogIds(ids)),
        (Some(Ids::Single(id)), _) => Ok(CallSelector::CallLogId(id)),
        (None, Some(phone)) => Ok(CallSelector::PhoneNumber(phone)),
        (None, None) => Err(PluginError::new(
            ErrorCode::MissingParameter,
            "Either call_log_id or phone_number must be provided",
        )),
    }
}

/// The sender's idempotency key: a string (trimmed) or a number taken as its text.
pub(crate) fn transaction_id(layers: &Layers<'_>) -> Result<Option<String>, PluginError> {
    layers.pick(TRANSACTION_ID, |entry| {
        coerce::id(entry, "a string such as \"order-12345\"")
    })
}

fn ids(entry: &Entry<'_>, is_post: bool) -> Result<Option<Ids>, PluginError> {
    let Val::Array(items) = entry.value else {
        let id = coerce::id(
            entry,
            "a call log id given as a string, or an array of up to 50 of them",
        )?;
        return Ok(id.map(Ids::Single));
    };
    if !is_post {
        let path = entry.path();
        return Err(PluginError::field(
            ErrorCode::BatchRequiresPost,
            path.as_ref(),
            format!(
                "{path} names several calls, which only a POST request with a JSON body may do; \
                 send one call_log_id per GET request"
            ),
        ));
    }
    batch(entry, items).map(|ids| Some(Ids::Batch(ids)))
}

fn batch(entry: &Entry<'_>, items: &[Val<'_>]) -> Result<Vec<String>, PluginError> {
    let path = entry.path();
    let path = path.as_ref();
    if items.is_empty() {
        return Err(PluginError::invalid(
            path,
            format!("{path} must hold 1 to {MAX_BATCH} call log ids, got an empty array"),
        ));
    }
    let mut seen = HashSet::new();
    let mut ids = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let id = match item {
            Val::String(s) if !s.trim().is_empty() => s.trim(),
            other => {
                return Err(PluginError::invalid(
                    path,
                    format!(
                        "{path}[{index}] must be a call log id given as a non-empty string, got {}",
                        coerce::shown(other)
                    ),
                ));
            }
        };
        if seen.insert(id) {
            ids.push(id.to_owned());
        }
    }
    if ids.len() > MAX_BATCH {
        return Err(PluginError::field(
            ErrorCode::BatchTooLarge,
            path,
            format!(
                "{path} holds {} different call log ids; at most {MAX_BATCH} are allowed in one \
                 request, so split the batch",
                ids.len()
            ),
        ));
    }
    Ok(ids)
}
