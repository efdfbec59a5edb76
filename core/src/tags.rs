//! The tags an outbound template is rendered with (SPEC §8.2): every built-in tag of the "Sample
//! Tags" tables of `seeds/003_…`, what it means, how it is formatted and on which events it
//! applies; the custom tags of a call; the event catalog of `GET /api/v1/event-types`; and the
//! sample call that test sends and template checks render.
//!
//! # Availability
//!
//! A tag that does not apply to an event is left as the raw placeholder by the renderer (the seed:
//! "`[CONVERTED]` and `[REVENUE_PAID_OUT]` are not populated on early events such as
//! `call.incoming`"); a tag that applies but has no value on this call renders empty. The rule is
//! that a tag applies from the first event at which its value is settled:
//!
//! | availability | events | tags |
//! | --- | --- | --- |
//! | all events | every event | identification (`CALL_SID` … `ORG_ID`), campaign and publisher (`CAMPAIGN_ID`, `CAMPAIGN_NAME`, `PUBLISHER_*`), `EVENT_TIMESTAMP`, `CONFIGURED_*`, attribution (`GCLID` … `VISITOR_BROWSER`) |
//! | routed | every event but `call.incoming` | `TARGET_ID`, `TARGET_NAME`, `TARGET_TYPE`, `BUYER_ID`, `BUYER_NAME` |
//! | timed | the five duration marks, `call.hangup`, `call.failure`, `call.converted`, `call.completed` | `DURATION` |
//! | ended | `call.hangup`, `call.failure`, `call.converted`, `call.completed` | `CONVERTED`, `REVENUE_PAID_OUT`, `PUBLISHER_PAID_OUT`, `PAYOUT`, `PAYOUT_NUMERIC`, `PUBLISHER_PAYOUT`, `TARGET_PAYOUT`, `OVERWRITTEN_BUYER_REVENUE`, `CALL_CONVERTED_AT`, `INBOUND_DURATION`, `OUTBOUND_DURATION` |
//! | hung up | `call.hangup`, `call.converted`, `call.completed` | `CALL_TERMINATION_BY` |
//!
//! Why these lines: the target and buyer are settled when the call connects (a failed call keeps
//! the target that did not answer, which is what its receiver wants to know). Outcomes — conversion,
//! money, durations — are settled by the hang-up, whose post-call processing runs before the
//! `call.hangup` snapshot is taken; a failed call has an outcome too (not converted, no revenue).
//! Only a hang-up has a party that ended it. On a duration mark, `DURATION` is the mark's own
//! seconds (5 on `call.on_5_secs_mark`), not the time the event was processed, so a mark sent late
//! still says what it stands for.
//!
//! # Meanings and formats
//!
//! - `CALLER_ID` is the stored caller id (E.164 like `+13105559876`, or `anonymous`, `restricted`,
//!   empty); `CALLER_ID_NO_PLUS` and `CALLER_ID_NUMERIC` are its digits; `FROM` is the caller id as
//!   the telephony sent it, `TO` the dialed tracking number.
//! - `STATE`/`ZIP_CODE` and `CALLER_STATE`/`CALLER_ZIP` are the current values (an inbound update may
//!   correct them); `ORIGINAL_*` are the values at call start.
//! - `INBOUND_CALL_ID` is the call log id, like `CALL_ID`: each call has one inbound leg and it is
//!   the call itself. `CALL_SID` is the telephony's session id.
//! - Money: `REVENUE_PAID_OUT` and `TARGET_PAYOUT` are the revenue the buyer pays for the call;
//!   `PUBLISHER_PAID_OUT`, `PUBLISHER_PAYOUT`, `PAYOUT_NUMERIC` and `PAYOUT` the publisher's payout;
//!   `CONFIGURED_*` the campaign's configured amounts at call start; `OVERWRITTEN_BUYER_REVENUE` the
//!   revenue when a postback set it, else empty. `PAYOUT`, `CONFIGURED_PUBLISHER_PAYOUT` and
//!   `CONFIGURED_BUYER_REVENUE` are formatted for people (`$1,234.50`, in the call's currency: `€`
//!   for EUR); every other money tag is plain (`1234.50`). All exact, never through floats.
//! - `CONVERTED` is `true`/`false`; times are RFC 3339 UTC with milliseconds; durations are whole
//!   seconds: `DURATION` and `OUTBOUND_DURATION` connected time (the target leg),
//!   `INBOUND_DURATION` from arrival to the end (ringing included).
//! - `LANDING_PAGE_DOMAIN` and `LANDING_PAGE_PATH` are the host (lower case, no port) and the path
//!   (no query or fragment; `/` when the URL has a host and no path) of the `landing_page`.
//! - Custom tags are the call's tags under their key in upper case (`lead_type` → `LEAD_TYPE`) and
//!   apply to every event. A key whose upper-case form is a built-in name, repeats an earlier key,
//!   or is not a placeholder name (`[A-Z][A-Z0-9_]*`) is left out: a custom tag never shadows a
//!   built-in one.

use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calls::{Call, CallStatus, Party, format_time};
use crate::events::EventType;
use crate::money;

/// What the tags need to know about the call's campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignInfo {
    /// The campaign's id.
    pub id: String,
    /// The campaign's name (`[CAMPAIGN_NAME]`).
    pub name: String,
    /// The configured buyer revenue, used when the call did not record its own at call start.
    pub buyer_revenue: Option<Decimal>,
    /// The configured publisher payout, used when the call did not record its own at call start.
    pub publisher_payout: Option<Decimal>,
}

/// On which events a built-in tag applies (see the module documentation for why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Every event.
    Always,
    /// Every event but `call.incoming`: once the call is routed to a target.
    Routed,
    /// The duration marks and the events of the call's end.
    Timed,
    /// The events of the call's end: `call.hangup`, `call.failure`, `call.converted`,
    /// `call.completed`.
    Ended,
    /// The events of a hang-up: `call.hangup`, `call.converted`, `call.completed`.
    HungUp,
}

impl Availability {
    /// Whether a tag of this availability applies to `event`.
    pub fn applies_to(self, event: EventType) -> bool {
        let ended = matches!(
            event,
            EventType::Hangup | EventType::Failure | EventType::Converted | EventType::Completed
        );
        match self {
            Availability::Always => true,
            Availability::Routed => event != EventType::Incoming,
            Availability::Timed => ended || event.is_mark(),
            Availability::Ended => ended,
            Availability::HungUp => {
                matches!(
                    event,
                    EventType::Hangup | EventType::Converted | EventType::Completed
                )
            }
        }
    }

