//! Finding a field among its aliases, at the top level and (for `update_fields`) under the
//! `fields` wrapper, and listing the parameters nobody read as `ignored_fields`.

use std::borrow::Cow;

use moja_plugin_sdk::PluginError;

use crate::coerce;
use crate::input::{AUTH_KEY, Entry, Params, Source};
use crate::json::Val;

/// A parameter name the mapper reads. Keys match exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Name {
    CallLogId,
    CallId,
    CallLogIdCamel,
    PhoneNumber,
    CallerId,
    From,
    Phone,
    RevenuePaidOut,
    Revenue,
    RevenueAmount,
    Amount,
    TransactionId,
    Currency,
    Converted,
    CallConvertedAt,
    ConvertedAt,
    PublisherPaidOut,
    Reason,
    Disposition,
    NoPayoutReason,
    State,
    Zip,
    ZipCode,
    Add,
    Remove,
    Tags,
    Fields,
}

/// How many names there are.
const NAMES: usize = Name::Fields as usize + 1;

impl Name {
    /// The name `key` is, if the mapper reads it.
    pub(crate) fn of(key: &str) -> Option<Name> {
        Some(match key {
            "call_log_id" => Name::CallLogId,
            "call_id" => Name::CallId,
            "callLogId" => Name::CallLogIdCamel,
            "phone_number" => Name::PhoneNumber,
            "caller_id" => Name::CallerId,
            "from" => Name::From,
            "phone" => Name::Phone,
            "revenue_paid_out" => Name::RevenuePaidOut,
            "revenue" => Name::Revenue,
            "revenue_amount" => Name::RevenueAmount,
            "amount" => Name::Amount,
            "transaction_id" => Name::TransactionId,
            "currency" => Name::Currency,
            "converted" => Name::Converted,
            "call_converted_at" => Name::CallConvertedAt,
            "converted_at" => Name::ConvertedAt,
            "publisher_paid_out" => Name::PublisherPaidOut,
            "reason" => Name::Reason,
            "disposition" => Name::Disposition,
            "no_payout_reason" => Name::NoPayoutReason,
            "state" => Name::State,
            "zip" => Name::Zip,
            "zip_code" => Name::ZipCode,
            "add" => Name::Add,
            "remove" => Name::Remove,
            "tags" => Name::Tags,
            "fields" => Name::Fields,
            _ => return None,
        })
    }

    /// The key as sent.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Name::CallLogId => "call_log_id",
            Name::CallId => "call_id",
            Name::CallLogIdCamel => "callLogId",
            Name::PhoneNumber => "phone_number",
            Name::CallerId => "caller_id",
            Name::From => "from",
            Name::Phone => "phone",
            Name::RevenuePaidOut => "revenue_paid_out",
            Name::Revenue => "revenue",
            Name::RevenueAmount => "revenue_amount",
            Name::Amount => "amount",
            Name::TransactionId => "transaction_id",
            Name::Currency => "currency",
            Name::Converted => "converted",
            Name::CallConvertedAt => "call_converted_at",
            Name::ConvertedAt => "converted_at",
            Name::PublisherPaidOut => "publisher_paid_out",
            Name::Reason => "reason",
            Name::Disposition => "disposition",
            Name::NoPayoutReason => "no_payout_reason",
            Name::State => "state",
            Name::Zip => "zip",
            Name::ZipCode => "zip_code",
            Name::Add => "add",
            Name::Remove => "remove",
            Name::Tags => "tags",
            Name::Fields => "fields",
        }
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// `call_log_id` and its aliases, in order of preference.
pub(crate) const CALL_LOG_ID: &[Name] = &[Name::CallLogId, Name::CallId, Name::CallLogIdCamel];
/// `phone_number` and its aliases, in order of preference.
pub(crate) const PHONE_NUMBER: &[Name] =
    &[Name::PhoneNumber, Name::CallerId, Name::From, Name::Phone];
/// `revenue_paid_out` and its aliases, in order of preference.
pub(crate) const REVENUE: &[Name] = &[
    Name::RevenuePaidOut,
    Name::Revenue,
    Name::RevenueAmount,
    Name::Amount,
];
/// The caller of a `call_data` request.
pub(crate) const CALLER_ID: &[Name] = &[Name::CallerId, Name::From];
/// The idempotency key.
pub(crate) const TRANSACTION_ID: &[Name] = &[Name::TransactionId];
/// The wrapper `update_fields` accepts its fields under.
pub(crate) const FIELDS_WRAPPER: &str = "fields";

/// Where each name sits among some entries (keys are unique among them).
#[derive(Debug)]
struct Index([Option<u32>; NAMES]);

impl Index {
    fn of<'e>(entries: impl Iterator<Item = &'e Option<Name>>) -> Self {
        let mut at = [None; NAMES];
        for (position, name) in entries.enumerate() {
            if let Some(name) = name {
                at[*name as usize].get_or_insert(position as u32);
            }
        }
        Self(at)
    }

    fn get(&self, name: Name) -> Option<usize> {
        self.0[name as usize].map(|at| at as usize)
    }
}

