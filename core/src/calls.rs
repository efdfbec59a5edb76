//! Call records and what may happen to them: lifecycle transitions, post-call processing and the
//! field and tag updates of inbound webhooks (SPEC §5, §7.2–§7.4), as pure functions.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::money;

/// Where a call is in its life; "live" means `ringing` or `connected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = CallStatusView)]
pub enum CallStatus {
    /// Received, not answered yet.
    Ringing,
    /// Answered by a target.
    Connected,
    /// Hung up and post-call processing done.
    Completed,
    /// Could not be connected.
    Failed,
}

impl CallStatus {
    /// Ringing or connected.
    pub fn is_live(self) -> bool {
        matches!(self, CallStatus::Ringing | CallStatus::Connected)
    }

    /// The lower-case name (`ringing`).
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Ringing => "ringing",
            CallStatus::Connected => "connected",
            CallStatus::Completed => "completed",
            CallStatus::Failed => "failed",
        }
    }
}

/// A publisher, target or buyer as the telephony side reports it; members left out are absent
/// from responses too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = CallParty)]
pub struct Party {
    /// Its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A phone number (publishers) .
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// A type (targets).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// One call record ("call log").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// The call log id (caller-supplied or a UUIDv7); case-sensitive.
    pub id: String,
    /// The owning org.
    pub org_id: String,
    /// The campaign the call came through.
    pub campaign_id: Option<String>,
    /// The telephony's session id.
    pub call_sid: Option<String>,
    /// The caller id as stored: E.164, or `anonymous`/`restricted`/empty, or the raw text.
    pub caller_id: String,
    /// The caller's number in E.164 when it parsed, for matching.
    pub caller_e164: Option<String>,
    /// The caller id exactly as the telephony sent it (`[FROM]`).
    pub from_raw: String,
    /// The dialed tracking number (`[TO]`).
    pub dialed_number: Option<String>,
    /// Publisher.
    pub publisher: Party,
    /// Target.
    pub target: Party,
    /// Buyer.
    pub buyer: Party,
    /// Current state.
    pub state: Option<String>,
    /// Current ZIP code.
    pub zip: Option<String>,
    /// State at call start.
    pub original_state: Option<String>,
    /// ZIP code at call start.
    pub original_zip: Option<String>,
    /// DNI attribution fields (`utm_source`, `gclid`, …) in order.
    pub attribution: Vec<(String, String)>,
    /// Tags in insertion order.
    pub tags: Vec<(String, String)>,
    /// Lifecycle status.
    pub status: CallStatus,
    /// When the call arrived.
    pub started_at: Timestamp,
    /// When it connected.
    pub connected_at: Option<Timestamp>,
    /// When it ended (hang-up or failure).
    pub ended_at: Option<Timestamp>,
    /// Who hung up: `caller`, `target` or `system`.
    pub terminated_by: Option<String>,
    /// Why it failed.
    pub failure_reason: Option<String>,
    /// Whether it converted.
    pub converted: bool,
    /// When it converted.
    pub converted_at: Option<Timestamp>,
    /// Buyer revenue.
    pub revenue_paid_out: Option<Decimal>,
    /// Whether revenue was set by a postback (the campaign rule then keeps it).
    pub revenue_overridden: bool,
    /// Publisher payout.
    pub publisher_paid_out: Option<Decimal>,
    /// Whether the payout was set by a postback.
    pub payout_overridden: bool,
    /// ISO 4217 currency of the money fields.
    pub currency: String,
    /// Disposition.
    pub reason: Option<String>,
    /// Payout hold reason.
    pub no_payout_reason: Option<String>,
    /// The campaign's configured buyer revenue at call start.
    pub configured_buyer_revenue: Option<Decimal>,
    /// The campaign's configured publisher payout at call start.
    pub configured_publisher_payout: Option<Decimal>,
    /// A conversion recorded while live, whose `call.converted` waits for post-call processing.
    pub conversion_event_pending: bool,
}

