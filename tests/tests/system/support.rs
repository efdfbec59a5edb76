//! Shared test support: plugin bytes, runtimes, request builders, a spawned server, waiting on
//! observable conditions (never sleeping as synchronization).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use moja_webhooks_host::config::ServeConfig;
use moja_webhooks_host::plugins::{
    PluginKey, PluginLimits, PluginRuntime, PluginSource, bundled_component, wit,
};
use tokio_util::sync::CancellationToken;

/// The purpose-built misbehaving mapper (behaviour picked by config `mode`).
pub(crate) fn hostile_component() -> Vec<u8> {
    std::fs::read(env!("MOJA_TEST_PLUGIN_HOSTILE_PLUGINS")).expect("hostile plugin built")
}

/// A real component of the wrong world (a wasi:cli command).
pub(crate) fn not_a_plugin_component() -> Vec<u8> {
    std::fs::read(env!("MOJA_TEST_PLUGIN_NOT_A_PLUGIN")).expect("not-a-plugin built")
}

/// The bytes of a bundled standard plugin.
pub(crate) fn standard(name: &str) -> &'static [u8] {
    bundled_component(name).unwrap_or_else(|| panic!("{name} is bundled"))
}

/// A runtime (on the shared engine) with the bundled plugins installed.
pub(crate) fn runtime_with_bundled(limits: PluginLimits) -> Arc<PluginRuntime> {
    let runtime = PluginRuntime::new(limits, None).expect("runtime");
    runtime.install_bundled().expect("bundled plugins load");
    runtime
}

/// Loads the hostile mapper under `name`.
pub(crate) fn install_hostile(runtime: &PluginRuntime, name: &str) {
    runtime
        .load_and_install(
            PluginKey::platform(name),
            &hostile_component(),
            PluginSource::Memory,
        )
        .expect("hostile plugin loads (its default mode is well behaved)");
}

/// Config pairs from literals.
pub(crate) fn config(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A request as the host hands it to plugins.
pub(crate) fn request(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: &str,
) -> wit::HttpRequest {
    let content_type = if body.is_empty() {
        None
    } else {
        Some("application/json".to_owned())
    };
    let mut headers = vec![("user-agent".to_owned(), "curl/8.5.0".to_owned())];
    if let Some(ct) = &content_type {
        headers.push(("content-type".to_owned(), ct.clone()));
    }
    wit::HttpRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        query: config(query),
        headers,
        body: body.as_bytes().to_vec(),
        content_type,
    }
}

/// Calls the mapper `name` of `runtime` on a request.
pub(crate) fn map(
    runtime: &PluginRuntime,
    name: &str,
    kind: wit::WebhookKind,
    request: &wit::HttpRequest,
    plugin_config: &[(&str, &str)],
) -> Result<Result<wit::Command, wit::PluginError>, moja_webhooks_host::plugins::CallFailure> {
    let plugin = runtime
        .get(&PluginKey::platform(name))
        .unwrap_or_else(|| panic!("{name} loaded"));
    runtime
        .map_blocking(
            &plugin,
            kind,
            request,
            &Default::default(),
            &config(plugin_config),
        )
        .map(|outcome| outcome.value)
}

/// Polls `check` until it returns `Some`, failing the test after `within`.
pub(crate) async fn wait_for<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A server started in-process on 127.0.0.1:0 with a fresh data folder.
pub(crate) struct TestServer {
    pub(crate) base_url: String,
    pub(crate) client: reqwest::Client,
    pub(crate) plugin_dir: PathBuf,
    pub(crate) data_dir: PathBuf,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _data: tempfile::TempDir,
}

impl TestServer {
    pub(crate) async fn spawn() -> Self {
        Self::spawn_with_clock(moja_core::clock::system()).await
    }

    /// A server whose time-dependent rules read `clock`.
    pub(crate) async fn spawn_with_clock(clock: moja_core::clock::SharedClock) -> Self {
        Self::spawn_configured(clock, |_| {}).await
    }

    /// A server with `configure` applied to the test defaults.
    pub(crate) async fn spawn_configured(
        clock: moja_core::clock::SharedClock,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        Self::spawn_in(data, clock, configure).await
    }

    /// Stops the server and starts it again on the same data folder.
    pub(crate) async fn restart(
        self,
        clock: moja_core::clock::SharedClock,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> Self {
        self.shutdown.cancel();
        self.task
            .await
            .expect("server task")
            .expect("server ran without error");
        Self::spawn_in(self._data, clock, configure).await
    }

    async fn spawn_in(
        data: tempfile::TempDir,
        clock: moja_core::clock::SharedClock,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> Self {
        let plugin_dir = data.path().join("plugins");
        let mut config = ServeConfig::defaults();
        config.data_dir = data.path().join("data");
        config.plugin_dir = Some(plugin_dir.clone());
        configure(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let shutdown = CancellationToken::new();
        let data_dir = config.data_dir.clone();
        let task = tokio::spawn(moja_webhooks_host::app::run_with_clock(
            config,
            listener,
            shutdown.clone(),
            clock,
        ));
        Self {
            base_url,
            client: reqwest::Client::new(),
            plugin_dir,
            data_dir,
            shutdown,
            task,
            _data: data,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// An API request with a bearer `key` and an optional JSON body: the status and the JSON
    /// answer (`null` when there is none).
    pub(crate) async fn api(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self.client.request(method, self.url(path)).bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("API request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// The text of `/metrics`.
    pub(crate) async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("the metrics text")
    }

    pub(crate) async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.client.get(self.url(path)).send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// A value of the first start's `bootstrap.txt` (`MOJA_API_KEY`, `MOJA_OPERATOR_TOKEN`,
    /// `MOJA_ORG_ID`), waiting for the server to have written it.
    pub(crate) async fn bootstrap(&self, name: &str) -> String {
        let path = self.data_dir.join("bootstrap.txt");
        wait_for("the bootstrap file", Duration::from_secs(30), || async {
            let text = std::fs::read_to_string(&path).ok()?;
            text.lines()
                .find_map(|line| line.strip_prefix(&format!("{name}=")))
                .map(str::to_owned)
        })
        .await
    }

    /// A second handle on the same server (another client identity), which never stops it.
    pub(crate) fn clone_handle(&self) -> Self {
        Self {
            base_url: self.base_url.clone(),
            client: reqwest::Client::new(),
            plugin_dir: self.plugin_dir.clone(),
            data_dir: self.data_dir.clone(),
            shutdown: CancellationToken::new(),
            task: tokio::spawn(async { Ok(()) }),
            _data: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Stops the server and checks it shut down cleanly.
    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        self.task
            .await
            .expect("server task")
            .expect("server ran without error");
    }
}
