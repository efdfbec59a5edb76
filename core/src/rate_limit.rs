//! Rate limits of inbound webhooks (SPEC §7.7): the policy types, the decision and its headers,
//! the `RateLimiter` seam and the single-node in-memory sliding-window limiter.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::BuildHasher;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// The length of the sliding window a rate limit counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = PeriodView)]
pub enum Period {
    /// 60 seconds.
    Minute,
    /// 3,600 seconds.
    Hour,
    /// 86,400 seconds (a fixed length: the window slides, it does not follow calendar days).
    Day,
}

impl Period {
    /// The length of the window.
    pub fn length(&self) -> SignedDuration {
        match self {
            Period::Minute => SignedDuration::from_mins(1),
            Period::Hour => SignedDuration::from_hours(1),
            Period::Day => SignedDuration::from_hours(24),
        }
    }

    /// The name used in JSON and configuration.
    pub fn as_str(&self) -> &'static str {
        match self {
            Period::Minute => "minute",
            Period::Hour => "hour",
            Period::Day => "day",
        }
    }

    fn nanos(self) -> i128 {
        self.length().as_nanos()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that is not `minute`, `hour` or `day`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a rate-limit period: expected \"minute\", \"hour\" or \"day\"")]
pub struct UnknownPeriod(pub String);

impl FromStr for Period {
    type Err = UnknownPeriod;

    /// Accepts the names in any ASCII case, surrounded by whitespace or not, because the text
    /// usually comes from configuration written by hand.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        [Period::Minute, Period::Hour, Period::Day]
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownPeriod(s.to_owned()))
    }
}

/// At most `limit` accepted requests in any sliding window of length `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = RateLimitView)]
pub struct RateLimit {
    /// How many requests a window may hold; 0 refuses everything.
    pub limit: u32,
    /// The window length.
    pub period: Period,
}

impl Default for RateLimit {
    /// 100 per minute, the product default.
    fn default() -> Self {
        Self {
            limit: 100,
            period: Period::Minute,
        }
    }
}

/// The outcome of one [`RateLimiter::check`], with what the response headers need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed (it has then been counted).
    pub allowed: bool,
    /// The configured limit (`RateLimit-Limit`).
    pub limit: u32,
    /// How many more requests the current window accepts (`RateLimit-Remaining`).
    pub remaining: u32,
    /// Whole seconds, rounded up, until one more request would be accepted; 0 when one would be
    /// accepted now (`RateLimit-Reset`).
    pub reset_secs: u64,
    /// Whole seconds (at least 1) to wait before retrying; only set when refused (`Retry-After`).
    pub retry_after_secs: Option<u64>,
}

impl Decision {
    /// The response headers that describe this decision, `Retry-After` only when refused.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("RateLimit-Limit", self.limit.to_string()),
            ("RateLimit-Remaining", self.remaining.to_string()),
            ("RateLimit-Reset", self.reset_secs.to_string()),
        ];
        if let Some(retry) = self.retry_after_secs {
            headers.push(("Retry-After", retry.to_string()));
        }
        headers
    }
}

/// Decides whether a request under a key may proceed.
///
/// A seam so that a database-backed limiter, shared by every node, can replace the in-memory one in
/// cluster mode.
pub trait RateLimiter: Send + Sync + std::fmt::Debug {
    /// Decides for one request under `key` at `now`, counting it only when it is allowed: refused
    /// requests do not use up the window, so a sender that backs off recovers on time.
    fn check(&self, key: &str, limit: RateLimit, now: Timestamp) -> Decision;

    /// Forgets what no window at `now` can count any more (maintenance calls it periodically).
    fn prune(&self, now: Timestamp);
}

const SHARDS: usize = 16;
/// Above this limit a per-request log would cost too much memory per key, so the limiter counts
/// in buckets instead.
const EXACT_MAX_LIMIT: u32 = 10_000;
const BUCKETS_PER_PERIOD: i128 = 120;
/// No period is longer than a day, so a key idle for a day has nothing left in any window.
const IDLE_NANOS: i128 = 86_400 * NANOS_PER_SEC;

/// The single-node limiter: a sliding window per key, exact up to 10,000 requests per period.
///
/// For limits up to 10,000 it keeps a log of the accepted requests' times, so at most `limit`
/// requests are accepted in *any* window of length `period` (unlike a token bucket, which refills
/// continuously and would let a 101st request of a minute through).
///
/// Above 10,000 it counts accepted requests in 120 buckets per period (500 ms for a minute, 30 s
/// for an hour, 12 min for a day) and counts the oldest, partly expired bucket in full. That is an
/// approximation in one direction only: it never admits more than `limit` in any window, but it may
/// refuse a request up to one bucket width earlier than an exact log would.
///
/// Keys are sharded over 16 locks so concurrent requests for different keys rarely contend. Call
/// [`InMemoryRateLimiter::prune`] periodically to forget idle keys.
pub struct InMemoryRateLimiter {
    shards: Box<[Mutex<HashMap<String, Window>>]>,
    hasher: RandomState,
    exact_max_limit: u32,
}