impl Call {
    /// A new ringing call with nothing but its identity, owner, start and currency set.
    pub fn ringing(id: &str, org_id: &str, started_at: Timestamp, currency: &str) -> Self {
        Self {
            id: id.to_owned(),
            org_id: org_id.to_owned(),
            campaign_id: None,
            call_sid: None,
            caller_id: String::new(),
            caller_e164: None,
            from_raw: String::new(),
            dialed_number: None,
            publisher: Party::default(),
            target: Party::default(),
            buyer: Party::default(),
            state: None,
            zip: None,
            original_state: None,
            original_zip: None,
            attribution: Vec::new(),
            tags: Vec::new(),
            status: CallStatus::Ringing,
            started_at,
            connected_at: None,
            ended_at: None,
            terminated_by: None,
            failure_reason: None,
            converted: false,
            converted_at: None,
            revenue_paid_out: None,
            revenue_overridden: false,
            publisher_paid_out: None,
            payout_overridden: false,
            currency: currency.to_owned(),
            reason: None,
            no_payout_reason: None,
            configured_buyer_revenue: None,
            configured_publisher_payout: None,
            conversion_event_pending: false,
        }
    }

    /// Connected seconds: from connection to the end (or to `now` while connected).
    pub fn duration_secs(&self, now: Timestamp) -> i64 {
        match self.connected_at {
            Some(connected) => {
                let end = self.ended_at.unwrap_or(now);
                (end.as_second() - connected.as_second()).max(0)
            }
            None => 0,
        }
    }

    /// The value of tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Adds or updates a tag, keeping the position of an existing key.
    pub fn set_tag(&mut self, key: &str, value: &str) -> Option<String> {
        match self.tags.iter_mut().find(|(k, _)| k == key) {
            Some((_, existing)) => Some(std::mem::replace(existing, value.to_owned())),
            None => {
                self.tags.push((key.to_owned(), value.to_owned()));
                None
            }
        }
    }

    /// Removes a tag; removing a missing key is a no-op.
    pub fn remove_tag(&mut self, key: &str) -> Option<String> {
        let index = self.tags.iter().position(|(k, _)| k == key)?;
        Some(self.tags.remove(index).1)
    }
}

/// A change to one update field: absent, set to null, or set to a value.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Change<T> {
    /// Not in the request.
    #[default]
    Absent,
    /// Explicitly null.
    Null,
    /// A value.
    Set(T),
}

impl<T> Change<T> {
    /// Whether the request had this field.
    pub fn is_present(&self) -> bool {
        !matches!(self, Change::Absent)
    }
}

/// The field changes of an update, parsed and validated.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FieldUpdates {
    /// `converted`.
    pub converted: Option<bool>,
    /// `call_converted_at`.
    pub call_converted_at: Change<Timestamp>,
    /// `revenue_paid_out`.
    pub revenue_paid_out: Change<Decimal>,
    /// Whether setting revenue converts a not-yet-converted call (update_revenue).
    pub revenue_converts: bool,
    /// `publisher_paid_out` (completed calls only).
    pub publisher_paid_out: Change<Decimal>,
    /// `currency`.
    pub currency: Option<String>,
    /// `reason`.
    pub reason: Change<String>,
    /// `no_payout_reason` (completed calls only).
    pub no_payout_reason: Change<String>,
    /// `state`.
    pub state: Change<String>,
    /// `zip`.
    pub zip: Change<String>,
}

/// One tag operation, in request order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TagOp {
    /// Add or update.
    Add(String, String),
    /// Remove (a no-op when missing).
    Remove(String),
}

/// What an update did to one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// Field → new value, for the response's `updated` (and `revenue_paid_out`).
    pub updated: Vec<(String, Value)>,
    /// Fields deferred to completion (`publisher_paid_out`, `no_payout_reason` on a live call).
    pub queued: Vec<String>,
    /// Each change as `{field, from, to}`, for the timeline.
    pub changes: Vec<Value>,
    /// The call went from not converted to converted.
    pub became_converted: bool,
}

fn money_json(value: &Option<Decimal>) -> Value {
    match value {
        Some(d) => Value::Number(money::json_number(d)),
        None => Value::Null,
    }
}

fn time_json(value: &Option<Timestamp>) -> Value {
    match value {
        Some(t) => Value::String(format_time(*t)),
        None => Value::Null,
    }
}

/// RFC 3339 UTC with milliseconds (`2026-11-23T10:15:30.000Z`).
pub fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn text_json(value: &Option<String>) -> Value {
    value.clone().map(Value::String).unwrap_or(Value::Null)
}

