//! Which plugin world a component implements, read from its exports.

use std::fmt;

use wasmtime::Engine;
use wasmtime::component::Component;

use super::error::LoadError;

/// The WIT package version this host implements.
pub(crate) const PACKAGE_VERSION: &str = "0.1.0";
const PACKAGE_PREFIX: &str = "moja:webhooks/";

/// One of the three plugin worlds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PluginWorld {
    /// Raw request → tags.
    Normalizer,
    /// Raw request → update command.
    Mapper,
    /// Template + tags → HTTP request.
    Renderer,
}

impl PluginWorld {
    /// The interface the world exports (`map`).
    pub(crate) fn export_interface(self) -> &'static str {
        match self {
            PluginWorld::Normalizer => "normalize",
            PluginWorld::Mapper => "map",
            PluginWorld::Renderer => "render",
        }
    }

    const ALL: [PluginWorld; 3] = [
        PluginWorld::Normalizer,
        PluginWorld::Mapper,
        PluginWorld::Renderer,
    ];
}

impl fmt::Display for PluginWorld {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PluginWorld::Normalizer => "normalizer",
            PluginWorld::Mapper => "mapper",
            PluginWorld::Renderer => "renderer",
        })
    }
}

/// Reads the world `component` implements: exactly one known export at the supported version.
pub(crate) fn detect_world(
    name: &str,
    engine: &Engine,
    component: &Component,
) -> Result<PluginWorld, LoadError> {
    let exports: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(export, _)| export.to_owned())
        .collect();
    let mut found = Vec::new();
    for export in &exports {
        let Some(rest) = export.strip_prefix(PACKAGE_PREFIX) else {
            continue;
        };
        let (interface, version) = rest.split_once('@').unwrap_or((rest, ""));
        let Some(world) = PluginWorld::ALL
            .into_iter()
            .find(|w| w.export_interface() == interface)
        else {
            continue;
        };
        if version != PACKAGE_VERSION {
            return Err(LoadError::UnsupportedVersion {
                name: name.to_owned(),
                export: export.clone(),
                supported: PACKAGE_VERSION,
            });
        }
        found.push(world);
    }
    match found.as_slice() {
        [world] => Ok(*world),
        [] => Err(LoadError::NotAPlugin {
            name: name.to_owned(),
            exports: if exports.is_empty() {
                "nothing".to_owned()
            } else {
                exports.join(", ")
            },
        }),
        several => Err(LoadError::SeveralWorlds {
            name: name.to_owned(),
            worlds: several
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}
