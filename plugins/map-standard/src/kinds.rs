//! One function per webhook kind (SPEC §7.1–§7.4): the fields it reads, the command it builds and
//! the parameters it reports as ignored.

use moja_plugin_sdk::{CallSelector, Command, ErrorCode, Pairs, PluginError};

use crate::coerce;
use crate::input::{AUTH_KEY, Params};
use crate::lookup::{CALL_LOG_ID, CALLER_ID, Layers, Name, PHONE_NUMBER, REVENUE, TRANSACTION_ID};
use crate::select;
use crate::tags::{TAG_KEYS, TagOps};

const CURRENCY: &[Name] = &[Name::Currency];
const CONVERTED: &[Name] = &[Name::Converted];
const CONVERTED_AT: &[Name] = &[Name::CallConvertedAt, Name::ConvertedAt];
const PUBLISHER_PAID_OUT: &[Name] = &[Name::PublisherPaidOut];
const REASON: &[Name] = &[Name::Reason, Name::Disposition];
const NO_PAYOUT_REASON: &[Name] = &[Name::NoPayoutReason];
const STATE: &[Name] = &[Name::State];
const ZIP: &[Name] = &[Name::Zip, Name::ZipCode];

/// Tag keys that are not call data: the caller, the idempotency key and the credential.
const NOT_CALL_DATA: &[&str] = &["caller_id", "from", "transaction_id", AUTH_KEY];

/// `call_data` (SPEC §7.1): the caller (`caller_id` or `from`, body before query) is required; the
/// stored data is the normalizer's tags without the caller, `transaction_id` and the credential.
/// Nothing is ignored: every other field is data.
pub(crate) fn call_data(params: &Params<'_>, tags: Pairs) -> Result<Command, PluginError> {
    let layers = Layers::flat(params);
    let caller_id = layers
        .pick(CALLER_ID, |entry| {
            coerce::id(entry, "the caller's phone number given as a string")
        })?
        .ok_or_else(|| PluginError::missing("caller_id"))?;
    let mut command = Command::new(CallSelector::None);
    command.caller_id = Some(caller_id);
    command.transaction_id = select::transaction_id(&layers)?;
    command.call_data = tags
        .into_iter()
        .filter(|(key, _)| !NOT_CALL_DATA.contains(&key.as_str()))
        .collect();
    Ok(command)
}

/// `update_revenue` (SPEC §7.2): revenue (`revenue_paid_out`, `revenue`, `revenue_amount` or
/// `amount`) is required and not null; it converts the call if it is not converted yet.
pub(crate) fn update_revenue(params: &Params<'_>) -> Result<Command, PluginError> {
    let layers = Layers::flat(params);
    let mut command = Command::new(select::calls(&layers, params.is_post)?);
    command.transaction_id = select::transaction_id(&layers)?;
    let revenue = layers
        .pick(REVENUE, |entry| coerce::money(entry, false))?
        .flatten()
        .ok_or_else(|| PluginError::missing("revenue_paid_out"))?;
    command.fields.revenue_paid_out = Some(Some(revenue));
    command.fields.revenue_converts = true;
    command.fields.currency = layers.pick(CURRENCY, coerce::currency)?;
    command.ignored_fields =
        layers.ignored(&[CALL_LOG_ID, PHONE_NUMBER, TRANSACTION_ID, REVENUE, CURRENCY]);
    Ok(command)
}

/// `update_tags` (SPEC §7.3): at least one tag operation (`add`, `remove`, or `tags`) is required;
/// an `add: {}` or `remove: []` with nothing in it does not count.
pub(crate) fn update_tags(params: &Params<'_>) -> Result<Command, PluginError> {
    let layers = Layers::flat(params);
    let mut command = Command::new(select::calls(&layers, params.is_post)?);
    command.transaction_id = select::transaction_id(&layers)?;
    let mut ops = TagOps::default();
    for entry in &layers.top {
        ops.read(entry)?;
    }
    if ops.is_empty() {
        return Err(PluginError::new(
            ErrorCode::MissingParameter,
            "At least one of add or remove must be provided",
        ));
    }
    command.tag_ops = ops.into_ops();
    command.ignored_fields = layers.ignored(&[CALL_LOG_ID, PHONE_NUMBER, TRANSACTION_ID, TAG_KEYS]);
    Ok(command)
}