    /// The events, in words; every built-in tag's description ends with it.
    pub fn summary(self) -> &'static str {
        match self {
            Availability::Always => "All events.",
            Availability::Routed => "All events but call.incoming.",
            Availability::Timed => {
                "Duration marks, call.hangup, call.failure, call.converted, call.completed."
            }
            Availability::Ended => "call.hangup, call.failure, call.converted, call.completed.",
            Availability::HungUp => "call.hangup, call.converted, call.completed.",
        }
    }
}

/// What a tag's value is computed from.
struct Ctx<'a> {
    call: &'a Call,
    campaign: Option<&'a CampaignInfo>,
    event: EventType,
    event_at: Timestamp,
}

/// One built-in tag.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BuiltinTag {
    /// The placeholder name, without brackets (`CALLER_ID`).
    pub name: &'static str,
    /// What it holds and on which events, for people choosing tags.
    pub description: &'static str,
    /// Which events it applies to.
    pub availability: Availability,
    #[serde(skip)]
    value: fn(&Ctx<'_>) -> String,
}

impl BuiltinTag {
    /// Whether this tag applies to `event`.
    pub fn applies_to(&self, event: EventType) -> bool {
        self.availability.applies_to(event)
    }
}

const fn tag(
    name: &'static str,
    availability: Availability,
    description: &'static str,
    value: fn(&Ctx<'_>) -> String,
) -> BuiltinTag {
    BuiltinTag {
        name,
        description,
        availability,
        value,
    }
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

fn plain(value: Option<Decimal>) -> String {
    value.map(|d| money::format_plain(&d)).unwrap_or_default()
}

fn formatted(ctx: &Ctx<'_>, value: Option<Decimal>) -> String {
    value
        .map(|d| money::format_display(&d, &ctx.call.currency))
        .unwrap_or_default()
}

fn time(value: Option<Timestamp>) -> String {
    value.map(format_time).unwrap_or_default()
}

fn attribution(ctx: &Ctx<'_>, key: &str) -> String {
    ctx.call
        .attribution
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn configured_revenue(ctx: &Ctx<'_>) -> Option<Decimal> {
    // The call's own record is what the campaign said when the call arrived; the campaign may
    // have been edited since.
    ctx.call
        .configured_buyer_revenue
        .or_else(|| ctx.campaign.and_then(|c| c.buyer_revenue))
}

fn configured_payout(ctx: &Ctx<'_>) -> Option<Decimal> {
    ctx.call
        .configured_publisher_payout
        .or_else(|| ctx.campaign.and_then(|c| c.publisher_payout))
}

/// The end of the call, or the event's time for a call still going when the event happened.
fn end(ctx: &Ctx<'_>) -> Timestamp {
    ctx.call.ended_at.unwrap_or(ctx.event_at)
}

fn connected_secs(ctx: &Ctx<'_>) -> i64 {
    ctx.call.duration_secs(end(ctx))
}

fn landing_page(ctx: &Ctx<'_>) -> (String, String) {
    split_url(&attribution(ctx, "landing_page"))
}

/// Every built-in tag of SPEC §8.2, in its order.
pub const BUILTIN_TAGS: &[BuiltinTag] = &[
    // Call identification.
    tag(
        "CALL_SID",
        Availability::Always,
        "The telephony's session id of the call. All events.",
        |c| text(&c.call.call_sid),
    ),
    tag(
        "CALL_ID",
        Availability::Always,
        "The call log id. All events.",
        |c| c.call.id.clone(),
    ),
    tag(
        "FROM",
        Availability::Always,
        "The caller's number exactly as the telephony sent it. All events.",
        |c| c.call.from_raw.clone(),
    ),
    tag(
        "TO",
        Availability::Always,
        "The dialed tracking number as sent. All events.",
        |c| text(&c.call.dialed_number),
    ),
    tag(
        "CALLER_ID",
        Availability::Always,
        "The caller's number in E.164 (+13105559876), or anonymous/restricted/empty as stored. \
         All events.",
        |c| c.call.caller_id.clone(),
    ),
    tag(
        "CALLER_ID_NO_PLUS",
        Availability::Always,
        "The digits of CALLER_ID, without the + (13105559876). All events.",
        |c| digits(&c.call.caller_id),
    ),
    tag(
        "CALLER_ID_NUMERIC",
        Availability::Always,
        "The digits of CALLER_ID as a number (13105559876). All events.",
        |c| digits(&c.call.caller_id),
    ),
    tag(
        "CALLER_ZIP",
        Availability::Always,
        "The caller's ZIP code, current (the same as ZIP_CODE). All events.",
        |c| text(&c.call.zip),
    ),
    tag(
        "CALLER_STATE",
        Availability::Always,
        "The caller's state, current (the same as STATE). All events.",
        |c| text(&c.call.state),
    ),
    tag(
        "STATE",
        Availability::Always,
        "The state, current: may differ from ORIGINAL_STATE after an update. All events.",
        |c| text(&c.call.state),
    ),
    tag(
        "ZIP_CODE",
        Availability::Always,
        "The ZIP code, current: may differ from ORIGINAL_ZIP_CODE after an update. All events.",
        |c| text(&c.call.zip),
    ),
    tag(
        "ORIGINAL_STATE",
        Availability::Always,
        "The state at call start. All events.",
        |c| text(&c.call.original_state),
    ),
    tag(
        "ORIGINAL_ZIP_CODE",
        Availability::Always,
        "The ZIP code at call start. All events.",
        |c| text(&c.call.original_zip),
    ),
    tag(
        "INBOUND_CALL_ID",
        Availability::Always,
        "The id of the inbound call session: the call log id (a call has one inbound leg). \
         All events.",
        |c| c.call.id.clone(),
    ),
    tag(
        "ORG_ID",
        Availability::Always,
        "The organization's id. All events.",
        |c| c.call.org_id.clone(),
    ),
    // Campaign and publisher.
    tag(
        "CAMPAIGN_ID",
        Availability::Always,
        "The campaign's id. All events.",
        |c| {
            c.call
                .campaign_id
                .clone()
                .or_else(|| c.campaign.map(|k| k.id.clone()))
                .unwrap_or_default()
        },
    ),
    tag(
        "CAMPAIGN_NAME",
        Availability::Always,
        "The campaign's name. All events.",
        |c| c.campaign.map(|k| k.name.clone()).unwrap_or_default(),
    ),
    tag(
        "PUBLISHER_ID",
        Availability::Always,
        "The publisher's id. All events.",
        |c| text(&c.call.publisher.id),
    ),
    tag(
        "PUBLISHER_NAME",
        Availability::Always,
        "The publisher's name. All events.",
        |c| text(&c.call.publisher.name),
    ),
    tag(
        "PUBLISHER_NUMBER",
        Availability::Always,
        "The publisher's tracking number. All events.",
        |c| text(&c.call.publisher.number),
    ),
    tag(
        "PAYOUT",
        Availability::Ended,
        "The publisher payout of the call, formatted ($1,234.50); empty when none. \
         call.hangup, call.failure, call.converted, call.completed.",
        |c| formatted(c, c.call.publisher_paid_out),
    ),
    tag(
        "PAYOUT_NUMERIC",
        Availability::Ended,
        "The publisher payout of the call, plain (1234.50); empty when none. \
         call.hangup, call.failure, call.converted, call.completed.",
        |c| plain(c.call.publisher_paid_out),
    ),
    // Target and buyer.
    tag(
        "TARGET_ID",
        Availability::Routed,
        "The target's id. All events but call.incoming.",
        |c| text(&c.call.target.id),
    ),
    tag(
        "TARGET_NAME",
        Availability::Routed,
        "The target's name. All events but call.incoming.",
        |c| text(&c.call.target.name),
    ),
    tag(
        "TARGET_TYPE",
        Availability::Routed,
        "The target's type. All events but call.incoming.",
        |c| text(&c.call.target.kind),
    ),
    tag(
        "BUYER_ID",
        Availability::Routed,
        "The buyer's id. All events but call.incoming.",
        |c| text(&c.call.buyer.id),
    ),
    tag(
        "BUYER_NAME",
        Availability::Routed,
        "The buyer's name. All events but call.incoming.",
        |c| text(&c.call.buyer.name),
    ),
    tag(
        "TARGET_PAYOUT",
        Availability::Ended,
        "What the target (buyer) pays for the call, plain (35.00): the same as REVENUE_PAID_OUT; \
         empty when none. call.hangup, call.failure, call.converted, call.completed.",
        |c| plain(c.call.revenue_paid_out),
    ),
    tag(
        "PUBLISHER_PAYOUT",
        Availability::Ended,
        "The publisher payout of the call, plain (12.50); empty when none. \
         call.hangup, call.failure, call.converted, call.completed.",
        |c| plain(c.call.publisher_paid_out),
    ),
    // Conversion and revenue.
    tag(
        "CONVERTED",
        Availability::Ended,
        "Whether the call converted: true or false. \
         call.hangup, call.failure, call.converted, call.completed.",
        |c| c.call.converted.to_string(),
    ),
    tag(
        "REVENUE_PAID_OUT",
        Availability::Ended,
        "The buyer revenue of the call, plain (35.00); empty when none. \
         call.hangup, call.failure, call.converted, call.completed.",
        |c| plain(c.call.revenue_paid_out),
    ),
    tag(
        "PUBLISHER_PAID_OUT",
        Availability::Ended,
        "The publisher payout of the call, plain (12.50); empty when none. \
         call.hangup, call.failure, call.converted, call.completed.",
        |c| plain(c.call.publisher_paid_out),
    ),
    tag(
        "CALL_TERMINATION_BY",
        Availability::HungUp,
        "Who ended the call: caller, target or system. \
         call.hangup, call.converted, call.completed.",
        |c| text(&c.call.terminated_by),
    ),
    tag(
        "DURATION",
        Availability::Timed,
        "Connected seconds: the mark's own seconds on a duration mark (5 on \
         call.on_5_secs_mark), the whole connected time at the end (0 if never connected). \
         Duration marks, call.hangup, call.failure, call.converted, call.completed.",
        |c| match c.event.mark_offset_secs() {
            Some(secs) => secs.to_string(),
            None => connected_secs(c).to_string(),
        },
    ),
    tag(
        "INBOUND_DURATION",
        Availability::Ended,
        "Seconds of the inbound leg, from arrival to the end, ringing included. \
         call.hangup, call.failure, call.converted, call.completed.",
        |c| {
            let secs = end(c).as_second() - c.call.started_at.as_second();
            secs.max(0).to_string()
        },
    ),
    tag(
        "OUTBOUND_DURATION",
        Availability::Ended,
        "Seconds of the outbound leg to the target: the connected time (0 if never connected). \
         call.hangup, call.failure, call.converted, call.completed.",
        |c| connected_secs(c).to_string(),
    ),
    tag(
        "CALL_CONVERTED_AT",
        Availability::Ended,
        "When the conversion was recorded, RFC 3339 UTC with milliseconds; empty when not \
         converted. call.hangup, call.failure, call.converted, call.completed.",
        |c| time(c.call.converted_at),
    ),
    tag(
        "EVENT_TIMESTAMP",
        Availability::Always,
        "When the event happened, RFC 3339 UTC with milliseconds. All events.",
        |c| format_time(c.event_at),
    ),
    tag(
        "CONFIGURED_PUBLISHER_PAYOUT",
        Availability::Always,
        "The campaign's configured publisher payout at call start, formatted ($12.50). \
         All events.",
        |c| formatted(c, configured_payout(c)),
    ),
    tag(
        "CONFIGURED_PUBLISHER_PAYOUT_NUMERIC",
        Availability::Always,
        "The campaign's configured publisher payout at call start, plain (12.50). All events.",
        |c| plain(configured_payout(c)),
    ),
    tag(
        "CONFIGURED_BUYER_REVENUE",
        Availability::Always,
        "The campaign's configured buyer revenue at call start, formatted ($35.00). All events.",
        |c| formatted(c, configured_revenue(c)),
    ),
    tag(
        "CONFIGURED_BUYER_REVENUE_NUMERIC",
        Availability::Always,
        "The campaign's configured buyer revenue at call start, plain (35.00). All events.",
        |c| plain(configured_revenue(c)),
    ),
    tag(
        "OVERWRITTEN_BUYER_REVENUE",
        Availability::Ended,
        "The buyer revenue set by a postback in place of the configured one, plain (40.00); empty \
         when no postback set it. call.hangup, call.failure, call.converted, call.completed.",
        |c| {
            if c.call.revenue_overridden {
                plain(c.call.revenue_paid_out)
            } else {
                String::new()
            }
        },
    ),
    // Landing page and attribution (Dynamic Number Insertion).
    tag(
        "GCLID",
        Availability::Always,
        "Google Click ID. All events.",
        |c| attribution(c, "gclid"),
    ),
    tag(
        "FBCLID",
        Availability::Always,
        "Facebook Click ID. All events.",
        |c| attribution(c, "fbclid"),
    ),
    tag(
        "UTM_SOURCE",
        Availability::Always,
        "The utm_source parameter. All events.",
        |c| attribution(c, "utm_source"),
    ),
    tag(
        "UTM_MEDIUM",
        Availability::Always,
        "The utm_medium parameter. All events.",
        |c| attribution(c, "utm_medium"),
    ),
    tag(
        "UTM_CAMPAIGN",
        Availability::Always,
        "The utm_campaign parameter. All events.",
        |c| attribution(c, "utm_campaign"),
    ),
    tag(
        "UTM_CONTENT",
        Availability::Always,
        "The utm_content parameter. All events.",
        |c| attribution(c, "utm_content"),
    ),
    tag(
        "UTM_TERM",
        Availability::Always,
        "The utm_term parameter. All events.",
        |c| attribution(c, "utm_term"),
    ),
    tag(
        "KEYWORD",
        Availability::Always,
        "The search keyword. All events.",
        |c| attribution(c, "keyword"),
    ),
    tag(
        "VISITOR_ID",
        Availability::Always,
        "The visitor identifier. All events.",
        |c| attribution(c, "visitor_id"),
    ),
    tag(
        "LANDING_PAGE",
        Availability::Always,
        "The full landing page URL. All events.",
        |c| attribution(c, "landing_page"),
    ),
    tag(
        "LANDING_PAGE_DOMAIN",
        Availability::Always,
        "The landing page's host, lower case, without port (www.example.com). All events.",
        |c| landing_page(c).0,
    ),
    tag(
        "LANDING_PAGE_PATH",
        Availability::Always,
        "The landing page's path, without query or fragment (/medicare/plans). All events.",
        |c| landing_page(c).1,
    ),
    tag(
        "REFERRER",
        Availability::Always,
        "The referrer URL. All events.",
        |c| attribution(c, "referrer"),
    ),
    tag(
        "VISITOR_CITY",
        Availability::Always,
        "The visitor's city. All events.",
        |c| attribution(c, "visitor_city"),
    ),
    tag(
        "VISITOR_STATE",
        Availability::Always,
        "The visitor's state. All events.",
        |c| attribution(c, "visitor_state"),
    ),
    tag(
        "VISITOR_ZIP",
        Availability::Always,
        "The visitor's ZIP code. All events.",
        |c| attribution(c, "visitor_zip"),
    ),
    tag(
        "VISITOR_COUNTRY",
        Availability::Always,
        "The visitor's country code. All events.",
        |c| attribution(c, "visitor_country"),
    ),
    tag(
        "VISITOR_IP",
        Availability::Always,
        "The visitor's IP address. All events.",
        |c| attribution(c, "visitor_ip"),
    ),
    tag(
        "VISITOR_BROWSER",
        Availability::Always,
        "The visitor's browser. All events.",
        |c| attribution(c, "visitor_browser"),
    ),
];

/// The built-in tag named `name` (exact, upper case, no brackets).
pub fn builtin(name: &str) -> Option<&'static BuiltinTag> {
    BUILTIN_TAGS.iter().find(|t| t.name == name)
}

/// Whether `tag` applies to `event`: a built-in one per its availability; any other name is a
/// custom tag, and custom tags apply to every event.
pub fn applies(tag: &str, event: EventType) -> bool {
    builtin(tag).is_none_or(|t| t.applies_to(event))
}

/// Whether `name` can stand between brackets as a placeholder: `[A-Z][A-Z0-9_]*`.
pub fn is_placeholder_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_uppercase())
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The tags of `call` for `event` that happened at `event_at`: every built-in tag (None when it
/// does not apply to this event, Some("") when it applies but has no value), then every custom tag
/// of `call.tags` upper-cased (`lead_type` → `LEAD_TYPE`), in the call's tag order, skipping a
/// custom key whose upper-cased form is a built-in name, is a duplicate, or is not a valid
/// placeholder name `[A-Z][A-Z0-9_]*`.
///
/// Formatted money uses the call's currency (`$` for USD, the default); see
/// [`format_money_display`].
pub fn tag_values(
    call: &Call,
    campaign: Option<&CampaignInfo>,
    event: EventType,
    event_at: Timestamp,
) -> Vec<(String, Option<String>)> {
    let ctx = Ctx {
        call,
        campaign,
        event,
        event_at,
    };
    let mut out: Vec<(String, Option<String>)> =
        Vec::with_capacity(BUILTIN_TAGS.len() + call.tags.len());
    for tag in BUILTIN_TAGS {
        let value = tag.applies_to(event).then(|| (tag.value)(&ctx));
        out.push((tag.name.to_owned(), value));
    }
    let builtins = out.len();
    for (key, value) in &call.tags {
        let name = key.to_ascii_uppercase();
        if !is_placeholder_name(&name) || builtin(&name).is_some() {
            continue;
        }
        // Two keys differing only in case (`Lead_Type`, `lead_type`) would compete for one
        // placeholder; the first one in the call's order wins, as it was there first.
        if out[builtins..].iter().any(|(n, _)| *n == name) {
            continue;
        }
        out.push((name, Some(value.clone())));
    }
    out
}

/// One event type and the built-in tags that apply to it, for `GET /api/v1/event-types`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = EventTypeInfoView)]
pub struct EventTypeInfo {
    /// The event (serialized as its wire name).
    pub event: EventType,
    /// When it is sent.
    #[schema(value_type = String)]
    pub description: &'static str,
    /// The built-in tags that apply to it (names without brackets), in the order of
    /// `BUILTIN_TAGS`; custom tags apply to every event and are not listed.
    #[schema(value_type = Vec<String>)]
    pub tags: Vec<&'static str>,
}

/// Every event type with the built-in tags that apply to it (for GET /api/v1/event-types).
pub fn event_catalog() -> Vec<EventTypeInfo> {
    EventType::ALL
        .into_iter()
        .map(|event| EventTypeInfo {
            event,
            description: event.description(),
            tags: BUILTIN_TAGS
                .iter()
                .filter(|t| t.applies_to(event))
                .map(|t| t.name)
                .collect(),
        })
        .collect()
}

fn before(now: Timestamp, secs: i64) -> Timestamp {
    now.checked_sub(SignedDuration::from_secs(secs))
        .unwrap_or(Timestamp::MIN)
}

fn party_of(id: &str, name: &str, number: Option<&str>, kind: Option<&str>) -> Party {
    Party {
        id: Some(id.to_owned()),
        name: Some(name.to_owned()),
        number: number.map(str::to_owned),
        kind: kind.map(str::to_owned),
    }
}

/// A realistic sample call (and campaign) for test sends and for checking templates when saved,
/// with every built-in tag having a non-empty value when the event allows it (state, zip, utm_*,
/// publisher, target, buyer, revenue, …) and a few custom tags (e.g. lead_type).
///
/// The call is a completed, converted 145-second call (the example of `seeds/003_…`) that ended at
/// `now`; its revenue was set by a postback (35.00 over the configured 30.00), so that
/// `OVERWRITTEN_BUYER_REVENUE` has a value too. The numbers are fictional 555 numbers.
pub fn sample_call(org_id: &str, now: Timestamp) -> (Call, CampaignInfo) {
    let campaign = CampaignInfo {
        id: "cmp_medicare_q1".to_owned(),
        name: "Medicare Leads Q1".to_owned(),
        buyer_revenue: Some(Decimal::new(3000, 2)),
        publisher_payout: Some(Decimal::new(1250, 2)),
    };
    let mut call = Call::ringing("call_abc123def456", org_id, before(now, 160), "USD");
    call.campaign_id = Some(campaign.id.clone());
    call.call_sid = Some("CA9f1c2b7e4d5a60318b2c4e6f8a0d1b3c".to_owned());
    call.caller_id = "+13105559876".to_owned();
    call.caller_e164 = Some("+13105559876".to_owned());
    call.from_raw = "+13105559876".to_owned();
    call.dialed_number = Some("+18005550199".to_owned());
    call.publisher = party_of("pub_1001", "Acme Media", Some("+18005550123"), None);
    call.target = party_of(
        "tgt_2001",
        "Sunrise Insurance Call Center",
        None,
        Some("number"),
    );
    call.buyer = party_of("buy_3001", "Sunrise Insurance", None, None);
    call.state = Some("CA".to_owned());
    call.zip = Some("90012".to_owned());
    call.original_state = Some("CA".to_owned());
    call.original_zip = Some("90210".to_owned());
    call.attribution = [
        ("gclid", "Cj0KCQiA5rGuBhCnARIsAN11vgR_sample"),
        ("fbclid", "IwAR2_sample_fbclid"),
        ("utm_source", "google_ads"),
        ("utm_medium", "cpc"),
        ("utm_campaign", "medicare_q1"),
        ("utm_content", "ad_variant_b"),
        ("utm_term", "medicare supplement plans"),
        ("keyword", "medicare supplement plans"),
        ("visitor_id", "v_7f3a9c2e"),
        (
            "landing_page",
            "https://www.example.com/medicare/plans?utm_source=google_ads",
        ),
        ("referrer", "https://www.google.com/"),
        ("visitor_city", "Los Angeles"),
        ("visitor_state", "CA"),
        ("visitor_zip", "90012"),
        ("visitor_country", "US"),
        ("visitor_ip", "203.0.113.42"),
        ("visitor_browser", "Chrome 126 on macOS"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    call.tags = [
        ("lead_type", "medicare_supplement"),
        ("age_range", "65-69"),
        ("preferred_language", "en"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    call.status = CallStatus::Completed;
    call.connected_at = Some(before(now, 145));
    call.ended_at = Some(now);
    call.terminated_by = Some("caller".to_owned());
    call.converted = true;
    call.converted_at = Some(now);
    call.revenue_paid_out = Some(Decimal::new(3500, 2));
    call.revenue_overridden = true;
    call.publisher_paid_out = Some(Decimal::new(1250, 2));
    call.reason = Some("Sale".to_owned());
    call.configured_buyer_revenue = campaign.buyer_revenue;
    call.configured_publisher_payout = campaign.publisher_payout;
    (call, campaign)
}

/// `$1,234.50` style money (SPEC §8.2 "formatted"): a `$`, thousands separators, two decimals
/// rounded half away from zero, a leading `-` for negative amounts (`-$1,234.50`).
///
/// This is the USD (default currency) form; [`tag_values`] formats in the call's currency, which
/// gives the same text for USD calls.
pub fn format_money_display(value: &Decimal) -> String {
    money::format_display(value, "USD")
}

/// The host (lower case, without user info or port) and path (without query or fragment) of a URL
/// written with or without a scheme; the path is `/` when there is a host and no path, and both
/// are empty for an empty text.
fn split_url(url: &str) -> (String, String) {
    let url = url.trim();
    let authority_start = match url.find("://") {
        Some(i) if is_scheme(&url[..i]) => i + 3,
        _ if url.starts_with("//") => 2,
        // No scheme: `example.com/path` has a host, `/path` does not.
        _ => 0,
    };
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        // An IPv6 literal keeps its brackets; its colons are not a port separator.
        host_port.find(']').map_or(host_port, |i| &host_port[..=i])
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    let path = &tail[..tail.find(['?', '#']).unwrap_or(tail.len())];
    let path = if path.is_empty() && !host.is_empty() {
        "/"
    } else {
        path
    };
    (host.to_ascii_lowercase(), path.to_owned())
}

/// `[A-Za-z][A-Za-z0-9+.-]*` (RFC 3986), so that a `://` inside a query is not taken for one.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The list of SPEC §8.2, in its order.
    const SPEC_TAGS: [&str; 62] = [
        "CALL_SID",
        "CALL_ID",
        "FROM",
        "TO",
        "CALLER_ID",
        "CALLER_ID_NO_PLUS",
        "CALLER_ID_NUMERIC",
        "CALLER_ZIP",
        "CALLER_STATE",
        "STATE",
        "ZIP_CODE",
        "ORIGINAL_STATE",
        "ORIGINAL_ZIP_CODE",
        "INBOUND_CALL_ID",
        "ORG_ID",
        "CAMPAIGN_ID",
        "CAMPAIGN_NAME",
        "PUBLISHER_ID",
        "PUBLISHER_NAME",
        "PUBLISHER_NUMBER",
        "PAYOUT",
        "PAYOUT_NUMERIC",
        "TARGET_ID",
        "TARGET_NAME",
        "TARGET_TYPE",
        "BUYER_ID",
        "BUYER_NAME",
        "TARGET_PAYOUT",
        "PUBLISHER_PAYOUT",
        "CONVERTED",
        "REVENUE_PAID_OUT",
        "PUBLISHER_PAID_OUT",
        "CALL_TERMINATION_BY",
        "DURATION",
        "INBOUND_DURATION",
        "OUTBOUND_DURATION",
        "CALL_CONVERTED_AT",
        "EVENT_TIMESTAMP",
        "CONFIGURED_PUBLISHER_PAYOUT",
        "CONFIGURED_PUBLISHER_PAYOUT_NUMERIC",
        "CONFIGURED_BUYER_REVENUE",
        "CONFIGURED_BUYER_REVENUE_NUMERIC",
        "OVERWRITTEN_BUYER_REVENUE",
        "GCLID",
        "FBCLID",
        "UTM_SOURCE",
        "UTM_MEDIUM",
        "UTM_CAMPAIGN",
        "UTM_CONTENT",
        "UTM_TERM",
        "KEYWORD",
        "VISITOR_ID",
        "LANDING_PAGE",
        "LANDING_PAGE_DOMAIN",
        "LANDING_PAGE_PATH",
        "REFERRER",
        "VISITOR_CITY",
        "VISITOR_STATE",
        "VISITOR_ZIP",
        "VISITOR_COUNTRY",
        "VISITOR_IP",
        "VISITOR_BROWSER",
    ];

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    fn d(text: &str) -> Decimal {
        money::parse_amount(text).unwrap()
    }

    fn value<'a>(tags: &'a [(String, Option<String>)], name: &str) -> Option<&'a str> {
        let matching: Vec<_> = tags.iter().filter(|(n, _)| n == name).collect();
        assert_eq!(matching.len(), 1, "{name} appears {} times", matching.len());
        matching[0].1.as_deref()
    }

    /// The call of the seed 003 example: `call_abc123def456`, 145 connected seconds, converted
    /// with 35.00 revenue, from google_ads in CA, on the "Medicare Leads Q1" campaign.
    fn seed_call() -> (Call, CampaignInfo) {
        let mut call = Call::ringing("call_abc123def456", "org_1", at(1_767_225_600), "USD");
        call.campaign_id = Some("cmp_1".into());
        call.caller_id = "+13105559876".into();
        call.caller_e164 = Some("+13105559876".into());
        call.from_raw = "(310) 555-9876".into();
        call.state = Some("CA".into());
        call.original_state = Some("CA".into());
        call.attribution = vec![("utm_source".into(), "google_ads".into())];
        call.status = CallStatus::Completed;
        call.connected_at = Some(at(1_767_225_610));
        call.ended_at = Some(at(1_767_225_755));
        call.terminated_by = Some("caller".into());
        call.converted = true;
        call.converted_at = Some(at(1_767_225_755));
        call.revenue_paid_out = Some(d("35"));
        let campaign = CampaignInfo {
            id: "cmp_1".into(),
            name: "Medicare Leads Q1".into(),
            buyer_revenue: Some(d("35")),
            publisher_payout: None,
        };
        (call, campaign)
    }

    #[test]
    fn every_spec_tag_is_built_in_exactly_once_in_spec_order() {
        let names: Vec<_> = BUILTIN_TAGS.iter().map(|t| t.name).collect();
        assert_eq!(names, SPEC_TAGS);
        for name in SPEC_TAGS {
            assert_eq!(names.iter().filter(|n| **n == name).count(), 1, "{name}");
            assert!(is_placeholder_name(name), "{name}");
        }
    }

    #[test]
    fn descriptions_end_with_their_availability() {
        for tag in BUILTIN_TAGS {
            assert!(
                tag.description.ends_with(tag.availability.summary()),
                "{}: {:?} does not end with {:?}",
                tag.name,
                tag.description,
                tag.availability.summary()
            );
        }
    }

    #[test]
    fn the_seed_003_example() {
        let (call, campaign) = seed_call();
        let tags = tag_values(
            &call,
            Some(&campaign),
            EventType::Completed,
            at(1_767_225_756),
        );
        for (name, expected) in [
            ("CALL_ID", "call_abc123def456"),
            ("CALLER_ID", "+13105559876"),
            ("CAMPAIGN_NAME", "Medicare Leads Q1"),
            ("CAMPAIGN_ID", "cmp_1"),
            ("DURATION", "145"),
            ("CONVERTED", "true"),
            ("REVENUE_PAID_OUT", "35.00"),
            ("UTM_SOURCE", "google_ads"),
            ("CALLER_STATE", "CA"),
            ("CALLER_ID_NO_PLUS", "13105559876"),
            ("CALLER_ID_NUMERIC", "13105559876"),
            ("FROM", "(310) 555-9876"),
            ("INBOUND_DURATION", "155"),
            ("OUTBOUND_DURATION", "145"),
            ("CALL_TERMINATION_BY", "caller"),
            ("CALL_CONVERTED_AT", "2026-01-01T00:02:35.000Z"),
            ("EVENT_TIMESTAMP", "2026-01-01T00:02:36.000Z"),
            ("CONFIGURED_BUYER_REVENUE", "$35.00"),
            ("CONFIGURED_BUYER_REVENUE_NUMERIC", "35.00"),
        ] {
            assert_eq!(value(&tags, name), Some(expected), "{name}");
        }
        // Applies, but this call has none.
        for name in [
            "UTM_MEDIUM",
            "PAYOUT",
            "PUBLISHER_PAID_OUT",
            "TARGET_NAME",
            "OVERWRITTEN_BUYER_REVENUE",
            "CONFIGURED_PUBLISHER_PAYOUT",
            "LANDING_PAGE_DOMAIN",
        ] {
            assert_eq!(value(&tags, name), Some(""), "{name}");
        }
    }

    #[test]
    fn outcome_tags_wait_for_the_end_of_the_call() {
        let (call, campaign) = seed_call();
        let now = at(1_767_225_756);
        let incoming = tag_values(&call, Some(&campaign), EventType::Incoming, now);
        for name in [
            "CONVERTED",
            "REVENUE_PAID_OUT",
            "DURATION",
            "TARGET_ID",
            "CALL_TERMINATION_BY",
        ] {
            assert_eq!(value(&incoming, name), None, "{name}");
            assert!(!applies(name, EventType::Incoming), "{name}");
        }
        assert_eq!(value(&incoming, "CALL_ID"), Some("call_abc123def456"));
        let completed = tag_values(&call, Some(&campaign), EventType::Completed, now);
        assert_eq!(value(&completed, "CONVERTED"), Some("true"));
        assert_eq!(value(&completed, "REVENUE_PAID_OUT"), Some("35.00"));

        let mut failed = call.clone();
        failed.status = CallStatus::Failed;
        failed.converted = false;
        failed.converted_at = None;
        failed.revenue_paid_out = None;
        failed.terminated_by = None;
        let tags = tag_values(&failed, Some(&campaign), EventType::Failure, now);
        assert_eq!(value(&tags, "CONVERTED"), Some("false"));
        assert_eq!(value(&tags, "REVENUE_PAID_OUT"), Some(""));
        assert_eq!(value(&tags, "CALL_CONVERTED_AT"), Some(""));
        assert_eq!(value(&tags, "CALL_TERMINATION_BY"), None);
    }

    #[test]
    fn marks_report_their_own_seconds() {
        let (mut call, campaign) = seed_call();
        call.status = CallStatus::Connected;
        call.ended_at = None;
        let connected = call.connected_at.unwrap();
        for mark in EventType::MARKS {
            let secs = mark.mark_offset_secs().unwrap();
            // Sent late: the value still names the mark.
            let event_at = at(connected.as_second() + secs + 7);
            let tags = tag_values(&call, Some(&campaign), mark, event_at);
            assert_eq!(value(&tags, "DURATION"), Some(secs.to_string().as_str()));
            assert_eq!(value(&tags, "CONVERTED"), None);
            assert_eq!(value(&tags, "TARGET_ID"), Some(""));
        }
        let tags = tag_values(&call, Some(&campaign), EventType::Connected, connected);
        assert_eq!(value(&tags, "DURATION"), None);
    }

    #[test]
    fn custom_tags_follow_the_built_ins_and_never_shadow_them() {
        let (mut call, campaign) = seed_call();
        call.tags = vec![
            ("lead_type".into(), "medicare".into()),
            ("call_id".into(), "forged".into()),
            ("Lead_Type".into(), "duplicate".into()),
            ("lead-source".into(), "not a placeholder name".into()),
            ("9lives".into(), "starts with a digit".into()),
            ("café".into(), "not ascii".into()),
            ("".into(), "empty".into()),
            ("age_range2".into(), "65-69".into()),
        ];
        let tags = tag_values(&call, Some(&campaign), EventType::Incoming, at(0));
        assert_eq!(value(&tags, "CALL_ID"), Some("call_abc123def456"));
        assert_eq!(value(&tags, "LEAD_TYPE"), Some("medicare"));
        let custom: Vec<_> = tags[BUILTIN_TAGS.len()..]
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_deref()))
            .collect();
        assert_eq!(
            custom,
            vec![
                ("LEAD_TYPE", Some("medicare")),
                ("AGE_RANGE2", Some("65-69"))
            ]
        );
        assert!(applies("LEAD_TYPE", EventType::Incoming));
        assert!(applies("ANYTHING", EventType::On5SecsMark));
    }

    #[test]
    fn money_tags_are_exact_and_formatted_as_documented() {
        let (mut call, campaign) = seed_call();
        call.revenue_paid_out = Some(d("1234.5"));
        call.revenue_overridden = true;
        call.publisher_paid_out = Some(d("1000000"));
        call.configured_publisher_payout = Some(d("0.1") + d("0.2"));
        let tags = tag_values(&call, Some(&campaign), EventType::Converted, at(0));
        for (name, expected) in [
            ("REVENUE_PAID_OUT", "1234.50"),
            ("TARGET_PAYOUT", "1234.50"),
            ("OVERWRITTEN_BUYER_REVENUE", "1234.50"),
            ("PAYOUT", "$1,000,000.00"),
            ("PAYOUT_NUMERIC", "1000000.00"),
            ("PUBLISHER_PAYOUT", "1000000.00"),
            ("PUBLISHER_PAID_OUT", "1000000.00"),
            ("CONFIGURED_PUBLISHER_PAYOUT", "$0.30"),
            ("CONFIGURED_PUBLISHER_PAYOUT_NUMERIC", "0.30"),
        ] {
            assert_eq!(value(&tags, name), Some(expected), "{name}");
        }
        call.currency = "EUR".into();
        let tags = tag_values(&call, Some(&campaign), EventType::Converted, at(0));
        assert_eq!(value(&tags, "PAYOUT"), Some("€1,000,000.00"));
    }

    #[test]
    fn the_campaign_fills_in_what_the_call_does_not_record() {
        let mut call = Call::ringing("c1", "o1", at(0), "USD");
        let campaign = CampaignInfo {
            id: "cmp_9".into(),
            name: "Solar".into(),
            buyer_revenue: Some(d("20")),
            publisher_payout: Some(d("5")),
        };
        let tags = tag_values(&call, Some(&campaign), EventType::Incoming, at(0));
        assert_eq!(value(&tags, "CAMPAIGN_ID"), Some("cmp_9"));
        assert_eq!(value(&tags, "CONFIGURED_BUYER_REVENUE"), Some("$20.00"));
        assert_eq!(value(&tags, "CONFIGURED_PUBLISHER_PAYOUT"), Some("$5.00"));
        call.configured_buyer_revenue = Some(d("25"));
        let tags = tag_values(&call, None, EventType::Incoming, at(0));
        assert_eq!(value(&tags, "CAMPAIGN_ID"), Some(""));
        assert_eq!(value(&tags, "CAMPAIGN_NAME"), Some(""));
        assert_eq!(
            value(&tags, "CONFIGURED_BUYER_REVENUE_NUMERIC"),
            Some("25.00")
        );
        assert_eq!(value(&tags, "CALLER_ID_NO_PLUS"), Some(""));
    }

    #[test]
    fn withheld_caller_ids_have_no_digits() {
        let mut call = Call::ringing("c1", "o1", at(0), "USD");
        call.caller_id = "anonymous".into();
        call.from_raw = "Anonymous".into();
        let tags = tag_values(&call, None, EventType::Incoming, at(0));
        assert_eq!(value(&tags, "CALLER_ID"), Some("anonymous"));
        assert_eq!(value(&tags, "FROM"), Some("Anonymous"));
        assert_eq!(value(&tags, "CALLER_ID_NUMERIC"), Some(""));
    }

    #[test]
    fn the_sample_call_fills_every_tag_that_applies() {
        let now = at(1_767_225_600);
        let (call, campaign) = sample_call("org_42", now);
        assert_eq!(call.org_id, "org_42");
        assert_eq!(call.duration_secs(now), 145);
        assert!(call.tag("lead_type").is_some());
        for event in EventType::ALL {
            let tags = tag_values(&call, Some(&campaign), event, now);
            assert_eq!(tags.len(), BUILTIN_TAGS.len() + call.tags.len());
            for (tag, (name, value)) in BUILTIN_TAGS.iter().zip(&tags) {
                assert_eq!(tag.name, name.as_str());
                match value {
                    Some(v) => {
                        assert!(tag.applies_to(event));
                        assert!(!v.is_empty(), "{name} is empty on {event}");
                    }
                    None => assert!(!tag.applies_to(event), "{name} missing on {event}"),
                }
            }
            assert_eq!(value(&tags, "LEAD_TYPE"), Some("medicare_supplement"));
        }
        let tags = tag_values(&call, Some(&campaign), EventType::Completed, now);
        assert_eq!(value(&tags, "LANDING_PAGE_DOMAIN"), Some("www.example.com"));
        assert_eq!(value(&tags, "LANDING_PAGE_PATH"), Some("/medicare/plans"));
        assert_eq!(value(&tags, "OVERWRITTEN_BUYER_REVENUE"), Some("35.00"));
        assert_eq!(value(&tags, "CONFIGURED_BUYER_REVENUE"), Some("$30.00"));
    }

    #[test]
    fn the_catalog_lists_what_applies() {
        let catalog = event_catalog();
        assert_eq!(catalog.len(), EventType::ALL.len());
        let incoming = &catalog[0];
        assert_eq!(incoming.event, EventType::Incoming);
        assert!(incoming.tags.contains(&"CALL_ID"));
        assert!(incoming.tags.contains(&"UTM_SOURCE"));
        assert!(!incoming.tags.contains(&"CONVERTED"));
        assert!(!incoming.tags.contains(&"REVENUE_PAID_OUT"));
        assert!(!incoming.tags.contains(&"TARGET_ID"));
        let completed = catalog
            .iter()
            .find(|i| i.event == EventType::Completed)
            .unwrap();
        assert_eq!(completed.tags.len(), BUILTIN_TAGS.len());
        let json = serde_json::to_value(&catalog[0]).unwrap();
        assert_eq!(json["event"], "call.incoming");
        assert_eq!(json["description"], EventType::Incoming.description());
        assert_eq!(json["tags"][0], "CALL_SID");
        let tag = serde_json::to_value(builtin("DURATION").unwrap()).unwrap();
        assert_eq!(tag["availability"], "timed");
    }

    #[test]
    fn availability_lines() {
        use EventType::*;
        let on = |a: Availability| -> Vec<EventType> {
            EventType::ALL
                .into_iter()
                .filter(|e| a.applies_to(*e))
                .collect()
        };
        assert_eq!(on(Availability::Always), EventType::ALL.to_vec());
        assert_eq!(
            on(Availability::Routed),
            EventType::ALL[1..].to_vec(),
            "all but incoming"
        );
        assert_eq!(
            on(Availability::Ended),
            vec![Hangup, Failure, Completed, Converted]
        );
        assert_eq!(on(Availability::HungUp), vec![Hangup, Completed, Converted]);
        let mut timed = vec![Hangup, Failure, Completed, Converted];
        timed.extend(EventType::MARKS);
        assert_eq!(on(Availability::Timed), timed);
    }

    #[test]
    fn money_display_format() {
        assert_eq!(format_money_display(&d("1234.5")), "$1,234.50");
        assert_eq!(format_money_display(&d("0")), "$0.00");
        assert_eq!(format_money_display(&d("1000000")), "$1,000,000.00");
        assert_eq!(format_money_display(&d("999.999")), "$1,000.00");
        assert_eq!(format_money_display(&-d("1234.5")), "-$1,234.50");
        assert_eq!(format_money_display(&-d("0.001")), "$0.00");
    }

    #[test]
    fn landing_page_parts() {
        for (url, domain, path) in [
            (
                "https://www.Example.com/medicare/plans?utm_source=x#top",
                "www.example.com",
                "/medicare/plans",
            ),
            ("http://example.com", "example.com", "/"),
            ("https://example.com?x=1", "example.com", "/"),
            (
                "https://user:pw@shop.example.com:8443/a/b/",
                "shop.example.com",
                "/a/b/",
            ),
            ("https://[2001:db8::1]:8080/x", "[2001:db8::1]", "/x"),
            ("example.com/landing", "example.com", "/landing"),
            ("//cdn.example.com/p", "cdn.example.com", "/p"),
            ("/just/a/path?q=1", "", "/just/a/path"),
            (
                "example.com/go?next=https://other.example/x",
                "example.com",
                "/go",
            ),
            ("  https://example.com/p  ", "example.com", "/p"),
            ("", "", ""),
        ] {
            assert_eq!(
                split_url(url),
                (domain.to_owned(), path.to_owned()),
                "{url:?}"
            );
        }
    }

    #[test]
    fn placeholder_names() {
        for good in ["A", "LEAD_TYPE", "X9", "A_"] {
            assert!(is_placeholder_name(good), "{good}");
        }
        for bad in ["", "_A", "9A", "a", "LEAD-TYPE", "LEAD TYPE", "ÉTAT"] {
            assert!(!is_placeholder_name(bad), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn display_and_plain_money_agree_on_digits(
            mantissa in -1_000_000_000_000_000_000i128..1_000_000_000_000_000_000,
            scale in 0u32..=2,
        ) {
            let amount = Decimal::from_i128_with_scale(mantissa, scale);
            let display = format_money_display(&amount);
            let plain = money::format_plain(&amount);
            let digits_of = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            prop_assert_eq!(digits_of(&display), digits_of(&plain));
            prop_assert_eq!(display.starts_with("-$"), plain.starts_with('-'));
            prop_assert_eq!(display.trim_start_matches('-').starts_with('$'), true);
            prop_assert_eq!(&display[display.len() - 3..], &plain[plain.len() - 3..]);
        }

        #[test]
        fn split_url_never_panics(url in "\\PC{0,40}") {
            let _ = split_url(&url);
        }
    }
}
