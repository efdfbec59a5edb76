//! A whole plugin call (fresh store + instance + call + drop) for each standard plugin, next to
//! the same logic compiled natively, on realistic inputs; and calls/s on 1 and 2 threads.
//!
//! Run: `cargo bench -p moja-webhooks-host --bench plugin_calls`. Figures in BENCHMARKS.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use moja_plugin_sdk::{Mapper, Normalizer, Renderer};
use moja_webhooks_host::plugins::{
    LoadedPlugin, PluginKey, PluginLimits, PluginRuntime, standard, wit,
};

#[path = "fixtures/postback.rs"]
mod postback;

fn postback_body() -> String {
    postback::BODY.to_owned()
}

fn native_request(body: &str) -> moja_plugin_sdk::HttpRequest {
    moja_plugin_sdk::testing::RequestBuilder::post("/update-fields")
        .header("user-agent", "crm-webhooks/2.1")
        .header("x-lead-source", "crm")
        .body(body, Some("application/json"))
        .build()
}

/// The outbound template of seeds/003 plus headers, about 15 tags.
const TEMPLATE_BODY: &str = r#"{
  "call_id": "[CALL_ID]",
  "caller": "[CALLER_ID]",
  "campaign": "[CAMPAIGN_NAME]",
  "duration": "[DURATION]",
  "converted": "[CONVERTED]",
  "revenue": "[REVENUE_PAID_OUT]",
  "publisher": "[PUBLISHER_NAME]",
  "payout": [PUBLISHER_PAYOUT],
  "converted_at": "[CALL_CONVERTED_AT]",
  "tags": {
    "source": "[UTM_SOURCE]",
    "state": "[CALLER_STATE]",
    "zip": "[CALLER_ZIP]",
    "lead_type": "[LEAD_TYPE]"
  }
}"#;

const TAGS: [(&str, &str); 15] = [
    ("CALL_ID", "call_abc123def456"),
    ("CALLER_ID", "+13105559876"),
    ("CAMPAIGN_NAME", "Medicare Leads Q1"),
    ("CAMPAIGN_ID", "cmp_01"),
    ("DURATION", "145"),
    ("CONVERTED", "true"),
    ("REVENUE_PAID_OUT", "35.00"),
    ("PUBLISHER_NAME", "Medi-Pub"),
    ("PUBLISHER_PAYOUT", "12.50"),
    ("CALL_CONVERTED_AT", "2026-11-23T10:15:30.000Z"),
    ("UTM_SOURCE", "google_ads"),
    ("CALLER_STATE", "CA"),
    ("CALLER_ZIP", "90210"),
    ("LEAD_TYPE", "medicare \"advantage\""),
    ("EVENT_TIMESTAMP", "2026-11-23T10:15:31.000Z"),
];

fn host_template() -> wit::Template {
    wit::Template {
        method: "POST".into(),
        url: "https://crm.example.com/hooks/calls?call_id=[CALL_ID]&campaign=[CAMPAIGN_ID]".into(),
        headers: vec![("X-Call-Id".into(), "[CALL_ID]".into())],
        body: TEMPLATE_BODY.into(),
        body_format: wit::BodyFormat::Json,
    }
}

fn native_template() -> moja_plugin_sdk::Template {
    let t = host_template();
    moja_plugin_sdk::Template {
        method: t.method,
        url: t.url,
        headers: t.headers,
        body: t.body,
        body_format: moja_plugin_sdk::BodyFormat::Json,
    }
}

struct Setup {
    runtime: Arc<PluginRuntime>,
    normalizer: Arc<LoadedPlugin>,
    mapper: Arc<LoadedPlugin>,
    renderer: Arc<LoadedPlugin>,
    request: wit::HttpRequest,
    tags: Arc<Vec<(String, String)>>,
    template: wit::Template,
    render_tags: Vec<wit::Tag>,
}

fn setup() -> Setup {
    let runtime = PluginRuntime::new(PluginLimits::default(), None).expect("runtime");
    runtime.install_bundled().expect("bundled plugins");
    let get = |name| runtime.get(&PluginKey::platform(name)).expect("loaded");
    let (normalizer, mapper, renderer) = (
        get(standard::NORMALIZER),
        get(standard::MAPPER),
        get(standard::RENDERER),
    );
    let request = postback::request();
    let tags = Arc::new(
        runtime
            .normalize_blocking(&normalizer, &request, &Vec::new())
            .expect("normalize")
            .value
            .expect("tags")
            .tags,
    );
    let render_tags = TAGS
        .iter()
        .map(|(name, value)| wit::Tag {
            name: name.to_string(),
            value: Some(value.to_string()),
        })
        .collect();
    Setup {
        runtime,
        normalizer,
        mapper,
        renderer,
        request,
        tags,
        template: host_template(),
        render_tags,
    }
}