/// `update_fields` (SPEC §7.4): any of the call fields and tag operations, at the top level or
/// under `fields` (identification and `transaction_id` too). The same field given in both places
/// with different values is refused, like the same tag added with different values at the top
/// level and under `tags`. Revenue here does not convert the call. A request that changes nothing
/// is refused (`missing_parameter`), naming the fields it may carry and those that were not
/// understood: a sender whose only field was misspelt learns it at once.
pub(crate) fn update_fields(params: &Params<'_>) -> Result<Command, PluginError> {
    let layers = Layers::with_fields_wrapper(params)?;
    let mut command = Command::new(select::calls(&layers, params.is_post)?);
    command.transaction_id = select::transaction_id(&layers)?;

    let fields = &mut command.fields;
    fields.converted = layers.pick(CONVERTED, coerce::boolean)?;
    fields.call_converted_at = layers.pick(CONVERTED_AT, coerce::timestamp)?;
    fields.revenue_paid_out = layers.pick(REVENUE, |entry| coerce::money(entry, true))?;
    fields.revenue_converts = false;
    fields.publisher_paid_out =
        layers.pick(PUBLISHER_PAID_OUT, |entry| coerce::money(entry, true))?;
    fields.currency = layers.pick(CURRENCY, coerce::currency)?;
    fields.reason = layers.pick(REASON, |entry| coerce::nullable_text(entry, false))?;
    fields.no_payout_reason = layers.pick(NO_PAYOUT_REASON, coerce::no_payout_reason)?;
    fields.state = layers.pick(STATE, |entry| coerce::nullable_text(entry, false))?;
    fields.zip = layers.pick(ZIP, |entry| coerce::nullable_text(entry, true))?;

    let mut ops = TagOps::default();
    for entry in &layers.top {
        if entry.name == Some(Name::Fields) {
            for wrapped in &layers.wrapped {
                ops.read(wrapped)?;
            }
        } else {
            ops.read(entry)?;
        }
    }
    command.tag_ops = ops.into_ops();
    command.ignored_fields = layers.ignored(&[
        CALL_LOG_ID,
        PHONE_NUMBER,
        TRANSACTION_ID,
        CONVERTED,
        CONVERTED_AT,
        REVENUE,
        PUBLISHER_PAID_OUT,
        CURRENCY,
        REASON,
        NO_PAYOUT_REASON,
        STATE,
        ZIP,
        TAG_KEYS,
        &[Name::Fields],
    ]);

    if command.tag_ops.is_empty() && changes_nothing(&command) {
        let mut message = "Nothing to update: provide at least one of converted, \
                           call_converted_at, revenue_paid_out, publisher_paid_out, currency, \
                           reason, no_payout_reason, state, zip, add or remove"
            .to_owned();
        if !command.ignored_fields.is_empty() {
            let shown: Vec<_> = command
                .ignored_fields
                .iter()
                .take(10)
                .map(|name| coerce::short(name))
                .collect();
            let more = if command.ignored_fields.len() > shown.len() {
                ", …"
            } else {
                ""
            };
            message.push_str(&format!(" (not understood: {}{more})", shown.join(", ")));
        }
        return Err(PluginError::new(ErrorCode::MissingParameter, message));
    }
    Ok(command)
}

fn changes_nothing(command: &Command) -> bool {
    let f = &command.fields;
    f.converted.is_none()
        && f.call_converted_at.is_none()
        && f.revenue_paid_out.is_none()
        && f.publisher_paid_out.is_none()
        && f.currency.is_none()
        && f.reason.is_none()
        && f.no_payout_reason.is_none()
        && f.state.is_none()
        && f.zip.is_none()
}