struct Recorder<'a> {
    applied: &'a mut Applied,
}

impl Recorder<'_> {
    fn record(&mut self, field: &str, from: Value, to: Value) {
        if from != to {
            self.applied
                .changes
                .push(json!({"field": field, "from": from, "to": to}));
        }
        self.applied.updated.push((field.to_owned(), to));
    }
}

/// Applies `fields` to `call` at `now`. On a live call, `publisher_paid_out` and
/// `no_payout_reason` are not applied but listed in `queued` (the caller stores them and applies
/// them at completion with [`apply_queued`]).
pub fn apply_fields(call: &mut Call, fields: &FieldUpdates, now: Timestamp) -> Applied {
    let mut applied = Applied::default();
    let was_converted = call.converted;
    let live = call.status.is_live();
    let mut rec = Recorder {
        applied: &mut applied,
    };

    if let Some(currency) = &fields.currency {
        let from = Value::String(call.currency.clone());
        call.currency = currency.clone();
        rec.record("currency", from, Value::String(currency.clone()));
    }
    match &fields.revenue_paid_out {
        Change::Absent => {}
        change => {
            let from = money_json(&call.revenue_paid_out);
            call.revenue_paid_out = match change {
                Change::Set(v) => Some(money::round2(*v)),
                _ => None,
            };
            call.revenue_overridden = true;
            rec.record("revenue_paid_out", from, money_json(&call.revenue_paid_out));
            if fields.revenue_converts
                && call.revenue_paid_out.is_some()
                && call.converted_at.is_none()
            {
                convert(call, now, &mut rec);
            }
        }
    }
    match &fields.call_converted_at {
        Change::Absent => {}
        Change::Set(at) => {
            let from = time_json(&call.converted_at);
            call.converted_at = Some(*at);
            rec.record("call_converted_at", from, time_json(&call.converted_at));
            if !call.converted {
                call.converted = true;
                rec.record("converted", Value::Bool(false), Value::Bool(true));
            }
        }
        Change::Null => {
            let from = time_json(&call.converted_at);
            call.converted_at = None;
            rec.record("call_converted_at", from, Value::Null);
        }
    }
    match fields.converted {
        Some(true) if !call.converted => convert(call, now, &mut rec),
        Some(true) => rec.record("converted", Value::Bool(true), Value::Bool(true)),
        Some(false) => {
            let from = Value::Bool(call.converted);
            call.converted = false;
            rec.record("converted", from, Value::Bool(false));
            if call.converted_at.is_some() {
                let from = time_json(&call.converted_at);
                call.converted_at = None;
                rec.record("call_converted_at", from, Value::Null);
            }
        }
        None => {}
    }
    for (name, change, slot) in [
        ("reason", &fields.reason, &mut call.reason),
        ("state", &fields.state, &mut call.state),
        ("zip", &fields.zip, &mut call.zip),
    ] {
        let new = match change {
            Change::Absent => continue,
            Change::Null => None,
            Change::Set(v) => Some(v.clone()),
        };
        let from = text_json(slot);
        *slot = new;
        rec.record(name, from, text_json(slot));
    }
    if fields.publisher_paid_out.is_present() {
        if live {
            rec.applied.queued.push("publisher_paid_out".into());
        } else {
            set_payout(call, &fields.publisher_paid_out, &mut rec);
        }
    }
    if fields.no_payout_reason.is_present() {
        if live {
            rec.applied.queued.push("no_payout_reason".into());
        } else {
            set_no_payout_reason(call, &fields.no_payout_reason, &mut rec);
        }
    }
    applied.became_converted = !was_converted && call.converted;
    if applied.became_converted && live {
        call.conversion_event_pending = true;
    }
    applied
}

fn convert(call: &mut Call, now: Timestamp, rec: &mut Recorder<'_>) {
    let from = Value::Bool(call.converted);
    call.converted = true;
    rec.record("converted", from, Value::Bool(true));
    if call.converted_at.is_none() {
        call.converted_at = Some(now);
        rec.record(
            "call_converted_at",
            Value::Null,
            time_json(&call.converted_at),
        );
    }
}

