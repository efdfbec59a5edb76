//! `moja-loadgen`: an HTTP/1.1 load generator for benchmarking Moja Webhooks on loopback.
//!
//! [`driver::run`] drives one target; [`execute`] adds the optional in-process baseline
//! ([`baseline`]) and produces a [`Report`]. The binary only parses [`args::Args`] and prints.

pub mod args;
pub mod baseline;
pub mod driver;
pub mod report;
pub mod target;
pub mod template;

use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

use crate::baseline::BaselineServer;
use crate::driver::LoadSpec;
use crate::report::Summary;

/// Whether to run the in-process baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaselineMode {
    /// Target only.
    Off,
    /// Baseline first, then the target (skipped, and said so, if nothing listens there).
    WithTarget,
    /// Baseline only; the target is never contacted.
    Only,
}

/// A checked command line.
#[derive(Clone, Debug)]
pub struct Config {
    /// The load (target, templates, concurrency, stop condition).
    pub spec: LoadSpec,
    /// Baseline mode.
    pub baseline: BaselineMode,
    /// The status that counts as success.
    pub expect_status: u16,
    /// Largest acceptable fraction of failed requests.
    pub max_error_rate: f64,
    /// Tokio worker threads (`None`: one per core).
    pub threads: Option<usize>,
    /// Print JSON instead of text.
    pub json: bool,
}

/// The results of a command line: the target run and/or the baseline run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The target run, unless skipped.
    pub target: Option<Summary>,
    /// Why the target was not run, if it was not.
    pub target_skipped: Option<String>,
    /// The baseline run, in baseline modes.
    pub baseline: Option<Summary>,
    /// Target throughput / baseline throughput, when both ran.
    pub ratio: Option<f64>,
    /// `METHOD host:port/path` of the target (query left out: it may hold a key).
    #[serde(skip)]
    pub label: String,
    /// The acceptable failure fraction, for [`Report::passed`].
    #[serde(skip)]
    pub max_error_rate: f64,
}

impl Report {
    /// Whether every run that happened recorded requests and stayed within the error rate.
    pub fn passed(&self) -> bool {
        self.problems().is_empty()
    }

    /// Why the report fails, one line per reason.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, run) in [("target", &self.target), ("baseline", &self.baseline)] {
            let Some(run) = run else { continue };
            if run.requests == 0 {
                problems.push(format!("{name}: no request was recorded"));
            } else if run.error_rate > self.max_error_rate {
                problems.push(format!(
                    "{name}: {} of {} requests failed ({:.2}% > {:.2}%)",
                    run.failed,
                    run.requests,
                    run.error_rate * 100.0,
                    self.max_error_rate * 100.0
                ));
            }
        }
        problems
    }

    /// The JSON output: one run's summary alone, or `{target, target_skipped, baseline, ratio}`
    /// in baseline modes.
    pub fn to_json(&self) -> serde_json::Value {
        match (&self.target, &self.baseline) {
            (Some(target), None) => serde_json::to_value(target),
            _ => serde_json::to_value(self),
        }
        .unwrap_or(serde_json::Value::Null)
    }

    /// The human summary.
    pub fn human(&self) -> String {
        let mut out = String::new();
        if let Some(baseline) = &self.baseline {
            out.push_str(&baseline.human("baseline  (in-process axum, {\"success\":true})"));
        }
        if let Some(target) = &self.target {
            out.push_str(&target.human(&format!("target    {}", self.label)));
        }
        if let Some(reason) = &self.target_skipped {
            out.push_str(&format!("target    {}: skipped, {reason}\n", self.label));
        }
        if let Some(ratio) = self.ratio {
            out.push_str(&format!(
                "ratio     target / baseline throughput = {ratio:.3}\n"
            ));
        }
        out
    }
}

/// Runs the configured load (baseline first, if asked) on the current tokio runtime.
pub async fn execute(config: &Config) -> anyhow::Result<Report> {
    let spec = &config.spec;
    let summarize = |stats: report::RunStats| stats.summary(config.expect_status);
    let mut report = Report {
        target: None,
        target_skipped: None,
        baseline: None,
        ratio: None,
        label: format!("{} {}", spec.method, spec.target.display_path()),
        max_error_rate: config.max_error_rate,
    };
    if config.baseline != BaselineMode::Off {
        let server = BaselineServer::start()
            .await
            .context("cannot start the baseline server")?;
        let mut baseline_spec = spec.clone();
        baseline_spec.target = spec.target.with_addr(server.addr());
        report.baseline = Some(summarize(driver::run(&baseline_spec).await?));
        drop(server);
    }
    match config.baseline {
        BaselineMode::Only => {
            report.target_skipped = Some("--baseline-only".to_owned());
        }
        mode => match driver::probe(&spec.target, Duration::from_secs(2)).await {
            Err(err) if mode == BaselineMode::WithTarget => {
                report.target_skipped = Some(format!("{err:#}; baseline only"));
            }
            Err(err) => return Err(err),
            Ok(()) => report.target = Some(summarize(driver::run(spec).await?)),
        },
    }
    if let (Some(target), Some(baseline)) = (&report.target, &report.baseline)
        && baseline.throughput_rps > 0.0
    {
        report.ratio = Some(target.throughput_rps / baseline.throughput_rps);
    }
    Ok(report)
}
