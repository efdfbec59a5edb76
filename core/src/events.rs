//! The outbound event types of SPEC §8.1: their wire names (`call.incoming`, …), their
//! descriptions for the event-types API, and the connected-time offsets of the duration marks.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Something that happened to a call and that outgoing webhooks can subscribe to.
///
/// Serialized as its wire name (`"call.incoming"`), the same text as [`EventType::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// `call.incoming`: a new inbound call was received.
    #[serde(rename = "call.incoming")]
    Incoming,
    /// `call.connected`: the call was answered by a target.
    #[serde(rename = "call.connected")]
    Connected,
    /// `call.hangup`: either party ended the call.
    #[serde(rename = "call.hangup")]
    Hangup,
    /// `call.failure`: the call could not be connected (busy, no answer, error).
    #[serde(rename = "call.failure")]
    Failure,
    /// `call.completed`: post-call processing is finished.
    #[serde(rename = "call.completed")]
    Completed,
    /// `call.converted`: the call met its conversion criteria (sent after the hang-up).
    #[serde(rename = "call.converted")]
    Converted,
    /// `call.on_5_secs_mark`: the call has been connected for 5 seconds.
    #[serde(rename = "call.on_5_secs_mark")]
    On5SecsMark,
    /// `call.on_15_secs_mark`: the call has been connected for 15 seconds.
    #[serde(rename = "call.on_15_secs_mark")]
    On15SecsMark,
    /// `call.on_30_secs_mark`: the call has been connected for 30 seconds.
    #[serde(rename = "call.on_30_secs_mark")]
    On30SecsMark,
    /// `call.on_45_secs_mark`: the call has been connected for 45 seconds.
    #[serde(rename = "call.on_45_secs_mark")]
    On45SecsMark,
    /// `call.on_60_secs_mark`: the call has been connected for 60 seconds.
    #[serde(rename = "call.on_60_secs_mark")]
    On60SecsMark,
}

impl EventType {
    /// Every event type, in the order of SPEC §8.1 (the order the event-types API lists them).
    pub const ALL: [EventType; 11] = [
        EventType::Incoming,
        EventType::Connected,
        EventType::Hangup,
        EventType::Failure,
        EventType::Completed,
        EventType::Converted,
        EventType::On5SecsMark,
        EventType::On15SecsMark,
        EventType::On30SecsMark,
        EventType::On45SecsMark,
        EventType::On60SecsMark,
    ];

    /// The duration marks, scheduled when a call connects, in the order they come due.
    pub const MARKS: [EventType; 5] = [
        EventType::On5SecsMark,
        EventType::On15SecsMark,
        EventType::On30SecsMark,
        EventType::On45SecsMark,
        EventType::On60SecsMark,
    ];

