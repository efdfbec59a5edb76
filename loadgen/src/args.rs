//! Command-line arguments, and their checked conversion into a [`Config`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use http::header::CONTENT_TYPE;
use http::{HeaderName, HeaderValue, Method};

use crate::driver::LoadSpec;
use crate::template::{Template, parse_ids};
use crate::{BaselineMode, Config};

/// Drives an HTTP/1.1 server on this machine (loopback only) at a fixed concurrency over
/// keep-alive connections, and reports throughput and latency.
///
/// Templating: in the URL's path and query and in the body, `{seq}` becomes a counter unique per
/// request (from --seq-start, warm-up included) and `{id}` the next line of --ids-file,
/// cycled round-robin.
#[derive(Debug, Parser)]
#[command(name = "moja-loadgen", version)]
pub struct Args {
    /// Target URL: http:// on 127.0.0.0/8, localhost or [::1] only; other hosts are refused.
    #[arg(long)]
    pub url: String,

    /// Request method.
    #[arg(long, short = 'm', default_value = "POST")]
    pub method: String,

    /// Extra header `Name: value` (repeatable). Content-Type defaults to application/json when
    /// there is a body.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Body template (`{seq}`, `{id}`).
    #[arg(long, conflicts_with = "body_file")]
    pub body_template: Option<String>,

    /// File holding the body template (`{seq}`, `{id}` are substituted there too).
    #[arg(long)]
    pub body_file: Option<PathBuf>,

    /// File of ids for `{id}`: one per line, blank lines skipped, used round-robin.
    #[arg(long)]
    pub ids_file: Option<PathBuf>,

    /// First value of `{seq}`; raise it between runs against a server that keeps state, so
    /// that ids built from `{seq}` stay unique across runs.
    #[arg(long, default_value_t = 1)]
    pub seq_start: u64,

    /// Connections (one task each, requests back to back on a keep-alive connection).
    #[arg(long, short = 'c', default_value_t = 32)]
    pub concurrency: usize,

    /// How long to record (after warm-up), e.g. 10s, 1m. Defaults to 10s unless --requests
    /// is given; with both, the run stops at whichever comes first.
    #[arg(long, short = 'd', value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,

    /// Stop after this many recorded requests (errors included).
    #[arg(long, short = 'n')]
    pub requests: Option<u64>,

    /// Leading period whose requests are sent but not recorded.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,

    /// Per-request timeout (connect, or send and read the whole response).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,

    /// The status that counts as success; other statuses count as failures.
    #[arg(long, default_value_t = 200)]
    pub expect_status: u16,

    /// Exit non-zero when more than this fraction of requests failed (errors or unexpected
    /// statuses).
    #[arg(long, default_value_t = 0.01)]
    pub max_error_rate: f64,

    /// First run the same load against a trivial in-process axum server (127.0.0.1:0,
    /// answers {"success":true}), then against the target, and report both and their ratio.
    /// The baseline server shares this process's tokio runtime with the load. If nothing
    /// listens at --url, only the baseline is run (and said so).
    #[arg(long)]
    pub baseline: bool,

    /// Run the baseline only, never connecting to --url (its path, method, headers and body
    /// are still used).
    #[arg(long)]
    pub baseline_only: bool,

    /// Tokio worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,

    /// Print one JSON object instead of the human summary.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// Checks the arguments and reads the body and ids files.
    pub fn into_config(self) -> anyhow::Result<Config> {
        let mut spec = LoadSpec::new(&self.url)?;
        spec.method = Method::from_bytes(self.method.to_ascii_uppercase().as_bytes())
            .with_context(|| format!("bad method `{}`", self.method))?;
        for header in &self.headers {
            let (name, value) = parse_header(header)?;
            spec.headers.append(name, value);
        }
        let body = match (&self.body_template, &self.body_file) {
            (Some(text), _) => Some(text.clone()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read --body-file {}", path.display()))?,
            ),
            (None, None) => None,
        };
        if let Some(body) = body {
            spec.body = Template::parse(&body);
            if !spec.headers.contains_key(CONTENT_TYPE) {
                spec.headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
        }
        if let Some(path) = &self.ids_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --ids-file {}", path.display()))?;
            let ids = parse_ids(&text);
            if ids.is_empty() {
                bail!("--ids-file {} holds no ids", path.display());
            }
            spec.ids = Arc::from(ids);
        }
        spec.seq_start = self.seq_start;
        spec.concurrency = self.concurrency;
        spec.duration = match (self.duration, self.requests) {
            (None, None) => Some(Duration::from_secs(10)),
            (duration, _) => duration,
        };
        spec.requests = self.requests;
        spec.warmup = self.warmup;
        spec.timeout = self.timeout;
        spec.validate()?;

        if !(0.0..=1.0).contains(&self.max_error_rate) {
            bail!("--max-error-rate must be between 0 and 1");
        }
        if !(100..=599).contains(&self.expect_status) {
            bail!("--expect-status must be an HTTP status (100-599)");
        }
        if self.threads == Some(0) {
            bail!("--threads must be positive");
        }
        let baseline = match (self.baseline, self.baseline_only) {
            (_, true) => BaselineMode::Only,
            (true, false) => BaselineMode::WithTarget,
            (false, false) => BaselineMode::Off,
        };
        Ok(Config {
            spec,
            baseline,
            expect_status: self.expect_status,
            max_error_rate: self.max_error_rate,
            threads: self.threads,
            json: self.json,
        })
    }
}

