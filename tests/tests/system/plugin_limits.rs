//! Hostile plugins: each misbehaviour fails its own call with the right kind, and the next call
//! of a good plugin succeeds. Kinds are checked, never durations.

use std::time::Duration;

use moja_webhooks_host::plugins::{CallFailure, PluginLimits, PluginRuntime, standard, wit};

use crate::support::{config, install_hostile, map, request, runtime_with_bundled};

fn hostile_call(runtime: &PluginRuntime, mode: &str) -> Result<wit::Command, CallFailure> {
    let request = request("POST", "/update-revenue", &[], "{}");
    map(
        runtime,
        "hostile",
        wit::WebhookKind::UpdateRevenue,
        &request,
        &[("mode", mode)],
    )
    .map(|value| value.expect("the hostile plugin never refuses input"))
}

#[test]
fn a_mapper_reads_the_normalizers_tags_through_its_handle() {
    let runtime = runtime_with_bundled(PluginLimits::default());
    install_hostile(&runtime, "hostile");
    let plugin = runtime
        .get(&moja_webhooks_host::plugins::PluginKey::platform("hostile"))
        .unwrap();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let tags = pairs(&[
        ("utm_source", "google"),
        ("lead_source", "crm"),
        ("note", "a \"quoted\" é value"),
        ("lead_source", "second"),
    ]);
    let command = runtime
        .map_blocking(
            &plugin,
            wit::WebhookKind::CallData,
            &request("POST", "/call-data", &[], "{}"),
            &tags.clone().into(),
            &config(&[("mode", "tags")]),
        )
        .expect("the call runs")
        .value
        .expect("the plugin answers");
    let mut expected = pairs(&[
        ("len", "4"),
        ("get:lead_source", "crm"),
        ("get:missing", "<none>"),
    ]);
    expected.extend(tags);
    assert_eq!(
        command.call_data, expected,
        "first match, order and text kept"
    );
}

/// A good call right after a failure proves the failure stayed within its call.
fn good_call_succeeds(runtime: &PluginRuntime) {
    let request = request(
        "POST",
        "/update-revenue",
        &[],
        r#"{"call_log_id": "abc123", "revenue_paid_out": 150.00}"#,
    );
    let command = map(
        runtime,
        standard::MAPPER,
        wit::WebhookKind::UpdateRevenue,
        &request,
        &[],
    )
    .expect("standard mapper call runs")
    .expect("standard mapper accepts the request");
    assert_eq!(command.calls, wit::CallSelector::CallLogId("abc123".into()));
    let ok = hostile_call(runtime, "ok").expect("hostile plugin in ok mode");
    assert_eq!(ok.calls, wit::CallSelector::CallLogId("ok".into()));
}

fn runtime() -> std::sync::Arc<PluginRuntime> {
    let runtime = runtime_with_bundled(PluginLimits::default());
    install_hostile(&runtime, "hostile");
    runtime
}

#[test]
fn an_infinite_loop_hits_the_cpu_budget() {
    let runtime = runtime();
    let failure = hostile_call(&runtime, "loop").unwrap_err();
    assert!(
        matches!(&failure, CallFailure::CpuBudget { plugin } if plugin == "hostile"),
        "{failure:?}"
    );
    assert_eq!(failure.kind(), "cpu_budget");
    good_call_succeeds(&runtime);
}

#[test]
fn the_wall_clock_backstop_stops_a_loop_when_fuel_would_not() {
    let limits = PluginLimits {
        fuel: u64::MAX / 4,
        deadline: Duration::from_millis(50),
        ..PluginLimits::default()
    };
    let runtime = runtime_with_bundled(limits);
    install_hostile(&runtime, "hostile");
    let failure = hostile_call(&runtime, "loop").unwrap_err();
    assert!(
        matches!(failure, CallFailure::Deadline { .. }),
        "{failure:?}"
    );
    good_call_succeeds(&runtime);
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    let runtime = runtime();
    let failure = hostile_call(&runtime, "memory").unwrap_err();
    assert_eq!(
        failure,
        CallFailure::MemoryLimit {
            plugin: "hostile".into(),
            limit_bytes: 16 << 20
        }
    );
    good_call_succeeds(&runtime);
}

#[test]
fn a_panic_fails_that_call_only_and_reports_the_message() {
    let runtime = runtime();
    let failure = hostile_call(&runtime, "panic").unwrap_err();
    match &failure {
        CallFailure::Trap { plugin, message } => {
            assert_eq!(plugin, "hostile");
            assert!(
                message.contains("hostile plugin panics on purpose"),
                "{message}"
            );
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    good_call_succeeds(&runtime);
}

#[test]
fn an_over_large_output_is_refused() {
    let runtime = runtime();
    let failure = hostile_call(&runtime, "big-output").unwrap_err();
    assert!(
        matches!(&failure, CallFailure::OutputTooLarge { what, .. } if what.contains("20000 entries")),
        "{failure:?}"
    );
    good_call_succeeds(&runtime);
}

#[test]
fn a_chatty_plugin_is_truncated_not_failed() {
    let runtime = runtime();
    let plugin = runtime
        .get(&moja_webhooks_host::plugins::PluginKey::platform("hostile"))
        .unwrap();
    let request = request("POST", "/update-revenue", &[], "{}");
    let outcome = runtime
        .map_blocking(
            &plugin,
            wit::WebhookKind::UpdateRevenue,
            &request,
            &Default::default(),
            &config(&[("mode", "chatty")]),
        )
        .expect("a chatty plugin still succeeds");
    let command = outcome.value.expect("and returns its command");
    assert_eq!(command.calls, wit::CallSelector::CallLogId("chatty".into()));
    let cap = runtime.limits().max_log_bytes;
    assert!(outcome.output.stdout.len() <= cap);
    assert!(outcome.output.stdout.starts_with(&"x".repeat(1024)));
    assert!(!outcome.output.log.is_empty());
    assert!(outcome.output.log.iter().map(String::len).sum::<usize>() <= cap);
    // 4 MiB to stdout and 4 MiB to the log, minus what was kept.
    assert!(outcome.output.truncated_bytes > 7 << 20);
    good_call_succeeds(&runtime);
}

#[test]
fn failures_under_concurrency_stay_within_their_calls() {
    let runtime = runtime();
    std::thread::scope(|scope| {
        for mode in ["loop", "memory", "panic", "big-output"] {
            let runtime = &runtime;
            scope.spawn(move || {
                for _ in 0..3 {
                    assert!(hostile_call(runtime, mode).is_err());
                }
            });
        }
        let runtime = &runtime;
        scope.spawn(move || {
            for _ in 0..20 {
                good_call_succeeds(runtime);
            }
        });
    });
}

#[test]
fn both_memory_reset_strategies_give_the_same_results() {
    for pagemap_scan in [false, true] {
        let limits = PluginLimits {
            pagemap_scan,
            max_concurrent_calls: 4,
            ..PluginLimits::default()
        };
        let runtime = PluginRuntime::with_own_engine(limits, None).expect("runtime");
        runtime.install_bundled().expect("bundled plugins");
        install_hostile(&runtime, "hostile");
        for _ in 0..50 {
            good_call_succeeds(&runtime);
        }
        assert!(hostile_call(&runtime, "memory").is_err());
        good_call_succeeds(&runtime);
    }
}
