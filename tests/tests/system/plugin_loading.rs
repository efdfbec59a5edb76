//! Components refused at load with a clear error: wrong world, truncated, random bytes, too
//! large; a good plugin keeps serving after each.

use moja_webhooks_host::plugins::{
    LoadError, PluginKey, PluginLimits, PluginRuntime, PluginSource, PluginWorld, standard, wit,
};

use crate::support::{map, not_a_plugin_component, request, runtime_with_bundled};

fn load(runtime: &PluginRuntime, name: &str, bytes: &[u8]) -> Result<(), LoadError> {
    runtime
        .load_and_install(PluginKey::platform(name), bytes, PluginSource::Memory)
        .map(drop)
}

fn mapper_still_serves(runtime: &PluginRuntime) {
    let request = request(
        "GET",
        "/update-revenue",
        &[("call_log_id", "abc"), ("revenue", "5")],
        "",
    );
    let command = map(
        runtime,
        standard::MAPPER,
        wit::WebhookKind::UpdateRevenue,
        &request,
        &[],
    )
    .expect("call runs")
    .expect("request accepted");
    assert_eq!(command.calls, wit::CallSelector::CallLogId("abc".into()));
}

#[test]
fn the_bundled_plugins_implement_their_worlds() {
    let runtime = runtime_with_bundled(PluginLimits::default());
    let status = runtime.status();
    let worlds: Vec<(String, PluginWorld)> = status
        .plugins
        .iter()
        .map(|p| (p.name.clone(), p.world))
        .collect();
    assert_eq!(
        worlds,
        vec![
            ("map-standard".to_owned(), PluginWorld::Mapper),
            ("normalize-standard".to_owned(), PluginWorld::Normalizer),
            ("render-template".to_owned(), PluginWorld::Renderer),
        ]
    );
    assert!(status.plugins.iter().all(|p| p.version.len() == 12));
}

#[test]
fn a_component_of_another_world_is_refused() {
    let runtime = runtime_with_bundled(PluginLimits::default());
    let error = load(&runtime, "cli-tool", &not_a_plugin_component()).unwrap_err();
    assert!(matches!(error, LoadError::NotAPlugin { .. }), "{error}");
    assert!(error.to_string().contains("wasi:cli/run"), "{error}");
    mapper_still_serves(&runtime);
}

#[test]
fn replacing_a_plugin_with_one_of_another_world_is_refused() {
    let runtime = runtime_with_bundled(PluginLimits::default());
    let normalizer = crate::support::standard(standard::NORMALIZER);
    let error = load(&runtime, standard::MAPPER, normalizer).unwrap_err();
    assert!(
        matches!(
            error,
            LoadError::WrongWorld {
                actual: PluginWorld::Normalizer,
                expected: PluginWorld::Mapper,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(runtime.status().load_failures, 1);
    assert_eq!(runtime.status().failing[0].plugin, standard::MAPPER);
    mapper_still_serves(&runtime);
}

#[test]
fn a_truncated_file_is_refused() {
    let runtime = runtime_with_bundled(PluginLimits::default());
    let bytes = crate::support::standard(standard::MAPPER);
    let error = load(&runtime, standard::MAPPER, &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(matches!(error, LoadError::Invalid { .. }), "{error}");
    mapper_still_serves(&runtime);
}

#[test]
fn random_bytes_are_refused() {
    let runtime = runtime_with_bundled(PluginLimits::default());
    // A fixed pseudo-random sequence (xorshift), so a failure can be replayed.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let error = load(&runtime, "random", &bytes).unwrap_err();
    assert!(matches!(error, LoadError::Invalid { .. }), "{error}");
    let error = load(&runtime, "empty", &[]).unwrap_err();
    assert!(matches!(error, LoadError::Invalid { .. }), "{error}");
    mapper_still_serves(&runtime);
}

#[test]
fn an_oversized_component_is_refused_before_compiling() {
    let limits = PluginLimits {
        max_component_bytes: 1024,
        ..PluginLimits::default()
    };
    let runtime = PluginRuntime::new(limits, None).expect("runtime");
    let error = load(
        &runtime,
        standard::MAPPER,
        crate::support::standard(standard::MAPPER),
    )
    .unwrap_err();
    assert!(
        matches!(error, LoadError::TooLarge { limit: 1024, .. }),
        "{error}"
    );
}

#[test]
fn compiled_artifacts_are_cached_by_content_hash() {
    let cache = tempfile::tempdir().expect("tempdir");
    let first = PluginRuntime::new(PluginLimits::default(), Some(cache.path().to_path_buf()))
        .expect("runtime");
    first.install_bundled().expect("bundled");
    let artifacts: Vec<_> = std::fs::read_dir(cache.path())
        .expect("cache dir")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    assert_eq!(artifacts.len(), 3, "{artifacts:?}");
    for plugin in first.status().plugins {
        let digest = first
            .get(&PluginKey::platform(&plugin.name))
            .expect("loaded")
            .digest
            .clone();
        assert!(
            artifacts.iter().any(|a| a.starts_with(&digest)),
            "{digest} in {artifacts:?}"
        );
    }
    // A second runtime (a restart) loads from the cache and serves the same versions.
    let second = PluginRuntime::new(PluginLimits::default(), Some(cache.path().to_path_buf()))
        .expect("runtime");
    second.install_bundled().expect("bundled from cache");
    mapper_still_serves(&second);
    assert_eq!(
        std::fs::read_dir(cache.path()).expect("cache dir").count(),
        3
    );
}
