//! Rendering a delivery: the webhook's templates (header templates unsealed) and the event's
//! tag snapshot through the webhook's renderer plugin.

use std::sync::Arc;

use moja_core::events::EventType;
use moja_core::sealed::SealingKey;
use moja_store::{BodyFormat, OutgoingWebhook, PluginRef, TagSnapshot};

use crate::plugins::{LoadedPlugin, PluginRuntime, PluginWorld, Unresolved, wit};

/// Why a request could not be rendered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RenderFailure {
    /// The template cannot give a valid request with these values (a CR/LF in a header, a URL
    /// that is not http(s)…). Rendering again gives the same answer: not retried.
    #[error("the template cannot be rendered: {0}")]
    Template(String),
    /// The renderer plugin failed (budget, crash) or is not loaded: retried, since a fixed
    /// plugin can be loaded meanwhile.
    #[error("the renderer plugin failed: {0}")]
    Plugin(String),
    /// The stored header templates cannot be unsealed (the encryption key changed).
    #[error("{0}")]
    Sealed(String),
}

impl RenderFailure {
    /// Whether another attempt could succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, RenderFailure::Plugin(_))
    }
}

/// Seals header templates for storage.
pub fn sealed_headers(sealing: &SealingKey, headers: &[(String, String)]) -> String {
    let json = serde_json::to_string(headers).unwrap_or_else(|_| "[]".into());
    sealing.seal(&json)
}

/// The header templates of a stored webhook.
pub fn unseal_headers(
    sealing: &SealingKey,
    sealed: &str,
) -> Result<Vec<(String, String)>, RenderFailure> {
    let json = sealing.open(sealed).map_err(|e| {
        RenderFailure::Sealed(format!(
            "the webhook's stored headers cannot be decrypted ({e}); was MOJA_ENCRYPTION_KEY changed? Save the webhook's headers again"
        ))
    })?;
    serde_json::from_str(&json)
        .map_err(|e| RenderFailure::Sealed(format!("stored headers are not valid: {e}")))
}

fn renderer(
    plugins: &PluginRuntime,
    reference: &PluginRef,
) -> Result<Arc<LoadedPlugin>, RenderFailure> {
    plugins
        .serving(reference, PluginWorld::Renderer)
        .map_err(|unresolved| match unresolved {
            Unresolved::Missing { name } => {
                RenderFailure::Plugin(format!("renderer plugin {name:?} is not loaded"))
            }
            other => RenderFailure::Plugin(other.to_string()),
        })
}

/// Renders `webhook` for `event` with `tags` and the given header templates.
pub async fn render(
    plugins: &Arc<PluginRuntime>,
    webhook: &OutgoingWebhook,
    headers: Vec<(String, String)>,
    event: EventType,
    tags: &TagSnapshot,
) -> Result<wit::RenderedRequest, RenderFailure> {
    let plugin = renderer(plugins, &webhook.renderer)?;
    let template = wit::Template {
        method: webhook.method.clone(),
        url: webhook.url.clone(),
        headers,
        body: webhook.body.clone(),
        body_format: match webhook.body_format {
            BodyFormat::Json => wit::BodyFormat::Json,
            BodyFormat::Form => wit::BodyFormat::Form,
        },
    };
    let tags = tags
        .iter()
        .map(|(name, value)| wit::Tag {
            name: name.clone(),
            value: value.clone(),
        })
        .collect();
    let outcome = plugins
        .render(
            plugin,
            template,
            event.as_str().to_owned(),
            tags,
            webhook.plugin_config.clone(),
        )
        .await
        .map_err(|failure| RenderFailure::Plugin(failure.to_string()))?;
    outcome.value.map_err(|error| {
        let field = error.field.map(|f| format!(" ({f})")).unwrap_or_default();
        RenderFailure::Template(format!("{}{field}", error.message))
    })
}
