//! Hot reload from a watched folder: swap without restart, a broken file keeps the old version,
//! calls during swaps all succeed. Tests wait on the reload counters, never on sleeps.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use moja_webhooks_host::plugins::{PluginKey, PluginLimits, PluginRuntime, standard, wit};

use crate::support::{hostile_component, map, request, runtime_with_bundled, wait_for};

const WITHIN: Duration = Duration::from_secs(30);

/// Writes a file the way an operator's deploy should: a temporary name, then an atomic rename.
fn publish(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(format!(".{name}.partial"));
    std::fs::write(&tmp, bytes).expect("write plugin");
    std::fs::rename(&tmp, dir.join(name)).expect("rename plugin into place");
}

fn version(runtime: &PluginRuntime, name: &str) -> Option<String> {
    runtime
        .get(&PluginKey::platform(name))
        .map(|p| p.version.clone())
}

async fn wait_reloads(runtime: &PluginRuntime, at_least: u64) {
    wait_for("a reload", WITHIN, || async {
        (runtime.status().reloads >= at_least).then_some(())
    })
    .await;
}

async fn wait_failures(runtime: &PluginRuntime, at_least: u64) {
    wait_for("a failed load", WITHIN, || async {
        (runtime.status().load_failures >= at_least).then_some(())
    })
    .await;
}

fn calls_swap(runtime: &PluginRuntime) -> wit::CallSelector {
    let request = request(
        "POST",
        "/update-revenue",
        &[],
        r#"{"call_log_id": "c1", "revenue": 3}"#,
    );
    map(
        runtime,
        "swap",
        wit::WebhookKind::UpdateRevenue,
        &request,
        &[],
    )
    .expect("call runs")
    .expect("request accepted")
    .calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacing_a_file_swaps_the_version_without_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = runtime_with_bundled(PluginLimits::default());
    publish(dir.path(), "swap.wasm", &hostile_component());
    let _watcher = runtime.watch_dir(dir.path()).expect("watch");
    let first = version(&runtime, "swap").expect("loaded at start");
    // The hostile plugin in its default mode answers with the id "ok".
    assert_eq!(
        calls_swap(&runtime),
        wit::CallSelector::CallLogId("ok".into())
    );

    let reloads = runtime.status().reloads;
    publish(
        dir.path(),
        "swap.wasm",
        crate::support::standard(standard::MAPPER),
    );
    wait_reloads(&runtime, reloads + 1).await;
    let second = version(&runtime, "swap").expect("still loaded");
    assert_ne!(first, second);
    assert_eq!(
        calls_swap(&runtime),
        wit::CallSelector::CallLogId("c1".into())
    );

    // A broken replacement is reported and the previous version keeps serving.
    let failures = runtime.status().load_failures;
    publish(dir.path(), "swap.wasm", b"\0asm but not really");
    wait_failures(&runtime, failures + 1).await;
    assert_eq!(version(&runtime, "swap").as_deref(), Some(second.as_str()));
    assert_eq!(
        calls_swap(&runtime),
        wit::CallSelector::CallLogId("c1".into())
    );
    let failing = runtime.status().failing;
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0].plugin, "swap");
    assert!(
        failing[0]
            .error
            .contains("not a valid WebAssembly component"),
        "{failing:?}"
    );

    // Fixing the file clears the report.
    let reloads = runtime.status().reloads;
    publish(dir.path(), "swap.wasm", &hostile_component());
    wait_reloads(&runtime, reloads + 1).await;
    assert!(runtime.status().failing.is_empty());
    assert_eq!(
        calls_swap(&runtime),
        wit::CallSelector::CallLogId("ok".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_named_like_a_bundled_plugin_overrides_it_until_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = runtime_with_bundled(PluginLimits::default());
    let bundled = version(&runtime, standard::MAPPER).expect("bundled mapper");
    let _watcher = runtime.watch_dir(dir.path()).expect("watch");

    let reloads = runtime.status().reloads;
    publish(dir.path(), "map-standard.wasm", &hostile_component());
    wait_reloads(&runtime, reloads + 1).await;
    assert_ne!(version(&runtime, standard::MAPPER).unwrap(), bundled);

    let reloads = runtime.status().reloads;
    std::fs::remove_file(dir.path().join("map-standard.wasm")).expect("remove");
    wait_reloads(&runtime, reloads + 1).await;
    assert_eq!(version(&runtime, standard::MAPPER).unwrap(), bundled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_during_swaps_all_succeed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runtime: Arc<PluginRuntime> = runtime_with_bundled(PluginLimits::default());
    publish(dir.path(), "swap.wasm", &hostile_component());
    let _watcher = runtime.watch_dir(dir.path()).expect("watch");

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (runtime, stop, calls) = (runtime.clone(), stop.clone(), calls.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let selector = calls_swap(&runtime);
                    // Either version's answer is right; a failure would have panicked above.
                    assert!(
                        selector == wit::CallSelector::CallLogId("ok".into())
                            || selector == wit::CallSelector::CallLogId("c1".into())
                    );
                    calls.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    let versions = [
        crate::support::standard(standard::MAPPER).to_vec(),
        hostile_component(),
    ];
    for round in 0..4 {
        let reloads = runtime.status().reloads;
        publish(dir.path(), "swap.wasm", &versions[round % 2]);
        wait_reloads(&runtime, reloads + 1).await;
    }
    stop.store(true, Ordering::SeqCst);
    for caller in callers {
        caller.join().expect("no call failed during the swaps");
    }
    assert!(calls.load(Ordering::SeqCst) > 0);
    assert_eq!(runtime.status().load_failures, 0);
}