fn set_payout(call: &mut Call, change: &Change<Decimal>, rec: &mut Recorder<'_>) {
    let from = money_json(&call.publisher_paid_out);
    call.publisher_paid_out = match change {
        Change::Set(v) => Some(money::round2(*v)),
        _ => None,
    };
    call.payout_overridden = true;
    rec.record(
        "publisher_paid_out",
        from,
        money_json(&call.publisher_paid_out),
    );
}

fn set_no_payout_reason(call: &mut Call, change: &Change<String>, rec: &mut Recorder<'_>) {
    let from = text_json(&call.no_payout_reason);
    call.no_payout_reason = match change {
        Change::Set(v) => Some(v.clone()),
        _ => None,
    };
    rec.record("no_payout_reason", from, text_json(&call.no_payout_reason));
}

/// Applies the completed-calls-only fields that were queued while the call was live.
pub fn apply_queued(call: &mut Call, queued: &FieldUpdates) -> Applied {
    let mut applied = Applied::default();
    let mut rec = Recorder {
        applied: &mut applied,
    };
    if queued.publisher_paid_out.is_present() {
        set_payout(call, &queued.publisher_paid_out, &mut rec);
    }
    if queued.no_payout_reason.is_present() {
        set_no_payout_reason(call, &queued.no_payout_reason, &mut rec);
    }
    applied
}

/// The part of `fields` that waits for completion on a live call.
pub fn completion_only(fields: &FieldUpdates) -> FieldUpdates {
    FieldUpdates {
        publisher_paid_out: fields.publisher_paid_out.clone(),
        no_payout_reason: fields.no_payout_reason.clone(),
        ..FieldUpdates::default()
    }
}

/// Applies tag operations in order. Returns `(added, removed)` as they were applied.
pub fn apply_tags(call: &mut Call, ops: &[TagOp]) -> (Vec<(String, String)>, Vec<String>) {
    let mut added = Vec::new();
    let mut removed = Vec::new();
    for op in ops {
        match op {
            TagOp::Add(k, v) => {
                call.set_tag(k, v);
                added.push((k.clone(), v.clone()));
            }
            TagOp::Remove(k) => {
                call.remove_tag(k);
                removed.push(k.clone());
            }
        }
    }
    (added, removed)
}

/// A campaign's conversion rule and configured money, as post-call processing needs them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversionRule {
    /// Connected seconds at or above which a call converts; `None`: no rule.
    pub min_duration_s: Option<i64>,
    /// Revenue of a converted call, unless overridden by a postback.
    pub buyer_revenue: Option<Decimal>,
    /// Payout of a converted call, unless overridden by a postback.
    pub publisher_payout: Option<Decimal>,
}

/// What a lifecycle transition did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The call moved; these events fire, in order.
    Moved(Vec<&'static str>),
    /// The call was already there (a retry by the telephony side): nothing fires.
    Repeated,
}

/// Why a transition cannot happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a call that is {status}")]
pub struct InvalidTransition {
    /// What was attempted.
    pub action: &'static str,
    /// The call's status.
    pub status: &'static str,
}

/// `ringing → connected`.
pub fn connect(
    call: &mut Call,
    target: Option<Party>,
    buyer: Option<Party>,
    now: Timestamp,
) -> Result<Transition, InvalidTransition> {
    match call.status {
        CallStatus::Connected => Ok(Transition::Repeated),
        CallStatus::Ringing => {
            call.status = CallStatus::Connected;
            call.connected_at = Some(now);
            if let Some(target) = target {
                call.target = target;
            }
            if let Some(buyer) = buyer {
                call.buyer = buyer;
            }
            Ok(Transition::Moved(vec!["call.connected"]))
        }
        status => Err(InvalidTransition {
            action: "connect",
            status: status.as_str(),
        }),
    }
}

