//! Run statistics (latency histogram, statuses, errors) and their human and JSON renderings.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency the histogram tracks, in microseconds (one hour); larger values saturate.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Counts of requests that got no HTTP response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCounts {
    /// TCP connect or HTTP/1 handshake failed.
    pub connect: u64,
    /// The connection failed while sending or receiving.
    pub io: u64,
    /// No complete response within `--timeout`.
    pub timeout: u64,
}

impl ErrorCounts {
    /// All errors.
    pub fn total(&self) -> u64 {
        self.connect + self.io + self.timeout
    }

    fn add(&mut self, other: &Self) {
        self.connect += other.connect;
        self.io += other.io;
        self.timeout += other.timeout;
    }
}

/// What one measured request attempt ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A complete response with this status, after this latency (body fully read).
    Response { status: u16, latency: Duration },
    /// Could not connect.
    ConnectError,
    /// The connection broke.
    IoError,
    /// `--timeout` elapsed.
    Timeout,
}

/// Everything recorded by one run (after warm-up).
#[derive(Clone, Debug)]
pub struct RunStats {
    /// Latency of every response, in microseconds.
    pub latency_us: Histogram<u64>,
    /// Responses by status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Attempts that got no response.
    pub errors: ErrorCounts,
    /// Measured wall time: from the end of warm-up until the last worker stopped.
    pub elapsed: Duration,
}

impl Default for RunStats {
    fn default() -> Self {
        Self::new()
    }
}

impl RunStats {
    /// Empty statistics.
    pub fn new() -> Self {
        Self {
            latency_us: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .expect("static histogram bounds are valid"),
            statuses: BTreeMap::new(),
            errors: ErrorCounts::default(),
            elapsed: Duration::ZERO,
        }
    }

    /// Records one attempt.
    pub fn record(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Response { status, latency } => {
                let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                self.latency_us.saturating_record(us.max(1));
                *self.statuses.entry(status).or_default() += 1;
            }
            Outcome::ConnectError => self.errors.connect += 1,
            Outcome::IoError => self.errors.io += 1,
            Outcome::Timeout => self.errors.timeout += 1,
        }
    }

    /// Adds another worker's statistics into these.
    pub fn merge(&mut self, other: &Self) {
        self.latency_us
            .add(&other.latency_us)
            .expect("histograms share their bounds");
        for (status, n) in &other.statuses {
            *self.statuses.entry(*status).or_default() += n;
        }
        self.errors.add(&other.errors);
    }

    /// Responses received, whatever their status.
    pub fn responses(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Attempts: responses plus errors.
    pub fn requests(&self) -> u64 {
        self.responses() + self.errors.total()
    }

    /// Attempts that failed: errors plus responses whose status is not `expect_status`.
    pub fn failed(&self, expect_status: u16) -> u64 {
        let unexpected: u64 = self
            .statuses
            .iter()
            .filter(|(status, _)| **status != expect_status)
            .map(|(_, n)| n)
            .sum();
        unexpected + self.errors.total()
    }

    /// Responses per second (errors excluded, so a refused port does not look fast).
    pub fn throughput_rps(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.responses() as f64 / secs
        } else {
            0.0
        }
    }

    /// The serialisable summary of this run.
    pub fn summary(&self, expect_status: u16) -> Summary {
        let q = |quantile: f64| self.latency_us.value_at_quantile(quantile) as f64 / 1000.0;
        let requests = self.requests();
        let failed = self.failed(expect_status);
        Summary {
            requests,
            responses: self.responses(),
            duration_s: self.elapsed.as_secs_f64(),
            throughput_rps: self.throughput_rps(),
            latency_ms: Latency {
                p50: q(0.5),
                p90: q(0.9),
                p99: q(0.99),
                p999: q(0.999),
                max: self.latency_us.max() as f64 / 1000.0,
            },
            statuses: self
                .statuses
                .iter()
                .map(|(status, n)| (status.to_string(), *n))
                .collect(),
            errors: self.errors.total(),
            error_kinds: self.errors,
            expected_status: expect_status,
            failed,
            error_rate: if requests == 0 {
                0.0
            } else {
                failed as f64 / requests as f64
            },
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest response.
    pub max: f64,
}

/// One run's results, as printed with `--json`.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Attempts: responses plus errors.
    pub requests: u64,
    /// Responses of any status.
    pub responses: u64,
    /// Measured seconds (warm-up excluded).
    pub duration_s: f64,
    /// Responses per second.
    pub throughput_rps: f64,
    /// Latency percentiles of the responses, in milliseconds.
    pub latency_ms: Latency,
    /// Responses by status.
    pub statuses: BTreeMap<String, u64>,
    /// Attempts without a response.
    pub errors: u64,
    /// `errors` broken down.
    pub error_kinds: ErrorCounts,
    /// The status that counts as success.
    pub expected_status: u16,
    /// Errors plus unexpected statuses.
    pub failed: u64,
    /// `failed / requests`.
    pub error_rate: f64,
}

impl Summary {
    /// A few human-readable lines, headed by `label`.
    pub fn human(&self, label: &str) -> String {
        let mut out = String::new();
        let l = &self.latency_ms;
        let statuses = if self.statuses.is_empty() {
            "none".to_owned()
        } else {
            self.statuses
                .iter()
                .map(|(status, n)| format!("{status}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let e = &self.error_kinds;
        let _ = writeln!(out, "{label}");
        let _ = writeln!(
            out,
            "  requests    {} in {:.2}s ({} responses, {} errors)",
            self.requests, self.duration_s, self.responses, self.errors
        );
        let _ = writeln!(out, "  throughput  {:.1} req/s", self.throughput_rps);
        let _ = writeln!(
            out,
            "  latency ms  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            l.p50, l.p90, l.p99, l.p999, l.max
        );
        let _ = writeln!(out, "  statuses    {statuses}");
        let _ = writeln!(
            out,
            "  errors      connect {}, io {}, timeout {}",
            e.connect, e.io, e.timeout
        );
        let _ = writeln!(
            out,
            "  failed      {} of {} ({:.2}%, expected status {})",
            self.failed,
            self.requests,
            self.error_rate * 100.0,
            self.expected_status
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_summarises() {
        let mut a = RunStats::new();
        for ms in 1..=100u64 {
            a.record(Outcome::Response {
                status: 200,
                latency: Duration::from_millis(ms),
            });
        }
        let mut b = RunStats::new();
        b.record(Outcome::Response {
            status: 500,
            latency: Duration::from_millis(1),
        });
        b.record(Outcome::Timeout);
        b.record(Outcome::ConnectError);
        a.merge(&b);
        a.elapsed = Duration::from_secs(2);

        let s = a.summary(200);
        assert_eq!(
            (s.requests, s.responses, s.errors, s.failed),
            (103, 101, 2, 3)
        );
        assert_eq!(s.statuses["200"], 100);
        assert_eq!(s.statuses["500"], 1);
        assert!((s.throughput_rps - 50.5).abs() < 1e-9);
        assert!((s.latency_ms.max - 100.0).abs() < 0.1);
        let json = serde_json::to_value(&s).unwrap();
        for key in [
            "requests",
            "duration_s",
            "throughput_rps",
            "latency_ms",
            "statuses",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
        for key in ["p50", "p90", "p99", "p999", "max"] {
            assert!(json["latency_ms"].get(key).is_some(), "{key}");
        }
        assert!(s.human("target").contains("statuses    200: 100, 500: 1"));
    }
}
