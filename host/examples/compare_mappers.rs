//! Compares builds of a mapper in one run: whole calls (fresh instance + call) of the bundled
//! map-standard and of each given component on the ~1 KiB postback fixture, in alternating
//! batches so that machine noise falls on all of them alike; prints the median per call.
//!
//! ```text
//! cargo run --release -p moja-webhooks-host --example compare_mappers -- 10 a.wasm b.wasm
//! ```
//!
//! With `MOJA_PLUGIN_PERFMAP=1` under `perf record`, profiles name the plugins' functions
//! (build the component unstripped: `CARGO_PROFILE_PLUGIN_STRIP=false`). BENCHMARKS.md has the
//! recipe.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moja_webhooks_host::plugins::{
    PluginKey, PluginLimits, PluginRuntime, PluginSource, standard, wit,
};

#[path = "../benches/fixtures/postback.rs"]
mod postback;

const BATCH: usize = 200;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(5);
    let runtime = PluginRuntime::new(PluginLimits::default(), None)?;
    runtime.install_bundled()?;
    let bundled = |name| {
        runtime
            .get(&PluginKey::platform(name))
            .ok_or_else(|| anyhow::anyhow!("{name} is not bundled"))
    };
    let mut mappers = vec![(standard::MAPPER.to_owned(), bundled(standard::MAPPER)?)];
    for (i, path) in args.enumerate() {
        let bytes = std::fs::read(&path)?;
        let key = PluginKey::platform(&format!("candidate-{i}"));
        mappers.push((path, runtime.load(key, &bytes, PluginSource::Memory)?));
    }

    let request = postback::request();
    let normalizer = bundled(standard::NORMALIZER)?;
    let tags = runtime
        .normalize_blocking(&normalizer, &request, &Vec::new())?
        .value
        .map_err(|e| anyhow::anyhow!("normalizer refused the fixture: {}", e.message))?
        .tags;
    let tags = Arc::new(tags);

    let mut times = vec![Vec::new(); mappers.len()];
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        for ((_, mapper), times) in mappers.iter().zip(&mut times) {
            for _ in 0..BATCH {
                let call = Instant::now();
                let outcome = runtime.map_blocking(
                    mapper,
                    wit::WebhookKind::UpdateFields,
                    &request,
                    &tags,
                    &Vec::new(),
                )?;
                times.push(call.elapsed());
                drop(outcome);
            }
        }
    }
    for ((name, _), times) in mappers.iter().zip(&mut times) {
        times.sort_unstable();
        let mean = times.iter().sum::<Duration>() / times.len() as u32;
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "{name}: median {:.2?} per call (p10 {:.2?}, p90 {:.2?}, p99 {:.2?}, mean {mean:.2?}; {} calls)",
            at(0.5),
            at(0.1),
            at(0.9),
            at(0.99),
            times.len()
        );
    }
    Ok(())
}
