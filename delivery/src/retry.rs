//! Retry policy: which outcomes are retried, and when the next attempt is due.
//!
//! 2xx is success; timeouts, connection and transport errors, 429 and 5xx are retried on the
//! schedule (`MOJA_RETRY_SCHEDULE`) with ±20 % jitter, a 429's `Retry-After` raising the delay up
//! to [`RETRY_AFTER_CAP`]; everything else fails at once.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use rand::Rng;

use crate::client::Outcome;

/// The longest `Retry-After` honoured; a longer one is cut to this.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(60 * 60);

/// The default retry schedule (`MOJA_RETRY_SCHEDULE`).
pub const DEFAULT_SCHEDULE: &str = "5s,30s,2m,10m,30m,1h,3h,6h";

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered.
    Success,
    /// Try again later, no sooner than `retry_after` when the endpoint asked for it.
    Retry {
        /// The endpoint's `Retry-After`, uncapped; [`RetrySchedule::next_delay`] caps it.
        retry_after: Option<Duration>,
    },
    /// Give up: retrying cannot help.
    Fail,
}

/// The verdict on an attempt, reading an HTTP-date `Retry-After` against the current time.
pub fn verdict(outcome: &Outcome) -> Verdict {
    verdict_at(outcome, Timestamp::now())
}

/// The verdict on an attempt, reading an HTTP-date `Retry-After` against `now`.
pub fn verdict_at(outcome: &Outcome, now: Timestamp) -> Verdict {
    match outcome {
        Outcome::Response {
            status, headers, ..
        } => match status {
            200..=299 => Verdict::Success,
            429 => {
                let retry_after = headers
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
                    .and_then(|(_, value)| parse_retry_after(value, now));
                Verdict::Retry { retry_after }
            }
            500..=599 => Verdict::Retry { retry_after: None },
            _ => Verdict::Fail,
        },
        Outcome::Timeout | Outcome::Connect { .. } | Outcome::Transport { .. } => {
            Verdict::Retry { retry_after: None }
        }
        Outcome::Refused { .. } | Outcome::Invalid { .. } => Verdict::Fail,
    }
}

/// A `Retry-After` value (RFC 9110 §10.2.3): delay seconds or an HTTP-date, the latter measured
/// from `now` (a date in the past is no delay). `None` when the value is neither.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        // Too many digits for a u64 is still a valid, very long delay.
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds));
    }
    let date = parse_http_date(value)?;
    let until = now.duration_until(date);
    Some(Duration::try_from(until).unwrap_or(Duration::ZERO))
}

/// The three HTTP-date forms: IMF-fixdate, then the obsolete RFC 850 and asctime forms.
fn parse_http_date(value: &str) -> Option<Timestamp> {
    if let Ok(zoned) = jiff::fmt::rfc2822::parse(value) {
        return Some(zoned.timestamp());
    }
    let formats = ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"];
    formats.iter().find_map(|format| {
        let datetime = jiff::civil::DateTime::strptime(format, value).ok()?;
        datetime
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|zoned| zoned.timestamp())
    })
}

/// Why a retry schedule could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The schedule has no delay at all.
    #[error(
        "the retry schedule is empty (expected comma-separated delays like \"{DEFAULT_SCHEDULE}\")"
    )]
    Empty,
    /// One item between commas is empty.
    #[error("delay {position} of the retry schedule is empty")]
    EmptyItem {
        /// 1-based position in the list.
        position: usize,
    },
    /// An item is not a number followed by a unit.
    #[error(
        "invalid delay {item:?} in the retry schedule \
         (expected a whole number and a unit: ms, s, m, h or d, like \"30s\")"
    )]
    Invalid {
        /// The item as written.
        item: String,
    },
    /// An item has an unknown unit.
    #[error(
        "unknown unit {unit:?} in delay {item:?} of the retry schedule (expected ms, s, m, h or d)"
    )]
    UnknownUnit {
        /// The item as written.
        item: String,
        /// The unit as written.
        unit: String,
    },
    /// An item is too large to represent.
    #[error("delay {item:?} of the retry schedule is too large")]
    TooLarge {
        /// The item as written.
        item: String,
    },
}

/// The delays between attempts: the first retry waits `schedule[0]`, and so on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

impl RetrySchedule {
    /// A schedule of the given delays.
    pub fn new(delays: Vec<Duration>) -> Self {
        Self(delays)
    }

