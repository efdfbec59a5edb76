//! The standard mapper plugin: turns a request on one of the four inbound webhooks into the
//! command the host applies, exactly as SPEC §7 describes.

#[cfg(test)]
mod bench;
mod coerce;
mod input;
mod json;
mod kinds;
mod lookup;
mod select;
mod tags;
#[cfg(test)]
mod tests;

use moja_plugin_sdk::{
    Command, HttpRequest, MapInput, Mapper, Pairs, PluginError, Tags, WebhookKind,
};

/// The standard mapper of SPEC §7, the default for every incoming webhook.
///
/// Where the request comes from:
/// - POST: the body (a JSON object, or form fields; a form-declared body that is JSON is JSON; a
///   missing content type is sniffed; an empty body is fine), then the query parameters the body
///   lacks. GET: the query only. Form and query values are strings and are coerced by the type of
///   their field: `true`/`false`/`1`/`0`, decimal strings for money, `null` for null.
/// - Form and query keys follow the bracket convention: `add[k]=v`, `remove[]=k`,
///   `fields[converted]=true`, `tags[add][k]=v`. A repeated key is an array: `remove` takes every
///   value, `call_log_id` becomes a batch (POST only), any other field accepts a repeat only when
///   every value is the same.
/// - `moja_auth_key` is dropped wherever it appears; the per-webhook configuration is not used.
///
/// Decisions where SPEC §7 is silent:
/// - Aliases: the body beats the query, then the preferred name beats its aliases
///   (`call_log_id` > `call_id` > `callLogId`; `phone_number` > `caller_id` > `from` > `phone`;
///   `revenue_paid_out` > `revenue` > `revenue_amount` > `amount`). Keys match exactly.
/// - Identifiers (`call_log_id`, phone, `caller_id`, `transaction_id`) are trimmed; a number is
///   taken as its text; null or blank counts as not given. Batch ids must be non-empty strings.
/// - A repeated or bracketed `call_log_id` in a POST form body or query is a batch, like a JSON
///   array; any method other than POST gets `batch_requires_post`.
/// - Booleans also accept the strings `"true"`, `"false"`, `"1"`, `"0"` in JSON bodies.
/// - `update_fields` accepts null for `revenue_paid_out` and `publisher_paid_out` (clears the
///   override); `update_revenue` refuses it. `currency: null` means not given (USD).
/// - `zip` accepts a number as its text; `reason` and `state` must be strings or null.
/// - `no_payout_reason` must be spelled exactly as listed.
/// - `remove` strings are split on commas in every source: a comma can never be part of a
///   normalized key. Null `add`/`remove`/`tags` add nothing.
/// - Tag values: null is refused (delete a tag with `remove`); objects and arrays become compact
///   JSON text; numbers keep the text they were sent with. The same tag added in two containers
///   (`add`, `tags`, `tags.add`, `fields.add`, …) with different values is refused; repeated
///   within one container, the later value wins in order.
/// - An `add` array element may hold several pairs; they are added in order.
/// - `update_tags` with no operation at all (including `add: {}`), and `update_fields` changing
///   nothing, are `missing_parameter` errors.
/// - The same `update_fields` field at the top level and under `fields` with different values is
///   refused. Identification and `transaction_id` may sit under `fields` too.
/// - `ignored_fields` lists body parameters first, then query parameters, each in request order.
///   The mapper does not log them as well: the host reports them in the response and the request
///   log, and a log line per request cost a twentieth of the whole call.
#[derive(Debug, Clone, Copy, Default)]
pub struct StandardMapper;

impl Mapper for StandardMapper {
    fn map(input: MapInput) -> Result<Command, PluginError> {
        let MapInput {
            kind,
            request,
            tags,
            config,
        } = input;
        let command = map_request(kind, &request, tags);
        discard((request, config));
        command
    }
}

fn map_request(
    kind: WebhookKind,
    request: &HttpRequest,
    tags: Tags,
) -> Result<Command, PluginError> {
    // Only `call_data` reads the normalizer's tags: the other kinds never fetch them.
    let tags = if kind == WebhookKind::CallData {
        tags.into_pairs()
    } else {
        discard(tags);
        Pairs::new()
    };
    let params = input::read(request)?;
    let command = match kind {
        WebhookKind::CallData => kinds::call_data(&params, tags),
        WebhookKind::UpdateRevenue => kinds::update_revenue(&params),
        WebhookKind::UpdateTags => kinds::update_tags(&params),
        WebhookKind::UpdateFields => kinds::update_fields(&params),
    };
    discard(params);
    command
}

/// Drops `value`. In a component it is left in place instead: every call runs in a fresh
/// instance whose memory is thrown away after the call (SPEC §6.2; the host's plugin runtime), so
/// freeing the request, the tags and the parsed parameters piece by piece is wasted work, measured
/// at a fifth of the guest's instructions for a 1 KiB postback. Should the host ever reuse
/// instances, this is the one place to turn back into `drop`.
fn discard<T>(value: T) {
    #[cfg(target_arch = "wasm32")]
    std::mem::forget(value);
    #[cfg(not(target_arch = "wasm32"))]
    drop(value);
}

moja_plugin_sdk::export_mapper!(StandardMapper);
moja_plugin_sdk::call_arena!(128 * 1024);