/// `ringing | connected → completed` with post-call processing: the campaign rule, then
/// `call.hangup`, `call.converted` (when the call converted, by the rule or while live),
/// `call.completed`. Queued fields are applied by the caller with [`apply_queued`] before saving.
pub fn hang_up(
    call: &mut Call,
    terminated_by: &str,
    rule: &ConversionRule,
    now: Timestamp,
) -> Result<Transition, InvalidTransition> {
    match call.status {
        CallStatus::Completed if call.terminated_by.as_deref() == Some(terminated_by) => {
            Ok(Transition::Repeated)
        }
        CallStatus::Ringing | CallStatus::Connected => {
            call.status = CallStatus::Completed;
            call.ended_at = Some(now);
            call.terminated_by = Some(terminated_by.to_owned());
            let mut events = vec!["call.hangup"];
            let converts_by_rule = rule
                .min_duration_s
                .is_some_and(|min| call.connected_at.is_some() && call.duration_secs(now) >= min);
            if converts_by_rule && !call.converted {
                call.converted = true;
                call.converted_at = Some(now);
                call.conversion_event_pending = true;
            }
            if call.converted {
                if !call.revenue_overridden && call.revenue_paid_out.is_none() {
                    call.revenue_paid_out = rule.buyer_revenue.map(money::round2);
                }
                if !call.payout_overridden && call.publisher_paid_out.is_none() {
                    call.publisher_paid_out = rule.publisher_payout.map(money::round2);
                }
            }
            if call.conversion_event_pending {
                call.conversion_event_pending = false;
                events.push("call.converted");
            }
            events.push("call.completed");
            Ok(Transition::Moved(events))
        }
        status => Err(InvalidTransition {
            action: "hang up",
            status: status.as_str(),
        }),
    }
}

