//! The `moja-loadgen` binary: parses the arguments, runs the load, prints the report.

use std::process::ExitCode;

use clap::Parser as _;
use moja_loadgen::args::Args;

fn main() -> ExitCode {
    let config = match Args::parse().into_config() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("moja-loadgen: {err:#}");
            return ExitCode::from(2);
        }
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = config.threads {
        runtime.worker_threads(threads);
    }
    let report = match runtime
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(moja_loadgen::execute(&config)))
    {
        Ok(report) => report,
        Err(err) => {
            eprintln!("moja-loadgen: {err:#}");
            return ExitCode::from(2);
        }
    };
    if config.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.human());
    }
    let problems = report.problems();
    for problem in &problems {
        eprintln!("moja-loadgen: FAILED {problem}");
    }
    if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