/// Parses `Name: value`.
fn parse_header(header: &str) -> anyhow::Result<(HeaderName, HeaderValue)> {
    let (name, value) = header
        .split_once(':')
        .with_context(|| format!("header `{header}` is not `Name: value`"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .with_context(|| format!("bad header name in `{header}`"))?;
    let value = HeaderValue::from_str(value.trim())
        .with_context(|| format!("bad header value in `{header}`"))?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<Config> {
        let mut argv = vec!["moja-loadgen"];
        argv.extend_from_slice(args);
        Args::try_parse_from(argv)?.into_config()
    }

    #[test]
    fn defaults() {
        let config = parse(&["--url", "http://127.0.0.1:8080/update-revenue"]).unwrap();
        let spec = &config.spec;
        assert_eq!(spec.method, Method::POST);
        assert_eq!(spec.concurrency, 32);
        assert_eq!(spec.duration, Some(Duration::from_secs(10)));
        assert_eq!(spec.requests, None);
        assert_eq!(spec.warmup, Duration::from_secs(2));
        assert_eq!(config.expect_status, 200);
        assert!((config.max_error_rate - 0.01).abs() < f64::EPSILON);
        assert_eq!(config.baseline, BaselineMode::Off);
        assert!(!spec.headers.contains_key(CONTENT_TYPE));
    }

    #[test]
    fn full_command_line() {
        let config = parse(&[
            "--url",
            "http://localhost:8080/update-revenue?moja_auth_key=K",
            "--method",
            "put",
            "-H",
            "X-Trace: abc",
            "--header",
            "content-type: text/plain",
            "--body-template",
            r#"{"transaction_id":"t-{seq}"}"#,
            "--concurrency",
            "4",
            "--requests",
            "300",
            "--warmup",
            "0s",
            "--baseline",
            "--json",
        ])
        .unwrap();
        let spec = &config.spec;
        assert_eq!(spec.method, Method::PUT);
        assert_eq!(spec.headers["x-trace"], "abc");
        assert_eq!(spec.headers[CONTENT_TYPE], "text/plain");
        assert_eq!(spec.body.render(7, None), r#"{"transaction_id":"t-7"}"#);
        assert_eq!((spec.concurrency, spec.requests), (4, Some(300)));
        assert_eq!(spec.duration, None);
        assert_eq!(config.baseline, BaselineMode::WithTarget);
        assert!(config.json);
    }

    #[test]
    fn non_loopback_urls_are_refused() {
        for url in [
            "http://example.com:8080/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.0.10:8080/",
            "http://1.1.1.1/",
        ] {
            let err = parse(&["--url", url]).unwrap_err();
            assert!(
                err.to_string().contains("only targets loopback"),
                "{url}: {err}"
            );
        }
        assert!(parse(&["--url", "https://127.0.0.1/"]).is_err());
    }

    #[test]
    fn bad_arguments_are_refused() {
        let url = ["--url", "http://127.0.0.1:8080/"];
        for extra in [
            &["--concurrency", "0"][..],
            &["--duration", "0s"],
            &["--requests", "0"],
            &["--max-error-rate", "1.5"],
            &["--expect-status", "42"],
            &["-H", "no-colon"],
            &["--body-template", "{id}"],
            &["--body-template", "x", "--body-file", "/dev/null"],
            &["--duration", "2h"],
            &["--ids-file", "/nonexistent/ids.txt"],
        ] {
            let mut args = url.to_vec();
            args.extend_from_slice(extra);
            assert!(parse(&args).is_err(), "{extra:?} was accepted");
        }
    }
}