/// `ringing | connected → failed`.
pub fn fail(
    call: &mut Call,
    reason: &str,
    now: Timestamp,
) -> Result<Transition, InvalidTransition> {
    match call.status {
        CallStatus::Failed if call.failure_reason.as_deref() == Some(reason) => {
            Ok(Transition::Repeated)
        }
        CallStatus::Ringing | CallStatus::Connected => {
            call.status = CallStatus::Failed;
            call.ended_at = Some(now);
            call.failure_reason = Some(reason.to_owned());
            Ok(Transition::Moved(vec!["call.failure"]))
        }
        status => Err(InvalidTransition {
            action: "fail",
            status: status.as_str(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(status: CallStatus) -> Call {
        let mut call = Call::ringing(
            "c1",
            "o1",
            Timestamp::from_second(1_700_000_000).unwrap(),
            "USD",
        );
        call.status = status;
        call.caller_id = "+13105559876".into();
        call.caller_e164 = Some("+13105559876".into());
        call.state = Some("CA".into());
        call.original_state = Some("CA".into());
        call
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_100).unwrap()
    }

    fn revenue(text: &str, converts: bool) -> FieldUpdates {
        FieldUpdates {
            revenue_paid_out: Change::Set(money::parse_amount(text).unwrap()),
            revenue_converts: converts,
            ..FieldUpdates::default()
        }
    }

    #[test]
    fn revenue_converts_a_call_once_and_overrides() {
        let mut c = call(CallStatus::Completed);
        let applied = apply_fields(&mut c, &revenue("150", true), now());
        assert!(applied.became_converted);
        assert_eq!(c.converted_at, Some(now()));
        assert_eq!(money::format_plain(&c.revenue_paid_out.unwrap()), "150.00");
        let later = Timestamp::from_second(1_700_000_500).unwrap();
        let applied = apply_fields(&mut c, &revenue("99.5", true), later);
        assert!(!applied.became_converted);
        assert_eq!(
            c.converted_at,
            Some(now()),
            "the first conversion time stays"
        );
        assert_eq!(money::format_plain(&c.revenue_paid_out.unwrap()), "99.50");
    }

    #[test]
    fn update_fields_revenue_does_not_convert_by_itself() {
        let mut c = call(CallStatus::Completed);
        let applied = apply_fields(&mut c, &revenue("25.50", false), now());
        assert!(!applied.became_converted && !c.converted);
    }

    #[test]
    fn converted_false_clears_the_time_and_keeps_revenue() {
        let mut c = call(CallStatus::Completed);
        apply_fields(&mut c, &revenue("10", true), now());
        let fields = FieldUpdates {
            converted: Some(false),
            ..FieldUpdates::default()
        };
        apply_fields(&mut c, &fields, now());
        assert!(!c.converted && c.converted_at.is_none());
        assert!(c.revenue_paid_out.is_some());
    }

    #[test]
    fn live_calls_queue_completion_only_fields_and_defer_the_event() {
        let mut c = call(CallStatus::Connected);
        let fields = FieldUpdates {
            publisher_paid_out: Change::Set(money::parse_amount("12").unwrap()),
            no_payout_reason: Change::Set("Caps exceeded".into()),
            ..revenue("40", true)
        };
        let applied = apply_fields(&mut c, &fields, now());
        assert_eq!(
            applied.queued,
            vec!["publisher_paid_out", "no_payout_reason"]
        );
        assert!(c.publisher_paid_out.is_none());
        assert!(c.conversion_event_pending);
        let Transition::Moved(events) =
            hang_up(&mut c, "caller", &ConversionRule::default(), now()).unwrap()
        else {
            panic!("moved")
        };
        assert_eq!(
            events,
            vec!["call.hangup", "call.converted", "call.completed"]
        );
        apply_queued(&mut c, &completion_only(&fields));
        assert_eq!(money::format_plain(&c.publisher_paid_out.unwrap()), "12.00");
        assert_eq!(c.no_payout_reason.as_deref(), Some("Caps exceeded"));
    }

    #[test]
    fn the_campaign_rule_converts_long_calls_without_overriding_postbacks() {
        let rule = ConversionRule {
            min_duration_s: Some(60),
            buyer_revenue: Some(money::parse_amount("35").unwrap()),
            publisher_payout: Some(money::parse_amount("12.5").unwrap()),
        };
        let mut short = call(CallStatus::Ringing);
        connect(
            &mut short,
            None,
            None,
            Timestamp::from_second(1_700_000_050).unwrap(),
        )
        .unwrap();
        let Transition::Moved(events) = hang_up(&mut short, "caller", &rule, now()).unwrap() else {
            panic!("moved")
        };
        assert_eq!(events, vec!["call.hangup", "call.completed"]);
        assert!(!short.converted);

        let mut long = call(CallStatus::Ringing);
        connect(
            &mut long,
            None,
            None,
            Timestamp::from_second(1_700_000_000).unwrap(),
        )
        .unwrap();
        apply_fields(&mut long, &revenue("80", false), now());
        let Transition::Moved(events) = hang_up(&mut long, "target", &rule, now()).unwrap() else {
            panic!("moved")
        };
        assert_eq!(
            events,
            vec!["call.hangup", "call.converted", "call.completed"]
        );
        assert_eq!(
            money::format_plain(&long.revenue_paid_out.unwrap()),
            "80.00"
        );
        assert_eq!(
            money::format_plain(&long.publisher_paid_out.unwrap()),
            "12.50"
        );
    }

    #[test]
    fn repeated_transitions_are_harmless_and_impossible_ones_refused() {
        let mut c = call(CallStatus::Ringing);
        assert_eq!(
            hang_up(&mut c, "caller", &ConversionRule::default(), now()).unwrap(),
            Transition::Moved(vec!["call.hangup", "call.completed"])
        );
        assert_eq!(c.duration_secs(now()), 0);
        assert_eq!(
            hang_up(&mut c, "caller", &ConversionRule::default(), now()).unwrap(),
            Transition::Repeated
        );
        assert!(hang_up(&mut c, "target", &ConversionRule::default(), now()).is_err());
        assert!(connect(&mut c, None, None, now()).is_err());
        let mut f = call(CallStatus::Ringing);
        fail(&mut f, "busy", now()).unwrap();
        assert_eq!(fail(&mut f, "busy", now()).unwrap(), Transition::Repeated);
        assert!(connect(&mut f, None, None, now()).is_err());
    }

    #[test]
    fn tags_keep_insertion_order() {
        let mut c = call(CallStatus::Completed);
        let (added, removed) = apply_tags(
            &mut c,
            &[
                TagOp::Add("a".into(), "1".into()),
                TagOp::Add("b".into(), "2".into()),
                TagOp::Add("a".into(), "3".into()),
                TagOp::Remove("missing".into()),
            ],
        );
        assert_eq!(
            c.tags,
            vec![("a".into(), "3".into()), ("b".into(), "2".into())]
        );
        assert_eq!(added.len(), 3);
        assert_eq!(removed, vec!["missing"]);
    }
}