impl fmt::Debug for InMemoryRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys name webhooks and client addresses: not worth dumping into logs.
        f.debug_struct("InMemoryRateLimiter")
            .field("shards", &self.shards.len())
            .field("exact_max_limit", &self.exact_max_limit)
            .finish_non_exhaustive()
    }
}

impl Default for InMemoryRateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

/// The accepted requests of one key. Times are nanoseconds since the Unix epoch.
#[derive(Debug)]
enum Window {
    /// Times of accepted requests, non-decreasing.
    Log(VecDeque<i128>),
    /// `(bucket index, accepted count)` with strictly increasing indexes; bucket `i` covers
    /// `[i * width, (i + 1) * width)`.
    Buckets {
        width: i128,
        counts: VecDeque<(i128, u32)>,
    },
}

impl Window {
    /// The latest accepted time this window may hold (a bucket counts as its last instant).
    fn latest(&self) -> Option<i128> {
        match self {
            Window::Log(log) => log.back().copied(),
            Window::Buckets { width, counts } => counts.back().map(|(i, _)| (i + 1) * width - 1),
        }
    }

    /// Converts the window to the representation `limit` needs, rounding every time later, never
    /// earlier, so the conversion can only make the limiter stricter.
    fn conform(&mut self, limit: RateLimit, exact_max_limit: u32) {
        let wanted_width =
            (limit.limit > exact_max_limit).then(|| limit.period.nanos() / BUCKETS_PER_PERIOD);
        match (&*self, wanted_width) {
            (Window::Log(_), None) => {}
            (Window::Buckets { width, .. }, Some(w)) if *width == w => {}
            (Window::Log(log), Some(w)) => {
                let mut counts: VecDeque<(i128, u32)> = VecDeque::new();
                for t in log {
                    add_to_bucket(&mut counts, t.div_euclid(w));
                }
                *self = Window::Buckets { width: w, counts };
            }
            (Window::Buckets { width, counts }, Some(w)) => {
                let mut converted: VecDeque<(i128, u32)> = VecDeque::new();
                for (i, c) in counts {
                    let last_instant = (i + 1) * width - 1;
                    for _ in 0..*c {
                        add_to_bucket(&mut converted, last_instant.div_euclid(w));
                    }
                }
                *self = Window::Buckets {
                    width: w,
                    counts: converted,
                };
            }
            (Window::Buckets { width, counts }, None) => {
                // Only the latest `limit` entries can influence a decision under that limit, which
                // also bounds the log this creates.
                let mut log: VecDeque<i128> = VecDeque::new();
                let wanted = limit.limit as usize;
                'outer: for (i, c) in counts.iter().rev() {
                    let last_instant = (i + 1) * width - 1;
                    for _ in 0..*c {
                        if log.len() >= wanted {
                            break 'outer;
                        }
                        log.push_front(last_instant);
                    }
                }
                *self = Window::Log(log);
            }
        }
    }

    /// Decides at `now`, recording the request when allowed.
    fn check(&mut self, limit: RateLimit, now: i128) -> Decision {
        let period = limit.period.nanos();
        let max = limit.limit;
        match self {
            Window::Log(log) => {
                while log.front().is_some_and(|&t| t + period <= now) {
                    log.pop_front();
                }
                let allowed = log.len() < max as usize;
                if allowed {
                    // A clock that stepped back must not unsort the log; recording the request
                    // later than it happened only keeps it in the window longer.
                    let t = log.back().map_or(now, |&last| last.max(now));
                    log.push_back(t);
                }
                let n = log.len();
                let wait = if n < max as usize {
                    0
                } else if max == 0 {
                    period
                } else {
                    // The request that must leave the window for the count to drop below `max`.
                    log[n - max as usize] + period - now
                };
                decision(allowed, max, n as u64, wait)
            }
            Window::Buckets { width, counts } => {
                let width = *width;
                let current = now.div_euclid(width);
                let oldest_counted = current - BUCKETS_PER_PERIOD;
                while counts.front().is_some_and(|&(i, _)| i < oldest_counted) {
                    counts.pop_front();
                }
                let mut n: u64 = counts.iter().map(|&(_, c)| u64::from(c)).sum();
                let allowed = n < u64::from(max);
                if allowed {
                    add_to_bucket(counts, current);
                    n += 1;
                }
                let wait = if n < u64::from(max) {
                    0
                } else if max == 0 {
                    period
                } else {
                    let mut to_drop = n - u64::from(max) + 1;
                    let mut last_dropped = current;
                    for &(i, c) in counts.iter() {
                        last_dropped = i;
                        to_drop = to_drop.saturating_sub(u64::from(c));
                        if to_drop == 0 {
                            break;
                        }
                    }
                    // Bucket `i` stops being counted once the current bucket is `i + 121`.
                    (last_dropped + BUCKETS_PER_PERIOD + 1) * width - now
                };
                decision(allowed, max, n, wait)
            }
        }
    }
}

