//! The renderer world: outbound template + call tags → concrete HTTP request.

pub use crate::__bindings::renderer::exports::moja::webhooks::render::{
    BodyFormat, RenderedRequest, Tag, Template,
};
use crate::{Pairs, PluginError};

/// Everything a renderer is given for one delivery.
#[derive(Debug, Clone)]
pub struct RenderInput {
    /// The outbound template with `[TAG_NAME]` placeholders.
    pub template: Template,
    /// The event being delivered (`call.completed`).
    pub event: String,
    /// The call's tags; a `None` value means the tag does not apply to this event.
    pub tags: Vec<Tag>,
    /// The per-webhook plugin configuration.
    pub config: Pairs,
}

/// A renderer plugin: fills a template with a call's tags.
pub trait Renderer {
    /// Renders one delivery. An `Err` fails the delivery (it is not retried).
    fn render(input: RenderInput) -> Result<RenderedRequest, PluginError>;
}

/// Exports a [`Renderer`] implementation as the component's `moja:webhooks/render` interface.
#[macro_export]
macro_rules! export_renderer {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __MojaRendererExport;
            impl $crate::__bindings::renderer::exports::moja::webhooks::render::Guest
                for __MojaRendererExport
            {
                fn render(
                    template: $crate::Template,
                    event: ::std::string::String,
                    tags: ::std::vec::Vec<$crate::Tag>,
                    config: $crate::Pairs,
                ) -> ::core::result::Result<$crate::RenderedRequest, $crate::PluginError> {
                    <$ty as $crate::Renderer>::render($crate::RenderInput {
                        template,
                        event,
                        tags,
                        config,
                    })
                }
            }
            $crate::__bindings::renderer::__export_renderer_world!(__MojaRendererExport);
        };
    };
}
