//! The crate Moja Webhooks plugin authors depend on.
//!
//! A plugin is a WebAssembly component (`wasm32-wasip2`) implementing exactly one of three worlds
//! of the `moja:webhooks` WIT package. Enable the cargo feature of that world, implement its trait
//! and export it:
//!
//! | world | feature | trait | export macro |
//! | --- | --- | --- | --- |
//! | normalizer: raw request → tags | `normalizer` | [`Normalizer`] | [`export_normalizer!`] |
//! | mapper: raw request → update command | `mapper` | [`Mapper`] | [`export_mapper!`] |
//! | renderer: template + tags → HTTP request | `renderer` | [`Renderer`] | [`export_renderer!`] |
//!
//! The same code compiles natively, so a plugin's logic is unit-tested with plain `cargo test`:
//! call the trait method directly, build requests with [`testing::RequestBuilder`], and read what
//! the plugin logged with [`log::take_captured`].
//!
//! Every call runs in a fresh instance, so a plugin can allocate from a per-call arena instead
//! of a general-purpose allocator: put [`call_arena!`] next to the export macro.
#![deny(missing_docs)]

extern crate self as moja_plugin_sdk;

#[allow(unsafe_code)]
// a global allocator is unsafe by nature; the module documents why it is sound
pub mod arena;
pub mod log;
pub mod request;
pub mod testing;

#[cfg(feature = "mapper")]
mod mapper;
#[cfg(feature = "normalizer")]
mod normalizer;
#[cfg(feature = "renderer")]
mod renderer;

#[cfg(feature = "mapper")]
pub use mapper::*;
#[cfg(feature = "normalizer")]
pub use normalizer::*;
#[cfg(feature = "renderer")]
pub use renderer::*;

#[doc(inline)]
pub use moja_keys as keys;

pub use __bindings::base::moja::webhooks::types::{
    ErrorCode, HttpRequest, LogLevel, Pairs, PluginError,
};

/// The `wit-bindgen` runtime the generated bindings and export macros refer to.
#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

/// Generated bindings. Use the re-exports at the crate root instead.
#[doc(hidden)]
#[allow(missing_docs, unsafe_code, unreachable_pub, clippy::all)] // generated code
pub mod __bindings {
    /// Types and host imports shared by every world.
    pub mod base {
        wit_bindgen::generate!({
            world: "imports",
            path: "../wit",
            runtime_path: "::moja_plugin_sdk::__wit_bindgen::rt",
            additional_derives: [PartialEq],
            generate_unused_types: true,
        });
    }

    #[cfg(feature = "normalizer")]
    pub mod normalizer {
        wit_bindgen::generate!({
            world: "normalizer",
            path: "../wit",
            runtime_path: "::moja_plugin_sdk::__wit_bindgen::rt",
            additional_derives: [PartialEq],
            with: {
                "moja:webhooks/types@0.1.0": crate::__bindings::base::moja::webhooks::types,
                "moja:webhooks/log@0.1.0": crate::__bindings::base::moja::webhooks::log,
            },
            pub_export_macro: true,
            export_macro_name: "__export_normalizer_world",
            default_bindings_module: "::moja_plugin_sdk::__bindings::normalizer",
        });
    }

    #[cfg(feature = "mapper")]
    pub mod mapper {
        wit_bindgen::generate!({
            world: "mapper",
            path: "../wit",
            runtime_path: "::moja_plugin_sdk::__wit_bindgen::rt",
            additional_derives: [PartialEq],
            with: {
                "moja:webhooks/types@0.1.0": crate::__bindings::base::moja::webhooks::types,
                "moja:webhooks/log@0.1.0": crate::__bindings::base::moja::webhooks::log,
            },
            pub_export_macro: true,
            export_macro_name: "__export_mapper_world",
            default_bindings_module: "::moja_plugin_sdk::__bindings::mapper",
        });
    }

    #[cfg(feature = "renderer")]
    pub mod renderer {
        wit_bindgen::generate!({
            world: "renderer",
            path: "../wit",
            runtime_path: "::moja_plugin_sdk::__wit_bindgen::rt",
            additional_derives: [PartialEq],
            with: {
                "moja:webhooks/types@0.1.0": crate::__bindings::base::moja::webhooks::types,
                "moja:webhooks/log@0.1.0": crate::__bindings::base::moja::webhooks::log,
            },
            pub_export_macro: true,
            export_macro_name: "__export_renderer_world",
            default_bindings_module: "::moja_plugin_sdk::__bindings::renderer",
        });
    }
}

impl PluginError {
    /// An error of `code` with `message`, naming no field.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// An error of `code` with `message` about the input `field`.
    pub fn field(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// `missing_parameter` for `field`, with the message `Missing <field> parameter`.
    pub fn missing(field: &str) -> Self {
        Self::field(
            ErrorCode::MissingParameter,
            field,
            format!("Missing {field} parameter"),
        )
    }

    /// `invalid_parameter` for `field` with a message saying what was expected.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::field(ErrorCode::InvalidParameter, field, message)
    }
}

impl ErrorCode {
    /// The stable snake_case code the host puts in error responses (`missing_parameter`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorCode::MissingParameter => "missing_parameter",
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::BatchRequiresPost => "batch_requires_post",
            ErrorCode::BatchTooLarge => "batch_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidTemplate => "invalid_template",
        }
    }
}