    /// Parses a comma-separated list of delays like `"5s,30s,2m,10m,30m,1h,3h,6h"`; each is a whole
    /// number followed by `ms`, `s`, `m`, `h` or `d`, spaces around commas allowed.
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        if text.trim().is_empty() {
            return Err(ScheduleError::Empty);
        }
        let delays = text
            .split(',')
            .enumerate()
            .map(|(index, item)| parse_delay(item.trim(), index + 1))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(delays))
    }

    /// The delays, in order.
    pub fn delays(&self) -> &[Duration] {
        &self.0
    }

    /// How many retries the schedule allows after the first attempt.
    pub fn max_retries(&self) -> usize {
        self.0.len()
    }

    /// The delay before the next attempt, given the number of attempts already made; `None` when
    /// the schedule is exhausted and the delivery should be marked failed.
    ///
    /// The scheduled delay gets uniform ±20 % jitter and is then raised to `retry_after` (capped at
    /// [`RETRY_AFTER_CAP`]) when that is longer. With no attempt made yet the first attempt is due
    /// now (`Some(Duration::ZERO)`).
    pub fn next_delay(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Option<Duration> {
        let scheduled = match attempts_made.checked_sub(1) {
            None => Duration::ZERO,
            Some(index) => {
                let index = usize::try_from(index).ok()?;
                jitter(*self.0.get(index)?, rng)
            }
        };
        let floor = retry_after.map_or(Duration::ZERO, |delay| delay.min(RETRY_AFTER_CAP));
        Some(scheduled.max(floor))
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self(vec![
            Duration::from_secs(5),
            Duration::from_secs(30),
            Duration::from_secs(2 * 60),
            Duration::from_secs(10 * 60),
            Duration::from_secs(30 * 60),
            Duration::from_secs(60 * 60),
            Duration::from_secs(3 * 60 * 60),
            Duration::from_secs(6 * 60 * 60),
        ])
    }
}

impl FromStr for RetrySchedule {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Writes the schedule back in the form [`RetrySchedule::parse`] reads, each delay in its largest
/// exact unit.
impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, delay) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            let millis = delay.as_millis();
            let (amount, unit) = [
                (86_400_000, "d"),
                (3_600_000, "h"),
                (60_000, "m"),
                (1_000, "s"),
            ]
            .into_iter()
            .find(|(size, _)| millis != 0 && millis % size == 0)
            .map_or((millis, "ms"), |(size, unit)| (millis / size, unit));
            write!(f, "{amount}{unit}")?;
        }
        Ok(())
    }
}

fn parse_delay(item: &str, position: usize) -> Result<Duration, ScheduleError> {
    if item.is_empty() {
        return Err(ScheduleError::EmptyItem { position });
    }
    let digits = item.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = item.split_at(digits);
    if number.is_empty() || unit.is_empty() {
        return Err(ScheduleError::Invalid {
            item: item.to_owned(),
        });
    }
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ if unit.bytes().all(|byte| byte.is_ascii_alphabetic()) => {
            return Err(ScheduleError::UnknownUnit {
                item: item.to_owned(),
                unit: unit.to_owned(),
            });
        }
        _ => {
            return Err(ScheduleError::Invalid {
                item: item.to_owned(),
            });
        }
    };
    let too_large = || ScheduleError::TooLarge {
        item: item.to_owned(),
    };
    let amount: u64 = number.parse().map_err(|_| too_large())?;
    let millis = amount.checked_mul(millis_per_unit).ok_or_else(too_large)?;
    Ok(Duration::from_millis(millis))
}