fn whole_calls(c: &mut Criterion) {
    let s = setup();
    let config = Vec::new();

    // Outputs of the component and of the native build must agree before timing either.
    let native_req = native_request(&postback_body());
    let native_cmd = map_standard::StandardMapper::map(moja_plugin_sdk::MapInput {
        kind: moja_plugin_sdk::WebhookKind::UpdateFields,
        request: native_req.clone(),
        tags: s.tags.as_ref().clone().into(),
        config: Vec::new(),
    })
    .expect("native map");
    let wasm_cmd = s
        .runtime
        .map_blocking(
            &s.mapper,
            wit::WebhookKind::UpdateFields,
            &s.request,
            &s.tags,
            &config,
        )
        .expect("map call")
        .value
        .expect("command");
    assert_eq!(native_cmd.tag_ops.len(), wasm_cmd.tag_ops.len());
    assert_eq!(native_cmd.ignored_fields, wasm_cmd.ignored_fields);

    let mut group = c.benchmark_group("normalize-standard");
    group.bench_function("component", |b| {
        b.iter(|| {
            s.runtime
                .normalize_blocking(&s.normalizer, &s.request, &config)
                .unwrap()
        })
    });
    group.bench_function("native", |b| {
        b.iter(|| {
            normalize_standard::StandardNormalizer::normalize(native_req.clone(), Vec::new())
                .unwrap()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("map-standard");
    group.bench_function("component", |b| {
        b.iter(|| {
            s.runtime
                .map_blocking(
                    &s.mapper,
                    wit::WebhookKind::UpdateFields,
                    &s.request,
                    &s.tags,
                    &config,
                )
                .unwrap()
        })
    });
    group.bench_function("native", |b| {
        b.iter(|| {
            map_standard::StandardMapper::map(moja_plugin_sdk::MapInput {
                kind: moja_plugin_sdk::WebhookKind::UpdateFields,
                request: native_req.clone(),
                tags: s.tags.as_ref().clone().into(),
                config: Vec::new(),
            })
            .unwrap()
        })
    });
    group.finish();

    let native_tags: Vec<moja_plugin_sdk::Tag> = TAGS
        .iter()
        .map(|(name, value)| moja_plugin_sdk::Tag {
            name: name.to_string(),
            value: Some(value.to_string()),
        })
        .collect();
    let mut group = c.benchmark_group("render-template");
    group.bench_function("component", |b| {
        b.iter(|| {
            s.runtime
                .render_blocking(
                    &s.renderer,
                    &s.template,
                    "call.completed",
                    &s.render_tags,
                    &config,
                )
                .unwrap()
        })
    });
    group.bench_function("native", |b| {
        b.iter(|| {
            render_template::TemplateRenderer::render(moja_plugin_sdk::RenderInput {
                template: native_template(),
                event: "call.completed".into(),
                tags: native_tags.clone(),
                config: Vec::new(),
            })
            .unwrap()
        })
    });
    group.finish();
}

/// Calls/s of whole map-standard calls on 1 and 2 threads: `iters` calls split across the
/// threads, wall time returned, so criterion's per-element time is the inverse of throughput.
fn throughput(c: &mut Criterion) {
    let s = Arc::new(setup());
    let mut group = c.benchmark_group("map-standard throughput");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    for threads in [1u64, 2] {
        group.bench_function(format!("{threads} thread(s)"), |b| {
            b.iter_custom(|iters| {
                let per_thread = iters.div_ceil(threads);
                let started = Instant::now();
                std::thread::scope(|scope| {
                    for _ in 0..threads {
                        let s = &s;
                        scope.spawn(move || {
                            let config = Vec::new();
                            for _ in 0..per_thread {
                                s.runtime
                                    .map_blocking(
                                        &s.mapper,
                                        wit::WebhookKind::UpdateFields,
                                        &s.request,
                                        &s.tags,
                                        &config,
                                    )
                                    .unwrap();
                            }
                        });
                    }
                });
                started.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, whole_calls, throughput);
criterion_main!(benches);
