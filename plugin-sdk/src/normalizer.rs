//! The normalizer world: raw request → tags.

pub use crate::__bindings::normalizer::exports::moja::webhooks::normalize::Normalized;
use crate::{HttpRequest, Pairs, PluginError};

/// A normalizer plugin: extracts tags from a raw request.
pub trait Normalizer {
    /// Extracts the tags of `request`; `config` is the per-webhook plugin configuration.
    fn normalize(request: HttpRequest, config: Pairs) -> Result<Normalized, PluginError>;
}

/// Exports a [`Normalizer`] implementation as the component's `moja:webhooks/normalize` interface.
#[macro_export]
macro_rules! export_normalizer {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __MojaNormalizerExport;
            impl $crate::__bindings::normalizer::exports::moja::webhooks::normalize::Guest
                for __MojaNormalizerExport
            {
                fn normalize(
                    request: $crate::HttpRequest,
                    config: $crate::Pairs,
                ) -> ::core::result::Result<$crate::Normalized, $crate::PluginError> {
                    <$ty as $crate::Normalizer>::normalize(request, config)
                }
            }
            $crate::__bindings::normalizer::__export_normalizer_world!(__MojaNormalizerExport);
        };
    };
}