/// `delay` scaled by a uniform factor in [0.8, 1.2], computed in whole nanoseconds so that the
/// bounds hold exactly.
fn jitter(delay: Duration, rng: &mut impl Rng) -> Duration {
    let nanos = delay.as_nanos();
    let spread = nanos / 5;
    let jittered = nanos - spread + rng.random_range(0..=2 * spread);
    // Above 1.0 × the longest duration, the result saturates.
    let Ok(seconds) = u64::try_from(jittered / 1_000_000_000) else {
        return Duration::MAX;
    };
    // The remainder is below one billion, so it always fits.
    let subsec = u32::try_from(jittered % 1_000_000_000).unwrap_or(0);
    Duration::new(seconds, subsec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn response(status: u16, headers: &[(&str, &str)]) -> Outcome {
        Outcome::Response {
            status,
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body: Vec::new(),
            body_truncated: false,
        }
    }

    fn now() -> Timestamp {
        "2024-01-10T10:34:45Z".parse().unwrap()
    }

    fn secs(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    #[test]
    fn verdicts_follow_the_specification() {
        let retry = Verdict::Retry { retry_after: None };
        for status in [200, 201, 204, 299] {
            assert_eq!(verdict_at(&response(status, &[]), now()), Verdict::Success);
        }
        for status in [500, 502, 503, 504, 599, 429] {
            assert_eq!(verdict_at(&response(status, &[]), now()), retry, "{status}");
        }
        for status in [
            100, 301, 302, 304, 307, 400, 401, 403, 404, 410, 422, 499, 600,
        ] {
            assert_eq!(
                verdict_at(&response(status, &[]), now()),
                Verdict::Fail,
                "{status}"
            );
        }
        let error = "boom".to_owned();
        assert_eq!(verdict_at(&Outcome::Timeout, now()), retry);
        assert_eq!(
            verdict_at(
                &Outcome::Connect {
                    error: error.clone()
                },
                now()
            ),
            retry
        );
        assert_eq!(
            verdict_at(
                &Outcome::Transport {
                    error: error.clone()
                },
                now()
            ),
            retry
        );
        assert_eq!(
            verdict_at(
                &Outcome::Refused {
                    reason: error.clone()
                },
                now()
            ),
            Verdict::Fail
        );
        assert_eq!(
            verdict_at(&Outcome::Invalid { error }, now()),
            Verdict::Fail
        );
    }

    #[test]
    fn a_429_retry_after_is_read_in_seconds_or_as_a_date() {
        let seconds = response(429, &[("retry-after", "120")]);
        assert_eq!(
            verdict_at(&seconds, now()),
            Verdict::Retry {
                retry_after: Some(secs(120))
            }
        );
        let date = response(429, &[("Retry-After", "Wed, 10 Jan 2024 10:35:45 GMT")]);
        assert_eq!(
            verdict_at(&date, now()),
            Verdict::Retry {
                retry_after: Some(secs(60))
            }
        );
        let garbage = response(429, &[("retry-after", "soon")]);
        assert_eq!(
            verdict_at(&garbage, now()),
            Verdict::Retry { retry_after: None }
        );
        // Only a 429's Retry-After counts.
        let unavailable = response(503, &[("retry-after", "120")]);
        assert_eq!(
            verdict_at(&unavailable, now()),
            Verdict::Retry { retry_after: None }
        );
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("0", now()), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(" 30 ", now()), Some(secs(30)));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now()),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("Wed, 10 Jan 2024 11:34:45 GMT", now()),
            Some(secs(3600))
        );
        assert_eq!(
            parse_retry_after("Wednesday, 10-Jan-24 10:35:00 GMT", now()),
            Some(secs(15))
        );
        assert_eq!(
            parse_retry_after("Wed Jan 10 10:34:50 2024", now()),
            Some(secs(5))
        );
        assert_eq!(
            parse_retry_after("Wed Jan  1 10:34:50 2025", now()).map(|delay| delay > secs(0)),
            Some(true)
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after("Tue, 09 Jan 2024 10:34:45 GMT", now()),
            Some(Duration::ZERO)
        );
        for bad in ["", "-5", "1.5", "5s", "tomorrow", "Wed, 10 Jan 2024"] {
            assert_eq!(parse_retry_after(bad, now()), None, "{bad:?}");
        }
    }

    #[test]
    fn the_default_schedule_is_the_documented_one() {
        assert_eq!(
            RetrySchedule::parse(DEFAULT_SCHEDULE).unwrap(),
            RetrySchedule::default()
        );
        assert_eq!(RetrySchedule::default().to_string(), DEFAULT_SCHEDULE);
        assert_eq!(RetrySchedule::default().max_retries(), 8);
    }

    #[test]
    fn schedules_parse_every_unit() {
        let schedule: RetrySchedule = " 250ms, 5s ,2m,1h,1d,0s".parse().unwrap();
        assert_eq!(
            schedule.delays(),
            [
                Duration::from_millis(250),
                secs(5),
                secs(120),
                secs(3600),
                secs(86_400),
                Duration::ZERO,
            ]
        );
        assert_eq!(schedule.to_string(), "250ms,5s,2m,1h,1d,0ms");
        assert_eq!(
            RetrySchedule::parse("90s").unwrap().to_string(),
            "90s",
            "90 s is not a whole number of minutes"
        );
    }

    #[test]
    fn schedule_errors_are_clear() {
        assert_eq!(RetrySchedule::parse(""), Err(ScheduleError::Empty));
        assert_eq!(RetrySchedule::parse("  "), Err(ScheduleError::Empty));
        assert_eq!(
            RetrySchedule::parse("5s,,2m"),
            Err(ScheduleError::EmptyItem { position: 2 })
        );
        assert_eq!(
            RetrySchedule::parse("5s,"),
            Err(ScheduleError::EmptyItem { position: 2 })
        );
        for item in ["5", "s", "1.5h", "-5s", "5 s", "5s5", "5s!"] {
            assert_eq!(
                RetrySchedule::parse(item),
                Err(ScheduleError::Invalid {
                    item: item.to_owned()
                }),
                "{item}"
            );
        }
        assert_eq!(
            RetrySchedule::parse("5s,3w"),
            Err(ScheduleError::UnknownUnit {
                item: "3w".to_owned(),
                unit: "w".to_owned()
            })
        );
        assert_eq!(
            RetrySchedule::parse("5S").unwrap_err().to_string(),
            "unknown unit \"S\" in delay \"5S\" of the retry schedule (expected ms, s, m, h or d)"
        );
        assert_eq!(
            RetrySchedule::parse("99999999999999999999d"),
            Err(ScheduleError::TooLarge {
                item: "99999999999999999999d".to_owned()
            })
        );
        assert_eq!(
            RetrySchedule::parse("999999999999999999d"),
            Err(ScheduleError::TooLarge {
                item: "999999999999999999d".to_owned()
            })
        );
    }

    #[test]
    fn next_delay_walks_the_schedule_then_stops() {
        let schedule = RetrySchedule::parse("10s,1m,1h").unwrap();
        let mut rng = StdRng::seed_from_u64(7);
        assert_eq!(schedule.next_delay(0, None, &mut rng), Some(Duration::ZERO));
        let expected = [secs(10), secs(60), secs(3600)];
        for (attempts_made, scheduled) in (1..).zip(expected) {
            let delay = schedule.next_delay(attempts_made, None, &mut rng).unwrap();
            assert!(
                delay >= scheduled * 4 / 5 && delay <= scheduled * 6 / 5,
                "{delay:?}"
            );
        }
        assert_eq!(schedule.next_delay(4, None, &mut rng), None);
        assert_eq!(schedule.next_delay(u32::MAX, None, &mut rng), None);
        assert_eq!(
            schedule.next_delay(4, Some(secs(1)), &mut rng),
            None,
            "Retry-After never extends the schedule"
        );
    }

    #[test]
    fn retry_after_raises_the_delay_up_to_the_cap() {
        let schedule = RetrySchedule::parse("10s,1m").unwrap();
        let mut rng = StdRng::seed_from_u64(11);
        assert_eq!(
            schedule.next_delay(1, Some(secs(300)), &mut rng),
            Some(secs(300))
        );
        assert_eq!(
            schedule.next_delay(1, Some(secs(10 * 3600)), &mut rng),
            Some(RETRY_AFTER_CAP)
        );
        // A shorter Retry-After does not shorten the schedule.
        let delay = schedule.next_delay(2, Some(secs(1)), &mut rng).unwrap();
        assert!(delay >= secs(48), "{delay:?}");
    }

    #[test]
    fn jitter_handles_zero_and_the_longest_duration() {
        let mut rng = StdRng::seed_from_u64(3);
        assert_eq!(jitter(Duration::ZERO, &mut rng), Duration::ZERO);
        // 1.2 × Duration::MAX does not fit: the result saturates instead of panicking.
        assert!(jitter(Duration::MAX, &mut rng) >= Duration::MAX / 5 * 4);
    }

    proptest! {
        #[test]
        fn jitter_stays_within_twenty_percent(
            millis in 0u64..=30 * 86_400_000,
            seed in any::<u64>(),
            attempts_made in 1u32..=3,
        ) {
            let base = Duration::from_millis(millis);
            let schedule = RetrySchedule::new(vec![base; 3]);
            let mut rng = StdRng::seed_from_u64(seed);
            let delay = schedule.next_delay(attempts_made, None, &mut rng).unwrap();
            let nanos = base.as_nanos();
            prop_assert!(delay.as_nanos() * 5 >= nanos * 4, "{delay:?} < 0.8 × {base:?}");
            prop_assert!(delay.as_nanos() * 5 <= nanos * 6, "{delay:?} > 1.2 × {base:?}");
        }

        #[test]
        fn retry_after_is_a_floor_capped_at_one_hour(
            millis in 0u64..=86_400_000,
            retry_after_secs in 0u64..=100_000,
            seed in any::<u64>(),
        ) {
            let schedule = RetrySchedule::new(vec![Duration::from_millis(millis)]);
            let retry_after = Duration::from_secs(retry_after_secs);
            let mut rng = StdRng::seed_from_u64(seed);
            let delay = schedule.next_delay(1, Some(retry_after), &mut rng).unwrap();
            prop_assert!(delay >= retry_after.min(RETRY_AFTER_CAP));
            prop_assert!(delay <= RETRY_AFTER_CAP.max(Duration::from_millis(millis) * 6 / 5));
        }

        #[test]
        fn printed_schedules_parse_back(
            millis in proptest::collection::vec(0u64..=10_000_000_000, 1..10),
        ) {
            let delays = millis.into_iter().map(Duration::from_millis).collect();
            let schedule = RetrySchedule::new(delays);
            prop_assert_eq!(RetrySchedule::parse(&schedule.to_string()).unwrap(), schedule);
        }
    }
}