    /// The wire name (`"call.incoming"`, `"call.on_5_secs_mark"`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Incoming => "call.incoming",
            EventType::Connected => "call.connected",
            EventType::Hangup => "call.hangup",
            EventType::Failure => "call.failure",
            EventType::Completed => "call.completed",
            EventType::Converted => "call.converted",
            EventType::On5SecsMark => "call.on_5_secs_mark",
            EventType::On15SecsMark => "call.on_15_secs_mark",
            EventType::On30SecsMark => "call.on_30_secs_mark",
            EventType::On45SecsMark => "call.on_45_secs_mark",
            EventType::On60SecsMark => "call.on_60_secs_mark",
        }
    }

    /// The event type with exactly this wire name.
    ///
    /// Case and whitespace are not forgiven: a webhook saved with a near-miss name would silently
    /// never fire, so the API should refuse it instead.
    pub fn parse(text: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == text)
    }

    /// For a duration mark, the connected seconds at which it comes due; `None` for other events.
    pub fn mark_offset_secs(self) -> Option<i64> {
        match self {
            EventType::On5SecsMark => Some(5),
            EventType::On15SecsMark => Some(15),
            EventType::On30SecsMark => Some(30),
            EventType::On45SecsMark => Some(45),
            EventType::On60SecsMark => Some(60),
            _ => None,
        }
    }

    /// Whether this is one of the duration marks.
    pub fn is_mark(self) -> bool {
        self.mark_offset_secs().is_some()
    }

    /// One sentence saying when the event is sent, for the event-types API.
    pub fn description(self) -> &'static str {
        match self {
            EventType::Incoming => {
                "A new inbound call has been received: sent when a caller dials a tracking number \
                 and the platform begins processing it."
            }
            EventType::Connected => {
                "The call has been answered: sent when it connects to a target."
            }
            EventType::Hangup => "The call has been hung up: sent when either party ends it.",
            EventType::Failure => {
                "The call failed to connect: sent when it cannot reach a target (busy, no answer, \
                 error)."
            }
            EventType::Completed => {
                "Call processing is complete: sent after the hang-up, once post-call processing \
                 (conversion evaluation, queued updates) is finished."
            }
            EventType::Converted => {
                "The call met its conversion criteria: sent after the hang-up, by the campaign rule \
                 or a revenue postback."
            }
            EventType::On5SecsMark => "The call has been connected for 5 seconds.",
            EventType::On15SecsMark => "The call has been connected for 15 seconds.",
            EventType::On30SecsMark => "The call has been connected for 30 seconds.",
            EventType::On45SecsMark => "The call has been connected for 45 seconds.",
            EventType::On60SecsMark => "The call has been connected for 60 seconds.",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The schema of `/openapi.json`, built from [`EventType::ALL`] so that the document cannot drift
/// from the code: the wire names, each with when it is sent. (A derived schema would leave out
/// the descriptions; the name is the one the document has always used.)
impl utoipa::PartialSchema for EventType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let described: Vec<String> = EventType::ALL
            .iter()
            .map(|e| format!("`{e}`: {}", e.description()))
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(EventType::ALL.iter().map(|e| e.as_str())))
            .description(Some(format!(
                "An outbound event type.\n\n{}",
                described.join("\n")
            )))
            .into()
    }
}

impl utoipa::ToSchema for EventType {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("EventTypeView")
    }
}

/// A text that is not the wire name of an event type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown event type {0:?}: expected one of call.incoming, call.connected, call.hangup, \
     call.failure, call.completed, call.converted, call.on_5_secs_mark, call.on_15_secs_mark, \
     call.on_30_secs_mark, call.on_45_secs_mark, call.on_60_secs_mark"
)]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Quote at most 40 characters so a hostile value cannot bloat an error body.
        EventType::parse(s).ok_or_else(|| UnknownEventType(s.chars().take(40).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_every_form() {
        for event in EventType::ALL {
            let name = event.as_str();
            assert_eq!(EventType::parse(name), Some(event));
            assert_eq!(name.parse::<EventType>(), Ok(event));
            assert_eq!(event.to_string(), name);
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<EventType>(&json).unwrap(), event);
            assert!(!event.description().is_empty());
            assert!(event.description().ends_with('.'));
        }
        let mut names: Vec<_> = EventType::ALL.iter().map(|e| e.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventType::ALL.len());
    }

    #[test]
    fn only_exact_names_parse() {
        for bad in [
            "",
            "incoming",
            "CALL.INCOMING",
            " call.incoming",
            "call.incoming ",
            "call.on_10_secs_mark",
            "call.converted\n",
        ] {
            assert_eq!(EventType::parse(bad), None, "{bad:?}");
            let err = bad.parse::<EventType>().unwrap_err();
            assert!(err.to_string().contains("call.on_60_secs_mark"), "{err}");
        }
        assert!(serde_json::from_str::<EventType>("\"Incoming\"").is_err());
        let long = "x".repeat(1000);
        assert!(long.parse::<EventType>().unwrap_err().to_string().len() < 400);
    }

    #[test]
    fn marks_and_their_offsets() {
        let offsets: Vec<_> = EventType::MARKS
            .iter()
            .map(|m| m.mark_offset_secs().unwrap())
            .collect();
        assert_eq!(offsets, vec![5, 15, 30, 45, 60]);
        for event in EventType::ALL {
            assert_eq!(event.is_mark(), EventType::MARKS.contains(&event));
            let name = event.as_str();
            if let Some(secs) = event.mark_offset_secs() {
                assert_eq!(name, format!("call.on_{secs}_secs_mark"));
            }
        }
    }
}
