//! Tests of the standard mapper through `StandardMapper::map`, with requests built the way senders
//! send them, and the helpers they share.

mod errors;
mod fields;
mod props;
mod seeds;
mod sources;
mod tag_ops;

use moja_plugin_sdk::testing::RequestBuilder;
use moja_plugin_sdk::{
    CallSelector, Command, ErrorCode, HttpRequest, MapInput, Mapper, Pairs, PluginError, TagOp,
    WebhookKind,
};

use crate::StandardMapper;

pub(super) use WebhookKind::{CallData, UpdateFields, UpdateRevenue, UpdateTags};

pub(super) type Outcome = Result<Command, PluginError>;

/// The public path of `kind`.
pub(super) fn path(kind: WebhookKind) -> &'static str {
    match kind {
        CallData => "/call-data",
        UpdateRevenue => "/update-revenue",
        UpdateTags => "/update-tags",
        UpdateFields => "/update-fields",
    }
}

/// Maps `request` on a webhook of `kind`, with no normalizer tags.
pub(super) fn map(kind: WebhookKind, request: HttpRequest) -> Outcome {
    map_with_tags(kind, request, Vec::new())
}

/// Maps `request` on a webhook of `kind`, with the normalizer's `tags`.
pub(super) fn map_with_tags(kind: WebhookKind, request: HttpRequest, tags: Pairs) -> Outcome {
    StandardMapper::map(MapInput {
        kind,
        request,
        tags: tags.into(),
        config: Vec::new(),
    })
}

/// A POST of `body` declared as `application/json`, exactly as written.
pub(super) fn post_json(kind: WebhookKind, body: &str) -> Outcome {
    map(
        kind,
        RequestBuilder::post(path(kind))
            .body(body, Some("application/json"))
            .build(),
    )
}

/// A GET with the raw query string `query`.
pub(super) fn get(kind: WebhookKind, query: &str) -> Outcome {
    map(
        kind,
        RequestBuilder::get(path(kind)).query_string(query).build(),
    )
}

/// Asserts that `outcome` is exactly `expected`.
#[track_caller]
pub(super) fn assert_command(outcome: Outcome, expected: Command) {
    match outcome {
        Ok(actual) => assert_eq!(format!("{actual:#?}"), format!("{expected:#?}")),
        Err(error) => panic!("expected a command, got {error:#?}"),
    }
}

/// Asserts that `outcome` is the error `code` about `field` with exactly `message`.
#[track_caller]
pub(super) fn assert_error(outcome: Outcome, code: ErrorCode, field: Option<&str>, message: &str) {
    match outcome {
        Ok(command) => panic!("expected an error, got {command:#?}"),
        Err(error) => {
            assert_eq!(error.message, message);
            assert_eq!(error.code, code, "{message}");
            assert_eq!(error.field.as_deref(), field, "{message}");
        }
    }
}

/// A command for the call `id`.
pub(super) fn by_id(id: &str) -> Command {
    Command::new(CallSelector::CallLogId(id.to_owned()))
}

/// A command for the batch `ids`.
pub(super) fn by_ids(ids: &[&str]) -> Command {
    Command::new(CallSelector::CallLogIds(
        ids.iter().map(|id| (*id).to_owned()).collect(),
    ))
}

/// A command for the calls from `phone`.
pub(super) fn by_phone(phone: &str) -> Command {
    Command::new(CallSelector::PhoneNumber(phone.to_owned()))
}

/// `command` setting revenue the `update_revenue` way (it converts the call).
pub(super) fn with_revenue(mut command: Command, amount: &str) -> Command {
    command.fields.revenue_paid_out = Some(Some(amount.to_owned()));
    command.fields.revenue_converts = true;
    command
}

/// `command` with `transaction_id`.
pub(super) fn with_transaction(mut command: Command, id: &str) -> Command {
    command.transaction_id = Some(id.to_owned());
    command
}

/// `command` with the tag operations `ops`.
pub(super) fn with_ops(mut command: Command, ops: Vec<TagOp>) -> Command {
    command.tag_ops = ops;
    command
}

/// `command` reporting `ignored` fields.
pub(super) fn with_ignored(mut command: Command, ignored: &[&str]) -> Command {
    command.ignored_fields = ignored.iter().map(|f| (*f).to_owned()).collect();
    command
}

/// An add operation.
pub(super) fn add(key: &str, value: &str) -> TagOp {
    TagOp::Add((key.to_owned(), value.to_owned()))
}

/// A remove operation.
pub(super) fn remove(key: &str) -> TagOp {
    TagOp::Remove(key.to_owned())
}

/// `Some(Some(value))`: a field set to `value`.
pub(super) fn set(value: &str) -> Option<Option<String>> {
    Some(Some(value.to_owned()))
}

/// String pairs from string slices.
pub(super) fn pairs(items: &[(&str, &str)]) -> Pairs {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