/// The parameters one kind reads: the top level and the members of the `fields` wrapper.
#[derive(Debug)]
pub(crate) struct Layers<'p> {
    /// Top-level parameters in request order.
    pub(crate) top: Vec<Entry<'p>>,
    /// Members of the `fields` object, in order (empty unless the kind reads the wrapper).
    pub(crate) wrapped: Vec<Entry<'p>>,
    top_index: Index,
    wrapped_index: Index,
}

impl<'p> Layers<'p> {
    /// The top level only: a `fields` key is an ordinary (unknown) parameter.
    pub(crate) fn flat(params: &'p Params<'_>) -> Self {
        Self::new(params, Vec::new())
    }

    fn new(params: &'p Params<'_>, wrapped: Vec<Entry<'p>>) -> Self {
        let top: Vec<Entry<'p>> = params.entries.iter().map(|p| p.entry()).collect();
        Self {
            top_index: Index::of(top.iter().map(|e| &e.name)),
            wrapped_index: Index::of(wrapped.iter().map(|e| &e.name)),
            top,
            wrapped,
        }
    }

    /// The top level and the members of the `fields` object. `fields` must be an object (or null,
    /// meaning none).
    pub(crate) fn with_fields_wrapper(params: &'p Params<'_>) -> Result<Self, PluginError> {
        let mut wrapped = Vec::new();
        if let Some(param) = params.entries.iter().find(|p| p.name == Some(Name::Fields)) {
            let entry = param.entry();
            match coerce::single(&entry)? {
                Cow::Borrowed(Val::Object(members)) => {
                    wrapped.reserve(members.len());
                    for (key, value) in members {
                        if key != AUTH_KEY {
                            wrapped.push(entry.member(key, value));
                        }
                    }
                }
                value if *value == Val::Null => {}
                other => {
                    return Err(PluginError::invalid(
                        FIELDS_WRAPPER,
                        format!(
                            "fields must be an object of call fields such as \
                             {{\"converted\": true}}, got {}",
                            coerce::shown(&other)
                        ),
                    ));
                }
            }
        }
        Ok(Self::new(params, wrapped))
    }

    /// The value of the field known as `aliases` (preferred name first), read with `parse`.
    ///
    /// In each layer, the candidates are ranked body before query, then by alias preference; the
    /// first one `parse` reads as given (`Some`) wins. When the top level and the `fields` wrapper
    /// both give the field with different values, the request is refused: which one was meant
    /// cannot be told.
    pub(crate) fn pick<T: PartialEq>(
        &self,
        aliases: &[Name],
        parse: impl Fn(&Entry<'p>) -> Result<Option<T>, PluginError>,
    ) -> Result<Option<T>, PluginError> {
        let top = first_given(&self.top, &self.top_index, aliases, &parse)?;
        let wrapped = first_given(&self.wrapped, &self.wrapped_index, aliases, &parse)?;
        match (top, wrapped) {
            (Some((top, top_entry)), Some((wrapped, wrapped_entry))) => {
                if top != wrapped {
                    return Err(PluginError::invalid(
                        &wrapped_entry.path(),
                        format!(
                            "{} is given both at the top level ({}) and under fields ({}) with \
                             different values; send it once",
                            aliases[0].as_str(),
                            top_entry.path(),
                            wrapped_entry.path()
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
    pub(crate) fn ignored(&self, known: &[&[Name]]) -> Vec<String> {
        let mask = known
            .iter()
            .flat_map(|names| names.iter())
            .fold(0, |mask, name| mask | name.bit());
        let is_known = |entry: &Entry<'_>| entry.name.is_some_and(|name| mask & name.bit() != 0);
        let reads_wrapper = mask & Name::Fields.bit() != 0;
        let mut ignored = Vec::with_capacity(self.top.len() + self.wrapped.len());
        for entry in &self.top {
            if reads_wrapper && entry.name == Some(Name::Fields) {
                ignored.extend(
                    self.wrapped
                        .iter()
                        .filter(|w| w.name == Some(Name::Fields) || !is_known(w))
                        .map(|w| w.path().into_owned()),
                );
            } else if !is_known(entry) {
                ignored.push(entry.key.to_owned());
            }
        }
        ignored
    }
}

/// The best-ranked candidate among `entries` that `parse` reads as given: body before query, then
/// by alias preference.
fn first_given<'e, 'p, T>(
    entries: &'e [Entry<'p>],
    index: &Index,
    aliases: &[Name],
    parse: &impl Fn(&Entry<'p>) -> Result<Option<T>, PluginError>,
) -> Result<Option<(T, &'e Entry<'p>)>, PluginError> {
    for source in [Source::Body, Source::Query] {
        for alias in aliases {
            let Some(at) = index.get(*alias) else {
                continue;
            };
            let entry = &entries[at];
            if entry.source != source {
                continue;
            }
            if let Some(value) = parse(entry)? {
                return Ok(Some((value, entry)));
            }
        }
    }
    Ok(None)
}