/// Adds one request to bucket `index`, or to the newest bucket when the clock stepped back behind
/// it (later is the strict direction).
fn add_to_bucket(counts: &mut VecDeque<(i128, u32)>, index: i128) {
    match counts.back_mut() {
        Some((last, c)) if *last >= index => *c = c.saturating_add(1),
        _ => counts.push_back((index, 1)),
    }
}

fn decision(allowed: bool, limit: u32, counted: u64, wait_nanos: i128) -> Decision {
    let remaining = u64::from(limit).saturating_sub(counted);
    let reset_secs = ceil_secs(wait_nanos);
    Decision {
        allowed,
        limit,
        remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
        reset_secs,
        retry_after_secs: (!allowed).then_some(reset_secs.max(1)),
    }
}

fn ceil_secs(nanos: i128) -> u64 {
    if nanos <= 0 {
        return 0;
    }
    u64::try_from((nanos + NANOS_PER_SEC - 1) / NANOS_PER_SEC).unwrap_or(u64::MAX)
}

impl InMemoryRateLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self::with_exact_max_limit(EXACT_MAX_LIMIT)
    }

    fn with_exact_max_limit(exact_max_limit: u32) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            exact_max_limit,
        }
    }

    /// Forgets every key with no request accepted during the day before `now`: no window is longer
    /// than a day, so this loses nothing.
    pub fn prune(&self, now: Timestamp) {
        let now = now.as_nanosecond();
        for shard in self.shards.iter() {
            lock(shard).retain(|_, w| w.latest().is_some_and(|t| t + IDLE_NANOS > now));
        }
    }

    /// How many keys the limiter currently remembers.
    pub fn tracked_keys(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Window>> {
        let index = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        &self.shards[index]
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every mutation of a window leaves it consistent before anything can panic, so a poisoned
    // lock still guards valid data; refusing service over it would be worse.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RateLimiter for InMemoryRateLimiter {
    fn check(&self, key: &str, limit: RateLimit, now: Timestamp) -> Decision {
        let now = now.as_nanosecond();
        let mut map = lock(self.shard(key));
        if let Some(window) = map.get_mut(key) {
            window.conform(limit, self.exact_max_limit);
            return window.check(limit, now);
        }
        let mut window = Window::Log(VecDeque::new());
        window.conform(limit, self.exact_max_limit);
        let decision = window.check(limit, now);
        // A key is only remembered once it has something to remember.
        if decision.allowed {
            map.insert(key.to_owned(), window);
        }
        decision
    }

    fn prune(&self, now: Timestamp) {
        InMemoryRateLimiter::prune(self, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t0() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn at(offset_ms: i64) -> Timestamp {
        t0() + SignedDuration::from_millis(offset_ms)
    }

    fn per(limit: u32, period: Period) -> RateLimit {
        RateLimit { limit, period }
    }

    #[test]
    fn period_names_round_trip() {
        for p in [Period::Minute, Period::Hour, Period::Day] {
            assert_eq!(p.to_string().parse::<Period>().unwrap(), p);
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{p}\""));
            assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), p);
        }
        assert_eq!(" Hour ".parse::<Period>().unwrap(), Period::Hour);
        let err = "week".parse::<Period>().unwrap_err();
        assert!(err.to_string().contains("minute"), "{err}");
        assert_eq!(Period::Day.length(), SignedDuration::from_secs(86_400));
    }

    #[test]
    fn default_is_100_per_minute() {
        assert_eq!(RateLimit::default(), per(100, Period::Minute));
    }

    #[test]
    fn exactly_limit_per_minute_then_refused() {
        let rl = InMemoryRateLimiter::new();
        let limit = RateLimit::default();
        for i in 0..100 {
            let d = rl.check("webhook:a", limit, at(i * 100));
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 99 - i as u32);
            assert_eq!(d.retry_after_secs, None);
        }
        let d = rl.check("webhook:a", limit, at(10_000));
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        // The first request (at 0 ms) leaves the window at 60 s: 50 s from now.
        assert_eq!(d.retry_after_secs, Some(50));
        assert_eq!(d.reset_secs, 50);
        let headers = d.headers();
        assert_eq!(
            headers,
            vec![
                ("RateLimit-Limit", "100".to_owned()),
                ("RateLimit-Remaining", "0".to_owned()),
                ("RateLimit-Reset", "50".to_owned()),
                ("Retry-After", "50".to_owned()),
            ]
        );
    }

    #[test]
    fn becomes_possible_exactly_when_the_oldest_leaves() {
        let rl = InMemoryRateLimiter::new();
        let limit = per(2, Period::Minute);
        assert!(rl.check("k", limit, at(0)).allowed);
        let d = rl.check("k", limit, at(1_500));
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.reset_secs, 59); // 58.5 s rounded up
        assert!(!rl.check("k", limit, at(59_999)).allowed);
        let d = rl.check("k", limit, at(59_999));
        assert_eq!(d.retry_after_secs, Some(1), "never less than one second");
        assert!(rl.check("k", limit, at(60_000)).allowed);
        assert!(!rl.check("k", limit, at(61_499)).allowed);
        assert!(rl.check("k", limit, at(61_500)).allowed);
    }

    #[test]
    fn refused_requests_do_not_consume_the_window() {
        let rl = InMemoryRateLimiter::new();
        let limit = per(1, Period::Minute);
        assert!(rl.check("k", limit, at(0)).allowed);
        for s in 1..60 {
            assert!(!rl.check("k", limit, at(s * 1_000)).allowed);
        }
        assert!(rl.check("k", limit, at(60_000)).allowed);
    }

    #[test]
    fn hour_and_day_periods() {
        let rl = InMemoryRateLimiter::new();
        let hour = per(3, Period::Hour);
        for m in 0..3 {
            assert!(rl.check("h", hour, at(m * 60_000)).allowed);
        }
        let d = rl.check("h", hour, at(30 * 60_000));
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, Some(30 * 60));
        assert!(rl.check("h", hour, at(3_600_000)).allowed);

        let day = per(2, Period::Day);
        assert!(rl.check("d", day, at(0)).allowed);
        assert!(rl.check("d", day, at(3_600_000)).allowed);
        let d = rl.check("d", day, at(23 * 3_600_000));
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, Some(3_600));
        assert!(rl.check("d", day, at(24 * 3_600_000)).allowed);
        assert!(!rl.check("d", day, at(24 * 3_600_000 + 1)).allowed);
    }

    #[test]
    fn keys_are_independent() {
        let rl = InMemoryRateLimiter::new();
        let limit = per(1, Period::Minute);
        assert!(rl.check("webhook:a", limit, at(0)).allowed);
        assert!(!rl.check("webhook:a", limit, at(1)).allowed);
        assert!(rl.check("webhook:b", limit, at(1)).allowed);
        assert!(rl.check("ip:192.0.2.1", limit, at(1)).allowed);
        assert!(!rl.check("ip:192.0.2.1", limit, at(2)).allowed);
    }

    #[test]
    fn concurrent_requests_share_one_window() {
        let rl = std::sync::Arc::new(InMemoryRateLimiter::new());
        let limit = per(1_000, Period::Minute);
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let rl = rl.clone();
                std::thread::spawn(move || {
                    (0..500)
                        .filter(|&i| rl.check("shared", limit, at(i)).allowed)
                        .count()
                })
            })
            .collect();
        let accepted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(accepted, 1_000);
    }

    #[test]
    fn zero_limit_refuses_everything_and_remembers_nothing() {
        let rl = InMemoryRateLimiter::new();
        let d = rl.check("k", per(0, Period::Minute), at(0));
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, Some(60));
        assert_eq!(rl.tracked_keys(), 0);
    }

    #[test]
    fn clock_stepping_back_never_admits_more() {
        let rl = InMemoryRateLimiter::new();
        let limit = per(2, Period::Minute);
        assert!(rl.check("k", limit, at(10_000)).allowed);
        assert!(rl.check("k", limit, at(5_000)).allowed);
        assert!(!rl.check("k", limit, at(64_999)).allowed);
        // Both entries count as 10 s, the later of the two.
        assert!(!rl.check("k", limit, at(69_999)).allowed);
        assert!(rl.check("k", limit, at(70_000)).allowed);
    }

    #[test]
    fn prune_forgets_keys_idle_for_a_day() {
        let rl = InMemoryRateLimiter::new();
        let limit = per(5, Period::Day);
        assert!(rl.check("old", limit, at(0)).allowed);
        assert!(rl.check("new", limit, at(3_600_000)).allowed);
        assert_eq!(rl.tracked_keys(), 2);
        rl.prune(at(24 * 3_600_000 - 1));
        assert_eq!(rl.tracked_keys(), 2);
        rl.prune(at(24 * 3_600_000));
        assert_eq!(rl.tracked_keys(), 1);
        rl.prune(at(25 * 3_600_000));
        assert_eq!(rl.tracked_keys(), 0);
    }

    #[test]
    fn large_limits_use_buckets_and_never_admit_more() {
        let rl = InMemoryRateLimiter::new();
        let limit = per(20_000, Period::Minute);
        // 20,000 requests in the first second all fit.
        for i in 0..20_000 {
            assert!(rl.check("k", limit, at(i / 20)).allowed, "request {i}");
        }
        let d = rl.check("k", limit, at(30_000));
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        // The requests at 0..500 ms share one bucket, counted until 60.5 s although the last of
        // them leaves an exact window at 60 s: the approximation refuses up to one bucket late.
        assert_eq!(d.retry_after_secs, Some(31));
        assert!(!rl.check("k", limit, at(60_499)).allowed);
        assert!(rl.check("k", limit, at(60_500)).allowed);
        let shard = lock(rl.shard("k"));
        match shard.get("k") {
            Some(Window::Buckets { counts, .. }) => assert!(counts.len() <= 121),
            other => panic!("expected buckets, got {other:?}"),
        }
    }

    #[test]
    fn changing_mode_keeps_the_limit() {
        let rl = InMemoryRateLimiter::with_exact_max_limit(3);
        let small = per(3, Period::Minute);
        let big = per(4, Period::Minute);
        for i in 0..3 {
            assert!(rl.check("k", small, at(i * 1_000)).allowed);
        }
        // The log becomes buckets: room for exactly one more.
        assert!(rl.check("k", big, at(4_000)).allowed);
        assert!(!rl.check("k", big, at(5_000)).allowed);
        // And back to a log: four in the window, the limit is three.
        assert!(!rl.check("k", small, at(30_000)).allowed);
        assert!(rl.check("k", small, at(62_000)).allowed);
    }

    /// Checks the accepted times by brute force: no window `[a, a + period)` holds more than
    /// `limit`; it suffices to try windows starting at accepted times.
    fn assert_never_over(accepted: &[i128], limit: u32, period: i128) {
        for (i, &start) in accepted.iter().enumerate() {
            let in_window = accepted[i..]
                .iter()
                .take_while(|&&t| t < start + period)
                .count();
            assert!(
                in_window <= limit as usize,
                "{in_window} accepted in the window starting at {start}"
            );
        }
    }

    fn run(rl: &InMemoryRateLimiter, limit: RateLimit, gaps_ms: &[u32], slack: i128) -> Vec<i128> {
        let period = limit.period.nanos();
        let mut accepted = Vec::new();
        let mut now = t0().as_nanosecond();
        for gap in gaps_ms {
            now += i128::from(*gap) * 1_000_000;
            let d = rl.check("k", limit, Timestamp::from_nanosecond(now).unwrap());
            if d.allowed {
                accepted.push(now);
            } else {
                // Refusals are justified: the window (minus the documented slack) is full.
                let recent = accepted
                    .iter()
                    .filter(|&&t| t + period + slack > now)
                    .count();
                assert!(
                    recent >= limit.limit as usize,
                    "refused with {recent} in window"
                );
                let retry = d.retry_after_secs.unwrap();
                assert!(retry >= 1);
            }
        }
        accepted
    }

    proptest! {
        #[test]
        fn exact_log_never_exceeds_the_limit(
            limit in 1u32..6,
            gaps in proptest::collection::vec(0u32..40_000, 1..200),
        ) {
            let rl = InMemoryRateLimiter::new();
            let limit = per(limit, Period::Minute);
            let accepted = run(&rl, limit, &gaps, 0);
            assert_never_over(&accepted, limit.limit, limit.period.nanos());
        }

        #[test]
        fn buckets_never_exceed_the_limit(
            limit in 1u32..6,
            gaps in proptest::collection::vec(0u32..40_000, 1..200),
        ) {
            let rl = InMemoryRateLimiter::with_exact_max_limit(0);
            let limit = per(limit, Period::Minute);
            let width = limit.period.nanos() / BUCKETS_PER_PERIOD;
            let accepted = run(&rl, limit, &gaps, width);
            assert_never_over(&accepted, limit.limit, limit.period.nanos());
        }
    }
}
